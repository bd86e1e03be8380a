//! The tree abstraction the engine is generic over, and [`DynamicTree`], the implementation
//! built at run time.
//!
//! A tree is a node table in **tree order** (pre-order, children in declaration order), so
//! the subtree of node `n` is the contiguous range `n..nodes[n].end`. That makes "all leaves
//! below a branch" a slice scan and lets a derive emit the table as a `static` array: every
//! string is a [`Text`] (`Cow<'static, str>`), borrowed in generated code and owned here.

use std::borrow::Cow;
use std::collections::HashMap;

/// Metadata text: `&'static str` in generated tables, `String` in trees built at run time.
pub type Text = Cow<'static, str>;

/// Index of a node in its tree's node table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

impl NodeId {
    /// The position in [`VissTree::nodes`].
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

/// VSS node type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Branch,
    Sensor,
    Actuator,
    Attribute,
}

impl NodeKind {
    /// The VSS spelling (`branch`, `sensor`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Branch => "branch",
            Self::Sensor => "sensor",
            Self::Actuator => "actuator",
            Self::Attribute => "attribute",
        }
    }

    /// Parses the VSS spelling.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "branch" => Some(Self::Branch),
            "sensor" => Some(Self::Sensor),
            "actuator" => Some(Self::Actuator),
            "attribute" => Some(Self::Attribute),
            _ => None,
        }
    }
}

/// A VSS primitive datatype, or a struct (fields carried as strings, see [`crate::Value`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarType {
    Boolean,
    Int8,
    Int16,
    Int32,
    Int64,
    UInt8,
    UInt16,
    UInt32,
    UInt64,
    Float,
    Double,
    String,
}

impl ScalarType {
    /// The VSS spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Boolean => "boolean",
            Self::Int8 => "int8",
            Self::Int16 => "int16",
            Self::Int32 => "int32",
            Self::Int64 => "int64",
            Self::UInt8 => "uint8",
            Self::UInt16 => "uint16",
            Self::UInt32 => "uint32",
            Self::UInt64 => "uint64",
            Self::Float => "float",
            Self::Double => "double",
            Self::String => "string",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "boolean" => Self::Boolean,
            "int8" => Self::Int8,
            "int16" => Self::Int16,
            "int32" => Self::Int32,
            "int64" => Self::Int64,
            "uint8" => Self::UInt8,
            "uint16" => Self::UInt16,
            "uint32" => Self::UInt32,
            "uint64" => Self::UInt64,
            "float" => Self::Float,
            "double" => Self::Double,
            "string" => Self::String,
            _ => return None,
        })
    }

    /// True for the integer and floating point types.
    pub const fn is_numeric(self) -> bool {
        !matches!(self, Self::Boolean | Self::String)
    }
}

/// A leaf's datatype: primitive, array of primitive, struct or array of struct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataType {
    Scalar(ScalarType),
    Array(ScalarType),
    Struct(Text),
    StructArray(Text),
}

impl DataType {
    /// Parses a VSS datatype name; anything not primitive is a struct type name.
    pub fn parse(text: &str) -> Self {
        match text.strip_suffix("[]") {
            Some(element) => match ScalarType::parse(element) {
                Some(scalar) => Self::Array(scalar),
                None => Self::StructArray(Cow::Owned(element.to_owned())),
            },
            None => match ScalarType::parse(text) {
                Some(scalar) => Self::Scalar(scalar),
                None => Self::Struct(Cow::Owned(text.to_owned())),
            },
        }
    }

    /// The VSS spelling, e.g. `uint8[]`.
    pub fn name(&self) -> Cow<'_, str> {
        match self {
            Self::Scalar(scalar) => Cow::Borrowed(scalar.as_str()),
            Self::Array(scalar) => Cow::Owned(format!("{}[]", scalar.as_str())),
            Self::Struct(name) => Cow::Borrowed(name),
            Self::StructArray(name) => Cow::Owned(format!("{name}[]")),
        }
    }

    /// The scalar type when this is a numeric scalar (what range/change/curvelog need).
    pub fn numeric_scalar(&self) -> Option<ScalarType> {
        match self {
            Self::Scalar(scalar) if scalar.is_numeric() => Some(*scalar),
            _ => None,
        }
    }
}

/// The JSON type of a [`Lit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LitKind {
    String,
    Number,
    Bool,
}

/// One scalar literal of a node's metadata (an `allowed` value, a `default` item): its value
/// text (strings unquoted, numbers as the source wrote them, so `0` and `0.0` stay apart)
/// and its JSON type, so an export writes it as the source did.
#[derive(Debug, Clone, PartialEq)]
pub struct Lit {
    pub kind: LitKind,
    pub text: Text,
}

