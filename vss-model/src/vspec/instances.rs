//! Instance expansion (§9), following vss-tools' `expand_instances` step by step: template
//! children move onto generated instance nodes, raw nodes already present under instance names
//! (instance-specific overlay keys) are merged into the generated ones, and the loop repeats
//! until no branch has `instances` left (nested instances come in with template copies).

use serde_json::Value;

use super::build::{BId, BNode, BuildTree};
use super::raw::deep_update_attrs;
use crate::diag::{Diagnostic, Diagnostics};

/// Upper bound on generated nodes, so hostile inputs (`X[0,99999999]`) fail cleanly.
const NODE_BUDGET: usize = 1_000_000;

/// One step of an `instances` list: a single entry (string) or a list of entries.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Single(String),
    List(Vec<String>),
}

/// Normalises an `instances` value into steps (a string `s` is `[s]`); None when the value is
/// not a string or a list. Nested lists below the second level become their Python `str()`
/// (vss-tools' behaviour) and are reported by [`nested_garbage`].
pub fn steps(value: &Value) -> Option<Vec<Step>> {
    match value {
        Value::String(s) => Some(vec![Step::Single(s.clone())]),
        Value::Array(items) => Some(
            items
                .iter()
                .map(|item| match item {
                    Value::Array(inner) => Step::List(inner.iter().map(python_name).collect()),
                    other => Step::Single(python_name(other)),
                })
                .collect(),
        ),
        _ => None,
    }
}

/// True when a list nests deeper than vss-tools understands (`[[[A1, B1]]]`).
pub fn nested_garbage(value: &Value) -> bool {
    match value {
        Value::Array(items) => items.iter().any(|item| match item {
            Value::Array(inner) => inner.iter().any(|v| v.is_array() || v.is_object()),
            Value::Object(_) => true,
            _ => false,
        }),
        _ => false,
    }
}

/// Python `str()` of an instance entry.
fn python_name(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => "None".into(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(python_repr).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Object(_) => python_repr(value),
    }
}

