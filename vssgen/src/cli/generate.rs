//! `vssgen generate`: a typed VISS v3 server crate for a tree.

use std::path::PathBuf;

use clap::Args;

use super::{Failed, InputArgs};
use crate::backend::rust::{self, GenerateOptions, RuntimeDependency};

#[derive(Debug, Clone, Args)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Directory the crate is written to (created when missing; files are overwritten)
    #[arg(short = 'o', long, value_name = "DIR")]
    pub out: PathBuf,
    /// Package name (default: the output directory's name)
    #[arg(long, value_name = "NAME")]
    pub crate_name: Option<String>,
    /// Depend on viss-runtime by path (as written, relative to the generated crate) instead
    /// of by version
    #[arg(long, value_name = "PATH", conflicts_with = "runtime_version")]
    pub runtime_path: Option<PathBuf>,
    /// The viss-runtime version requirement
    #[arg(long, value_name = "REQ", default_value = "0.1")]
    pub runtime_version: String,
    /// The regeneration command written into the `@generated` headers (default: this
    /// command line)
    #[arg(long, value_name = "TEXT")]
    pub command: Option<String>,
    /// The crate is a member of an enclosing Cargo workspace: leave the release profiles to
    /// the workspace root
    #[arg(long)]
    pub workspace_member: bool,
}

pub fn run(args: &GenerateArgs) -> Result<(), Failed> {
    let tree = args.input.load_tree()?;
    let options = GenerateOptions {
        crate_name: args
            .crate_name
            .clone()
            .unwrap_or_else(|| default_crate_name(args)),
        runtime: match &args.runtime_path {
            Some(path) => RuntimeDependency::Path(path.clone()),
            None => RuntimeDependency::Version(args.runtime_version.clone()),
        },
        command: args.command.clone().unwrap_or_else(command_line),
        workspace_member: args.workspace_member,
    };
    let written = rust::generate(&tree, &options)
        .and_then(|files| rust::write_files(&args.out, &files).map(|()| files.len()));
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

fn default_crate_name(args: &GenerateArgs) -> String {
    args.out
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "vss-server".to_owned())
}

/// The command as typed (for the `@generated` headers).
fn command_line() -> String {
    let mut words = vec!["vssgen".to_owned()];
    words.extend(std::env::args().skip(1));
    words.join(" ")
}