impl Lit {
    /// A JSON string whose value is `text`.
    pub const fn string(text: &'static str) -> Self {
        Self {
            kind: LitKind::String,
            text: Cow::Borrowed(text),
        }
    }

    /// A JSON number written as `text` (e.g. `0.0`, `-5`).
    pub const fn number(text: &'static str) -> Self {
        Self {
            kind: LitKind::Number,
            text: Cow::Borrowed(text),
        }
    }

    /// A JSON boolean written as `text` (`true` or `false`).
    pub const fn boolean(text: &'static str) -> Self {
        Self {
            kind: LitKind::Bool,
            text: Cow::Borrowed(text),
        }
    }

    /// A literal of `kind` with owned text.
    pub fn owned(kind: LitKind, text: impl Into<String>) -> Self {
        Self {
            kind,
            text: Cow::Owned(text.into()),
        }
    }

    /// The value text (strings unquoted).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Writes the literal as JSON: a quoted string, or the number/boolean text as is.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        match self.kind {
            LitKind::String => crate::response::write_json_str(out, &self.text),
            LitKind::Number | LitKind::Bool => out.extend_from_slice(self.text.as_bytes()),
        }
    }
}

/// The JSON type guessed from the text: `true`/`false` are booleans, JSON numbers are
/// numbers, anything else a string. Use [`Lit::string`] and friends for an exact type.
impl From<String> for Lit {
    fn from(text: String) -> Self {
        let kind = if text == "true" || text == "false" {
            LitKind::Bool
        } else if crate::value::is_json_number(&text) {
            LitKind::Number
        } else {
            LitKind::String
        };
        Self::owned(kind, text)
    }
}

impl From<&str> for Lit {
    fn from(text: &str) -> Self {
        Self::from(text.to_owned())
    }
}

/// The value text.
impl std::fmt::Display for Lit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// A literal from the tree (`default`): one value or an array.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Scalar(Lit),
    Array(Cow<'static, [Lit]>),
}

impl Literal {
    /// Writes the literal as JSON.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Self::Scalar(lit) => lit.write_json(out),
            Self::Array(items) => {
                crate::response::write_json_array(out, items.iter(), |out, item| {
                    item.write_json(out);
                });
            }
        }
    }
}

/// One entry of a node's `enum`: a name and its value, a JSON literal (a number in VSS).
#[derive(Debug, Clone, PartialEq)]
pub struct EnumEntry {
    pub name: Text,
    pub value: Lit,
}

/// One extended attribute (`-e dbc` etc.): its name and its value as JSON text.
#[derive(Debug, Clone, PartialEq)]
pub struct Extended {
    pub name: Text,
    /// The value as compact JSON text (`"VehicleSpeedKph"`, `1`, `{"a":[1]}`).
    pub json: Text,
}

/// What the engine reads of one node at start-up and on every request (the **hot** table).
/// The rest of a node's metadata, read only by the `metadata` filter, exports and `set`
/// validation of an `enum`/`pattern`, is its [`NodeMeta`] in the parallel cold table
/// ([`VissTree::node_meta`]), so an idle server keeps the cold pages out of memory.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeInfo {
    pub name: Text,
    /// Full dot-delimited path.
    pub path: Text,
    pub kind: NodeKind,
    /// `None` for branches.
    pub datatype: Option<DataType>,
    /// `min`, parsed (what range checks use); [`NodeMeta::min_text`] keeps how it was written.
    pub min: Option<f64>,
    /// `max`, parsed; [`NodeMeta::max_text`] keeps how it was written.
    pub max: Option<f64>,
    pub allowed: Cow<'static, [Lit]>,
    /// `default`: an attribute's value from the start (the store reads it at start-up).
    pub default: Option<Literal>,
    /// Which cold metadata the engine needs for this node ([`MetaFlags::of`] its
    /// [`NodeMeta`]), so nodes without any are served without reading the cold table.
    pub meta_flags: MetaFlags,
    pub parent: Option<NodeId>,
    /// One past the last node of this node's subtree (tree order).
    pub end: u32,
}