fn python_repr(value: &Value) -> String {
    match value {
        Value::String(s) => format!("'{s}'"),
        Value::Object(map) => {
            let inner: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("'{k}': {}", python_repr(v)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
        other => python_name(other),
    }
}

/// Why a range could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidRange(pub String);

/// vss-tools `expand_string`: the last `[n,m]` group is replaced by n..=m everywhere it occurs.
pub fn expand_string(text: &str) -> Result<Vec<String>, InvalidRange> {
    let Some((group, from, to)) = last_range(text) else {
        return Ok(vec![text.to_owned()]);
    };
    let (Ok(from), Ok(to)) = (from.parse::<u64>(), to.parse::<u64>()) else {
        return Err(InvalidRange(group.to_owned()));
    };
    if from > to || to - from > NODE_BUDGET as u64 {
        return Err(InvalidRange(group.to_owned()));
    }
    Ok((from..=to)
        .map(|i| text.replace(group, &i.to_string()))
        .collect())
}

/// The last `[digits,digits]` group (the regex `.*(\[(\d+),(\d+)\]).*` is greedy).
fn last_range(text: &str) -> Option<(&str, &str, &str)> {
    let bytes = text.as_bytes();
    let mut end = bytes.len();
    while let Some(close) = text[..end].rfind(']') {
        if let Some(open) = text[..close].rfind('[') {
            let inner = &text[open + 1..close];
            if let Some((a, b)) = inner.split_once(',') {
                let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
                if digits(a) && digits(b) {
                    return Some((&text[open..=close], a, b));
                }
            }
        }
        end = close;
    }
    None
}

/// Expands every instance branch of `tree`, repeatedly, until none is left.
pub fn expand_all(tree: &mut BuildTree, diagnostics: &mut Diagnostics) {
    let mut budget = NODE_BUDGET;
    loop {
        let pending: Vec<BId> = tree
            .preorder(tree.root)
            .into_iter()
            .filter(|id| has_instances(tree, *id))
            .collect();
        if pending.is_empty() {
            return;
        }
        for id in pending {
            if !is_attached(tree, id) || !has_instances(tree, id) {
                continue;
            }
            if !expand_one(tree, id, diagnostics, &mut budget) {
                return;
            }
        }
    }
}

/// A branch with a non-empty `instances` value.
pub fn has_instances(tree: &BuildTree, id: BId) -> bool {
    let node = tree.node(id);
    if node.attrs.get("type").and_then(|t| t.value.as_str()) != Some("branch") {
        return false;
    }
    match node.attrs.get("instances").map(|a| &a.value) {
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(items)) => !items.is_empty(),
        _ => false,
    }
}

fn is_attached(tree: &BuildTree, id: BId) -> bool {
    let mut current = id;
    while let Some(parent) = tree.node(current).parent {
        current = parent;
    }
    current == tree.root
}

fn instantiate(tree: &BuildTree, id: BId) -> bool {
    tree.node(id).attrs.get("instantiate").map(|a| &a.value) != Some(&Value::Bool(false))
}

/// Expands one branch; false when expansion had to stop (bad range, node budget).
fn expand_one(
    tree: &mut BuildTree,
    b: BId,
    diagnostics: &mut Diagnostics,
    budget: &mut usize,
) -> bool {
    let Some(attr) = tree.node(b).attrs.get("instances").cloned() else {
        return true;
    };
    let Some(step_list) = steps(&attr.value) else {
        return true; // reported by validation
    };
    if nested_garbage(&attr.value) {
        diagnostics.push(
            Diagnostic::warning(
                "vss::instances-nesting",
                format!(
                    "'{}': 'instances' nests lists more than two levels deep; the inner list becomes a node name",
                    tree.path(b)
                ),
            )
            .at(Some(attr.value_loc)),
        );
    }
    let sibling = tree.attr_str(b, "instances_relation") == Some("sibling");
    let anchor = if sibling {
        match tree.node(b).parent {
            Some(parent) => parent,
            // `sibling` on the root silently disables expansion (vss-tools).
            None => {
                tree.node_mut(b).attrs.shift_remove("instances");
                return true;
            }
        }
    } else {
        b
    };
    // The template: children that are instantiated move off the branch.
    let template: Vec<BId> = tree
        .node(b)
        .children
        .iter()
        .copied()
        .filter(|c| instantiate(tree, *c))
        .collect();
    for child in &template {
        tree.detach(*child);
    }
    let mut roots = vec![anchor];
    let mut generated = Vec::new();
    for step in &step_list {
        let names = match step_names(step) {
            Ok(names) => names,
            Err(InvalidRange(group)) => {
                diagnostics.push(
                    Diagnostic::error("vss::invalid-range", format!("Invalid range: '{group}'"))
                        .at(Some(attr.value_loc))
                        .with_help("a range is [n,m] with n <= m"),
                );
                return false;
            }
        };
        let count = names.len().saturating_mul(roots.len());
        if count > *budget {
            diagnostics.push(
                Diagnostic::error(
                    "vss::too-many-nodes",
                    "instance expansion generates too many nodes",
                )
                .at(Some(attr.value_loc)),
            );
            return false;
        }
        *budget -= count;
        let mut new_nodes = Vec::with_capacity(count);
        for name in &names {
            for root in &roots {
                new_nodes.push(new_instance_node(tree, b, *root, anchor, name));
            }
        }
        generated.extend(new_nodes.iter().copied());
        if names.len() > 1 || matches!(step, Step::List(_)) {
            roots = new_nodes;
        }
    }
    let leaves: Vec<BId> = generated
        .iter()
        .copied()
        .filter(|g| tree.node(*g).children.is_empty())
        .collect();
    // Raw nodes already living under an instance name (sibling mode: under the parent).
    let mut sources = template;
    if sibling {
        sources.extend(raw_instance_nodes(tree, anchor, &generated));
    }
    let (change, add): (Vec<BId>, Vec<BId>) = sources
        .into_iter()
        .partition(|s| matching_generated(tree, anchor, b, &generated, *s).is_some());
    report_unmatched(tree, b, &add, diagnostics);
    let cost = add.iter().map(|a| tree.preorder(*a).len()).sum::<usize>() * leaves.len();
    if cost > *budget {
        diagnostics.push(
            Diagnostic::error(
                "vss::too-many-nodes",
                "instance expansion generates too many nodes",
            )
            .at(Some(attr.value_loc)),
        );
        return false;
    }
    *budget -= cost;
    for leaf in &leaves {
        for a in &add {
            let copy = tree.copy_subtree(*a);
            adopt_instances(tree, copy, *leaf);
            tree.attach(copy, *leaf);
        }
    }
    for source in change {
        if let Some(target) = matching_generated(tree, anchor, b, &generated, source) {
            merge(tree, target, source);
        }
    }
    tree.node_mut(b).attrs.shift_remove("instances");
    true
}

/// An implicit branch under an instance branch (`A.D.Row3.Y` with `instances: Row[1,2]`) is
/// not an instance: vss-tools copies it into every instance (§14.3). Report it.
fn report_unmatched(tree: &BuildTree, b: BId, add: &[BId], diagnostics: &mut Diagnostics) {
    for a in add {
        let node = tree.node(*a);
        if node.implicit {
            diagnostics.push(
                Diagnostic::warning(
                    "vss::unmatched-instance-node",
                    format!(
                        "'{}' is not an instance of '{}'; it is copied into every instance",
                        node.name,
                        tree.path(b)
                    ),
                )
                .at(node.loc),
            );
        }
    }
}

fn step_names(step: &Step) -> Result<Vec<String>, InvalidRange> {
    let mut names = Vec::new();
    match step {
        Step::Single(s) => names.extend(expand_string(s)?),
        Step::List(items) => {
            for item in items {
                names.extend(expand_string(item)?);
            }
        }
    }
    Ok(names)
}

/// A new instance branch: a copy of `b`'s own data, without `instances`, under `root`.
fn new_instance_node(tree: &mut BuildTree, b: BId, root: BId, anchor: BId, name: &str) -> BId {
    let source = tree.node(b);
    let mut attrs = source.attrs.clone();
    attrs.shift_remove("instances");
    attrs.shift_remove("instances_relation");
    let instances = if root == anchor {
        let mut base = source.instances.clone();
        base.push(name.to_owned());
        base
    } else {
        let mut base = tree.node(root).instances.clone();
        base.push(name.to_owned());
        base
    };
    let node = BNode {
        name: name.to_owned(),
        attrs,
        children: Vec::new(),
        parent: None,
        loc: source.loc,
        implicit: false,
        template: source.template.clone(),
        instances,
    };
    let id = tree.push(node);
    tree.attach(id, root);
    id
}

/// Children of the sibling anchor (other than generated ones) named like a generated node.
fn raw_instance_nodes(tree: &mut BuildTree, anchor: BId, generated: &[BId]) -> Vec<BId> {
    let generated_names: Vec<String> = generated
        .iter()
        .filter(|g| tree.node(**g).parent == Some(anchor))
        .map(|g| tree.node(*g).name.clone())
        .collect();
    let raw: Vec<BId> = tree
        .node(anchor)
        .children
        .iter()
        .copied()
        .filter(|c| !generated.contains(c) && generated_names.contains(&tree.node(*c).name))
        .collect();
    for r in &raw {
        tree.detach(*r);
    }
    raw
}

/// The node a template/raw child is merged into: in child mode any current child of `b` with
/// the same name (vss-tools compares paths); in sibling mode a generated direct instance.
fn matching_generated(
    tree: &BuildTree,
    anchor: BId,
    b: BId,
    generated: &[BId],
    source: BId,
) -> Option<BId> {
    let name = &tree.node(source).name;
    if anchor == b {
        tree.child_named(b, name)
    } else {
        generated
            .iter()
            .copied()
            .find(|g| tree.node(*g).parent == Some(anchor) && &tree.node(*g).name == name)
    }
}

/// Copies of template children inherit the instance names of the leaf they go under.
fn adopt_instances(tree: &mut BuildTree, copy: BId, leaf: BId) {
    let names = tree.node(leaf).instances.clone();
    for id in tree.preorder(copy) {
        tree.node_mut(id).instances = names.clone();
    }
}

/// vss-tools `VSSNode.merge`: `other`'s data wins (deep update), children merged by name,
/// unmatched children moved over.
pub fn merge(tree: &mut BuildTree, target: BId, other: BId) {
    // A work list instead of recursion: raw subtrees can be arbitrarily deep.
    let mut pending = vec![(target, other)];
    while let Some((target, other)) = pending.pop() {
        merge_one(tree, target, other, &mut pending);
    }
}

fn merge_one(tree: &mut BuildTree, target: BId, other: BId, pending: &mut Vec<(BId, BId)>) {
    let other_attrs = tree.node(other).attrs.clone();
    deep_update_attrs(&mut tree.node_mut(target).attrs, other_attrs);
    let other_loc = tree.node(other).loc;
    let target_node = tree.node_mut(target);
    target_node.implicit = false;
    if target_node.loc.is_none() {
        target_node.loc = other_loc;
    }
    let children = tree.node(other).children.clone();
    for child in children {
        let name = tree.node(child).name.clone();
        match tree.child_named(target, &name) {
            Some(existing) => pending.push((existing, child)),
            None => {
                let inherited = tree.node(target).instances.clone();
                for id in tree.preorder(child) {
                    let node = tree.node_mut(id);
                    if node.instances.is_empty() {
                        node.instances = inherited.clone();
                    }
                }
                tree.attach(child, target);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_ranges_like_vss_tools() {
        assert_eq!(
            expand_string("Row[1,3]").unwrap(),
            vec!["Row1", "Row2", "Row3"]
        );
        assert_eq!(
            expand_string("Pos[1,2]Seat").unwrap(),
            vec!["Pos1Seat", "Pos2Seat"]
        );
        assert_eq!(expand_string("R[1,2]C[1,2]").unwrap(), vec!["R1C1", "R2C2"]);
        assert_eq!(expand_string("Row[1, 4]").unwrap(), vec!["Row[1, 4]"]);
        assert_eq!(expand_string("Left").unwrap(), vec!["Left"]);
        assert_eq!(expand_string("X[4,1]"), Err(InvalidRange("[4,1]".into())));
        assert_eq!(
            expand_string("A[1,2]B[3,4]").unwrap(),
            vec!["A[1,2]B3", "A[1,2]B4"]
        );
    }

    #[test]
    fn steps_normalise_strings_and_stringify_deep_lists() {
        let v = serde_json::json!(["Row[1,2]", ["Left", "Right"]]);
        assert_eq!(
            steps(&v).unwrap(),
            vec![
                Step::Single("Row[1,2]".into()),
                Step::List(vec!["Left".into(), "Right".into()])
            ]
        );
        let garbage = serde_json::json!([[["A1", "B1"]]]);
        assert!(nested_garbage(&garbage));
        assert_eq!(
            steps(&garbage).unwrap(),
            vec![Step::List(vec!["['A1', 'B1']".into()])]
        );
        assert_eq!(steps(&serde_json::json!("Row[1,2]")).unwrap().len(), 1);
        assert!(steps(&serde_json::json!(3)).is_none());
    }
}
