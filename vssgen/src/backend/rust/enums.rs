//! One Rust enum per VSS `allowed` list of strings.
//!
//! A string leaf (or `string[]` leaf) with an `allowed` list takes one of its values; the
//! generated tree types it with an enum (`#[derive(VissEnum)]`) so a misspelt value does not
//! compile. Policy:
//!
//! * **One enum per distinct list.** Leaves with the same list share it, across instances
//!   and branches. A *concept* is a leaf name with a list; when several names share one
//!   list (`RoadIcingState`, `Rollover`, `VisibilityImpairment`), the enum takes the first
//!   concept's name and every other concept is a type alias of it, so each field still
//!   reads as its concept.
//! * **Names** are the leaf name as a type name. A leaf name used with several lists keeps
//!   the plain name for the list most of its leaves use (when one list strictly leads);
//!   every other list, and a name already taken by a branch or struct type, gets the type
//!   name of its first leaf's branch as a prefix (`SunroofSwitch`), then a number.
//! * **Variants** are the VSS strings in UpperCamelCase (`SAE_2_DISENGAGING` →
//!   `Sae2Disengaging`, `E5_95` stays `E5_95`); `#[viss(name = "..")]` keeps the exact string
//!   wherever the derive's default (SCREAMING_SNAKE_CASE of the variant) would differ.
//! * **Defaults**: when every leaf of the enum that has a scalar `default` names the same
//!   value, that variant is the enum's `#[default]`.
//! * **Not `#[non_exhaustive]`**: VSS has no way to say a list may grow, and an exhaustive
//!   `match` is the point: a tree that adds a value is a new tree version, and regenerating
//!   turns every `match` that misses it into a compile error.
//!
//! Numeric `allowed` lists (`allowed: [0, 1, 2, 3]` on a `uint8`) stay numbers, checked at
//! run time: their values are quantities, not names. So do lists of strings no enum can
//! spell (a value repeated, empty, or starting with the in-line error prefix).

use std::collections::{BTreeMap, BTreeSet};

use vss_model::{Node, NodeId, NodeKind, Primitive, Value, VssTree};

use super::naming::{type_ident, unique};
use super::types::BranchType;

/// A generated enum.
#[derive(Debug)]
pub struct EnumType {
    pub ident: String,
    /// The VSS strings, in the list's order, with their variant identifiers.
    pub variants: Vec<Variant>,
    /// The leaves typed with it (and with its aliases), in tree order.
    pub leaves: Vec<NodeId>,
    /// Further concepts with the same list: `(alias ident, first leaf)`.
    pub aliases: Vec<(String, NodeId)>,
    /// The index in `variants` of the shared scalar default, if any.
    pub default: Option<usize>,
}

/// One variant: its identifier and VSS string.
#[derive(Debug)]
pub struct Variant {
    pub ident: String,
    pub vss_name: String,
}

impl Variant {
    /// The string for `#[viss(name = "..")]` when the derive's default differs.
    pub fn explicit_name(&self) -> Option<&str> {
        (vss_vocab::name::default_enum_value(&self.ident) != self.vss_name)
            .then_some(self.vss_name.as_str())
    }
}

/// The enums of a tree and the type name (enum or alias) of every leaf that has one.
#[derive(Debug, Default)]
pub struct EnumPlan {
    pub enums: Vec<EnumType>,
    pub leaf_types: BTreeMap<NodeId, String>,
}