/// The cold metadata of one node: read by the `metadata` filter, the VSS JSON export and
/// `set` validation of nodes with an `enum` or `pattern` (see [`NodeInfo::meta_flags`]).
/// `default` is hot ([`NodeInfo::default`]): the store reads every attribute's at start.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeMeta {
    pub unit: Option<Text>,
    pub description: Option<Text>,
    pub comment: Option<Text>,
    pub deprecation: Option<Text>,
    /// The JSON number text of `min` as the source wrote it (`0` vs `0.0`), for exports;
    /// `None` writes the parsed value.
    pub min_text: Option<Text>,
    /// The JSON number text of `max`, like [`NodeMeta::min_text`].
    pub max_text: Option<Text>,
    /// `enum`: names and their values, in source order (empty when the node has none).
    pub enumeration: Cow<'static, [EnumEntry]>,
    /// `pattern`: a regular expression string values must match.
    pub pattern: Option<Text>,
    /// `fka`: paths the node was formerly known as.
    pub fka: Cow<'static, [Text]>,
    /// `constUID`.
    pub const_uid: Option<Text>,
    /// Extended attributes, in source order.
    pub extended: Cow<'static, [Extended]>,
}

impl NodeMeta {
    /// No metadata.
    pub const EMPTY: Self = Self {
        unit: None,
        description: None,
        comment: None,
        deprecation: None,
        min_text: None,
        max_text: None,
        enumeration: Cow::Borrowed(&[]),
        pattern: None,
        fka: Cow::Borrowed(&[]),
        const_uid: None,
        extended: Cow::Borrowed(&[]),
    };
}

impl NodeInfo {
    /// An attribute with a `default`: a value the server holds from the start
    /// ([`VissTree::attribute_defaults`]).
    pub const fn is_attribute_with_default(&self) -> bool {
        matches!(self.kind, NodeKind::Attribute) && self.default.is_some()
    }

    /// A node whose string values must match a `pattern` ([`VissTree::pattern_nodes`]).
    pub const fn has_pattern(&self) -> bool {
        self.meta_flags.contains(MetaFlags::PATTERN)
    }
}

/// An attribute with a `default`: what a starting server needs to give it its value
/// ([`VissTree::attribute_defaults`]).
#[derive(Debug, Clone, PartialEq)]
pub struct AttributeDefault {
    pub id: NodeId,
    /// A copy of the node ([`NodeInfo::default`] is `Some`).
    pub node: NodeInfo,
    /// A copy of the node's `enum` (empty when it has none).
    pub enumeration: Cow<'static, [EnumEntry]>,
}

/// The parts of a node's [`NodeMeta`] a `set` checks, as bits on the hot [`NodeInfo`]: nodes
/// without any are set without reading the cold table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct MetaFlags(u8);

impl MetaFlags {
    /// Nothing: a `set` of the node never reads its [`NodeMeta`].
    pub const NONE: Self = Self(0);
    /// [`NodeMeta::enumeration`] is not empty: a `set` checks it.
    pub const ENUM: Self = Self(1);
    /// [`NodeMeta::pattern`] is set: a `set` checks it.
    pub const PATTERN: Self = Self(1 << 1);

    /// The flags `meta` calls for (`const`: a derived table computes them at compile time).
    pub const fn of(meta: &NodeMeta) -> Self {
        let mut bits = 0;
        let has_enum = match &meta.enumeration {
            Cow::Borrowed(entries) => !entries.is_empty(),
            Cow::Owned(entries) => !entries.is_empty(),
        };
        if has_enum {
            bits |= Self::ENUM.0;
        }
        if meta.pattern.is_some() {
            bits |= Self::PATTERN.0;
        }
        Self(bits)
    }

    /// True when every flag of `other` is set.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

/// A VSS tree the engine can serve. Implemented by generated code and by [`DynamicTree`].
pub trait VissTree: Send + Sync {
    /// The node table in tree order; [`NodeId`] indexes it.
    fn nodes(&self) -> &[NodeInfo];

    /// Finds a node by its full path with `.` delimiters (the engine normalises `/`).
    fn lookup_dotted(&self, path: &str) -> Option<NodeId>;

    /// Finds a node by its full path, dot or slash delimited.
    fn lookup(&self, path: &str) -> Option<NodeId> {
        if !path.contains('/') {
            return self.lookup_dotted(path);
        }
        let mut stack = [0u8; 256];
        match stack.get_mut(..path.len()) {
            Some(buffer) => {
                for (slot, byte) in buffer.iter_mut().zip(path.bytes()) {
                    *slot = if byte == b'/' { b'.' } else { byte };
                }
                // Replacing one ASCII byte by another keeps the text valid UTF-8.
                std::str::from_utf8(buffer)
                    .ok()
                    .and_then(|dotted| self.lookup_dotted(dotted))
            }
            None => self.lookup_dotted(&path.replace('/', ".")),
        }
    }

    /// The cold metadata table, parallel to [`VissTree::nodes`] (same length, same
    /// [`NodeId`]s). The engine reads it only for metadata requests, exports and nodes whose
    /// [`NodeInfo::meta_flags`] ask for it.
    fn node_meta(&self) -> &[NodeMeta];

