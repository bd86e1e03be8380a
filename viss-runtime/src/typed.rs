//! Typed leaf handles and the typed engine API that `#[derive(VissTree)]` builds on.
//!
//! A derived tree is a plain struct of handles: [`Sensor<T>`], [`Actuator<T>`] and
//! [`Attribute<T>`] are `Copy` keys (a [`NodeId`] plus the Rust type of the value), nested
//! branch structs and arrays of branch structs (instance sets). The handles index the
//! engine's signal store, so feeding and reading values is checked by the compiler (the
//! compiled, runnable version of this is the example in `viss-derive`'s crate docs):
//!
//! ```text
//! engine.feed(Vehicle::TREE.speed, 42.0_f32, ts)?;
//! let speed: Option<f32> = engine.current(Vehicle::TREE.speed);
//! ```
//!
//! [`VssType`] maps a Rust type to its VSS datatype and to the runtime [`Value`]:
//! `bool`, `u8`..`u64`, `i8`..`i64`, `f32`, `f64`, `String`, `Vec<T>` for arrays, enums
//! of `allowed` lists ([`enums::VissEnum`], `#[derive(VissEnum)]`), and struct types
//! through an impl the user (or the generator) writes (see [`VssType`]).
//!
//! [`VissBranch`] is what every derived struct implements: its node count and the
//! generated lookup of a path relative to it. The const table builders the derive uses
//! live in [`build`] (re-exported as the hidden `viss_runtime::__private`).

pub mod build;
pub mod enums;
pub mod packed_meta;
#[cfg(feature = "protobuf")]
pub mod snapshot;

use std::borrow::Cow;
use std::marker::PhantomData;

use jiff::Timestamp;

use crate::engine::Engine;
use crate::error::VissError;
use crate::tree::{DataType, NodeId, NodeKind, ScalarType, VissTree};
use crate::value::Value;

/// A Rust type that is a VSS datatype.
///
/// Implemented for the VSS primitives and `Vec<T>` of them. For a VSS struct type, implement
/// it (and [`VssElement`] for struct arrays) on your own type, with
/// `DATATYPE = DataType::Struct(Cow::Borrowed("Types.Position"))` and a conversion to and
/// from [`Value::Struct`]. Struct members arrive from the wire as strings; the numeric and
/// boolean impls here accept a [`Value::String`] and parse it, so
/// `f64::from_value(member)` works on wire structs and fed structs alike.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a VSS datatype",
    label = "not a VSS datatype",
    note = "leaf values are bool, u8..u64, i8..i64, f32, f64, String, a `#[derive(VissEnum)]` \
            enum, Vec<T> of those, or a struct type that implements `VssType`"
)]
pub trait VssType: Sized {
    /// The VSS datatype of this Rust type.
    const DATATYPE: DataType;

    /// The values this type can hold when it is a [`VissEnum`](enums::VissEnum) (its VSS
    /// strings); empty for every other type.
    const ALLOWED: &'static [&'static str] = &[];

    /// The runtime value.
    fn into_value(self) -> Value;

    /// Back from the runtime value; `None` when it is of another type or out of range.
    fn from_value(value: Value) -> Option<Self>;
}

/// A [`VssType`] that can be the element of an array datatype (`Vec<T>`).
pub trait VssElement: VssType {
    /// The datatype of `Vec<Self>` (`uint8[]`, `Types.Position[]`, ...).
    const ARRAY_DATATYPE: DataType;
}

macro_rules! vss_integer {
    ($($rust:ty => $scalar:ident, $variant:ident, $wide:ty;)*) => {$(
        impl VssType for $rust {
            const DATATYPE: DataType = DataType::Scalar(ScalarType::$scalar);

            fn into_value(self) -> Value {
                Value::$variant(<$wide>::from(self))
            }

            fn from_value(value: Value) -> Option<Self> {
                match value {
                    Value::Int(number) => Self::try_from(number).ok(),
                    Value::UInt(number) => Self::try_from(number).ok(),
                    Value::String(text) => text.parse().ok(),
                    _ => None,
                }
            }
        }

        impl VssElement for $rust {
            const ARRAY_DATATYPE: DataType = DataType::Array(ScalarType::$scalar);
        }
    )*};
}

vss_integer! {
    u8 => Uint8, UInt, u64;
    u16 => Uint16, UInt, u64;
    u32 => Uint32, UInt, u64;
    u64 => Uint64, UInt, u64;
    i8 => Int8, Int, i64;
    i16 => Int16, Int, i64;
    i32 => Int32, Int, i64;
    i64 => Int64, Int, i64;
}

