//! [`DynamicTree`]: a tree built at run time (tests, trees loaded at start-up), and its
//! builder, which takes nodes in any order and freezes them into tree order.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::OnceLock;

use hashbrown::HashTable;

use super::{
    DataType, EnumEntry, Extended, Lit, LitKind, Literal, MetaFlags, NodeId, NodeInfo, NodeKind,
    NodeMeta, ScalarType, StructType, Validate, VissTree,
};
use crate::typed::packed_meta::PackedTable;

/// A tree built at run time (tests, trees loaded at start-up).
#[derive(Debug, Clone)]
pub struct DynamicTree {
    nodes: Vec<NodeInfo>,
    /// The cold table, packed until the first read, as a derived tree's is: an idle server
    /// that serves gets and sets never reads it.
    meta: PackedTable,
    unpacked_meta: OnceLock<Box<[NodeMeta]>>,
    by_path: PathIndex,
    struct_types: Vec<StructType>,
}

impl DynamicTree {
    /// Starts an empty builder.
    pub fn builder() -> DynamicTreeBuilder {
        DynamicTreeBuilder::default()
    }
}

impl VissTree for DynamicTree {
    fn nodes(&self) -> &[NodeInfo] {
        &self.nodes
    }

    fn node_meta(&self) -> &[NodeMeta] {
        self.unpacked_meta.get_or_init(|| self.meta.unpack())
    }

    /// Read from the packed table: a server reads the `enum`s of some nodes at start.
    fn enumeration(&self, id: NodeId) -> &[EnumEntry] {
        self.meta.enumeration(id.index())
    }

    fn lookup_dotted(&self, path: &str) -> Option<NodeId> {
        self.by_path.get(&self.nodes, path)
    }

    fn struct_types(&self) -> &[StructType] {
        &self.struct_types
    }
}

/// Every node's id by its path. The table holds ids only and compares a path with the node's
/// own ([`NodeInfo::path`]): a map from copies of the paths would hold each path twice (on
/// the standard tree, 1,720 more blocks and 130 KB more at idle). Hashed with SipHash under a
/// random key, as `HashMap` does, since the paths looked up come from clients.
#[derive(Debug, Clone)]
struct PathIndex {
    hasher: RandomState,
    ids: HashTable<NodeId>,
}

impl PathIndex {
    /// The index of `nodes`, whose paths are distinct.
    fn new(nodes: &[NodeInfo]) -> Self {
        let hasher = RandomState::new();
        let mut ids = HashTable::with_capacity(nodes.len());
        for (position, node) in nodes.iter().enumerate() {
            let hash = hasher.hash_one(node.path.as_ref());
            ids.insert_unique(hash, NodeId(position as u32), |id| {
                hasher.hash_one(nodes[id.index()].path.as_ref())
            });
        }
        Self { hasher, ids }
    }

    /// The id of the node of `nodes` (those it was built from) at `path`.
    fn get(&self, nodes: &[NodeInfo], path: &str) -> Option<NodeId> {
        let hash = self.hasher.hash_one(path);
        self.ids
            .find(hash, |id| nodes[id.index()].path == path)
            .copied()
    }
}

/// Metadata of one node to add to a [`DynamicTreeBuilder`].
#[derive(Debug, Clone, PartialEq)]
pub struct NodeSpec {
    pub name: String,
    pub kind: NodeKind,
    pub datatype: Option<DataType>,
    pub unit: Option<String>,
    pub description: Option<String>,
    pub comment: Option<String>,
    pub deprecation: Option<String>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// See [`NodeMeta::min_text`].
    pub min_text: Option<String>,
    pub max_text: Option<String>,
    pub allowed: Vec<Lit>,
    pub default: Option<Literal>,
    pub enumeration: Vec<EnumEntry>,
    pub pattern: Option<String>,
    pub fka: Vec<String>,
    pub const_uid: Option<String>,
    pub extended: Vec<Extended>,
    /// The node's own `validate` tag (CORE §8.8).
    pub validate: Option<Validate>,
}

