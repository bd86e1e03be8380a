//! `units.yaml` / `quantities.yaml` (§6): several files, later keys overwrite earlier ones
//! with a warning, keys lower-cased, unit full names unique, quantities must exist.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::raw::{loc, to_json};
use super::yaml::{self, YNode, YValue, python_str};
use crate::datatype::{Datatype, split_array_suffix};
use crate::diag::{Diagnostic, Diagnostics};
use crate::model::{Quantity, Unit, UnitTable};
use crate::source::{FileId, SourceLocation, SourceMap};

/// The files to read: the given ones, or `default_name` beside the source (a warning when it
/// does not exist, as vss-tools does).
pub fn files_or_default(
    given: &[PathBuf],
    source: &Path,
    default_name: &str,
    diagnostics: &mut Diagnostics,
) -> Vec<PathBuf> {
    if !given.is_empty() {
        return given.to_vec();
    }
    let candidate = super::include::parent_dir(source).join(default_name);
    if candidate.is_file() {
        vec![candidate]
    } else {
        diagnostics.push(Diagnostic::warning(
            "vss::default-file-missing",
            format!(
                "no {default_name} given and '{}' does not exist",
                candidate.display()
            ),
        ));
        Vec::new()
    }
}

/// Reads quantities then units into a table, reporting every problem.
pub fn load_table(
    unit_files: &[PathBuf],
    quantity_files: &[PathBuf],
    sources: &mut SourceMap,
    diagnostics: &mut Diagnostics,
) -> UnitTable {
    let mut table = UnitTable::default();
    for path in quantity_files {
        for (file, key, body) in entries(path, sources, diagnostics) {
            add_quantity(&mut table, file, &key, &body, diagnostics);
        }
    }
    let mut unit_locs: Vec<(String, SourceLocation)> = Vec::new();
    for path in unit_files {
        for (file, key, body) in entries(path, sources, diagnostics) {
            if let Some(unit) = parse_unit(&table, file, &key, &body, diagnostics) {
                let lowered = unit.key.to_lowercase();
                if table.units.contains_key(&lowered) {
                    diagnostics.push(
                        Diagnostic::warning(
                            "vss::unit-redefined",
                            format!("Redefinition of unit '{}'", unit.key),
                        )
                        .at(Some(loc(file, &key))),
                    );
                }
                unit_locs.retain(|(k, _)| *k != lowered);
                unit_locs.push((lowered.clone(), loc(file, &key)));
                table.units.insert(lowered, unit);
            }
        }
    }
    check_unique_names(&table, &unit_locs, diagnostics);
    table
}

/// The top-level `key: {mapping}` pairs of a YAML file.
fn entries(
    path: &Path,
    sources: &mut SourceMap,
    diagnostics: &mut Diagnostics,
) -> Vec<(FileId, YNode, YNode)> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) => {
            diagnostics.push(Diagnostic::error(
                "vss::file-unreadable",
                format!("cannot read '{}': {error}", path.display()),
            ));
            return Vec::new();
        }
    };
    let file = sources.add(path, text.clone());
    let doc = yaml::parse(&text);
    for problem in &doc.problems {
        let at = Some(SourceLocation {
            file,
            line: problem.pos.line,
            column: problem.pos.column,
        });
        let d = if problem.fatal {
            Diagnostic::error(problem.code, problem.message.clone())
        } else {
            Diagnostic::warning(problem.code, problem.message.clone())
        };
        diagnostics.push(d.at(at));
    }
    match doc.root.map(|r| r.value) {
        Some(YValue::Map(pairs)) => pairs.into_iter().map(|(k, v)| (file, k, v)).collect(),
        Some(YValue::Null) | None => Vec::new(),
        Some(_) => {
            diagnostics.push(
                Diagnostic::error(
                    "vss::invalid-units-file",
                    "a units/quantities file must be a mapping",
                )
                .at(Some(SourceLocation {
                    file,
                    line: 1,
                    column: 1,
                })),
            );
            Vec::new()
        }
    }
}

fn field<'n>(body: &'n YNode, name: &str) -> Option<&'n YNode> {
    match &body.value {
        YValue::Map(pairs) => pairs
            .iter()
            .find(|(k, _)| matches!(&k.value, YValue::Str(s) if s == name))
            .map(|(_, v)| v),
        _ => None,
    }
}

fn text_field(body: &YNode, name: &str) -> Option<String> {
    field(body, name).and_then(|v| match &v.value {
        YValue::Null => None,
        other => Some(python_str(other)),
    })
}

