//! `#[derive(VissTree)]`: a typed VISS v3 signal tree from a struct of leaf handles.
//!
//! ```
//! use viss_runtime::{Actuator, Engine, EngineConfig, Sensor, TypedEngine, VissTree};
//!
//! #[derive(Debug, VissTree)]
//! #[viss(root, description = "High-level vehicle data.")]
//! pub struct Vehicle {
//!     #[viss(unit = "km/h", min = 0, max = 250, description = "Vehicle speed.")]
//!     pub speed: Sensor<f32>,
//!     pub cabin: Cabin,
//! }
//!
//! #[derive(Debug, VissTree)]
//! pub struct Cabin {
//!     #[viss(instances("Row1", "Row2"), description = "All doors.")]
//!     pub door: [Door; 2],
//! }
//!
//! #[derive(Debug, VissTree)]
//! pub struct Door {
//!     #[viss(description = "Is the door open?")]
//!     pub is_open: Actuator<bool>,
//! }
//!
//! let engine = Engine::new(Vehicle::TREE, EngineConfig::default());
//! let is_open = Vehicle::TREE.cabin.door[1].is_open;
//! engine.feed(is_open, true, jiff::Timestamp::now()).unwrap();
//! assert_eq!(engine.current(is_open), Some(true));
//! assert_eq!(engine.tree().lookup("Vehicle.Cabin.Door.Row2.IsOpen"), Some(is_open.id()));
//! assert_eq!(engine.tree().node(is_open.id()).path, "Vehicle.Cabin.Door.Row2.IsOpen");
//! ```
//!
//! # Fields
//!
//! * `Sensor<T>`, `Actuator<T>`, `Attribute<T>`: a leaf; `T` is a `viss_runtime::VssType`
//!   (`bool`, `u8`..`u64`, `i8`..`i64`, `f32`, `f64`, `String`, a `#[derive(VissEnum)]`
//!   enum, `Vec<T>` of those, or a struct type that implements it).
//! * A leaf whose value is an enum (`Actuator<Switch>`, `Attribute<Vec<Fuel>>`) is a
//!   `string` (`string[]`) leaf with `allowed = [..]`: a `const` check fails compilation,
//!   at the value type, unless the enum's variants spell exactly the strings of the list
//!   (in any order), naming the first string one side lacks; an enum-typed leaf without
//!   the list fails the same way. See [`VissEnum`](derive@VissEnum).
//! * Another `#[derive(VissTree)]` struct: a branch.
//! * `[B; N]` (or `[[B; M]; N]`, ...) of a derived struct with
//!   `#[viss(instances("Row1", "Row2"))]` (one list per dimension, outermost first:
//!   `instances(["Row1", "Row2"], ["DriverSide", "PassengerSide"])`): an instance set. The
//!   field is a branch, every instance a branch below it, the struct's nodes below each
//!   instance: `Door.Row1.DriverSide.IsOpen`.
//!
//! A field's VSS name is its identifier in UpperCamelCase (`is_open` → `IsOpen`) unless
//! `name = "..."` says otherwise.
//!
//! # Attributes
//!
//! On the struct: `root` or `root = "Vehicle"` (this struct is the tree's root; its node is
//! named after the struct unless given), `description`, `comment`, `deprecation`, `fka`,
//! `const_uid`, `validate`, `extended(..)` (the root node's metadata, root only: a nested
//! struct's node takes its metadata from the parent's field, and the derive rejects them on
//! a non-root struct rather than drop them).
//!
//! On fields: `name`, `description`, `comment`, `deprecation`, `fka = ["Vehicle.Old"]`,
//! `const_uid = "0x1234ABCD"` (VSS `constUID`), `validate = "read-write"`,
//! `extended(dbc = "Speed", priority = 1)` (all nodes: leaves, branches, instance sets);
//! `unit`, `min`, `max` (numeric leaves), `allowed = [..]` (string or numeric leaves and
//! arrays of them), `default = lit` / `default = [..]` (primitive leaves),
//! `enum("NONE" = 0, "RAIN" = 1)` (integer leaves; names as strings or identifiers, values
//! in source order), `pattern = "^[A-Z]{3}$"` (string leaves; a regular expression of the
//! `regex` crate, checked at compile time, enforced on `set`), `uuid` (leaves);
//! `instances(..)` (array fields). On an instance set, the metadata keys describe the set's
//! node and every instance branch below it (VSS instance expansion copies them too).
//! An extended attribute's value is a literal, `null`, an array of values, or
//! `json("...")` with any JSON text (objects included); its name is not a VSS core name.
//! Every key may appear once. `description` is optional, as in vss-tools 6.1.
//! `uuid` is checked but not yet part of the runtime's `NodeInfo`.
//!
//! `validate` is the node's VISS access-control tag (CORE §8.8): `"write-only"` (writes
//! need a validated token) or `"read-write"` (reads and writes do), either with `+consent`
//! (`"read-write+consent"`: the data also needs the owner's consent). It is the node's own
//! tag, in the hot table (`NodeInfo::validate`, `None` when untagged: such a node inherits
//! its nearest tagged ancestor's tag, which the engine resolves); tagging the root protects
//! the whole tree. Metadata responses and the VSS JSON export show it as `"validate"`. It
//! is not an extended attribute (`extended(validate = ..)` is rejected).
//!
//! # Checks
//!
//! All errors are collected and reported at once, each at its token: unknown or duplicate
//! keys, duplicate VSS names among siblings (after renaming), invalid names, `min > max`,
//! `min`/`max` on non-numeric leaves or out of the integer type's range, `allowed` on
//! boolean or struct leaves, `default` of the wrong type,
//! outside `min`..`max` or not in `allowed`/`enum`, `enum` on non-integer leaves, duplicate
//! `enum` names or values outside the leaf type, `pattern` on non-string leaves or not a
//! valid regular expression, `validate` other than the four tags (or on a non-root struct),
//! extended attributes with a core or duplicate name (or `validate`) or invalid `json(..)`,
//! leaf keys on branches, `instances` on non-arrays and arrays without `instances`, instance
//! counts that differ from the array length, and unsupported field or value types.
//!
//! # What is generated
//!
//! * **Node ids** are assigned in tree order (pre-order, fields in declaration order). Every
//!   derived struct implements `viss_runtime::VissBranch` (`NODE_COUNT`, the nodes below
//!   it; a relative lookup; a leaf walk) and gets hidden `const fn`s: `__viss_at(first_child)`
//!   builds its handles with ids offset from its first child (a field's offset is the sum
//!   of the sizes of the fields before it, a branch's size is `1 + NODE_COUNT`), and two
//!   writers emit its part of the node table. Nested structs are separate derives, so these
//!   compose through `NODE_COUNT` and the `const fn`s, never through the parent seeing the
//!   child's fields.
//! * **The static table** exists on the root only (`#[viss(root)]`), because only the root
//!   knows every full path (the same struct can sit under every instance). It is built at
//!   compile time in three const passes over the same generated traversal: count the path
//!   bytes, write every full path into one `[u8; LEN]` (a child's path is its parent's
//!   bytes + `.` + its name), then fill a hot `static [NodeInfo; N]` whose `path`s are
//!   `&'static str` slices of that text and a parallel cold `static [NodeMeta; N]` (what
//!   only metadata requests, exports and `enum`/`pattern` checks read), both from per-node
//!   `const` templates. `Vehicle::TREE` is the root's handles (`__viss_at(1)`).
//! * **Instance sets**: the field is a branch node, each instance a branch node below it
//!   (one level per dimension), the element struct's nodes below each innermost instance.
//!   Handle arrays are built with the same offsets (`instance_size`, `instance_child`).
//! * **Lookup**: the root's `VissTree::lookup_dotted` probes a static open-addressing index
//!   (`[u32; 2^k]`, at most half full, linear probing) built at compile time by a `const`
//!   hash over every path, and compares the one candidate's path: one hash, usually one
//!   string compare, no allocation. (A compile-time *perfect* hash of full paths is not
//!   possible in the derive, which never sees nested structs' fields; the index is built
//!   from the finished table instead.) `VissBranch::lookup_relative` is a generated `match`
//!   per path segment that hands the rest to the child type, for lookups below a branch.
//!   `examples/vss-standard/benches/lookup.rs` measures both on the 1,367 leaves of the
//!   standard VSS tree against a `HashMap<&str, NodeId>`.
//!
//! Everything is wrapped in `const _: () = { ... }` with `#[automatically_derived]` impls
//! and absolute `::viss_runtime` / `::core` paths; support items live in the hidden
//! `viss_runtime::__private`. Const evaluation is linear in the tree size; a 16,000-node
//! tree compiles (`tests/large_tree.rs`).