impl VssType for f32 {
    const DATATYPE: DataType = DataType::Scalar(ScalarType::Float);

    fn into_value(self) -> Value {
        Value::Float(self)
    }

    fn from_value(value: Value) -> Option<Self> {
        match value {
            Value::Float(number) => Some(number),
            Value::String(text) => text.parse().ok(),
            other => other.as_f64().map(|number| number as f32),
        }
    }
}

impl VssElement for f32 {
    const ARRAY_DATATYPE: DataType = DataType::Array(ScalarType::Float);
}

impl VssType for f64 {
    const DATATYPE: DataType = DataType::Scalar(ScalarType::Double);

    fn into_value(self) -> Value {
        Value::Double(self)
    }

    fn from_value(value: Value) -> Option<Self> {
        match value {
            Value::String(text) => text.parse().ok(),
            other => other.as_f64(),
        }
    }
}

impl VssElement for f64 {
    const ARRAY_DATATYPE: DataType = DataType::Array(ScalarType::Double);
}

impl VssType for bool {
    const DATATYPE: DataType = DataType::Scalar(ScalarType::Boolean);

    fn into_value(self) -> Value {
        Value::Bool(self)
    }

    fn from_value(value: Value) -> Option<Self> {
        match value {
            Value::Bool(flag) => Some(flag),
            Value::String(text) => text.parse().ok(),
            _ => None,
        }
    }
}

impl VssElement for bool {
    const ARRAY_DATATYPE: DataType = DataType::Array(ScalarType::Boolean);
}

impl VssType for String {
    const DATATYPE: DataType = DataType::Scalar(ScalarType::String);

    fn into_value(self) -> Value {
        Value::String(self.into())
    }

    fn from_value(value: Value) -> Option<Self> {
        match value {
            Value::String(text) => Some(text.into_owned()),
            _ => None,
        }
    }
}

impl VssElement for String {
    const ARRAY_DATATYPE: DataType = DataType::Array(ScalarType::String);
}

impl<T: VssElement> VssType for Vec<T> {
    const DATATYPE: DataType = T::ARRAY_DATATYPE;
    const ALLOWED: &'static [&'static str] = T::ALLOWED;

    fn into_value(self) -> Value {
        Value::Array(self.into_iter().map(VssType::into_value).collect())
    }

    fn from_value(value: Value) -> Option<Self> {
        match value {
            Value::Array(items) => items.into_iter().map(T::from_value).collect(),
            _ => None,
        }
    }
}

/// The datatype name of a struct type, for [`VssType::DATATYPE`] of user struct types.
pub const fn struct_datatype(name: &'static str) -> DataType {
    DataType::Struct(Cow::Borrowed(name))
}

/// The datatype of an array of the struct type `name`, for [`VssElement::ARRAY_DATATYPE`].
pub const fn struct_array_datatype(name: &'static str) -> DataType {
    DataType::StructArray(Cow::Borrowed(name))
}

/// Takes the member `name` out of struct fields (for hand-written struct [`VssType`] impls).
pub fn take_field<T: VssType>(fields: &mut Vec<(String, Value)>, name: &str) -> Option<T> {
    let position = fields.iter().position(|(field, _)| field == name)?;
    T::from_value(fields.swap_remove(position).1)
}

/// A typed leaf handle: its node and the Rust type of its value.
pub trait Leaf: Copy {
    /// The Rust type of the leaf's value.
    type Value: VssType;
    /// The VSS node type.
    const KIND: NodeKind;

    /// The node in the tree's table.
    fn id(self) -> NodeId;
}

macro_rules! leaf_handle {
    ($($(#[$doc:meta])* $name:ident => $kind:ident;)*) => {$(
        $(#[$doc])*
        pub struct $name<T> {
            id: NodeId,
            value: PhantomData<fn() -> T>,
        }

        impl<T> $name<T> {
            /// A handle for node `id` (derived trees and generated code make these).
            pub const fn from_id(id: NodeId) -> Self {
                Self { id, value: PhantomData }
            }

            /// The node in the tree's table.
            pub const fn id(self) -> NodeId {
                self.id
            }
        }

        impl<T> Clone for $name<T> {
            fn clone(&self) -> Self {
                *self
            }
        }

        impl<T> Copy for $name<T> {}

        impl<T> PartialEq for $name<T> {
            fn eq(&self, other: &Self) -> bool {
                self.id == other.id
            }
        }

        impl<T> Eq for $name<T> {}

        impl<T> std::fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({})", stringify!($name), self.id.0)
            }
        }

        impl<T: VssType> Leaf for $name<T> {
            type Value = T;
            const KIND: NodeKind = NodeKind::$kind;

            fn id(self) -> NodeId {
                self.id
            }
        }
    )*};
}