impl NodeSpec {
    /// A node of `kind`; leaves get their datatype with [`NodeSpec::datatype`].
    pub fn new(name: impl Into<String>, kind: NodeKind) -> Self {
        Self {
            name: name.into(),
            kind,
            datatype: None,
            unit: None,
            description: None,
            comment: None,
            deprecation: None,
            min: None,
            max: None,
            min_text: None,
            max_text: None,
            allowed: Vec::new(),
            default: None,
            enumeration: Vec::new(),
            pattern: None,
            fka: Vec::new(),
            const_uid: None,
            extended: Vec::new(),
            validate: None,
        }
    }

    /// A branch.
    pub fn branch(name: impl Into<String>) -> Self {
        Self::new(name, NodeKind::Branch)
    }

    /// A leaf of `kind` with the VSS datatype `datatype` (e.g. `"float"`, `"string[]"`).
    pub fn leaf(name: impl Into<String>, kind: NodeKind, datatype: &str) -> Self {
        Self {
            datatype: Some(DataType::parse(datatype)),
            ..Self::new(name, kind)
        }
    }

    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    pub fn unit(mut self, text: impl Into<String>) -> Self {
        self.unit = Some(text.into());
        self
    }

    /// The node's own `validate` tag (its subtree inherits it).
    pub fn validate(mut self, tag: Validate) -> Self {
        self.validate = Some(tag);
        self
    }

    pub fn comment(mut self, text: impl Into<String>) -> Self {
        self.comment = Some(text.into());
        self
    }

    pub fn deprecation(mut self, text: impl Into<String>) -> Self {
        self.deprecation = Some(text.into());
        self
    }

    pub fn min(mut self, min: f64) -> Self {
        self.min = Some(min);
        self
    }

    pub fn max(mut self, max: f64) -> Self {
        self.max = Some(max);
        self
    }

    /// The `allowed` values: strings on string leaves, else typed from their text.
    pub fn allowed<S: Into<String>>(mut self, values: impl IntoIterator<Item = S>) -> Self {
        let strings = matches!(
            self.datatype,
            Some(DataType::Scalar(ScalarType::String) | DataType::Array(ScalarType::String))
        );
        self.allowed = values
            .into_iter()
            .map(|value| {
                if strings {
                    Lit::owned(LitKind::String, value)
                } else {
                    Lit::from(value.into())
                }
            })
            .collect();
        self
    }

    /// The `enum`: names and their integer values, in order.
    pub fn enumeration<S: Into<String>>(
        mut self,
        entries: impl IntoIterator<Item = (S, i64)>,
    ) -> Self {
        self.enumeration = entries
            .into_iter()
            .map(|(name, value)| EnumEntry {
                name: Cow::Owned(name.into()),
                value: Lit::owned(LitKind::Number, value.to_string()),
            })
            .collect();
        self
    }

    pub fn pattern(mut self, regex: impl Into<String>) -> Self {
        self.pattern = Some(regex.into());
        self
    }

    pub fn default_value(mut self, literal: Literal) -> Self {
        self.default = Some(literal);
        self
    }
}

/// Why a node could not be added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeBuildError {
    /// The name is empty or contains a delimiter or `*`.
    InvalidName(String),
    /// The parent is a leaf or an unknown handle.
    InvalidParent(String),
    /// A sibling already has this name.
    Duplicate(String),
    /// A leaf without a datatype, or a branch with one.
    DatatypeMismatch(String),
}

impl std::fmt::Display for TreeBuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::InvalidName(name) => write!(f, "invalid node name `{name}`"),
            Self::InvalidParent(name) => write!(f, "`{name}` cannot be a parent"),
            Self::Duplicate(path) => write!(f, "duplicate node `{path}`"),
            Self::DatatypeMismatch(name) => write!(
                f,
                "`{name}`: leaves need a datatype, branches must not have one"
            ),
        }
    }
}

impl std::error::Error for TreeBuildError {}

