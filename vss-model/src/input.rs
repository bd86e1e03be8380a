//! Where a tree comes from, and loading it: the one loader every tool uses (`vssgen`,
//! `viss-server`, `viss-bench`), so `.vspec` sources and vss-tools JSON exports are read
//! with the same options everywhere. The command-line form is [`crate::cli::TreeArgs`]
//! (feature `cli`).

use std::path::{Path, PathBuf};

use crate::json::{self, JsonOptions};
use crate::vspec::{self, VspecOptions};
use crate::{Loaded, Severity};

/// A tree's source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The root `.vspec` file.
    Vspec(PathBuf),
    /// A vss-tools JSON export.
    Json(PathBuf),
}

impl Source {
    /// A `.json` file is a JSON export, anything else a root `.vspec`.
    pub fn from_path(path: &Path) -> Self {
        if path
            .extension()
            .is_some_and(|extension| extension == "json")
        {
            Self::Json(path.to_owned())
        } else {
            Self::Vspec(path.to_owned())
        }
    }
}

/// Everything needed to load one tree: its source, and the `.vspec` options (units,
/// quantities, types, overlays, include directories; ignored for a JSON source, whose
/// `strict` they still give).
#[derive(Debug, Clone)]
pub struct TreeInput {
    pub source: Source,
    /// The types file of a JSON export.
    pub json_types: Option<PathBuf>,
    /// How `.vspec` sources are read (its `source` is replaced by [`TreeInput::source`]).
    pub vspec: VspecOptions,
}

impl TreeInput {
    /// Defaults for `source`: no extra files, not strict, instances expanded.
    pub fn new(source: Source) -> Self {
        Self {
            source,
            json_types: None,
            vspec: VspecOptions::default(),
        }
    }

    /// Reads the tree; every problem is a diagnostic in the result.
    pub fn load(&self) -> Loaded {
        match &self.source {
            Source::Json(path) => json::load(&JsonOptions {
                source: path.clone(),
                types: self.json_types.clone(),
                strict: self.vspec.strict,
            }),
            Source::Vspec(path) => vspec::load(&VspecOptions {
                source: path.clone(),
                ..self.vspec.clone()
            }),
        }
    }
}

/// How much of a load's diagnostics [`report`] prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    /// Every diagnostic (tools whose user is editing the tree).
    All,
    /// Errors in full, warnings only counted (servers: the standard tree has many harmless
    /// warnings).
    ErrorsOnly,
}

/// Prints `loaded`'s diagnostics to stderr as file:line:col reports, then a count line
/// prefixed with `program`.
pub fn report(loaded: &Loaded, program: &str, report: Report) {
    if loaded.diagnostics.is_empty() {
        return;
    }
    let errors = loaded.diagnostics.error_count();
    let warnings = loaded
        .diagnostics
        .iter()
        .filter(|diagnostic| diagnostic.severity == Severity::Warning)
        .count();
    if report == Report::All || errors > 0 {
        eprint!("{}", loaded.diagnostics.render(&loaded.sources));
    }
    eprintln!("{program}: {errors} error(s), {warnings} warning(s)");
}
