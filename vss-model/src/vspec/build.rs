//! The mutable build tree (before freezing into a [`crate::VssTree`]) and its construction
//! from the raw model (§1 step 4): keys sorted by depth, linked to their parent key, orphans
//! connected through implicit `{type: branch}` nodes.

use std::collections::HashMap;

use serde_json::Value;

use super::raw::{Attr, Attrs, RawModel};
use crate::diag::{Diagnostic, Diagnostics};
use crate::source::SourceLocation;

/// Index of a node in a [`BuildTree`].
pub type BId = usize;

/// A node under construction.
#[derive(Debug, Clone)]
pub struct BNode {
    pub name: String,
    pub attrs: Attrs,
    pub children: Vec<BId>,
    pub parent: Option<BId>,
    /// Where the node's key was (last) written.
    pub loc: Option<SourceLocation>,
    /// Created because a key's parent was never defined.
    pub implicit: bool,
    /// The node's path in the unexpanded model (kept through instance copies).
    pub template: String,
    /// Instance names on the way from the template root, outermost first.
    pub instances: Vec<String>,
}

/// An arena of nodes; detached nodes simply stay unreachable.
#[derive(Debug, Clone, Default)]
pub struct BuildTree {
    pub nodes: Vec<BNode>,
    pub root: BId,
}

impl BuildTree {
    pub fn node(&self, id: BId) -> &BNode {
        &self.nodes[id]
    }

    pub fn node_mut(&mut self, id: BId) -> &mut BNode {
        &mut self.nodes[id]
    }