/// Handle to a node pushed into a [`DynamicTreeBuilder`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuilderNode(usize);

/// Collects nodes in any order and freezes them into tree order.
#[derive(Debug, Default, Clone)]
pub struct DynamicTreeBuilder {
    struct_types: Vec<StructType>,
    specs: Vec<NodeSpec>,
    children: Vec<Vec<usize>>,
    roots: Vec<usize>,
    paths: HashMap<String, usize>,
    full_paths: Vec<String>,
}

impl DynamicTreeBuilder {
    /// Declares a struct type the tree's leaves use (their struct values are checked
    /// against it).
    pub fn struct_type(&mut self, struct_type: StructType) {
        self.struct_types.push(struct_type);
    }

    /// Adds `spec` below `parent` (a root when `None`).
    pub fn push(
        &mut self,
        parent: Option<BuilderNode>,
        spec: NodeSpec,
    ) -> Result<BuilderNode, TreeBuildError> {
        if spec.name.is_empty() || spec.name.contains(['.', '/', '*']) {
            return Err(TreeBuildError::InvalidName(spec.name));
        }
        if (spec.kind == NodeKind::Branch) == spec.datatype.is_some() {
            return Err(TreeBuildError::DatatypeMismatch(spec.name));
        }
        let path = match parent {
            None => spec.name.clone(),
            Some(BuilderNode(index)) => match self.specs.get(index) {
                Some(parent_spec) if parent_spec.kind == NodeKind::Branch => {
                    format!("{}.{}", self.full_paths[index], spec.name)
                }
                _ => return Err(TreeBuildError::InvalidParent(spec.name)),
            },
        };
        if self.paths.contains_key(&path) {
            return Err(TreeBuildError::Duplicate(path));
        }
        let index = self.specs.len();
        match parent {
            None => self.roots.push(index),
            Some(BuilderNode(parent_index)) => self.children[parent_index].push(index),
        }
        self.paths.insert(path.clone(), index);
        self.full_paths.push(path);
        self.specs.push(spec);
        self.children.push(Vec::new());
        Ok(BuilderNode(index))
    }

    /// Adds a node by full dot path, creating missing ancestor branches.
    pub fn insert_path(
        &mut self,
        path: &str,
        spec: NodeSpec,
    ) -> Result<BuilderNode, TreeBuildError> {
        let mut parent = None;
        let mut prefix = String::new();
        let segments: Vec<&str> = path.split('.').collect();
        let Some((_, ancestors)) = segments.split_last() else {
            return Err(TreeBuildError::InvalidName(path.to_owned()));
        };
        for segment in ancestors {
            if !prefix.is_empty() {
                prefix.push('.');
            }
            prefix.push_str(segment);
            parent = Some(match self.paths.get(&prefix) {
                Some(index) => BuilderNode(*index),
                None => self.push(parent, NodeSpec::branch(*segment))?,
            });
        }
        self.push(parent, spec)
    }

