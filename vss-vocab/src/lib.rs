//! The COVESA VSS vocabulary, in one home.
//!
//! What VSS itself defines, independent of any input format or output: the primitive
//! datatypes with their Rust types and value ranges ([`Primitive`]), the attribute names a
//! node may carry ([`attribute`]), the `validate` access-control tag ([`validate`]), the rules a node name follows ([`name`]) and which
//! attributes an export leaves out ([`attribute::kept_on_export`]).
//!
//! The model (`vss-model`), the generator (`vssgen`), the derive (`viss-derive`) and the
//! runtime (`viss-runtime`) all read these tables, so a new datatype or attribute is added
//! here once. The crate has no dependencies: a proc-macro links it too.

pub mod attribute;
mod datatype;
pub mod name;
pub mod validate;

pub use datatype::Primitive;
