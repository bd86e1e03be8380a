//! The node types every tree shares: ids, kinds, datatypes, literals and the hot
//! ([`NodeInfo`]) and cold ([`NodeMeta`]) halves of a node's metadata.

use std::borrow::Cow;

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

/// A VSS primitive datatype: the vocabulary's table (`vss-vocab`). A leaf never has one of
/// its two units-file pseudo-types (`numeric`, `int`): [`DataType::parse`] reads them as
/// struct names, which no struct type has.
pub use vss_vocab::Primitive as ScalarType;

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
            Some(element) => match ScalarType::signal_type(element) {
                Some(scalar) => Self::Array(scalar),
                None => Self::StructArray(Cow::Owned(element.to_owned())),
            },
            None => match ScalarType::signal_type(text) {
                Some(scalar) => Self::Scalar(scalar),
                None => Self::Struct(Cow::Owned(text.to_owned())),
            },
        }
    }

    /// The VSS spelling, e.g. `uint8[]`.
    pub fn name(&self) -> Cow<'_, str> {
        match self {
            Self::Scalar(scalar) => Cow::Borrowed(scalar.name()),
            Self::Array(scalar) => Cow::Owned(format!("{}[]", scalar.name())),
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
            LitKind::String => crate::json::write_json_str(out, &self.text),
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
                crate::json::write_json_array(out, items.iter(), |out, item| {
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

/// A node's `validate` tag (CORE §8.8): the VSS vocabulary's type, shared with the model.
pub use vss_vocab::validate::{Protects, Validate};

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
    /// The node's own `validate` tag (`None`: untagged, it inherits its parent's).
    pub validate: Option<Validate>,
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

/// A VSS struct type (a `struct` node of a types tree): its full name and its members
/// (`property` nodes) in declaration order. Struct values are checked against it.
#[derive(Debug, Clone, PartialEq)]
pub struct StructType {
    /// The full name, as leaves' datatypes name it (`Types.Waypoint`).
    pub name: Text,
    pub members: Cow<'static, [StructMember]>,
}

/// One member of a [`StructType`].
#[derive(Debug, Clone, PartialEq)]
pub struct StructMember {
    pub name: Text,
    pub datatype: DataType,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub allowed: Cow<'static, [Lit]>,
}