    /// Freezes the tree: nodes in pre-order, children in insertion order.
    pub fn build(self) -> DynamicTree {
        let mut order = Vec::with_capacity(self.specs.len());
        let mut stack: Vec<usize> = self.roots.iter().rev().copied().collect();
        while let Some(index) = stack.pop() {
            order.push(index);
            stack.extend(self.children[index].iter().rev().copied());
        }
        let mut new_id = vec![0u32; self.specs.len()];
        for (position, index) in order.iter().enumerate() {
            new_id[*index] = position as u32;
        }
        let mut parent_of = vec![None; self.specs.len()];
        for (index, children) in self.children.iter().enumerate() {
            for child in children {
                parent_of[*child] = Some(NodeId(new_id[index]));
            }
        }
        let mut specs: Vec<Option<NodeSpec>> = self.specs.into_iter().map(Some).collect();
        let mut nodes = Vec::with_capacity(order.len());
        let mut meta = Vec::with_capacity(order.len());
        let mut full_paths = self.full_paths;
        for index in &order {
            let Some(spec) = specs[*index].take() else {
                continue;
            };
            let path = std::mem::take(&mut full_paths[*index]);
            let node_meta = NodeMeta {
                unit: spec.unit.map(Cow::Owned),
                description: spec.description.map(Cow::Owned),
                comment: spec.comment.map(Cow::Owned),
                deprecation: spec.deprecation.map(Cow::Owned),
                min_text: spec.min_text.map(Cow::Owned),
                max_text: spec.max_text.map(Cow::Owned),
                enumeration: Cow::Owned(spec.enumeration),
                pattern: spec.pattern.map(Cow::Owned),
                fka: Cow::Owned(spec.fka.into_iter().map(Cow::Owned).collect()),
                const_uid: spec.const_uid.map(Cow::Owned),
                extended: Cow::Owned(spec.extended),
            };
            nodes.push(NodeInfo {
                name: Cow::Owned(spec.name),
                path: Cow::Owned(path),
                kind: spec.kind,
                datatype: spec.datatype,
                min: spec.min,
                max: spec.max,
                allowed: Cow::Owned(spec.allowed),
                default: spec.default,
                meta_flags: MetaFlags::of(&node_meta),
                parent: parent_of[*index],
                end: 0,
                validate: spec.validate,
            });
            meta.push(node_meta);
        }
        // Subtree ends, computed bottom-up: a node's subtree ends where its last child's does.
        for position in (0..nodes.len()).rev() {
            let index = order[position];
            let end = match self.children[index].last() {
                Some(last_child) => nodes[new_id[*last_child] as usize].end,
                None => position as u32 + 1,
            };
            nodes[position].end = end;
        }
        DynamicTree {
            by_path: PathIndex::new(&nodes),
            nodes,
            meta: PackedTable::new(meta),
            unpacked_meta: OnceLock::new(),
            struct_types: self.struct_types,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> DynamicTree {
        let mut builder = DynamicTree::builder();
        // Inserted out of tree order on purpose.
        builder
            .insert_path("A.B.X", NodeSpec::leaf("X", NodeKind::Sensor, "float"))
            .unwrap();
        builder
            .insert_path("A.C", NodeSpec::leaf("C", NodeKind::Actuator, "uint8[]"))
            .unwrap();
        builder
            .insert_path("A.B.Y", NodeSpec::leaf("Y", NodeKind::Sensor, "Types.T"))
            .unwrap();
        builder.insert_path("Z", NodeSpec::branch("Z")).unwrap();
        builder.build()
    }

    #[test]
    fn the_cold_table_stays_packed_until_read_and_unpacks_to_what_was_built() {
        let mut builder = DynamicTree::builder();
        builder
            .insert_path(
                "A.Speed",
                NodeSpec::leaf("Speed", NodeKind::Sensor, "float")
                    .description("How fast — schnell.")
                    .unit("km/h"),
            )
            .unwrap();
        builder
            .insert_path(
                "A.Mode",
                NodeSpec::leaf("Mode", NodeKind::Actuator, "uint8")
                    .enumeration([("OFF", 0), ("ON", 1)])
                    .comment("two modes"),
            )
            .unwrap();
        let tree = builder.build();
        let mode = tree.lookup("A.Mode").unwrap();
        let names: Vec<&str> = tree
            .enumeration(mode)
            .iter()
            .map(|e| e.name.as_ref())
            .collect();
        assert_eq!(names, ["OFF", "ON"]);
        assert!(tree.unpacked_meta.get().is_none(), "an enum is read packed");
        let speed = tree.meta(tree.lookup("A.Speed").unwrap());
        assert_eq!(speed.description.as_deref(), Some("How fast — schnell."));
        assert_eq!(speed.unit.as_deref(), Some("km/h"));
        assert_eq!(speed.comment, None);
        assert_eq!(tree.meta(mode).comment.as_deref(), Some("two modes"));
        assert_eq!(tree.meta(mode).enumeration, tree.enumeration(mode));
        assert_eq!(
            tree.meta(NodeId(0)),
            &NodeMeta::EMPTY,
            "the branch made for A"
        );
        assert!(tree.unpacked_meta.get().is_some());
    }

    #[test]
    fn every_path_finds_its_node_and_no_other_path_finds_one() {
        let tree = sample();
        let copy = tree.clone();
        for (position, node) in tree.nodes().iter().enumerate() {
            let id = Some(NodeId(position as u32));
            assert_eq!(tree.lookup_dotted(&node.path), id, "{}", node.path);
            assert_eq!(copy.lookup_dotted(&node.path), id, "{}", node.path);
        }
        assert_eq!(tree.lookup("A/B/Y"), Some(NodeId(3)));
        for missing in ["", "A.", "A.B.Z", "a", "A.B.X.Y", "B", "Z.A"] {
            assert_eq!(tree.lookup_dotted(missing), None, "{missing}");
        }
        assert_eq!(DynamicTree::builder().build().lookup_dotted("A"), None);
    }

    #[test]
    fn nodes_are_in_tree_order_with_subtree_ranges() {
        let tree = sample();
        let paths: Vec<&str> = tree.nodes().iter().map(|node| node.path.as_ref()).collect();
        assert_eq!(paths, ["A", "A.B", "A.B.X", "A.B.Y", "A.C", "Z"]);
        let ends: Vec<u32> = tree.nodes().iter().map(|node| node.end).collect();
        assert_eq!(ends, [5, 4, 3, 4, 5, 6]);
        let a = tree.lookup("A").unwrap();
        let children: Vec<&str> = tree
            .children(a)
            .map(|id| tree.node(id).name.as_ref())
            .collect();
        assert_eq!(children, ["B", "C"]);
        let leaves: Vec<NodeId> = tree.leaves_under(a).collect();
        assert_eq!(leaves, [NodeId(2), NodeId(3), NodeId(4)]);
        assert_eq!(tree.node(NodeId(3)).parent, Some(NodeId(1)));
        assert_eq!(
            tree.node(NodeId(3)).datatype,
            Some(DataType::Struct("Types.T".into()))
        );
        assert_eq!(
            tree.node(NodeId(4))
                .datatype
                .as_ref()
                .map(|d| d.name().into_owned()),
            Some("uint8[]".into())
        );
    }

    #[test]
    fn lookup_accepts_dots_and_slashes() {
        let tree = sample();
        assert_eq!(tree.lookup("A.B.Y"), Some(NodeId(3)));
        assert_eq!(tree.lookup("A/B/Y"), Some(NodeId(3)));
        assert_eq!(tree.lookup("A/B.Y"), Some(NodeId(3)));
        assert_eq!(tree.lookup("a.b.y"), None);
        let long = format!("A/{}", "x".repeat(300));
        assert_eq!(tree.lookup(&long), None);
    }

    #[test]
    fn builder_rejects_bad_nodes() {
        let mut builder = DynamicTree::builder();
        let root = builder.push(None, NodeSpec::branch("A")).unwrap();
        assert!(matches!(
            builder.push(Some(root), NodeSpec::branch("A.B")),
            Err(TreeBuildError::InvalidName(_))
        ));
        assert!(matches!(
            builder.push(Some(root), NodeSpec::branch("*")),
            Err(TreeBuildError::InvalidName(_))
        ));
        let leaf = builder
            .push(Some(root), NodeSpec::leaf("L", NodeKind::Sensor, "float"))
            .unwrap();
        assert!(matches!(
            builder.push(Some(leaf), NodeSpec::branch("B")),
            Err(TreeBuildError::InvalidParent(_))
        ));
        assert!(matches!(
            builder.push(Some(root), NodeSpec::branch("L")),
            Err(TreeBuildError::Duplicate(_))
        ));
        assert!(matches!(
            builder.push(Some(root), NodeSpec::new("M", NodeKind::Sensor)),
            Err(TreeBuildError::DatatypeMismatch(_))
        ));
    }
}
