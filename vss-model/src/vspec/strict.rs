//! Tree-level checks on the frozen tree: vss-tools' `--strict` rules (name style, unknown
//! attributes, default == allowed[0]) and the checks vss-tools misses (§14.3) that need the
//! whole tree (case-insensitive duplicate paths, implicit branches).

use std::collections::HashMap;

use crate::datatype::Primitive;
use crate::diag::{Diagnostic, Diagnostics, Severity};
use crate::model::{NodeId, VssTree};

/// Warning codes that `--strict` turns into errors. Checks that would reject the standard
/// tree or the shared reference inputs under `--strict` stay warnings (not listed here).
const PROMOTED_UNDER_STRICT: &[&str] = &[
    "vss::unknown-attribute",
    "vss::min-greater-than-max",
    "vss::falsy-default-not-allowed",
    "vss::bool-as-int",
    "vss::case-duplicate",
    "vss::instances-nesting",
    "vss::enum-key-style",
    "vss::deprecated-unit",
    "vss::pseudo-datatype",
    "vss::struct-default-extra",
    "vss::unmatched-instance-node",
    "vss::overlay-on-deleted",
    "vss::float-range",
    "vss::struct-in-signal-tree",
    "vss::unknown-quantity",
];

/// Applies `--strict` promotion to the collected diagnostics.
pub fn promote(diagnostics: Diagnostics) -> Diagnostics {
    let mut out = Diagnostics::new();
    for mut d in diagnostics {
        if d.severity == Severity::Warning && PROMOTED_UNDER_STRICT.contains(&d.code) {
            d.severity = Severity::Error;
        }
        out.push(d);
    }
    out
}

/// vss-tools `get_naming_violations`: `[A-Z][A-Za-z0-9]*` names, booleans start with `Is`/`Has`.
pub fn naming(tree: &VssTree, root: NodeId, diagnostics: &mut Diagnostics) {
    for id in tree.subtree(root) {
        let node = tree.get(id);
        if !vss_vocab::name::is_camel_case(&node.name) {
            diagnostics.push(
                Diagnostic::error(
                    "vss::name-style",
                    format!("Name violation: '{}' (not CamelCase)", node.path),
                )
                .at(node.location),
            );
        }
        let is_boolean = node
            .data
            .datatype
            .as_ref()
            .is_some_and(|d| !d.is_array && d.primitive_element() == Some(Primitive::Boolean));
        if is_boolean && !vss_vocab::name::is_boolean_name(&node.name) {
            diagnostics.push(
                Diagnostic::error(
                    "vss::name-style",
                    format!(
                        "Name violation: '{}' (Not starting with 'Is' or 'Has')",
                        node.path
                    ),
                )
                .at(node.location),
            );
        }
    }
}

/// Extended attributes not whitelisted with `-e` nor `known` (properties this tool reads,
/// such as `validate`, which vss-tools treats as extended): a warning, or an error when
/// `strict`.
pub fn unknown_attributes(
    tree: &VssTree,
    root: NodeId,
    allowed: &[String],
    known: &[&str],
    strict: bool,
    diagnostics: &mut Diagnostics,
) {
    for id in tree.subtree(root) {
        let node = tree.get(id);
        for name in node.data.extended.keys() {
            if allowed.iter().any(|a| a == name) || known.contains(&name.as_str()) {
                continue;
            }
            let message = format!("Unknown extra attribute: '{}':'{name}'", node.path);
            let diagnostic = if strict {
                Diagnostic::error("vss::unknown-attribute", message)
            } else {
                Diagnostic::warning("vss::unknown-attribute", message)
            };
            diagnostics.push(
                diagnostic
                    .at(node.location)
                    .with_help("declare it with -e/--extended-attributes"),
            );
        }
    }
}

/// 6.1.0 strict rule: scalar nodes with `allowed` and `default` must default to `allowed[0]`.
pub fn default_matches_first_allowed(tree: &VssTree, root: NodeId, diagnostics: &mut Diagnostics) {
    for id in tree.subtree(root) {
        let node = tree.get(id);
        let scalar = node.data.datatype.as_ref().is_some_and(|d| !d.is_array);
        if let (true, Some(allowed), Some(default)) =
            (scalar, &node.data.allowed, &node.data.default)
            && allowed.first() != Some(default)
        {
            diagnostics.push(
                Diagnostic::error(
                    "vss::default-not-first-allowed",
                    format!("'{}': default != allowed[0] violations detected", node.path),
                )
                .at(node.location),
            );
        }
    }
}

/// Paths that differ only in case (`Vehicle.Abc` vs `Vehicle.ABC`) are prohibited by the spec.
pub fn case_duplicates(tree: &VssTree, root: NodeId, diagnostics: &mut Diagnostics) {
    let mut seen: HashMap<String, NodeId> = HashMap::new();
    for id in tree.subtree(root) {
        let node = tree.get(id);
        if let Some(first) = seen.insert(node.path.to_lowercase(), id) {
            diagnostics.push(
                Diagnostic::warning(
                    "vss::case-duplicate",
                    format!(
                        "'{}' differs from '{}' only in case",
                        node.path,
                        tree.get(first).path
                    ),
                )
                .at(node.location),
            );
        }
    }
}

/// Branches created only because a key's parent was never defined.
pub fn implicit_branches(tree: &VssTree, root: NodeId, diagnostics: &mut Diagnostics) {
    for id in tree.subtree(root) {
        let node = tree.get(id);
        if node.implicit {
            diagnostics.push(
                Diagnostic::warning(
                    "vss::implicit-branch",
                    format!(
                        "'{}' was never defined; created as an implicit branch",
                        node.path
                    ),
                )
                .at(node.location)
                .with_label("child defined here"),
            );
        }
    }
}

/// Structs belong in a types tree; vss-tools silently registers signal-tree structs as
/// datatypes.
pub fn structs_in_signal_tree(tree: &VssTree, root: NodeId, diagnostics: &mut Diagnostics) {
    for id in tree.subtree(root) {
        let node = tree.get(id);
        if node.kind == crate::model::NodeKind::Struct {
            diagnostics.push(
                Diagnostic::warning(
                    "vss::struct-in-signal-tree",
                    format!(
                        "struct '{}' is defined in the signal tree; define it in a types tree (-t)",
                        node.path
                    ),
                )
                .at(node.location),
            );
        }
    }
}
