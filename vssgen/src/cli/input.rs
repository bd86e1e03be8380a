//! Input options shared by every subcommand (mirroring `vspec export`), and loading.

use std::path::PathBuf;

use clap::{ArgGroup, Args};
use vss_model::json::{self, JsonOptions};
use vss_model::vspec::{self, VspecOptions};
use vss_model::{Loaded, Severity, VssTree};

use super::Failed;

/// Where the tree comes from: `.vspec` sources (`-s` and friends) or a JSON export (`--json`).
#[derive(Debug, Clone, Args)]
#[command(group(ArgGroup::new("input").required(true).args(["vspec", "json"])))]
pub struct InputArgs {
    /// The root .vspec file (`--tree`: a .vspec, or a vss-tools JSON export when it ends in .json)
    #[arg(short = 's', long, visible_alias = "tree", value_name = "FILE")]
    pub vspec: Option<PathBuf>,
    /// A vss-tools JSON export to read instead of .vspec sources
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = ["units", "quantities", "types", "overlays", "include_dirs", "no_expand"]
    )]
    pub json: Option<PathBuf>,
    /// The types file written with --types-output, read with --json
    #[arg(long, value_name = "FILE", requires = "json")]
    pub json_types: Option<PathBuf>,
    /// Units file (repeatable); default: units.yaml beside the root .vspec
    #[arg(short = 'u', long = "units", value_name = "FILE")]
    pub units: Vec<PathBuf>,
    /// Quantities file (repeatable); default: quantities.yaml beside the root .vspec
    #[arg(short = 'q', long = "quantities", value_name = "FILE")]
    pub quantities: Vec<PathBuf>,
    /// Types tree .vspec (repeatable, in order)
    #[arg(short = 't', long = "types", value_name = "FILE")]
    pub types: Vec<PathBuf>,
    /// Overlay .vspec (repeatable, applied in order)
    #[arg(short = 'l', long = "overlays", value_name = "FILE")]
    pub overlays: Vec<PathBuf>,
    /// Extra directory to search for #include files (repeatable)
    #[arg(short = 'I', long = "include-dirs", value_name = "DIR")]
    pub include_dirs: Vec<PathBuf>,
    /// Extended attribute to accept without a warning, also exported on the root (repeatable)
    #[arg(
        short = 'e',
        long = "extended-attributes",
        value_name = "NAME",
        value_parser = extended_attribute_name
    )]
    pub extended_attributes: Vec<String>,
    /// Treat warnings as errors (name style, unknown attributes, ...)
    #[arg(long)]
    pub strict: bool,
    /// Keep `instances` as written instead of expanding them
    #[arg(long)]
    pub no_expand: bool,
}

impl InputArgs {
    /// Loads the tree and prints every diagnostic to stderr. `Err` when there was an error.
    pub fn load_tree(&self) -> Result<VssTree, Failed> {
        let loaded = self.load();
        report(&loaded);
        loaded.tree.ok_or(Failed)
    }

    fn load(&self) -> Loaded {
        match (&self.json, &self.vspec) {
            (Some(source), _) => self.load_json(source.clone()),
            (None, Some(source)) if source.extension().is_some_and(|ext| ext == "json") => {
                self.load_json(source.clone())
            }
            (None, _) => vspec::load(&self.vspec_options()),
        }
    }

    fn vspec_options(&self) -> VspecOptions {
        VspecOptions {
            source: self.vspec.clone().unwrap_or_default(),
            units: self.units.clone(),
            quantities: self.quantities.clone(),
            types: self.types.clone(),
            overlays: self.overlays.clone(),
            include_dirs: self.include_dirs.clone(),
            extended_attributes: self.extended_attributes.clone(),
            strict: self.strict,
            expand: !self.no_expand,
        }
    }

    fn load_json(&self, source: PathBuf) -> Loaded {
        json::load(&JsonOptions {
            source,
            types: self.json_types.clone(),
            strict: self.strict,
        })
    }
}

/// Validates an `-e` name with vss-model's rule, so a bad name is a usage error (exit 2).
fn extended_attribute_name(name: &str) -> Result<String, String> {
    vss_model::vspec::check_extended_attribute_name(name).map(|()| name.to_owned())
}

/// Prints the diagnostics and a one-line count to stderr.
fn report(loaded: &Loaded) {
    if loaded.diagnostics.is_empty() {
        return;
    }
    eprint!("{}", loaded.diagnostics.render(&loaded.sources));
    let errors = loaded.diagnostics.error_count();
    let warnings = loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .count();
    eprintln!("vssgen: {errors} error(s), {warnings} warning(s)");
}
