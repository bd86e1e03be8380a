//! Types-tree rules (§10) beyond per-node validation: the root must be a branch
//! (`RootTypesException`), and structs may not contain themselves, directly or indirectly.

use std::collections::HashMap;

use crate::datatype::{Datatype, ElementType};
use crate::diag::{Diagnostic, Diagnostics};
use crate::model::NodeKind;
use crate::source::SourceLocation;

/// A struct directly at the root (`Struct1` instead of `Types.Struct1`) is rejected.
pub fn check_root(
    kind: NodeKind,
    name: &str,
    at: Option<SourceLocation>,
    diagnostics: &mut Diagnostics,
) {
    if kind != NodeKind::Branch {
        diagnostics.push(
            Diagnostic::error(
                "vss::types-root",
                format!(
                    "the types tree root '{name}' must be a branch, not a {}",
                    kind.name()
                ),
            )
            .at(at)
            .with_help("put structs below a branch, e.g. 'Types.MyStruct'"),
        );
    }
}

/// Reports every struct that reaches itself through its members' datatypes.
pub fn check_cycles(
    members: &HashMap<String, Vec<(String, Datatype)>>,
    locations: &HashMap<String, Option<SourceLocation>>,
    diagnostics: &mut Diagnostics,
) {
    let mut names: Vec<&String> = members.keys().collect();
    names.sort();
    for name in names {
        if reaches(members, name, name, &mut Vec::new()) {
            diagnostics.push(
                Diagnostic::error(
                    "vss::struct-cycle",
                    format!("struct '{name}' contains itself through its properties"),
                )
                .at(locations.get(name).copied().flatten()),
            );
        }
    }
}

fn reaches(
    members: &HashMap<String, Vec<(String, Datatype)>>,
    from: &str,
    target: &str,
    seen: &mut Vec<String>,
) -> bool {
    let Some(list) = members.get(from) else {
        return false;
    };
    for (_, datatype) in list {
        if let ElementType::Struct(inner) = &datatype.element {
            if inner == target {
                return true;
            }
            if !seen.contains(inner) {
                seen.push(inner.clone());
                if reaches(members, inner, target, seen) {
                    return true;
                }
            }
        }
    }
    false
}