    /// Adds a detached node.
    pub fn push(&mut self, node: BNode) -> BId {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    /// Appends `child` to `parent`'s children (detaching it from a previous parent first).
    pub fn attach(&mut self, child: BId, parent: BId) {
        self.detach(child);
        self.nodes[child].parent = Some(parent);
        self.nodes[parent].children.push(child);
    }

    /// Removes `child` from its parent's children.
    pub fn detach(&mut self, child: BId) {
        if let Some(parent) = self.nodes[child].parent.take() {
            self.nodes[parent].children.retain(|c| *c != child);
        }
    }

    /// The direct child of `parent` named `name`.
    pub fn child_named(&self, parent: BId, name: &str) -> Option<BId> {
        self.nodes[parent]
            .children
            .iter()
            .copied()
            .find(|c| self.nodes[*c].name == name)
    }

    /// The dotted path of `id`.
    pub fn path(&self, id: BId) -> String {
        let mut names = vec![self.nodes[id].name.as_str()];
        let mut current = self.nodes[id].parent;
        while let Some(p) = current {
            names.push(self.nodes[p].name.as_str());
            current = self.nodes[p].parent;
        }
        names.reverse();
        names.join(".")
    }

    /// The string value of attribute `key`.
    pub fn attr_str(&self, id: BId, key: &str) -> Option<&str> {
        self.nodes[id].attrs.get(key).and_then(|a| a.value.as_str())
    }

    /// Ids reachable from `start`, parents before children, in child order.
    pub fn preorder(&self, start: BId) -> Vec<BId> {
        let mut out = Vec::new();
        let mut stack = vec![start];
        while let Some(id) = stack.pop() {
            out.push(id);
            stack.extend(self.nodes[id].children.iter().rev());
        }
        out
    }

    /// Deep-copies the subtree at `id` (detached); copies keep their template and instances.
    /// Iterative, so that very deep trees cannot overflow the stack.
    pub fn copy_subtree(&mut self, id: BId) -> BId {
        let new_root = self.copy_one(id, None);
        let mut stack = vec![(id, new_root)];
        while let Some((original, copy)) = stack.pop() {
            let children = self.nodes[original].children.clone();
            for child in children {
                let child_copy = self.copy_one(child, Some(copy));
                stack.push((child, child_copy));
            }
        }
        new_root
    }

    /// Copies one node's data (no children) and appends it to `parent`.
    fn copy_one(&mut self, id: BId, parent: Option<BId>) -> BId {
        let mut copy = self.nodes[id].clone();
        copy.parent = parent;
        copy.children = Vec::new();
        let new_id = self.push(copy);
        if let Some(p) = parent {
            self.nodes[p].children.push(new_id);
        }
        new_id
    }
}

/// Builds the tree from the raw model. `connect_orphans` is true for the signal tree (implicit
/// branches) and false for types trees (orphans are errors there).
pub fn build_tree(
    raw: &RawModel,
    connect_orphans: bool,
    what: &str,
    diagnostics: &mut Diagnostics,
) -> Option<BuildTree> {
    let mut tree = BuildTree::default();
    let mut by_path: HashMap<String, BId> = HashMap::with_capacity(raw.entries.len() * 2);
    let mut keys: Vec<&String> = raw.entries.keys().collect();
    keys.sort_by_key(|k| k.matches('.').count());
    let mut roots = Vec::new();
    let mut orphans = Vec::new();
    for key in keys {
        let entry = &raw.entries[key];
        let (parent_path, name) = match key.rsplit_once('.') {
            Some((p, n)) => (Some(p), n),
            None => (None, key.as_str()),
        };
        let id = tree.push(BNode {
            name: name.to_owned(),
            attrs: entry.attrs.clone(),
            children: Vec::new(),
            parent: None,
            loc: Some(entry.loc),
            implicit: false,
            template: key.clone(),
            instances: Vec::new(),
        });
        match parent_path.and_then(|p| by_path.get(p)) {
            Some(&parent) => tree.attach(id, parent),
            None if parent_path.is_none() => roots.push(id),
            None => orphans.push((key.clone(), id)),
        }
        by_path.insert(key.clone(), id);
    }
    let root = single_root(&tree, &roots, what, diagnostics)?;
    tree.root = root;
    let root_name = tree.node(root).name.clone();
    let mut unconnected = Vec::new();
    for (key, id) in orphans {
        let connectable = connect_orphans && key.split('.').next() == Some(root_name.as_str());
        if connectable {
            connect(&mut tree, &mut by_path, &key, id);
        } else {
            unconnected.push((key, id));
        }
    }
    if !unconnected.is_empty() {
        report_orphans(&tree, &unconnected, connect_orphans, what, diagnostics);
        return None;
    }
    Some(tree)
}

fn single_root(
    tree: &BuildTree,
    roots: &[BId],
    what: &str,
    diagnostics: &mut Diagnostics,
) -> Option<BId> {
    match roots {
        [root] => Some(*root),
        [] => {
            diagnostics.push(Diagnostic::error(
                "vss::no-root",
                format!("the {what} has no root node (a key without '.')"),
            ));
            None
        }
        [_, rest @ ..] => {
            let names: Vec<String> = roots
                .iter()
                .map(|r| format!("'{}'", tree.node(*r).name))
                .collect();
            for extra in rest {
                diagnostics.push(
                    Diagnostic::error(
                        "vss::multiple-roots",
                        format!("the {what} has several roots: [{}]", names.join(", ")),
                    )
                    .at(tree.node(*extra).loc),
                );
            }
            None
        }
    }
}

/// Attaches an orphan, creating implicit `{type: branch}` parents for missing path segments.
fn connect(tree: &mut BuildTree, by_path: &mut HashMap<String, BId>, key: &str, id: BId) {
    let segments: Vec<&str> = key.split('.').collect();
    let mut parent = tree.root;
    let orphan_loc = tree.node(id).loc;
    for depth in 1..segments.len() - 1 {
        let path = segments[..=depth].join(".");
        parent = match by_path.get(&path) {
            Some(&existing) => existing,
            None => {
                let type_attr = Attr {
                    value: Value::String("branch".into()),
                    key_loc: orphan_loc.unwrap_or(SourceLocation {
                        file: crate::source::FileId(0),
                        line: 0,
                        column: 0,
                    }),
                    value_loc: orphan_loc.unwrap_or(SourceLocation {
                        file: crate::source::FileId(0),
                        line: 0,
                        column: 0,
                    }),
                };
                let mut attrs = Attrs::new();
                attrs.insert("type".into(), type_attr);
                let auto = tree.push(BNode {
                    name: segments[depth].to_owned(),
                    attrs,
                    children: Vec::new(),
                    parent: None,
                    loc: orphan_loc,
                    implicit: true,
                    template: path.clone(),
                    instances: Vec::new(),
                });
                tree.attach(auto, parent);
                by_path.insert(path, auto);
                auto
            }
        };
    }
    tree.attach(id, parent);
}

fn report_orphans(
    tree: &BuildTree,
    orphans: &[(String, BId)],
    connect_orphans: bool,
    what: &str,
    diagnostics: &mut Diagnostics,
) {
    for (key, id) in orphans {
        let message = if connect_orphans {
            format!(
                "'{key}' cannot be connected to the root '{}' (Model has orphans)",
                tree.node(tree.root).name
            )
        } else {
            format!(
                "'{key}' has no parent node ({what} has orphans; implicit branches are not allowed here)"
            )
        };
        diagnostics.push(Diagnostic::error("vss::orphan", message).at(tree.node(*id).loc));
    }
}
