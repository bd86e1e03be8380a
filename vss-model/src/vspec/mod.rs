//! The `.vspec` front end: reads a signal tree exactly as vss-tools 6.1.0 does
//! (`shared/reference/vss-format.md`), with every problem located at file:line:col.
//!
//! Pipeline (§1): units and quantities → types trees → raw load of the source and overlays
//! (includes, deep merge, globs) → tree build with implicit branches → instance expansion →
//! per-node resolution and validation → `delete` → parent-type check → strict checks.

mod build;
mod include;
mod instances;
mod raw;
mod strict;
mod types;
mod units;
mod validate;
pub mod yaml;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use build::{BId, BuildTree};
use include::Reader;
use raw::{MergeNote, RawModel};
use validate::{Context, Resolved};

use crate::datatype::Datatype;
use crate::diag::{Diagnostic, Diagnostics};
use crate::loaded::Loaded;
use crate::model::{InstanceOrigin, NodeKind, UnitTable, VssTree};
use crate::source::SourceMap;

/// What to load; mirrors the `vspec export` command line of vss-tools. `Default` expands
/// instances, like the command line without `--no-expand`.
#[derive(Debug, Clone)]
pub struct VspecOptions {
    /// The root vspec (`-s`).
    pub source: PathBuf,
    /// Units files (`-u`); empty: `units.yaml` beside the source, with a warning if missing.
    pub units: Vec<PathBuf>,
    /// Quantities files (`-q`); same default rule as units.
    pub quantities: Vec<PathBuf>,
    /// Types trees (`-t`), in order.
    pub types: Vec<PathBuf>,
    /// Overlays (`-l`), applied in order.
    pub overlays: Vec<PathBuf>,
    /// Extra include directories (`-I`).
    pub include_dirs: Vec<PathBuf>,
    /// Whitelisted extended attributes (`-e`).
    pub extended_attributes: Vec<String>,
    /// `--strict`: name style, unknown attributes, default == allowed[0]; the extra checks
    /// listed in `strict.rs` become errors.
    pub strict: bool,
    /// Expand instances (false for `--no-expand`).
    pub expand: bool,
}

impl Default for VspecOptions {
    fn default() -> Self {
        VspecOptions {
            source: PathBuf::new(),
            units: Vec::new(),
            quantities: Vec::new(),
            types: Vec::new(),
            overlays: Vec::new(),
            include_dirs: Vec::new(),
            extended_attributes: Vec::new(),
            strict: false,
            expand: true,
        }
    }
}

/// Loads the model described by `options`. Never panics on input; every problem is a
/// diagnostic and the tree is `None` when there is at least one error.
/// Checks a name given as an extended attribute (`-e`) the way vss-tools' CLI does: no comma
/// (several names are given by repeating `-e`) and not a core attribute of any node type.
/// Command-line front ends call it to reject a bad name as a usage error; [`load`] reports
/// it as a diagnostic.
pub fn check_extended_attribute_name(name: &str) -> Result<(), String> {
    if name.contains(',') {
        Err("a comma (',') is not allowed; repeat -e for several names".to_owned())
    } else if validate::is_core_anywhere(name) {
        Err(format!("'{name}' is a core attribute"))
    } else {
        Ok(())
    }
}

pub fn load(options: &VspecOptions) -> Loaded {
    run(options, None)
}

/// Loads a model whose root vspec is given as text (named `name` in diagnostics); includes,
/// units and overlays are still read from disk. Used by the fuzz target and tests.
pub fn load_from_str(name: &str, text: &str, options: &VspecOptions) -> Loaded {
    run(options, Some((PathBuf::from(name), text.to_owned())))
}