leaf_handle! {
    /// Handle of a sensor: read-only, changing, fed by the provider.
    Sensor => Sensor;
    /// Handle of an actuator: clients `set` its target, the provider feeds its current value.
    Actuator => Actuator;
    /// Handle of an attribute: static within an ignition cycle, starts at its `default`.
    Attribute => Attribute;
}

/// What `#[derive(VissTree)]` implements for every struct: the struct is a branch whose
/// subtree has [`VissBranch::NODE_COUNT`] nodes below the branch node itself.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a VSS branch",
    label = "not a `#[derive(VissTree)]` struct",
    note = "a field is a leaf (`Sensor<T>`, `Actuator<T>`, `Attribute<T>`), a struct with \
            `#[derive(VissTree)]`, or an array of such structs (an instance set)"
)]
pub trait VissBranch {
    /// Nodes below this branch (not counting the branch node).
    const NODE_COUNT: u32;

    /// Finds `path`, relative to this branch (no leading branch name), when this branch's
    /// first child has id `first_child`.
    fn lookup_relative(path: &str, first_child: u32) -> Option<NodeId>;

    /// Calls `visit` with every leaf handle's node, in tree order.
    fn visit_leaves(&self, visit: &mut dyn FnMut(NodeId));
}

/// Typed feeding and reading through derived handles, on any [`Engine`].
pub trait TypedEngine {
    /// Feeds a new value of `leaf` at `ts` and runs the subscriptions it triggers.
    fn feed<L: Leaf>(&self, leaf: L, value: L::Value, ts: Timestamp) -> Result<(), VissError>;

    /// The current value of `leaf` (`None`: not available yet).
    fn current<L: Leaf>(&self, leaf: L) -> Option<L::Value>;

    /// The last target a client `set` on `actuator`.
    fn target<T: VssType>(&self, actuator: Actuator<T>) -> Option<T>;
}

impl<Tree: VissTree> TypedEngine for Engine<Tree> {
    fn feed<L: Leaf>(&self, leaf: L, value: L::Value, ts: Timestamp) -> Result<(), VissError> {
        self.update(leaf.id(), value.into_value(), ts)
    }

    fn current<L: Leaf>(&self, leaf: L) -> Option<L::Value> {
        let sample = self.store().current(leaf.id())?;
        L::Value::from_value(sample.value)
    }

    fn target<T: VssType>(&self, actuator: Actuator<T>) -> Option<T> {
        let sample = self.store().target(actuator.id())?;
        T::from_value(sample.value)
    }
}

/// Typed feeding and reading of one tree of an engine's forest, by that tree's own handles:
/// a tree mounted beside the primary one (a generated crate's further `-s` tree, a derived
/// `Trailer`) numbers its nodes from 0 like any tree, and this view offsets its handles'
/// ids into the forest. From [`Engine::typed_tree`].
pub struct TreeView<'e, Tree: VissTree> {
    engine: &'e Engine<Tree>,
    index: usize,
}

impl<Tree: VissTree> std::fmt::Debug for TreeView<'_, Tree> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TreeView")
            .field("tree_index", &self.index)
            .finish_non_exhaustive()
    }
}

impl<Tree: VissTree> Engine<Tree> {
    /// The typed view of the tree with root `root` (the primary tree's root works too);
    /// `None` when no tree has that root. Finding the tree reads every root name: take the
    /// view once and keep it.
    pub fn typed_tree(&self, root: &str) -> Option<TreeView<'_, Tree>> {
        let index = self.forest().tree_index(root)?;
        Some(TreeView {
            engine: self,
            index,
        })
    }
}

impl<Tree: VissTree> TreeView<'_, Tree> {
    /// The forest id of a handle's node; an id beyond this tree is an error, never another
    /// tree's node.
    fn global(&self, id: NodeId) -> Result<NodeId, VissError> {
        self.engine
            .forest()
            .global_id(self.index, id)
            .ok_or(VissError::DataUnknown)
    }
}

