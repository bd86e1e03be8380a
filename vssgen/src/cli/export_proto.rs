//! `vssgen export proto`: the tree's `.proto` (one message per branch type) with field
//! numbers kept stable by the lock file beside the tree sources; `vssgen generate` writes
//! the same file into the crate (`proto/<root>.proto`) through [`write_with_lock`].

use std::path::{Path, PathBuf};

use clap::Args;
use vss_model::VssTree;

use super::{Failed, InputArgs, output};
use crate::backend::proto::{self, ProtoOptions};
use crate::backend::rust::GenerateError;

#[derive(Debug, Clone, Args)]
pub struct ExportProtoArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub lock: LockArgs,
    /// Output file (default: stdout)
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Where the field-number lock lives and what it may allow.
#[derive(Debug, Clone, Args)]
pub struct LockArgs {
    /// Where the field-number lock files `<root>.protolock.json` are read and updated
    /// (default: beside each tree's first source file; check them in)
    #[arg(long, value_name = "DIR")]
    pub proto_lock_dir: Option<PathBuf>,
    /// Accept fields whose wire type changes: they keep their numbers, and decoders built
    /// from the previous .proto misread them
    #[arg(long)]
    pub allow_breaking: bool,
}

pub fn run(args: &ExportProtoArgs) -> Result<(), Failed> {
    let tree = super::input::load_tree(&args.input)?;
    let source = source_files(&args.input).into_iter().next();
    let command = super::generate::command_line();
    match write_with_lock(&tree, source.as_deref(), &args.lock, &command) {
        Ok(proto) => output::write(args.output.as_deref(), &proto.text),
        Err(error) => {
            eprintln!("vssgen: error: {error}");
            Err(Failed)
        }
    }
}

/// The tree sources in the order the trees are loaded (`-s` files, then `--json` files).
pub fn source_files(input: &InputArgs) -> Vec<PathBuf> {
    input.vspec.iter().chain(&input.json).cloned().collect()
}

/// The `.proto` of `tree`, numbered by its lock (read, updated and written back).
pub fn write_with_lock(
    tree: &VssTree,
    source: Option<&Path>,
    lock_args: &LockArgs,
    command: &str,
) -> Result<proto::ProtoOutput, GenerateError> {
    let root = tree
        .signal_root()
        .map(|root| tree.get(root).name.clone())
        .ok_or(GenerateError::NoSignalTree)?;
    let lock_dir = match &lock_args.proto_lock_dir {
        Some(dir) => dir.as_path(),
        None => source
            .and_then(Path::parent)
            .unwrap_or_else(|| Path::new(".")),
    };
    let lock_path = lock_dir.join(format!("{root}.protolock.json"));
    let lock_name = lock_path.file_name().map_or_else(
        || lock_path.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    );
    let previous = match std::fs::read_to_string(&lock_path) {
        Ok(text) => Some(proto::parse_lock(&text, &lock_path.display().to_string())?),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => return Err(GenerateError::Write(lock_path, error.to_string())),
    };
    let options = ProtoOptions {
        command: command.to_owned(),
        lock_name,
        allow_breaking: lock_args.allow_breaking,
    };
    let output = proto::generate(tree, previous, &options)?;
    let lock_text = proto::lock_text(&output.lock);
    // Unchanged locks are not rewritten (a checked-in file keeps its timestamp).
    if std::fs::read_to_string(&lock_path).ok().as_deref() != Some(lock_text.as_str()) {
        std::fs::write(&lock_path, lock_text)
            .map_err(|error| GenerateError::Write(lock_path.clone(), error.to_string()))?;
    }
    Ok(output)
}
