//! `vssgen generate`: a typed VISS v3 server crate for a tree.

use std::path::PathBuf;

use clap::Args;

use super::{Failed, InputArgs};
use crate::backend::proto::Numbering;
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
    #[command(flatten)]
    pub runtime: RuntimeArgs,
    /// The regeneration command written into the `@generated` headers (default: this
    /// command line)
    #[arg(long, value_name = "TEXT")]
    pub command: Option<String>,
    /// The crate is a member of an enclosing Cargo workspace: leave the release profiles to
    /// the workspace root
    #[arg(long)]
    pub workspace_member: bool,
    /// Field numbers of `proto/<root>.proto`: each tree's `<root>.protolock.json`
    #[command(flatten)]
    pub lock: super::LockArgs,
    /// Typed client SDKs written beside the server, in `sdk/<language>/`
    #[command(flatten)]
    pub sdk: super::SdkChoice,
}

/// How generated crates depend on viss-runtime (shared by `generate` and `sdk`).
#[derive(Debug, Clone, Args)]
pub struct RuntimeArgs {
    /// Depend on viss-runtime by this path (as written: a relative path is relative to the
    /// generated crate). Default: the absolute path of the viss-runtime source this vssgen
    /// was built from, so the crate builds wherever it is written or moved
    #[arg(long, value_name = "PATH", conflicts_with = "runtime_version")]
    pub runtime_path: Option<PathBuf>,
    /// Depend on a published viss-runtime by version requirement instead (e.g. 0.1)
    #[arg(long, value_name = "REQ")]
    pub runtime_version: Option<String>,
}

pub fn run(args: &GenerateArgs) -> Result<(), Failed> {
    let trees = super::input::load_trees(&args.input)?;
    let schema = args.sdk.schema_text()?;
    let mut options = GenerateOptions {
        crate_name: args
            .crate_name
            .clone()
            .unwrap_or_else(|| default_crate_name(args)),
        runtime: runtime_dependency(args),
        command: args.command.clone().unwrap_or_else(command_line),
        workspace_member: args.workspace_member,
        proto_numbers: Vec::new(),
    };
    // The .proto files first: their numbers (from the locks) are the snapshot codec's.
    let written = proto_files(args, &trees, &options.command)
        .and_then(|(protos, numbers)| {
            options.proto_numbers = numbers;
            let mut files = rust::generate_trees(&trees, &options)?;
            files.extend(protos);
            files.extend(sdk_files(args, &trees, &options, schema)?);
            Ok(files)
        })
        .and_then(|files| rust::write_files(&args.out, &files).map(|()| files.len()))
        .and_then(|count| Ok(count + write_lock_file(args, &options.runtime)?));
    super::generate::report_written(written, &args.out)
}

/// The SDKs `--sdk` asks for, in `sdk/`, named after the crate (a further tree's in
/// `sdk/<root>/`).
fn sdk_files(
    args: &GenerateArgs,
    trees: &[vss_model::VssTree],
    options: &GenerateOptions,
    schema: Option<String>,
) -> Result<Vec<rust::GeneratedFile>, rust::GenerateError> {
    let files = super::sdk::sdks_of_trees(
        trees,
        &options.crate_name,
        &options.command,
        args.sdk.languages(),
        schema,
        |extra| rust_sdk_runtime(&options.runtime, extra),
    )?;
    Ok(files
        .into_iter()
        .map(|file| rust::GeneratedFile::new(format!("sdk/{}", file.path), file.contents))
        .collect())
}

/// The Rust SDK's viss-runtime dependency: the server's, a relative path two levels deeper
/// (the SDK is in `sdk/rust/` of the server crate), `extra` levels more for a further
/// tree's (`sdk/<root>/rust/`).
pub(super) fn rust_sdk_runtime(runtime: &RuntimeDependency, extra: usize) -> String {
    match runtime {
        RuntimeDependency::Version(version) => format!("version = \"{version}\""),
        RuntimeDependency::Path(path) => {
            let path = super::sdk::deeper(&std::path::Path::new("../..").join(path), extra);
            // An absolute path stays as it is (`join` keeps it).
            format!("path = \"{}\"", path.display())
        }
    }
}

