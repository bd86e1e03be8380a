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

/// The Rust SDK's viss-runtime dependency (written as given: the SDK is `<out>/rust`).
fn runtime(args: &SdkArgs) -> String {
    match super::generate::runtime_from(&args.runtime) {
        rust::RuntimeDependency::Path(path) => format!("path = \"{}\"", path.display()),
        rust::RuntimeDependency::Version(version) => format!("version = \"{version}\""),
    }
}

pub fn run(args: &SdkArgs) -> Result<(), Failed> {
    let trees = super::input::load_trees(&args.input)?;
    let Some(tree) = trees.first() else {
        return Err(Failed);
    };
    let name = args.name.clone().unwrap_or_else(|| {
        tree.signal_root()
            .map(|root| tree.get(root).name.to_lowercase())
            .unwrap_or_else(|| "vss".to_owned())
    });
    let options = SdkOptions {
        name,
        command: args
            .command
            .clone()
            .unwrap_or_else(super::generate::command_line),
        languages: args.languages.languages(),
        rust_runtime: runtime(args),
        schema: args.languages.schema_text()?,
    };
    let written = sdk::generate(tree, &options).and_then(|output| {
        super::generate::report_notes(&output.notes);
        rust::write_files(&args.out, &output.files).map(|()| output.files.len())
    });
    match written {
        Ok(count) => {
            eprintln!("vssgen: wrote {count} files to {}", args.out.display());
            Ok(())
        }
        Err(error) => {
            eprintln!("vssgen: error: {error}");
            Err(Failed)
        }
    }
}