    /// The node behind `id`.
    ///
    /// # Panics
    /// If `id` does not come from this tree (ids are never taken from requests).
    fn node(&self, id: NodeId) -> &NodeInfo {
        &self.nodes()[id.index()]
    }

    /// The cold metadata of `id`.
    ///
    /// # Panics
    /// If `id` does not come from this tree.
    fn meta(&self, id: NodeId) -> &NodeMeta {
        &self.node_meta()[id.index()]
    }

    /// The `enum` of `id`, empty when it has none: reads the cold table only when
    /// [`NodeInfo::meta_flags`] says there is one.
    fn enumeration(&self, id: NodeId) -> &[EnumEntry] {
        if self.node(id).meta_flags.contains(MetaFlags::ENUM) {
            &self.meta(id).enumeration
        } else {
            &[]
        }
    }

    /// The attributes with a `default` (the values a server starts with), in tree order,
    /// each with a copy of its node and `enum`. Derived trees keep these in a small static
    /// table of their own, so a starting server reads a few kilobytes rather than pulling
    /// the node tables into memory; this default scans [`VissTree::nodes`].
    fn attribute_defaults(&self) -> Cow<'_, [AttributeDefault]> {
        let defaults = self.nodes().iter().enumerate().filter_map(|(index, node)| {
            let id = NodeId(u32::try_from(index).ok()?);
            node.is_attribute_with_default().then(|| AttributeDefault {
                id,
                node: node.clone(),
                enumeration: Cow::Owned(self.enumeration(id).to_vec()),
            })
        });
        Cow::Owned(defaults.collect())
    }

    /// The nodes with a `pattern` ([`MetaFlags::PATTERN`]), in tree order: a static table
    /// in derived trees; this default scans [`VissTree::nodes`].
    fn pattern_nodes(&self) -> Cow<'_, [NodeId]> {
        let nodes = self.nodes().iter().enumerate();
        let patterned = nodes
            .filter(|(_, node)| node.has_pattern())
            .filter_map(|(index, _)| Some(NodeId(u32::try_from(index).ok()?)));
        Cow::Owned(patterned.collect())
    }

    /// The direct children of `id`, in tree order.
    fn children(&self, id: NodeId) -> Children<'_> {
        let nodes = self.nodes();
        let end = nodes.get(id.index()).map_or(id.0, |node| node.end);
        Children {
            nodes,
            next: id.0 + 1,
            end,
        }
    }

    /// The child of `id` called `name`.
    fn child_by_name(&self, id: NodeId, name: &str) -> Option<NodeId> {
        self.children(id)
            .find(|child| self.node(*child).name == name)
    }

    /// `id` itself when it is a leaf, else every leaf of its subtree, in tree order.
    fn leaves_under(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        let nodes = self.nodes();
        let end = nodes.get(id.index()).map_or(id.0, |node| node.end);
        (id.0..end)
            .filter(move |index| {
                nodes
                    .get(*index as usize)
                    .is_some_and(|node| node.kind != NodeKind::Branch)
            })
            .map(NodeId)
    }
}

/// Iterator over a node's direct children.
#[derive(Debug, Clone)]
pub struct Children<'a> {
    nodes: &'a [NodeInfo],
    next: u32,
    end: u32,
}

impl Iterator for Children<'_> {
    type Item = NodeId;

    fn next(&mut self) -> Option<NodeId> {
        if self.next >= self.end {
            return None;
        }
        let current = self.next;
        self.next = self.nodes.get(current as usize)?.end;
        Some(NodeId(current))
    }
}

/// A tree built at run time (tests, trees loaded at start-up).
#[derive(Debug, Clone)]
pub struct DynamicTree {
    nodes: Vec<NodeInfo>,
    meta: Vec<NodeMeta>,
    by_path: HashMap<Box<str>, NodeId>,
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
        &self.meta
    }

    fn lookup_dotted(&self, path: &str) -> Option<NodeId> {
        self.by_path.get(path).copied()
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
    specs: Vec<NodeSpec>,
    children: Vec<Vec<usize>>,
    roots: Vec<usize>,
    paths: HashMap<String, usize>,
    full_paths: Vec<String>,
}

impl DynamicTreeBuilder {
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
        let mut by_path = HashMap::with_capacity(order.len());
        for (position, index) in order.iter().enumerate() {
            let Some(spec) = specs[*index].take() else {
                continue;
            };
            let path = self.full_paths[*index].clone();
            by_path.insert(path.clone().into_boxed_str(), NodeId(position as u32));
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
            nodes,
            meta,
            by_path,
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
