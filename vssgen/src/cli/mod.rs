//! The `vssgen` command line: one module per subcommand, shared input options in [`input`].
//!
//! Exit codes: 0 success (warnings allowed), 1 invalid input or unwritable output (every
//! diagnostic printed to stderr as `file:line:col: error[code]: message`), 2 usage errors
//! (clap's own code).

mod check;
mod dump_ir;
mod export_json;
mod export_proto;
mod generate;
mod input;
mod output;
mod sdk;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use check::CheckArgs;
pub use dump_ir::DumpIrArgs;
pub use export_json::ExportJsonArgs;
pub use export_proto::{ExportProtoArgs, LockArgs};
pub use generate::GenerateArgs;
pub use input::InputArgs;
pub use sdk::{SdkArgs, SdkChoice};

/// Exit code for invalid input or output that could not be written.
pub const EXIT_INVALID: u8 = 1;

/// Reads a COVESA VSS tree (.vspec sources or a vss-tools JSON export), checks it and exports
/// it.
#[derive(Debug, Parser)]
#[command(name = "vssgen", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load a tree and report every problem found in it
    Check(CheckArgs),
    /// Export a tree in a vss-tools format
    #[command(subcommand)]
    Export(ExportFormat),
    /// Print the IR, one line per node (path, kind, datatype, unit, instance origin)
    DumpIr(DumpIrArgs),
    /// Generate a typed VISS v3 server crate (Cargo.toml, src/tree.rs, src/main.rs, ...)
    Generate(GenerateArgs),
    /// Generate only the typed client SDKs of a tree (TypeScript, Python)
    Sdk(SdkArgs),
}

#[derive(Debug, Subcommand)]
pub enum ExportFormat {
    /// JSON, byte-identical to `vspec export json` of vss-tools 6.1.0
    Json(ExportJsonArgs),
    /// A .proto with one message per branch type; field numbers kept stable by a lock file
    Proto(ExportProtoArgs),
}

impl Command {
    /// The tree input of the subcommand.
    fn input(&self) -> &InputArgs {
        match self {
            Self::Check(args) => &args.input,
            Self::Export(ExportFormat::Json(args)) => &args.input,
            Self::Export(ExportFormat::Proto(args)) => &args.input,
            Self::DumpIr(args) => &args.input,
            Self::Generate(args) => &args.input,
            Self::Sdk(args) => &args.input,
        }
    }

    /// `generate` serves every tree given; the others read exactly one.
    fn takes_several_trees(&self) -> bool {
        matches!(self, Self::Generate(_))
    }
}

/// Runs a parsed command line. A subcommand reads exactly one tree (`generate`: one or
/// more); any other count is a usage error (exit 2).
pub fn run(cli: Cli) -> ExitCode {
    let input = cli.command.input();
    let trees = input.vspec.len() + input.json.len();
    let (fits, message) = if cli.command.takes_several_trees() {
        (
            trees >= 1,
            "give at least one tree: -s/--tree FILE or --json FILE",
        )
    } else {
        (
            trees == 1,
            "give exactly one tree: one -s/--tree FILE or one --json FILE",
        )
    };
    if !fits {
        use clap::CommandFactory as _;
        Cli::command()
            .error(clap::error::ErrorKind::ArgumentConflict, message)
            .exit();
    }
    let result = match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Export(ExportFormat::Json(args)) => export_json::run(&args),
        Command::Export(ExportFormat::Proto(args)) => export_proto::run(&args),
        Command::DumpIr(args) => dump_ir::run(&args),
        Command::Generate(args) => generate::run(&args),
        Command::Sdk(args) => sdk::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failed) => ExitCode::from(EXIT_INVALID),
    }
}

/// A subcommand failed; what went wrong has already been printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failed;
