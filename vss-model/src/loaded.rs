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

impl Loaded {
    /// Turns every warning into an error and drops the tree if that made it invalid.
    pub fn with_warnings_as_errors(mut self) -> Loaded {
        self.diagnostics.promote_warnings();
        if self.diagnostics.has_errors() {
            self.tree = None;
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Diagnostic;

    #[test]
    fn warnings_as_errors_drop_the_tree_only_when_there_were_warnings() {
        let clean = Loaded {
            tree: Some(VssTree::new()),
            ..Loaded::default()
        };
        assert!(clean.with_warnings_as_errors().tree.is_some());

        let mut warned = Loaded {
            tree: Some(VssTree::new()),
            ..Loaded::default()
        };
        warned
            .diagnostics
            .push(Diagnostic::warning("vss::implicit-branch", "implicit"));
        let strict = warned.with_warnings_as_errors();
        assert!(strict.tree.is_none());
        assert_eq!(strict.diagnostics.error_count(), 1);
    }
}
