//! Exporters that reproduce vss-tools' output formats from the IR.

pub mod json;
pub mod pyjson;
