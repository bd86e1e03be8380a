//! `vssgen check`: load a tree, print every diagnostic, and a node count when it is valid.

use std::fmt::Write as _;

use clap::Args;
use vss_model::{NodeKind, VssTree};

use super::{Failed, InputArgs};

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub input: InputArgs,
}

pub fn run(args: &CheckArgs) -> Result<(), Failed> {
    let tree = super::input::load_tree(&args.input)?;
    println!("{}", summary(&tree));
    Ok(())
}

/// `ok: 1720 nodes (353 branch, 560 sensor, ...)`, kinds in VSS order, absent kinds left out.
fn summary(tree: &VssTree) -> String {
    let mut counts = String::new();
    for (kind, name) in NodeKind::ALL {
        let count = tree.nodes().iter().filter(|n| n.kind == kind).count();
        if count > 0 {
            let separator = if counts.is_empty() { "" } else { ", " };
            let _ = write!(counts, "{separator}{count} {name}");
        }
    }
    format!("ok: {} nodes ({counts})", tree.len())
}
