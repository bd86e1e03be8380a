//! The typed IR: an arena of nodes with stable ids, parsed once and read by every backend.
//!
//! A [`VssTree`] is built by a front end through [`VssTree::add_node`] in tree order
//! (parents before children, siblings in VSS child order) and is not mutated afterwards.
//! It may hold several roots: the signal tree root and the roots of types trees.

use std::collections::HashMap;

use indexmap::IndexMap;

use crate::datatype::Datatype;
use crate::source::SourceLocation;

/// Attribute values as read from the source, with YAML 1.1 scalars already resolved the way
/// vss-tools resolves them. Mappings keep their source order.
pub type Value = serde_json::Value;

/// Stable index of a node in its [`VssTree`]. Ids follow tree order (depth-first, parents
/// first), so sorting by id gives the VSS child order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

impl NodeId {
    /// The index into [`VssTree::nodes`].
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// The six VSS node types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NodeKind {
    Branch,
    Sensor,
    Actuator,
    Attribute,
    Struct,
    Property,
}

impl NodeKind {
    /// Every kind with its VSS name.
    pub const ALL: [(NodeKind, &'static str); 6] = [
        (NodeKind::Branch, "branch"),
        (NodeKind::Sensor, "sensor"),
        (NodeKind::Actuator, "actuator"),
        (NodeKind::Attribute, "attribute"),
        (NodeKind::Struct, "struct"),
        (NodeKind::Property, "property"),
    ];

    /// The kind named `name` (exact, case-sensitive).
    pub fn from_name(name: &str) -> Option<NodeKind> {
        Self::ALL.iter().find(|(_, n)| *n == name).map(|(k, _)| *k)
    }

    /// The VSS name of the kind.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(k, _)| *k == self)
            .map_or("", |(_, n)| n)
    }

    /// True for the kinds that carry a datatype (sensor, actuator, attribute, property).
    pub fn has_datatype(self) -> bool {
        matches!(
            self,
            NodeKind::Sensor | NodeKind::Actuator | NodeKind::Attribute | NodeKind::Property
        )
    }

    /// True for the kinds that hold children (branch, struct).
    pub fn is_container(self) -> bool {
        matches!(self, NodeKind::Branch | NodeKind::Struct)
    }
}

/// Where an instance-expanded node came from. vss-tools' exports lose this; generators need it
/// to give one Rust type per concept instead of one per instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceOrigin {
    /// The unexpanded path of the node this one was generated from, e.g.
    /// `Vehicle.Cabin.Door.Window.Position` for `Vehicle.Cabin.Door.Row1.DriverSide.Window.Position`,
    /// and `Vehicle.Cabin.Door` for the instance branch `Vehicle.Cabin.Door.Row1.DriverSide`.
    pub template: String,
    /// The instance names on the way from the template's root to this node, outermost first,
    /// e.g. `["Row1", "DriverSide"]`.
    pub instances: Vec<String>,
}

/// A node's own `validate` tag (VISS CORE §8.8): the vocabulary's type.
pub use vss_vocab::validate::{Protects, Validate};

/// Every attribute a node can carry. `None` / empty means absent in the source.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeData {
    pub description: Option<String>,
    pub comment: Option<String>,
    pub deprecation: Option<String>,
    /// "Formerly known as" paths.
    pub fka: Vec<String>,
    /// `constUID`, e.g. `0x1234ABCD`.
    pub const_uid: Option<String>,
    /// Resolved datatype (struct names fully qualified).
    pub datatype: Option<Datatype>,
    /// Fixed array length (never exported to JSON by vss-tools).
    pub arraysize: Option<u64>,
    /// Canonical unit key (as in `units.yaml`, e.g. `km/h`).
    pub unit: Option<String>,
    /// Numbers keep their source type (`0` stays an integer, `100.0` a float).
    pub min: Option<serde_json::Number>,
    pub max: Option<serde_json::Number>,
    pub allowed: Option<Vec<Value>>,
    pub default: Option<Value>,
    /// The `enum` attribute: `NAME: integer`, in source order.
    pub enumeration: Option<IndexMap<String, Value>>,
    /// A Python regular expression, kept as text.
    pub pattern: Option<String>,
    /// Raw `instances` value; present only when instances were not expanded (`--no-expand`).
    pub instances: Option<Value>,
    /// `instances_relation: sibling` (only meaningful with `instances`).
    pub instances_relation_sibling: bool,
    /// The deployment-specific `aggregate` flag (not exported to JSON by vss-tools).
    pub aggregate: Option<bool>,
    /// Extended (non-core) attributes, in source order, values as written. `validate` stays
    /// here too, as written: for vss-tools it is an extended attribute, and the JSON export
    /// writes it by the extended attributes' rules. Consumers that read [`NodeData::validate`]
    /// take the others from [`NodeData::untyped_extended`].
    pub extended: IndexMap<String, Value>,
    /// The node's own `validate` tag, checked and typed, from the `validate` entry of
    /// [`NodeData::extended`] (`None`: untagged, or `validate: null`). Any node kind, the root
    /// included; instance branches carry their template branch's tag.
    pub validate: Option<Validate>,
}

