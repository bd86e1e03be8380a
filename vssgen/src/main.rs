//! The `vssgen` command: parses the command line and hands over to the library.

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    vssgen::cli::run(vssgen::cli::Cli::parse())
}
