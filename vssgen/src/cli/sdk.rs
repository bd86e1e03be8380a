//! `vssgen sdk`: only the typed client SDKs of a tree (`generate` writes them beside the
//! server, in `sdk/`).

use std::path::PathBuf;
use std::str::FromStr;

use clap::Args;

use super::{Failed, InputArgs};
use crate::backend::rust;
use crate::backend::sdk::{self, Language, SdkOptions};

#[derive(Debug, Clone, Args)]
pub struct SdkArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Directory the SDKs are written to, one directory per language (`typescript/`,
    /// `python/`)
    #[arg(short = 'o', long, value_name = "DIR")]
    pub out: PathBuf,
    /// The name the packages are named after (`<NAME>-sdk`; default: the tree root's name
    /// in lower case)
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// The regeneration command written into the `@generated` headers (default: this
    /// command line)
    #[arg(long, value_name = "TEXT")]
    pub command: Option<String>,
    /// The Rust SDK's viss-runtime dependency (a relative path is relative to `<DIR>/rust`)
    #[command(flatten)]
    pub runtime: super::generate::RuntimeArgs,
    #[command(flatten)]
    pub languages: SdkChoice,
}

/// `--sdk typescript,python` and `--schema FILE` (shared by `generate` and `sdk`).
#[derive(Debug, Clone, Args)]
pub struct SdkChoice {
    /// Client SDKs to write, comma-separated: typescript (ts), python (py), rust (rs), or none
    #[arg(
        long = "sdk",
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "typescript,python,rust"
    )]
    pub sdk: Vec<SdkLanguage>,
    /// The VISS JSON schema the SDKs' message types are derived from (default:
    /// schemas/viss-v3-messages.schema.json in $VSS_SHARED or in the `shared/` folder
    /// beside the checkout vssgen was built from; without one, no message types)
    #[arg(long, value_name = "FILE")]
    pub schema: Option<PathBuf>,
}

/// The schema's place inside the shared reference folder.
const SCHEMA_IN_SHARED: &str = "schemas/viss-v3-messages.schema.json";

impl SdkChoice {
    /// The schema's text: `--schema`, else the shared folder's copy, else none (said on
    /// stderr).
    pub fn schema_text(&self) -> Result<Option<String>, Failed> {
        if let Some(path) = &self.schema {
            return std::fs::read_to_string(path).map(Some).map_err(|error| {
                eprintln!("vssgen: cannot read the schema {}: {error}", path.display());
                Failed
            });
        }
        let shared = std::env::var_os("VSS_SHARED")
            .map(PathBuf::from)
            .into_iter()
            .chain(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .parent()
                    .map(|workspace| workspace.join("../shared")),
            );
        for dir in shared {
            if let Ok(text) = std::fs::read_to_string(dir.join(SCHEMA_IN_SHARED)) {
                return Ok(Some(text));
            }
        }
        if !self.languages().is_empty() {
            eprintln!(
                "vssgen: warning: no VISS JSON schema found (give --schema FILE): the SDKs \
                 are written without their message types"
            );
        }
        Ok(None)
    }

    /// The languages chosen, in a fixed order, each once.
    pub fn languages(&self) -> Vec<Language> {
        let chosen: std::collections::BTreeSet<Language> =
            self.sdk.iter().filter_map(|choice| choice.0).collect();
        chosen.into_iter().collect()
    }
}

/// One entry of `--sdk`: a language, or `none`.
#[derive(Debug, Clone, Copy)]
pub struct SdkLanguage(Option<Language>);

impl FromStr for SdkLanguage {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "none" => Ok(Self(None)),
            other => other.parse().map(|language| Self(Some(language))),
        }
    }
}

/// The Rust SDK's viss-runtime dependency, as given (the SDK is `<out>/rust`), for an SDK
/// `extra` directories deeper (`<out>/<root>/rust`).
fn runtime(args: &SdkArgs, extra: usize) -> String {
    match super::generate::runtime_from(&args.runtime) {
        rust::RuntimeDependency::Path(path) => {
            format!("path = \"{}\"", deeper(&path, extra).display())
        }
        rust::RuntimeDependency::Version(version) => format!("version = \"{version}\""),
    }
}

/// A path as seen from `extra` directories deeper: a relative one gains `../` each.
pub(super) fn deeper(path: &std::path::Path, extra: usize) -> PathBuf {
    if path.is_absolute() {
        return path.to_owned();
    }
    let mut deeper = PathBuf::new();
    for _ in 0..extra {
        deeper.push("..");
    }
    deeper.join(path)
}

/// The SDKs of every tree, paths relative to the SDK folder: the first tree's in
/// `<language>/`, named `<name>-sdk`; a further tree's (its own root, served by the same
/// server) in `<root>/<language>/`, named `<name>-<root>-sdk`. `runtime` gives the Rust
/// SDK's viss-runtime dependency for an SDK that many directories deeper.
pub(super) fn sdks_of_trees(
    trees: &[vss_model::VssTree],
    name: &str,
    command: &str,
    languages: Vec<Language>,
    schema: Option<String>,
    runtime: impl Fn(usize) -> String,
) -> Result<Vec<rust::GeneratedFile>, rust::GenerateError> {
    let mut files = Vec::new();
    if languages.is_empty() {
        return Ok(files);
    }
    for (index, tree) in trees.iter().enumerate() {
        let root = root_name(tree);
        let (name, dir, extra) = match index {
            0 => (name.to_owned(), String::new(), 0),
            _ => (format!("{name}-{root}"), format!("{root}/"), 1),
        };
        let options = SdkOptions {
            name,
            command: command.to_owned(),
            languages: languages.clone(),
            rust_runtime: runtime(extra),
            schema: schema.clone(),
        };
        let output = sdk::generate(tree, &options)?;
        super::generate::report_notes(&output.notes);
        files.extend(
            output
                .files
                .into_iter()
                .map(|file| rust::GeneratedFile::new(format!("{dir}{}", file.path), file.contents)),
        );
    }
    Ok(files)
}

/// A tree's root name in lower case (`vehicle`, `trailer`).
pub(super) fn root_name(tree: &vss_model::VssTree) -> String {
    tree.signal_root()
        .map(|root| tree.get(root).name.to_lowercase())
        .unwrap_or_else(|| "vss".to_owned())
}

pub fn run(args: &SdkArgs) -> Result<(), Failed> {
    let trees = super::input::load_trees(&args.input)?;
    let Some(tree) = trees.first() else {
        return Err(Failed);
    };
    let name = args.name.clone().unwrap_or_else(|| root_name(tree));
    let command = args
        .command
        .clone()
        .unwrap_or_else(super::generate::command_line);
    let languages = args.languages.languages();
    let schema = args.languages.schema_text()?;
    let written = sdks_of_trees(&trees, &name, &command, languages, schema, |extra| {
        runtime(args, extra)
    })
    .and_then(|files| rust::write_files(&args.out, &files).map(|()| files.len()));
    super::generate::report_written(written, &args.out)
}
