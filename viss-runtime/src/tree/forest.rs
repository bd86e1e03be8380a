//! [`Forest`]: several trees served as one (CORE App. B's `Server` tree beside the vehicle
//! tree, further trees a user gives).
//!
//! The first path segment picks the tree: every path starts at a root, and root names are
//! unique across the forest. Node ids form one range: the primary tree's ids are its own
//! (so a generated tree's hot path is unchanged: one comparison), each mounted tree's ids
//! follow, offset by the nodes before it. The `parent` and `end` links stored in a mounted
//! tree's [`NodeInfo`] stay relative to that tree: walk the forest with its methods
//! ([`Forest::children`], [`Forest::leaves_under`]), which translate them.

use super::{
    AttributeDefault, Children, EnumEntry, Leaves, NodeId, NodeInfo, NodeMeta, StructType, VissTree,
};

/// A tree mounted beside the primary one.
struct Mounted {
    /// The id of the tree's first node in the forest.
    base: u32,
    /// The names of the tree's roots.
    roots: Vec<String>,
    tree: Box<dyn VissTree>,
}

/// The primary tree `T` and any number of mounted trees, each with roots of its own.
pub struct Forest<T> {
    primary: T,
    primary_len: u32,
    mounted: Vec<Mounted>,
}

impl<T> std::fmt::Debug for Forest<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let roots: Vec<&[String]> = self.mounted.iter().map(|m| m.roots.as_slice()).collect();
        f.debug_struct("Forest")
            .field("primary_nodes", &self.primary_len)
            .field("mounted_roots", &roots)
            .finish()
    }
}

/// Why a tree could not be mounted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForestError {
    /// A root of that name is served already (root names pick the tree).
    DuplicateRoot(String),
    /// The forest would have more than `u32::MAX` nodes.
    TooManyNodes,
}

impl std::fmt::Display for ForestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::DuplicateRoot(name) => write!(
                f,
                "two trees have the root `{name}`: root names must be unique"
            ),
            Self::TooManyNodes => f.write_str("the trees have more than 2^32 nodes together"),
        }
    }
}

impl std::error::Error for ForestError {}

/// The names of a tree's roots: node 0 and each node that starts after a root's subtree
/// (reads only the root entries of the table).
fn root_names(tree: &dyn VissTree) -> Vec<String> {
    let nodes = tree.nodes();
    let mut names = Vec::new();
    let mut index = 0;
    while let Some(node) = nodes.get(index) {
        names.push(node.name.to_string());
        index = (node.end as usize).max(index + 1);
    }
    names
}

impl<T: VissTree> Forest<T> {
    /// A forest of one tree.
    pub fn new(primary: T) -> Self {
        let primary_len = u32::try_from(primary.nodes().len()).unwrap_or(u32::MAX);
        Self {
            primary,
            primary_len,
            mounted: Vec::new(),
        }
    }

    /// Mounts `tree` beside the others; its roots must be new.
    pub fn mount(&mut self, tree: Box<dyn VissTree>) -> Result<(), ForestError> {
        let roots = root_names(tree.as_ref());
        let taken = self.root_names();
        if let Some(duplicate) = roots.iter().find(|root| taken.contains(&root.as_str())) {
            return Err(ForestError::DuplicateRoot(duplicate.clone()));
        }
        let base = u32::try_from(self.node_count()).map_err(|_| ForestError::TooManyNodes)?;
        let len = u32::try_from(tree.nodes().len()).map_err(|_| ForestError::TooManyNodes)?;
        base.checked_add(len).ok_or(ForestError::TooManyNodes)?;
        self.mounted.push(Mounted { base, roots, tree });
        Ok(())
    }

    /// [`Forest::mount`] by value, for chaining.
    pub fn with(mut self, tree: impl VissTree + 'static) -> Result<Self, ForestError> {
        self.mount(Box::new(tree))?;
        Ok(self)
    }

    /// The tree the forest was made with.
    pub fn primary(&self) -> &T {
        &self.primary
    }

    /// Nodes in all trees.
    pub fn node_count(&self) -> usize {
        self.mounted
            .last()
            .map_or(self.primary_len as usize, |last| {
                last.base as usize + last.tree.nodes().len()
            })
    }

