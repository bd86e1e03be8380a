//! The command-line form of [`TreeInput`] (feature `cli`): the `vspec export`-style flags
//! every tool takes, `-s` repeatable for tools that serve several trees.

use std::path::PathBuf;

use clap::{ArgGroup, Args};

use crate::VssTree;
use crate::input::{Report, Source, TreeInput, report};
use crate::vspec::VspecOptions;

/// Where the trees come from: `.vspec` sources (`-s` and friends) or JSON exports (`--json`).
#[derive(Debug, Clone, Args)]
#[command(group(ArgGroup::new("input").required(true).multiple(true).args(["vspec", "json"])))]
pub struct TreeArgs {
    /// A root .vspec file, or a vss-tools JSON export when it ends in .json (repeatable
    /// where a tool serves several trees)
    #[arg(short = 's', long, visible_alias = "tree", value_name = "FILE")]
    pub vspec: Vec<PathBuf>,
    /// A vss-tools JSON export to read instead of .vspec sources
    #[arg(long, value_name = "FILE", conflicts_with_all = ["units", "quantities", "types", "overlays", "include_dirs", "no_expand"])]
    pub json: Vec<PathBuf>,
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
    #[arg(short = 'e', long = "extended-attributes", value_name = "NAME", value_parser = extended_attribute_name)]
    pub extended_attributes: Vec<String>,
    /// Treat warnings as errors (name style, unknown attributes, ...)
    #[arg(long)]
    pub strict: bool,
    /// Keep `instances` as written instead of expanding them
    #[arg(long)]
    pub no_expand: bool,
}

impl TreeArgs {
    /// One [`TreeInput`] per source, `-s` files first, each with the shared options.
    pub fn inputs(&self) -> Vec<TreeInput> {
        let sources = self.vspec.iter().map(|path| Source::from_path(path));
        let sources = sources.chain(self.json.iter().cloned().map(Source::Json));
        sources.map(|source| self.input(source)).collect()
    }

    fn input(&self, source: Source) -> TreeInput {
        TreeInput {
            source,
            json_types: self.json_types.clone(),
            vspec: VspecOptions {
                source: PathBuf::new(),
                units: self.units.clone(),
                quantities: self.quantities.clone(),
                types: self.types.clone(),
                overlays: self.overlays.clone(),
                include_dirs: self.include_dirs.clone(),
                extended_attributes: self.extended_attributes.clone(),
                strict: self.strict,
                expand: !self.no_expand,
            },
        }
    }

    /// Loads every tree, printing the diagnostics to stderr (prefixed with `program`);
    /// `Err` with a message when a tree has errors.
    pub fn load_all(&self, program: &str, verbosity: Report) -> Result<Vec<VssTree>, String> {
        let mut trees = Vec::new();
        for input in self.inputs() {
            let loaded = input.load();
            report(&loaded, program, verbosity);
            trees.push(loaded.tree.ok_or("the tree has errors (see above)")?);
        }
        Ok(trees)
    }

    /// Loads the one tree of a tool that takes exactly one.
    pub fn load_one(&self, program: &str, verbosity: Report) -> Result<VssTree, String> {
        if self.vspec.len() + self.json.len() != 1 {
            return Err("give exactly one tree (-s FILE or --json FILE)".into());
        }
        let mut trees = self.load_all(program, verbosity)?;
        trees.pop().ok_or_else(|| "no tree given".to_owned())
    }
}

/// Validates an `-e` name with vss-model's rule, so a bad name is a usage error (exit 2).
fn extended_attribute_name(name: &str) -> Result<String, String> {
    crate::vspec::check_extended_attribute_name(name).map(|()| name.to_owned())
}
