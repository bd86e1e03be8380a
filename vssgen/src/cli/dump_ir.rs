//! `vssgen dump-ir`: print the IR one line per node (see [`crate::dump`]).

use std::path::PathBuf;

use clap::Args;

use super::{Failed, InputArgs, output};
use crate::dump::dump_ir;

#[derive(Debug, Clone, Args)]
pub struct DumpIrArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output file (default: stdout)
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub fn run(args: &DumpIrArgs) -> Result<(), Failed> {
    let tree = super::input::load_tree(&args.input)?;
    output::write(args.output.as_deref(), &dump_ir(&tree))
}
