//! COVESA VSS data model.
//!
//! This crate is the only place that understands VSS syntax and semantics. It reads a tree
//! from `.vspec` sources (with includes, instances, overlays, units, quantities, types trees
//! and extended attributes) or from a vss-tools JSON export, and freezes it into a
//! [`VssTree`]: an arena of [`Node`]s with stable [`NodeId`]s, child order preserved.
//!
//! Every problem found while reading is a [`Diagnostic`] with a [`SourceLocation`]
//! (file:line:col); one run reports all of them.

#[cfg(feature = "cli")]
pub mod cli;
pub mod datatype;
pub mod diag;
pub mod input;
pub mod json;
pub mod loaded;
pub mod model;
pub mod source;
pub mod vspec;

pub use datatype::{Datatype, Primitive};
pub use diag::{Diagnostic, Diagnostics, Severity};
pub use input::{Source, TreeInput};
pub use loaded::Loaded;
pub use model::{
    InstanceOrigin, Node, NodeData, NodeId, NodeKind, Protects, Quantity, Unit, UnitTable,
    Validate, Value, VssTree,
};
pub use source::{FileId, SourceLocation, SourceMap};
pub use vspec::{VspecOptions, load};
