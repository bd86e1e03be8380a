//! The result every front end returns: the tree (when it is valid), every diagnostic, and the
//! source files the diagnostics point into.

use crate::diag::Diagnostics;
use crate::model::VssTree;
use crate::source::SourceMap;

/// Outcome of loading a model. `tree` is `None` as soon as one error was recorded; warnings
/// alone keep the tree.
#[derive(Debug, Default)]
pub struct Loaded {
    pub tree: Option<VssTree>,
    pub diagnostics: Diagnostics,
    pub sources: SourceMap,
}