impl NodeData {
    /// The extended attributes without those the IR also holds typed (`validate`): what a
    /// consumer that reads [`NodeData::validate`] carries as extended attributes, so the tag
    /// is not written twice.
    pub fn untyped_extended(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.extended
            .iter()
            .filter(|(name, _)| name.as_str() != vss_vocab::attribute::VALIDATE)
    }
}

/// One node of the tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The last path segment, e.g. `IsOpen`.
    pub name: String,
    /// The full dotted path, e.g. `Vehicle.Cabin.Door.Row1.DriverSide.IsOpen`.
    pub path: String,
    pub kind: NodeKind,
    pub parent: Option<NodeId>,
    /// Children in VSS child order (the order that decides protobuf field numbers).
    pub children: Vec<NodeId>,
    pub data: NodeData,
    /// Set on nodes produced by instance expansion.
    pub instance_origin: Option<InstanceOrigin>,
    /// Where the node was (last) defined, for diagnostics.
    pub location: Option<SourceLocation>,
    /// True for intermediate branches created because a key's parent was never defined.
    pub implicit: bool,
}

impl Node {
    /// True for nodes without children that carry data (sensor, actuator, attribute, property).
    pub fn is_leaf(&self) -> bool {
        self.kind.has_datatype()
    }
}

/// One entry of a `units.yaml` file.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// The key as written in the file (`km/h`); lookups are case-insensitive.
    pub key: String,
    /// The full name (`kilometer per hour`), the `unit:` field.
    pub name: Option<String>,
    pub definition: Option<String>,
    pub quantity: Option<String>,
    /// `allowed-datatypes` as written (`numeric`, `uint8`, ...).
    pub allowed_datatypes: Vec<String>,
    pub deprecation: Option<String>,
    /// The optional `qudt:` mapping, kept as written.
    pub qudt: Option<Value>,
}

/// One entry of a `quantities.yaml` file.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantity {
    pub key: String,
    pub definition: Option<String>,
    pub remark: Option<String>,
    pub comment: Option<String>,
    pub deprecation: Option<String>,
}

/// Units and quantities, keyed by lower-cased key, in file order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UnitTable {
    pub units: IndexMap<String, Unit>,
    pub quantities: IndexMap<String, Quantity>,
}

impl UnitTable {
    /// Looks a unit up the way vss-tools does: case-insensitively by key, then by full name.
    pub fn lookup(&self, text: &str) -> Option<&Unit> {
        let lowered = text.to_lowercase();
        self.units.get(&lowered).or_else(|| {
            self.units.values().find(|u| {
                u.name
                    .as_deref()
                    .is_some_and(|n| n.to_lowercase() == lowered)
            })
        })
    }
}

/// The frozen tree: nodes in tree order, roots, a path index, and the unit table.
#[derive(Debug, Clone, Default)]
pub struct VssTree {
    nodes: Vec<Node>,
    roots: Vec<NodeId>,
    by_path: HashMap<String, NodeId>,
    /// Units and quantities the tree was validated against (empty for JSON input).
    pub units: UnitTable,
}

/// Why [`VssTree::add_node`] refused a node.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddNodeError {
    #[error("a node with path '{0}' already exists")]
    DuplicatePath(String),
    #[error("parent node id {0} does not exist")]
    UnknownParent(u32),
}

impl VssTree {
    /// An empty tree.
    pub fn new() -> VssTree {
        VssTree::default()
    }

    /// Appends a node under `parent` (or as a new root) and returns its id. Nodes must be added
    /// parents first, children in order; the path is computed from the parent's.
    pub fn add_node(
        &mut self,
        parent: Option<NodeId>,
        name: impl Into<String>,
        kind: NodeKind,
        data: NodeData,
    ) -> Result<NodeId, AddNodeError> {
        let name = name.into();
        let path = match parent {
            Some(p) => {
                let parent_node = self.node(p).ok_or(AddNodeError::UnknownParent(p.0))?;
                format!("{}.{}", parent_node.path, name)
            }
            None => name.clone(),
        };
        if self.by_path.contains_key(&path) {
            return Err(AddNodeError::DuplicatePath(path));
        }
        let id = NodeId(self.nodes.len() as u32);
        self.nodes.push(Node {
            name,
            path: path.clone(),
            kind,
            parent,
            children: Vec::new(),
            data,
            instance_origin: None,
            location: None,
            implicit: false,
        });
        self.by_path.insert(path, id);
        match parent {
            Some(p) => self.nodes[p.index()].children.push(id),
            None => self.roots.push(id),
        }
        Ok(id)
    }

