//! `vssgen export json`: the same flags and the same bytes as `vspec export json`.

use std::path::PathBuf;

use clap::Args;

use super::{Failed, InputArgs, output};
use crate::export::json::{JsonExportOptions, export};

#[derive(Debug, Clone, Args)]
pub struct ExportJsonArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Indent by 2 (vss-tools' --pretty); compact otherwise
    #[arg(long)]
    pub pretty: bool,
    /// Write the types trees to this file instead of under "ComplexDataTypes"
    #[arg(long, value_name = "FILE")]
    pub types_output: Option<PathBuf>,
    /// Keep every extended attribute on the root nodes too (vss-tools keeps only -e names there)
    #[arg(long)]
    pub extend_all_attributes: bool,
    /// Output file (default: stdout)
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub fn run(args: &ExportJsonArgs) -> Result<(), Failed> {
    let tree = super::input::load_tree(&args.input)?;
    let options = JsonExportOptions {
        pretty: args.pretty,
        split_types: args.types_output.is_some(),
        extended_attributes: args.input.extended_attributes.clone(),
        extend_all_attributes: args.extend_all_attributes,
    };
    let exported = export(&tree, &options);
    if let (Some(path), Some(types)) = (&args.types_output, exported.types_text(&options)) {
        output::write(Some(path), &types)?;
    }
    output::write(args.output.as_deref(), &exported.signals_text(&options))
}