impl<Tree: VissTree> TypedEngine for TreeView<'_, Tree> {
    fn feed<L: Leaf>(&self, leaf: L, value: L::Value, ts: Timestamp) -> Result<(), VissError> {
        self.engine
            .update(self.global(leaf.id())?, value.into_value(), ts)
    }

    fn current<L: Leaf>(&self, leaf: L) -> Option<L::Value> {
        let sample = self.engine.store().current(self.global(leaf.id()).ok()?)?;
        L::Value::from_value(sample.value)
    }

    fn target<T: VssType>(&self, actuator: Actuator<T>) -> Option<T> {
        let sample = self
            .engine
            .store()
            .target(self.global(actuator.id()).ok()?)?;
        T::from_value(sample.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_convert_within_their_range_only() {
        assert_eq!(u8::from_value(Value::UInt(255)), Some(255));
        assert_eq!(u8::from_value(Value::UInt(256)), None);
        assert_eq!(u8::from_value(Value::Int(-1)), None);
        assert_eq!(i8::from_value(Value::Int(-128)), Some(-128));
        assert_eq!(i64::from_value(Value::UInt(u64::MAX)), None);
        assert_eq!(u64::MAX.into_value(), Value::UInt(u64::MAX));
        assert_eq!((-5_i16).into_value(), Value::Int(-5));
    }

    #[test]
    fn wire_strings_parse_into_scalars() {
        assert_eq!(u16::from_value(Value::String("300".into())), Some(300));
        assert_eq!(f64::from_value(Value::String("2.5".into())), Some(2.5));
        assert_eq!(bool::from_value(Value::String("true".into())), Some(true));
        assert_eq!(bool::from_value(Value::String("yes".into())), None);
        assert_eq!(String::from_value(Value::Bool(true)), None);
    }

    #[test]
    fn arrays_map_every_element_or_nothing() {
        let value = vec![1_u8, 2].into_value();
        assert_eq!(value, Value::Array(vec![Value::UInt(1), Value::UInt(2)]));
        assert_eq!(Vec::<u8>::from_value(value), Some(vec![1, 2]));
        let mixed = Value::Array(vec![Value::UInt(1), Value::Bool(true)]);
        assert_eq!(Vec::<u8>::from_value(mixed), None);
        assert_eq!(<Vec<f32>>::DATATYPE, DataType::Array(ScalarType::Float));
    }

    #[test]
    fn handles_compare_by_node_and_print_their_kind() {
        let speed = Sensor::<f32>::from_id(NodeId(3));
        assert_eq!(speed, Sensor::from_id(NodeId(3)));
        assert_ne!(speed, Sensor::from_id(NodeId(4)));
        assert_eq!(format!("{speed:?}"), "Sensor(3)");
        assert_eq!(<Actuator<bool> as Leaf>::KIND, NodeKind::Actuator);
    }

    #[test]
    fn take_field_removes_the_named_member() {
        let mut fields = vec![
            ("Latitude".to_owned(), Value::String("1.5".into())),
            ("Longitude".to_owned(), Value::Double(2.0)),
        ];
        assert_eq!(take_field::<f64>(&mut fields, "Longitude"), Some(2.0));
        assert_eq!(take_field::<f64>(&mut fields, "Longitude"), None);
        assert_eq!(take_field::<f64>(&mut fields, "Latitude"), Some(1.5));
    }

    /// The `VssType` impls and the vocabulary's Rust-type column say the same thing.
    #[test]
    fn rust_types_hold_the_datatype_the_vocabulary_names() {
        fn scalar<T: VssType>() -> Option<ScalarType> {
            match T::DATATYPE {
                DataType::Scalar(scalar) => Some(scalar),
                _ => None,
            }
        }
        let impls = [
            ("u8", scalar::<u8>()),
            ("u16", scalar::<u16>()),
            ("u32", scalar::<u32>()),
            ("u64", scalar::<u64>()),
            ("i8", scalar::<i8>()),
            ("i16", scalar::<i16>()),
            ("i32", scalar::<i32>()),
            ("i64", scalar::<i64>()),
            ("f32", scalar::<f32>()),
            ("f64", scalar::<f64>()),
            ("bool", scalar::<bool>()),
            ("String", scalar::<String>()),
        ];
        for (rust, scalar) in impls {
            assert_eq!(ScalarType::from_rust_type(rust), scalar, "{rust}");
        }
        let signal_types = ScalarType::ALL.iter().filter(|p| !p.is_pseudo()).count();
        assert_eq!(impls.len(), signal_types);
    }
}