fn add_quantity(
    table: &mut UnitTable,
    file: FileId,
    key: &YNode,
    body: &YNode,
    diagnostics: &mut Diagnostics,
) {
    let name = python_str(&key.value);
    if !matches!(body.value, YValue::Map(_)) {
        diagnostics.push(
            Diagnostic::error(
                "vss::invalid-quantity",
                format!("'VSSQuantity', '{name}' is 'None'"),
            )
            .at(Some(loc(file, key))),
        );
        return;
    }
    let lowered = name.to_lowercase();
    if table.quantities.contains_key(&lowered) {
        diagnostics.push(
            Diagnostic::warning(
                "vss::quantity-redefined",
                format!("Redefinition of quantity '{name}'"),
            )
            .at(Some(loc(file, key))),
        );
    }
    let definition = text_field(body, "definition");
    if definition.is_none() {
        diagnostics.push(
            Diagnostic::error(
                "vss::invalid-quantity",
                format!("quantity '{name}': 'definition' Field required"),
            )
            .at(Some(loc(file, key))),
        );
    }
    table.quantities.insert(
        lowered,
        Quantity {
            key: name,
            definition,
            remark: text_field(body, "remark"),
            comment: text_field(body, "comment"),
            deprecation: text_field(body, "deprecation"),
        },
    );
}

fn parse_unit(
    table: &UnitTable,
    file: FileId,
    key: &YNode,
    body: &YNode,
    diagnostics: &mut Diagnostics,
) -> Option<Unit> {
    let name = python_str(&key.value);
    let at = Some(loc(file, key));
    if !matches!(body.value, YValue::Map(_)) {
        diagnostics.push(
            Diagnostic::error(
                "vss::invalid-unit",
                format!("'VSSUnit', '{name}' is 'None'"),
            )
            .at(at),
        );
        return None;
    }
    let mut ok = true;
    let quantity = text_field(body, "quantity");
    // vss-tools 6.1.0 only warns about an unknown quantity, and says nothing when no
    // quantities were loaded at all.
    if let Some(q) = &quantity
        && !table.quantities.is_empty()
        && !table.quantities.contains_key(q.to_lowercase().as_str())
    {
        diagnostics.push(
            Diagnostic::warning(
                "vss::unknown-quantity",
                format!("Quantity {q} used by unit {name} has not been defined"),
            )
            .at(field(body, "quantity").map(|n| loc(file, n))),
        );
    }
    let mut fail = |message: String, at: Option<SourceLocation>| {
        diagnostics.push(Diagnostic::error("vss::invalid-unit", message).at(at));
        ok = false;
    };
    let definition = text_field(body, "definition");
    if definition.is_none() {
        fail(format!("'{name}': 'definition' Field required"), at);
    }
    if field(body, "unit").is_none() {
        fail(format!("'{name}': 'unit' Field required"), at);
    }
    let qudt = field(body, "qudt").map(to_json);
    let qudt_quantity = qudt
        .as_ref()
        .and_then(|q| q.get("quantity-kind").or_else(|| q.get("quantity")))
        .is_some();
    match &quantity {
        None if !qudt_quantity => fail(
            format!("'{name}': either 'quantity' or 'qudt.quantity' has to be set"),
            at,
        ),
        _ => {}
    }
    let allowed_datatypes = allowed_datatypes(body, file, &name, &mut fail);
    if !ok {
        return None;
    }
    Some(Unit {
        key: name,
        name: text_field(body, "unit"),
        definition,
        quantity,
        allowed_datatypes,
        deprecation: text_field(body, "deprecation"),
        qudt: qudt.filter(|q| !matches!(q, Value::Null)),
    })
}

fn allowed_datatypes(
    body: &YNode,
    file: FileId,
    name: &str,
    fail: &mut impl FnMut(String, Option<SourceLocation>),
) -> Vec<String> {
    let Some(node) = field(body, "allowed-datatypes") else {
        return Vec::new();
    };
    let YValue::Seq(items) = &node.value else {
        fail(
            format!("'{name}': 'allowed-datatypes' must be a list"),
            Some(loc(file, node)),
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items {
        let text = python_str(&item.value);
        let (base, _) = split_array_suffix(&text);
        if Datatype::parse_primitive(base).is_none() {
            fail(
                format!("'{name}': Invalid datatype: '{text}'"),
                Some(loc(file, item)),
            );
        }
        out.push(text);
    }
    out
}

/// 6.1.0: a unit's full name may be used by one key only.
fn check_unique_names(
    table: &UnitTable,
    locs: &[(String, SourceLocation)],
    diagnostics: &mut Diagnostics,
) {
    let mut seen: indexmap::IndexMap<String, Vec<&str>> = indexmap::IndexMap::new();
    for unit in table.units.values() {
        if let Some(full) = &unit.name {
            seen.entry(full.clone())
                .or_default()
                .push(unit.key.as_str());
        }
    }
    for (full, keys) in seen {
        if keys.len() > 1 {
            let at = keys
                .get(1)
                .and_then(|k| locs.iter().find(|(l, _)| *l == k.to_lowercase()))
                .map(|(_, l)| *l);
            let listed: Vec<String> = keys.iter().map(|k| format!("'{k}'")).collect();
            diagnostics.push(
                Diagnostic::error(
                    "vss::duplicate-unit",
                    format!(
                        "Duplicated unit: '{full}'. Used by: [{}]",
                        listed.join(", ")
                    ),
                )
                .at(at),
            );
        }
    }
}