fn run(options: &VspecOptions, memory: Option<(PathBuf, String)>) -> Loaded {
    let mut sources = SourceMap::new();
    let mut diagnostics = Diagnostics::new();
    let source = memory
        .as_ref()
        .map_or_else(|| options.source.clone(), |(name, _)| name.clone());
    let mut pipeline = Pipeline {
        options,
        sources: &mut sources,
        diagnostics: &mut diagnostics,
        memory,
    };
    let tree = pipeline.run(&source);
    if options.strict {
        diagnostics = strict::promote(diagnostics);
    }
    let tree = if diagnostics.has_errors() { None } else { tree };
    Loaded {
        tree,
        diagnostics,
        sources,
    }
}

struct Pipeline<'a> {
    options: &'a VspecOptions,
    sources: &'a mut SourceMap,
    diagnostics: &'a mut Diagnostics,
    memory: Option<(PathBuf, String)>,
}

/// A resolved build tree: resolution per node id (None for nodes that failed).
struct ResolvedTree {
    tree: BuildTree,
    resolved: HashMap<BId, Resolved>,
}

impl Pipeline<'_> {
    fn run(&mut self, source: &std::path::Path) -> Option<VssTree> {
        self.check_extended_names();
        let table = self.unit_table(source);
        let types = self.types_tree(&table);
        if self.diagnostics.has_errors() {
            return None;
        }
        let mut specs = vec![source.to_path_buf()];
        specs.extend(self.options.overlays.iter().cloned());
        let raw = self.raw_model(&specs);
        let mut signals = build::build_tree(&raw, true, "signal tree", self.diagnostics)?;
        if self.options.expand {
            instances::expand_all(&mut signals, self.diagnostics);
        }
        let mut structs = types
            .as_ref()
            .map(|t| struct_paths(&t.tree))
            .unwrap_or_default();
        structs.extend(struct_paths(&signals));
        let members = types.as_ref().map(struct_members).unwrap_or_default();
        let ctx = Context {
            units: &table,
            structs: &structs,
            struct_members: &members,
            in_types_tree: false,
        };
        let signals = self.resolve(signals, &ctx);
        let mut vss = VssTree::new();
        vss.units = table;
        let root = self.freeze(&signals, &mut vss)?;
        if let Some(types) = &types {
            self.freeze(types, &mut vss);
        }
        self.tree_checks(&vss, root, types.is_some());
        Some(vss)
    }

    /// vss-tools' CLI rejects `-e` names that contain a comma or are core attributes.
    fn check_extended_names(&mut self) {
        for name in &self.options.extended_attributes {
            if let Err(reason) = check_extended_attribute_name(name) {
                self.diagnostics.push(Diagnostic::error(
                    "vss::invalid-extended-attribute",
                    format!("'{name}' cannot be an extended attribute: {reason}"),
                ));
            }
        }
    }

    fn unit_table(&mut self, source: &std::path::Path) -> UnitTable {
        let unit_files =
            units::files_or_default(&self.options.units, source, "units.yaml", self.diagnostics);
        let quantity_files = units::files_or_default(
            &self.options.quantities,
            source,
            "quantities.yaml",
            self.diagnostics,
        );
        units::load_table(&unit_files, &quantity_files, self.sources, self.diagnostics)
    }

    /// Types trees are loaded, built (no implicit branches) and resolved first (§10).
    fn types_tree(&mut self, table: &UnitTable) -> Option<ResolvedTree> {
        if self.options.types.is_empty() {
            return None;
        }
        let raw = self.raw_model(&self.options.types.clone());
        let tree = build::build_tree(&raw, false, "types tree", self.diagnostics)?;
        let structs = struct_paths(&tree);
        // Struct members are only needed for defaults; resolve once without them, then again.
        let empty = HashMap::new();
        let ctx = Context {
            units: table,
            structs: &structs,
            struct_members: &empty,
            in_types_tree: true,
        };
        let mut scratch = Diagnostics::new();
        let first = resolve_all(&tree, &ctx, &mut scratch);
        let members = struct_members(&ResolvedTree {
            tree: tree.clone(),
            resolved: first,
        });
        let ctx = Context {
            struct_members: &members,
            ..ctx
        };
        let resolved = self.resolve(tree, &ctx);
        self.check_types(&resolved, &members);
        Some(resolved)
    }

    fn check_types(
        &mut self,
        types: &ResolvedTree,
        members: &HashMap<String, Vec<(String, Datatype)>>,
    ) {
        let tree = &types.tree;
        let root = tree.node(tree.root);
        if let Some(res) = types.resolved.get(&tree.root) {
            types::check_root(res.kind, &root.name, root.loc, self.diagnostics);
        }
        let locations = tree
            .preorder(tree.root)
            .into_iter()
            .map(|id| (tree.path(id), tree.node(id).loc))
            .collect();
        types::check_cycles(members, &locations, self.diagnostics);
    }

    fn raw_model(&mut self, specs: &[PathBuf]) -> RawModel {
        let mut reader = Reader::new(self.sources, self.diagnostics, &self.options.include_dirs);
        if let Some((name, text)) = &self.memory {
            reader.add_memory_file(name.clone(), text.clone());
        }
        let loads = reader.load_specs(specs);
        let mut raw = RawModel::default();
        let mut notes = Vec::new();
        for (index, entries) in loads.into_iter().enumerate() {
            raw.merge_file(entries, index, &mut notes);
        }
        for note in notes {
            self.diagnostics.push(merge_note(note));
        }
        raw
    }

    fn resolve(&mut self, tree: BuildTree, ctx: &Context<'_>) -> ResolvedTree {
        let resolved = resolve_all(&tree, ctx, self.diagnostics);
        ResolvedTree { tree, resolved }
    }

    /// Adds the tree (minus deleted subtrees) to `vss` after checking parent types; returns
    /// the root id.
    fn freeze(
        &mut self,
        resolved: &ResolvedTree,
        vss: &mut VssTree,
    ) -> Option<crate::model::NodeId> {
        let tree = &resolved.tree;
        let mut root_id = None;
        let mut stack: Vec<(BId, Option<crate::model::NodeId>)> = vec![(tree.root, None)];
        while let Some((id, parent)) = stack.pop() {
            let node = tree.node(id);
            let Some(res) = resolved.resolved.get(&id) else {
                continue;
            };
            if res.delete {
                continue;
            }
            self.check_parent(resolved, id, res);
            let mut data = res.data.clone();
            if self.options.expand {
                data.instances = None;
            }
            let new_id = match vss.add_node(parent, node.name.clone(), res.kind, data) {
                Ok(new_id) => new_id,
                Err(error) => {
                    self.diagnostics.push(
                        Diagnostic::error("vss::duplicate-path", error.to_string()).at(node.loc),
                    );
                    continue;
                }
            };
            if let Some(mut handle) = vss.node_mut(new_id) {
                handle.set_location(node.loc);
                handle.set_implicit(node.implicit);
                if !node.instances.is_empty() {
                    handle.set_instance_origin(Some(InstanceOrigin {
                        template: node.template.clone(),
                        instances: node.instances.clone(),
                    }));
                }
            }
            root_id.get_or_insert(new_id);
            for child in node.children.iter().rev() {
                stack.push((*child, Some(new_id)));
            }
        }
        root_id
    }

    /// property ⇒ parent struct; struct ⇒ parent struct or branch; others ⇒ parent branch.
    fn check_parent(&mut self, resolved: &ResolvedTree, id: BId, res: &Resolved) {
        let Some(parent) = resolved.tree.node(id).parent else {
            return;
        };
        let Some(parent_kind) = resolved.resolved.get(&parent).map(|p| p.kind) else {
            return;
        };
        let ok = match res.kind {
            NodeKind::Property => parent_kind == NodeKind::Struct,
            NodeKind::Struct => matches!(parent_kind, NodeKind::Struct | NodeKind::Branch),
            _ => parent_kind == NodeKind::Branch,
        };
        if !ok {
            let path = resolved.tree.path(id);
            self.diagnostics.push(
                Diagnostic::error(
                    "vss::invalid-parent",
                    format!(
                        "'{path}' ({}) has an invalid parent of type '{}'",
                        res.kind.name(),
                        parent_kind.name()
                    ),
                )
                .at(resolved.tree.node(id).loc),
            );
        }
    }

    fn tree_checks(&mut self, vss: &VssTree, root: crate::model::NodeId, has_types: bool) {
        let options = self.options;
        // `validate` is a known property of signal-tree nodes (VISS access control); struct
        // types are not served nodes, so there it is as unknown as in vss-tools.
        strict::unknown_attributes(
            vss,
            root,
            &options.extended_attributes,
            &[vss_vocab::attribute::VALIDATE],
            options.strict,
            self.diagnostics,
        );
        if has_types && let Some(types_root) = vss.roots().get(1) {
            strict::unknown_attributes(
                vss,
                *types_root,
                &options.extended_attributes,
                &[],
                true,
                self.diagnostics,
            );
        }
        if options.strict {
            strict::naming(vss, root, self.diagnostics);
            strict::default_matches_first_allowed(vss, root, self.diagnostics);
        }
        strict::case_duplicates(vss, root, self.diagnostics);
        strict::implicit_branches(vss, root, self.diagnostics);
        strict::structs_in_signal_tree(vss, root, self.diagnostics);
    }
}