mod expand;
mod expand_enum;
mod internals;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

use internals::{Ctxt, ast::Container, check, variants::Enum};

/// Derives a typed VSS tree; see the crate documentation.
#[proc_macro_derive(VissTree, attributes(viss))]
pub fn derive_viss_tree(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand_derive_viss_tree(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

fn expand_derive_viss_tree(input: &DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    let cx = Ctxt::new();
    let container = Container::from_ast(&cx, input);
    if let Some(container) = &container {
        check::check(&cx, container);
    }
    cx.check()?;
    Ok(container
        .map(|container| expand::expand(&container))
        .unwrap_or_default())
}

/// Derives `viss_runtime::VissEnum` for a fieldless enum whose variants are the values of a
/// VSS `allowed` list, with `Display` and `FromStr` on the VSS strings.
///
/// A variant's VSS string is its identifier in SCREAMING_SNAKE_CASE (`OneShotClose` →
/// `ONE_SHOT_CLOSE`) unless `#[viss(name = "..")]` says otherwise. The enum must also be
/// `Clone + Copy + PartialEq + Eq`. A leaf of a `#[derive(VissTree)]` struct takes it as its
/// value (`Actuator<Switch>`, `Attribute<Vec<Fuel>>`) with an `allowed` list that the
/// derive checks, at compile time, spells exactly the variants' strings:
///
/// ```
/// use viss_runtime::{Actuator, VissEnum, VissTree};
///
/// #[derive(Debug, Clone, Copy, PartialEq, Eq, VissEnum)]
/// pub enum WindowSwitch {
///     Inactive,
///     Close,
///     Open,
///     OneShotClose,
///     #[viss(name = "ONE_SHOT_OPEN")]
///     OneShotOpen,
/// }
///
/// #[derive(Debug, VissTree)]
/// #[viss(root)]
/// pub struct Vehicle {
///     #[viss(allowed = ["INACTIVE", "CLOSE", "OPEN", "ONE_SHOT_CLOSE", "ONE_SHOT_OPEN"])]
///     pub switch: Actuator<WindowSwitch>,
/// }
///
/// assert_eq!(WindowSwitch::OneShotClose.to_string(), "ONE_SHOT_CLOSE");
/// assert_eq!("OPEN".parse::<WindowSwitch>(), Ok(WindowSwitch::Open));
/// assert!("open".parse::<WindowSwitch>().is_err());
/// ```
#[proc_macro_derive(VissEnum, attributes(viss))]
pub fn derive_viss_enum(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    let cx = Ctxt::new();
    let parsed = Enum::from_ast(&cx, &input);
    let expanded = cx.check().map(|()| {
        parsed
            .map(|parsed| expand_enum::expand(&parsed))
            .unwrap_or_default()
    });
    expanded
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