    /// Every root name, the primary tree's first.
    pub fn root_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        let nodes = self.primary.nodes();
        let mut index = 0;
        while let Some(node) = nodes.get(index) {
            names.push(&node.name);
            index = (node.end as usize).max(index + 1);
        }
        for mounted in &self.mounted {
            names.extend(mounted.roots.iter().map(String::as_str));
        }
        names
    }

    /// The position of the mounted tree holding `id` (not in the primary tree), and its id
    /// there.
    fn mounted_position(&self, id: NodeId) -> Option<(usize, NodeId)> {
        let position = self
            .mounted
            .partition_point(|mounted| mounted.base <= id.0)
            .checked_sub(1)?;
        let mounted = self.mounted.get(position)?;
        Some((position, NodeId(id.0 - mounted.base)))
    }

    /// The mounted tree holding `id` (not in the primary tree), and its id there.
    fn mounted_of(&self, id: NodeId) -> Option<(&Mounted, NodeId)> {
        let (position, local) = self.mounted_position(id)?;
        Some((self.mounted.get(position)?, local))
    }

    /// Which tree holds `id` (0: the primary tree, `k`: the `k`-th mounted one) and the id
    /// that tree knows the node by; `None` for an id of no tree.
    pub fn locate(&self, id: NodeId) -> Option<(usize, NodeId)> {
        if id.0 < self.primary_len {
            return Some((0, id));
        }
        let (position, local) = self.mounted_position(id)?;
        let mounted = self.mounted.get(position)?;
        (local.index() < mounted.tree.nodes().len()).then_some((position + 1, local))
    }

    /// The index [`Forest::locate`] gives the tree with root `root` (start-up only: it
    /// collects the primary tree's root names).
    pub fn tree_index(&self, root: &str) -> Option<usize> {
        if root_names(&self.primary).iter().any(|name| name == root) {
            return Some(0);
        }
        self.mounted
            .iter()
            .position(|mounted| mounted.roots.iter().any(|name| name == root))
            .map(|position| position + 1)
    }

    /// The forest id of node `local` of the tree at `index` (as [`Forest::locate`] numbers
    /// them); `None` when that tree has no such node.
    pub fn global_id(&self, index: usize, local: NodeId) -> Option<NodeId> {
        let (base, len) = match index.checked_sub(1) {
            None => (0, self.primary_len),
            Some(position) => {
                let mounted = self.mounted.get(position)?;
                let len = u32::try_from(mounted.tree.nodes().len()).ok()?;
                (mounted.base, len)
            }
        };
        (local.0 < len).then(|| NodeId(base + local.0))
    }

    /// The node behind `id` (its `parent`/`end` links are relative to its own tree).
    ///
    /// # Panics
    /// If `id` does not come from this forest (ids are never taken from requests).
    pub fn node(&self, id: NodeId) -> &NodeInfo {
        if id.0 < self.primary_len {
            return self.primary.node(id);
        }
        match self.mounted_of(id) {
            Some((mounted, local)) => mounted.tree.node(local),
            None => panic!("node {} is not in this forest", id.0),
        }
    }

    /// The node behind `id`, or `None` when there is no such id.
    pub fn get(&self, id: NodeId) -> Option<&NodeInfo> {
        if id.0 < self.primary_len {
            return self.primary.nodes().get(id.index());
        }
        let (mounted, local) = self.mounted_of(id)?;
        mounted.tree.nodes().get(local.index())
    }

    /// The cold metadata of `id`.
    pub fn meta(&self, id: NodeId) -> &NodeMeta {
        if id.0 < self.primary_len {
            return self.primary.meta(id);
        }
        match self.mounted_of(id) {
            Some((mounted, local)) => mounted.tree.meta(local),
            None => panic!("node {} is not in this forest", id.0),
        }
    }

    /// The `enum` of `id` (empty when it has none).
    pub fn enumeration(&self, id: NodeId) -> &[EnumEntry] {
        if id.0 < self.primary_len {
            return self.primary.enumeration(id);
        }
        self.mounted_of(id)
            .map_or(&[], |(mounted, local)| mounted.tree.enumeration(local))
    }

    /// Finds a node by its full path (dot or slash delimited): the primary tree first, then
    /// the mounted tree whose root is the path's first segment.
    pub fn lookup(&self, path: &str) -> Option<NodeId> {
        if let Some(id) = self.primary.lookup(path) {
            return Some(id);
        }
        let root = path.split(['.', '/']).next()?;
        let mounted = self
            .mounted
            .iter()
            .find(|mounted| mounted.roots.iter().any(|name| name == root))?;
        let local = mounted.tree.lookup(path)?;
        Some(NodeId(local.0 + mounted.base))
    }

    /// The direct children of `id`, in tree order.
    pub fn children(&self, id: NodeId) -> Children<'_> {
        if id.0 < self.primary_len {
            return self.primary.children(id);
        }
        match self.mounted_of(id) {
            Some((mounted, local)) => Children::of(mounted.tree.nodes(), local, mounted.base),
            None => Children::of(&[], id, 0),
        }
    }

    /// The child of `id` called `name`.
    pub fn child_by_name(&self, id: NodeId, name: &str) -> Option<NodeId> {
        self.children(id)
            .find(|child| self.node(*child).name == name)
    }

    /// `id` itself when it is a leaf, else every leaf of its subtree, in tree order.
    pub fn leaves_under(&self, id: NodeId) -> Leaves<'_> {
        if id.0 < self.primary_len {
            return self.primary.leaves_under(id);
        }
        match self.mounted_of(id) {
            Some((mounted, local)) => Leaves::of(mounted.tree.nodes(), local, mounted.base),
            None => Leaves::of(&[], id, 0),
        }
    }

    /// The parent of `id` (none for a root).
    pub fn parent(&self, id: NodeId) -> Option<NodeId> {
        let parent = self.node(id).parent?;
        if id.0 < self.primary_len {
            return Some(parent);
        }
        let (mounted, _) = self.mounted_of(id)?;
        Some(NodeId(parent.0 + mounted.base))
    }

    /// The struct type named `name` (`Types.Waypoint`), from any tree.
    pub fn struct_type(&self, name: &str) -> Option<&StructType> {
        let find = |types: &[StructType]| types.iter().position(|ty| ty.name == name);
        if let Some(position) = find(self.primary.struct_types()) {
            return self.primary.struct_types().get(position);
        }
        self.mounted.iter().find_map(|mounted| {
            let types = mounted.tree.struct_types();
            find(types).and_then(|position| types.get(position))
        })
    }

    /// Calls `visit` with every attribute that has a `default`, in every tree, and its id
    /// in the forest. Derived trees' tables are read where they are (nothing is copied at
    /// start).
    pub fn visit_attribute_defaults(&self, mut visit: impl FnMut(NodeId, &AttributeDefault)) {
        for attribute in self.primary.attribute_defaults().iter() {
            visit(attribute.id, attribute);
        }
        for mounted in &self.mounted {
            for attribute in mounted.tree.attribute_defaults().iter() {
                visit(NodeId(attribute.id.0 + mounted.base), attribute);
            }
        }
    }

    /// The nodes with a `pattern` in every tree, in id order.
    pub fn pattern_nodes(&self) -> Vec<NodeId> {
        let mut nodes = self.primary.pattern_nodes().into_owned();
        for mounted in &self.mounted {
            let patterned = mounted.tree.pattern_nodes();
            nodes.extend(patterned.iter().map(|id| NodeId(id.0 + mounted.base)));
        }
        nodes
    }
}