    /// Mutable access to a node while the front end is still filling it in
    /// (location, origin, implicit flag). Paths and links cannot be changed this way.
    pub fn node_mut(&mut self, id: NodeId) -> Option<NodeMut<'_>> {
        self.nodes.get_mut(id.index()).map(|node| NodeMut { node })
    }

    /// The node behind `id`.
    pub fn node(&self, id: NodeId) -> Option<&Node> {
        self.nodes.get(id.index())
    }

    /// The node behind `id`; for ids handed out by this tree.
    ///
    /// # Panics
    /// When `id` did not come from this tree.
    pub fn get(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }

    /// The node at a dotted path.
    pub fn lookup(&self, path: &str) -> Option<NodeId> {
        self.by_path.get(path).copied()
    }

    /// All nodes in tree order.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The roots: the signal tree root first (when there is one), then types-tree roots, in
    /// the order they were added.
    pub fn roots(&self) -> &[NodeId] {
        &self.roots
    }

    /// The first root, by convention the signal tree (`Vehicle`).
    pub fn signal_root(&self) -> Option<NodeId> {
        self.roots.first().copied()
    }

    /// Ids of `root` and everything below it, depth-first in child order.
    pub fn subtree(&self, root: NodeId) -> Vec<NodeId> {
        let mut out = Vec::new();
        let mut stack = vec![root];
        while let Some(id) = stack.pop() {
            out.push(id);
            if let Some(node) = self.node(id) {
                stack.extend(node.children.iter().rev());
            }
        }
        out
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when the tree has no node.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
}

/// Restricted mutable view of a node (see [`VssTree::node_mut`]).
#[derive(Debug)]
pub struct NodeMut<'a> {
    node: &'a mut Node,
}

impl NodeMut<'_> {
    /// The node's attributes.
    pub fn data(&mut self) -> &mut NodeData {
        &mut self.node.data
    }

    /// Records where the node was defined.
    pub fn set_location(&mut self, location: Option<SourceLocation>) {
        self.node.location = location;
    }

    /// Records the instance template the node came from.
    pub fn set_instance_origin(&mut self, origin: Option<InstanceOrigin>) {
        self.node.instance_origin = origin;
    }

    /// Marks the node as an implicitly created branch.
    pub fn set_implicit(&mut self, implicit: bool) {
        self.node.implicit = implicit;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_paths_children_and_lookup() {
        let mut tree = VssTree::new();
        let root = tree
            .add_node(None, "Vehicle", NodeKind::Branch, NodeData::default())
            .unwrap();
        let cabin = tree
            .add_node(Some(root), "Cabin", NodeKind::Branch, NodeData::default())
            .unwrap();
        let speed = tree
            .add_node(Some(root), "Speed", NodeKind::Sensor, NodeData::default())
            .unwrap();
        assert_eq!(tree.get(cabin).path, "Vehicle.Cabin");
        assert_eq!(tree.lookup("Vehicle.Speed"), Some(speed));
        assert_eq!(tree.get(root).children, vec![cabin, speed]);
        assert_eq!(tree.subtree(root), vec![root, cabin, speed]);
        assert_eq!(
            tree.add_node(Some(root), "Speed", NodeKind::Sensor, NodeData::default()),
            Err(AddNodeError::DuplicatePath("Vehicle.Speed".into()))
        );
        assert!(tree.get(speed).is_leaf());
        assert_eq!(NodeKind::from_name("actuator"), Some(NodeKind::Actuator));
        assert_eq!(NodeKind::from_name("Actuator"), None);
    }

    #[test]
    fn validate_tags_read_and_write_the_four_values_only() {
        for tag in Validate::ALL {
            assert_eq!(Validate::parse(tag.as_str()), Some(tag));
        }
        assert_eq!(
            Validate::parse("read-write+consent"),
            Some(Validate::new(Protects::ReadsAndWrites, true))
        );
        assert_eq!(
            Validate::new(Protects::Writes, false).to_string(),
            "write-only"
        );
        for bad in [
            "",
            "read-only",
            "Read-Write",
            "write-only+",
            "consent",
            " read-write",
        ] {
            assert_eq!(Validate::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn untyped_extended_leaves_out_validate_only() {
        let mut data = NodeData::default();
        data.extended.insert("dbc".into(), serde_json::json!(1));
        data.extended
            .insert("validate".into(), serde_json::json!("read-write"));
        let names: Vec<_> = data
            .untyped_extended()
            .map(|(name, _)| name.as_str())
            .collect();
        assert_eq!(names, ["dbc"]);
    }

    #[test]
    fn unit_lookup_is_case_insensitive_by_key_and_full_name() {
        let mut table = UnitTable::default();
        table.units.insert(
            "km/h".into(),
            Unit {
                key: "km/h".into(),
                name: Some("kilometer per hour".into()),
                definition: None,
                quantity: Some("velocity".into()),
                allowed_datatypes: vec!["numeric".into()],
                deprecation: None,
                qudt: None,
            },
        );
        assert_eq!(table.lookup("KM/H").map(|u| u.key.as_str()), Some("km/h"));
        assert_eq!(
            table.lookup("Kilometer per hour").map(|u| u.key.as_str()),
            Some("km/h")
        );
        assert!(table.lookup("furlong").is_none());
    }
}