/// The `allowed` list of a string leaf, when it can be an enum: all of it strings, none
/// repeated, empty or starting with the reserved in-line error prefix (such a list stays
/// `String`, checked at run time: `#[derive(VissEnum)]` refuses those values).
pub fn string_list(node: &Node) -> Option<Vec<String>> {
    if !node.kind.has_datatype() || node.kind == NodeKind::Property {
        return None;
    }
    let datatype = node.data.datatype.as_ref()?;
    if datatype.primitive_element() != Some(Primitive::String) {
        return None;
    }
    let allowed = node.data.allowed.as_ref().filter(|list| !list.is_empty())?;
    let list: Vec<String> = allowed
        .iter()
        .map(|value| match value {
            Value::String(text) => Some(text.clone()),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let distinct: BTreeSet<&str> = list.iter().map(String::as_str).collect();
    let enumerable = distinct.len() == list.len()
        && list
            .iter()
            .all(|value| vss_vocab::name::enum_value_error(value).is_none());
    enumerable.then_some(list)
}

/// One leaf name used with one list.
struct Concept {
    name: String,
    list: usize,
    first: NodeId,
}

/// Plans the enums of the signal tree below `root`; `branch_of` gives the branch type of a
/// branch node; `used` holds the type names already taken.
pub fn plan(
    tree: &VssTree,
    root: NodeId,
    branches: &[BranchType],
    branch_of: &BTreeMap<NodeId, usize>,
    used: &mut BTreeSet<String>,
) -> EnumPlan {
    let mut lists: Vec<(Vec<String>, Vec<NodeId>)> = Vec::new();
    let mut list_index: BTreeMap<Vec<String>, usize> = BTreeMap::new();
    let mut concepts: Vec<Concept> = Vec::new();
    for id in tree.subtree(root) {
        let node = tree.get(id);
        let Some(list) = string_list(node) else {
            continue;
        };
        let index = *list_index.entry(list.clone()).or_insert_with(|| {
            lists.push((list, Vec::new()));
            lists.len() - 1
        });
        lists[index].1.push(id);
        if !concepts
            .iter()
            .any(|concept| concept.list == index && concept.name == node.name)
        {
            concepts.push(Concept {
                name: node.name.clone(),
                list: index,
                first: id,
            });
        }
    }
    let leading = leading_lists(tree, &lists);
    let mut idents = Vec::with_capacity(concepts.len());
    for concept in &concepts {
        let base = type_ident(&concept.name);
        let plain = leading.get(&concept.name) == Some(&Some(concept.list));
        let ident = if plain && !used.contains(&base) {
            unique(used, base, "")
        } else {
            let parent = tree
                .get(concept.first)
                .parent
                .and_then(|parent| branch_of.get(&parent))
                .map_or("", |ty| branches[*ty].ident.as_str());
            unique(used, format!("{parent}{base}"), "")
        };
        idents.push(ident);
    }
    let mut plan = EnumPlan::default();
    for (index, (values, leaves)) in lists.into_iter().enumerate() {
        let mut names = concepts
            .iter()
            .zip(&idents)
            .filter(|(concept, _)| concept.list == index);
        let Some((_, ident)) = names.next() else {
            continue;
        };
        let aliases: Vec<(String, NodeId)> = names
            .map(|(concept, alias)| (alias.clone(), concept.first))
            .collect();
        for &leaf in &leaves {
            let name = &tree.get(leaf).name;
            let own = concepts
                .iter()
                .zip(&idents)
                .find(|(concept, _)| concept.list == index && &concept.name == name)
                .map_or(ident, |(_, ident)| ident);
            plan.leaf_types.insert(leaf, own.clone());
        }
        let default = shared_default(tree, &leaves, &values);
        plan.enums.push(EnumType {
            ident: ident.clone(),
            variants: variants(&values),
            leaves,
            aliases,
            default,
        });
    }
    plan
}

/// For every leaf name, the list most of its leaves use when one strictly leads (`None`
/// when two lists tie).
fn leading_lists(
    tree: &VssTree,
    lists: &[(Vec<String>, Vec<NodeId>)],
) -> BTreeMap<String, Option<usize>> {
    let mut counts: BTreeMap<&str, BTreeMap<usize, usize>> = BTreeMap::new();
    for (index, (_, leaves)) in lists.iter().enumerate() {
        for leaf in leaves {
            *counts
                .entry(tree.get(*leaf).name.as_str())
                .or_default()
                .entry(index)
                .or_default() += 1;
        }
    }
    counts
        .into_iter()
        .map(|(name, per_list)| {
            let most = per_list.values().copied().max().unwrap_or_default();
            let mut leaders = per_list.iter().filter(|(_, count)| **count == most);
            let leader = match (leaders.next(), leaders.next()) {
                (Some((list, _)), None) => Some(*list),
                _ => None,
            };
            (name.to_owned(), leader)
        })
        .collect()
}

/// The variant every leaf with a scalar `default` names, when they agree.
fn shared_default(tree: &VssTree, leaves: &[NodeId], values: &[String]) -> Option<usize> {
    let mut defaults = leaves
        .iter()
        .filter_map(|leaf| match &tree.get(*leaf).data.default {
            Some(Value::String(text)) => Some(text.as_str()),
            _ => None,
        });
    let first = defaults.next()?;
    if defaults.any(|other| other != first) {
        return None;
    }
    values.iter().position(|value| value == first)
}

/// Variant identifiers for the VSS strings, unique within the enum.
fn variants(values: &[String]) -> Vec<Variant> {
    let mut used = BTreeSet::new();
    values
        .iter()
        .map(|value| {
            let base = variant_ident(value);
            let separator = if base.ends_with(|c: char| c.is_ascii_digit()) {
                "_"
            } else {
                ""
            };
            Variant {
                ident: unique(&mut used, base, separator),
                vss_name: value.clone(),
            }
        })
        .collect()
}

/// A VSS string as an UpperCamelCase variant: words split at anything that is not a letter
/// or digit, an all-capital word capitalised (`DISENGAGING` → `Disengaging`), a mixed-case
/// word kept (`UltraLow`); two digit-edged words keep a `_` between them (`E5_95`) so the
/// numbers stay apart. A leading digit gets a `N` prefix, a keyword a `Value` suffix.
pub fn variant_ident(value: &str) -> String {
    let mut ident = String::with_capacity(value.len());
    for word in value
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
    {
        if ident.ends_with(|c: char| c.is_ascii_digit())
            && word.starts_with(|c: char| c.is_ascii_digit())
        {
            ident.push('_');
        }
        let shouting = !word.chars().any(|c| c.is_ascii_lowercase());
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            ident.push(first.to_ascii_uppercase());
            if shouting {
                ident.extend(chars.map(|c| c.to_ascii_lowercase()));
            } else {
                ident.extend(chars);
            }
        }
    }
    if ident.is_empty() {
        return "Empty".to_owned();
    }
    if ident.starts_with(|c: char| c.is_ascii_digit()) {
        ident.insert(0, 'N');
    }
    if matches!(ident.as_str(), "Self") {
        ident.push_str("Value");
    }
    ident
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variant_identifiers_table() {
        for (value, ident, explicit) in [
            ("SAE_2_DISENGAGING", "Sae2Disengaging", true),
            ("ONE_SHOT_CLOSE", "OneShotClose", false),
            ("E5_95", "E5_95", false),
            ("HR_12", "Hr12", true),
            ("C", "C", false),
            ("TWO_D", "TwoD", false),
            ("2_DOOR", "N2Door", true),
            ("UltraLow", "UltraLow", true),
            ("half-open", "HalfOpen", true),
            ("Self", "SelfValue", true),
            ("", "Empty", true),
        ] {
            assert_eq!(variant_ident(value), ident, "{value}");
            let variant = Variant {
                ident: ident.to_owned(),
                vss_name: value.to_owned(),
            };
            assert_eq!(variant.explicit_name().is_some(), explicit, "{value}");
        }
    }

    #[test]
    fn lists_no_enum_can_spell_stay_strings() {
        let leaf = |allowed: serde_json::Value| Node {
            name: "Mode".to_owned(),
            path: "Vehicle.Mode".to_owned(),
            kind: NodeKind::Actuator,
            parent: None,
            children: Vec::new(),
            data: vss_model::NodeData {
                datatype: Some(vss_model::Datatype::primitive(Primitive::String)),
                allowed: serde_json::from_value(allowed).ok(),
                ..vss_model::NodeData::default()
            },
            instance_origin: None,
            location: None,
            implicit: false,
        };
        assert!(string_list(&leaf(serde_json::json!(["ECO", "SPORT"]))).is_some());
        for unusable in [
            serde_json::json!(["ECO", "ECO"]),
            serde_json::json!(["ECO", ""]),
            serde_json::json!(["viss-inline:x"]),
            serde_json::json!(["ECO", 1]),
            serde_json::json!([]),
        ] {
            assert!(string_list(&leaf(unusable.clone())).is_none(), "{unusable}");
        }
    }

    #[test]
    fn colliding_variants_are_numbered() {
        let names: Vec<_> = variants(&["A_B".into(), "A-B".into(), "X1".into(), "X_1".into()])
            .into_iter()
            .map(|variant| variant.ident)
            .collect();
        assert_eq!(names, ["AB", "AB2", "X1", "X1_2"]);
    }
}