#[cfg(test)]
mod tests {
    // Test code: a failed unwrap is a failed test.
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::tree::{DynamicTree, NodeKind, NodeSpec};

    fn tree(paths: &[&str]) -> DynamicTree {
        let mut builder = DynamicTree::builder();
        for path in paths {
            let name = path.rsplit('.').next().unwrap();
            builder
                .insert_path(path, NodeSpec::leaf(name, NodeKind::Sensor, "uint8"))
                .unwrap();
        }
        builder.build()
    }

    #[test]
    fn the_first_segment_picks_the_tree_and_ids_run_on() {
        let forest = Forest::new(tree(&["Vehicle.Speed", "Vehicle.Cabin.Temp"]))
            .with(tree(&["Server.Support.Protocol"]))
            .unwrap()
            .with(tree(&["Trailer.Weight", "Trailer.Axle.Load"]))
            .unwrap();
        assert_eq!(forest.node_count(), 4 + 3 + 4);
        assert_eq!(forest.root_names(), ["Vehicle", "Server", "Trailer"]);
        let weight = forest.lookup("Trailer/Weight").unwrap();
        assert_eq!(weight, NodeId(8));
        assert_eq!(forest.node(weight).path, "Trailer.Weight");
        let trailer = forest.lookup("Trailer").unwrap();
        let children: Vec<_> = forest.children(trailer).collect();
        assert_eq!(children, [NodeId(8), NodeId(9)]);
        let leaves: Vec<_> = forest.leaves_under(trailer).collect();
        assert_eq!(leaves, [NodeId(8), NodeId(10)]);
        assert_eq!(forest.parent(NodeId(10)), Some(NodeId(9)));
        assert_eq!(forest.child_by_name(NodeId(9), "Load"), Some(NodeId(10)));
        assert_eq!(forest.lookup("Server.Support.Protocol"), Some(NodeId(6)));
        assert_eq!(forest.lookup("Nothing.Here"), None);
        assert_eq!(forest.lookup("Trailer.Speed"), None);
        assert!(forest.get(NodeId(11)).is_none());
    }

    #[test]
    fn root_names_are_unique() {
        let forest = Forest::new(tree(&["Vehicle.Speed"]));
        let again = forest.with(tree(&["Vehicle.Other"]));
        assert_eq!(
            again.unwrap_err(),
            ForestError::DuplicateRoot("Vehicle".into())
        );
    }
}