/// Says how many files went to `out`, or why none did.
pub(super) fn report_written(
    written: Result<usize, rust::GenerateError>,
    out: &std::path::Path,
) -> Result<(), Failed> {
    match written {
        Ok(count) => {
            eprintln!("vssgen: wrote {count} files to {}", out.display());
            Ok(())
        }
        Err(error) => {
            eprintln!("vssgen: error: {error}");
            Err(Failed)
        }
    }
}

pub(super) fn report_notes(notes: &[String]) {
    for note in notes {
        eprintln!("vssgen: note: {note}");
    }
}

/// The dependency rule (README "Generate a server"): `--runtime-path` or `--runtime-version`
/// when given; else the viss-runtime source this vssgen was built from, by absolute path
/// (the crate then builds as written, wherever it is generated or moved to, as long as
/// that checkout stays); else, for a vssgen without its sources, the published version.
fn runtime_dependency(args: &GenerateArgs) -> RuntimeDependency {
    runtime_from(&args.runtime)
}

/// `--runtime-path`, else `--runtime-version`, else the checkout this vssgen was built from,
/// else the published version.
pub(super) fn runtime_from(args: &RuntimeArgs) -> RuntimeDependency {
    if let Some(path) = &args.runtime_path {
        return RuntimeDependency::Path(path.clone());
    }
    if let Some(version) = &args.runtime_version {
        return RuntimeDependency::Version(version.clone());
    }
    match built_from_runtime() {
        Some(path) => RuntimeDependency::Path(path),
        None => {
            eprintln!(
                "vssgen: warning: the viss-runtime source this vssgen was built from is gone; \
                 the crate asks for viss-runtime {RUNTIME_VERSION} by version (pass \
                 --runtime-path DIR to build against a checkout)"
            );
            RuntimeDependency::Version(RUNTIME_VERSION.to_owned())
        }
    }
}

/// The version requirement of a published viss-runtime matching this vssgen.
const RUNTIME_VERSION: &str = "0.1";

/// The workspace's `viss-runtime` directory, when this vssgen was built from a checkout
/// that is still there.
fn built_from_runtime() -> Option<PathBuf> {
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent()?;
    let runtime = workspace.join("viss-runtime");
    runtime
        .join("Cargo.toml")
        .is_file()
        .then(|| runtime.canonicalize().unwrap_or(runtime))
}

/// The lock file the workspace (and so the runtime) is tested with.
const WORKSPACE_LOCK: &str = include_str!("../../../Cargo.lock");

/// Gives a standalone crate built against the checkout's runtime the checkout's
/// `Cargo.lock`, so it builds with the dependency versions the runtime is tested with
/// (Cargo drops the entries it does not need). An existing lock file is the user's: kept.
fn write_lock_file(
    args: &GenerateArgs,
    runtime: &RuntimeDependency,
) -> Result<usize, rust::GenerateError> {
    let built_from = built_from_runtime();
    let against_checkout =
        matches!(runtime, RuntimeDependency::Path(path) if Some(path) == built_from.as_ref());
    let lock = args.out.join("Cargo.lock");
    if args.workspace_member || !against_checkout || lock.exists() {
        return Ok(0);
    }
    std::fs::write(&lock, WORKSPACE_LOCK)
        .map(|()| 1)
        .map_err(|error| rust::GenerateError::Write(lock, error.to_string()))
}

/// `proto/<root>.proto` for every tree, numbered by the lock file beside its source, and
/// each tree's numbers.
fn proto_files(
    args: &GenerateArgs,
    trees: &[vss_model::VssTree],
    command: &str,
) -> Result<(Vec<rust::GeneratedFile>, Vec<Numbering>), rust::GenerateError> {
    let sources = super::export_proto::source_files(&args.input);
    trees
        .iter()
        .enumerate()
        .map(|(index, tree)| {
            let proto = super::export_proto::write_with_lock(
                tree,
                sources.get(index).map(PathBuf::as_path),
                &args.lock,
                command,
            )?;
            let root = super::sdk::root_name(tree);
            let file = rust::GeneratedFile::new(format!("proto/{root}.proto"), proto.text);
            Ok((file, proto.numbering))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(|pairs| pairs.into_iter().unzip())
}

fn default_crate_name(args: &GenerateArgs) -> String {
    args.out
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "vss-server".to_owned())
}

/// The command as typed (for the `@generated` headers).
pub(super) fn command_line() -> String {
    let mut words = vec!["vssgen".to_owned()];
    words.extend(std::env::args().skip(1));
    words.join(" ")
}
