//! Code generation backends: each reads a `VssTree` and returns files.

pub mod proto;
pub mod rust;