fn merge_note(note: MergeNote) -> Diagnostic {
    match note {
        MergeNote::GlobNoMatch { key, loc } => Diagnostic::warning(
            "vss::glob-no-match",
            format!("Overlay glob '{key}' matched no keys in the base spec"),
        )
        .at(Some(loc)),
        MergeNote::ChangeUnderDeleted { key, deleted, loc } => Diagnostic::warning(
            "vss::overlay-on-deleted",
            format!("'{key}' is changed after '{deleted}' was deleted; the change has no effect"),
        )
        .at(Some(loc)),
    }
}

/// Resolves every reachable node, parents first.
fn resolve_all(
    tree: &BuildTree,
    ctx: &Context<'_>,
    diagnostics: &mut Diagnostics,
) -> HashMap<BId, Resolved> {
    let mut out = HashMap::new();
    let mut paths: HashMap<BId, String> = HashMap::new();
    for id in tree.preorder(tree.root) {
        let node = tree.node(id);
        let path = match node.parent.and_then(|p| paths.get(&p)) {
            Some(parent_path) => format!("{parent_path}.{}", node.name),
            None => node.name.clone(),
        };
        if let Some(res) = validate::resolve_node(tree, id, &path, ctx, diagnostics) {
            out.insert(id, res);
        }
        paths.insert(id, path);
    }
    out
}

/// Paths of all `struct` nodes (they become datatypes, also in the signal tree as vss-tools does).
fn struct_paths(tree: &BuildTree) -> HashSet<String> {
    tree.preorder(tree.root)
        .into_iter()
        .filter(|id| tree.attr_str(*id, "type") == Some("struct"))
        .map(|id| tree.path(id))
        .collect()
}

/// Members (property children) of every struct, for checking struct `default` values.
fn struct_members(types: &ResolvedTree) -> HashMap<String, Vec<(String, Datatype)>> {
    let tree = &types.tree;
    let mut out = HashMap::new();
    for id in tree.preorder(tree.root) {
        if types.resolved.get(&id).map(|r| r.kind) != Some(NodeKind::Struct) {
            continue;
        }
        let members = tree
            .node(id)
            .children
            .iter()
            .filter_map(|c| {
                let res = types.resolved.get(c)?;
                (res.kind == NodeKind::Property)
                    .then(|| Some((tree.node(*c).name.clone(), res.data.datatype.clone()?)))
                    .flatten()
            })
            .collect();
        out.insert(tree.path(id), members);
    }
    out
}
