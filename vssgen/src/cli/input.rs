//! Input options shared by every subcommand (mirroring `vspec export`): vss-model's
//! [`TreeArgs`], the loader every tool shares.

use vss_model::VssTree;
use vss_model::cli::TreeArgs;
use vss_model::input::Report;

use super::Failed;

/// Where the tree comes from: `.vspec` sources (`-s` and friends) or a JSON export (`--json`).
pub type InputArgs = TreeArgs;

/// Loads the one tree a subcommand works on and prints every diagnostic to stderr.
pub fn load_tree(input: &InputArgs) -> Result<VssTree, Failed> {
    reported(input.load_one("vssgen", Report::All))
}

/// Loads every tree given (`-s` repeatable: `generate` serves several roots) and prints
/// every diagnostic to stderr.
pub fn load_trees(input: &InputArgs) -> Result<Vec<VssTree>, Failed> {
    reported(input.load_all("vssgen", Report::All))
}

/// Prints a loader's message unless the diagnostics above say it already.
fn reported<T>(loaded: Result<T, String>) -> Result<T, Failed> {
    loaded.map_err(|message| {
        if !message.contains("see above") {
            eprintln!("vssgen: {message}");
        }
        Failed
    })
}
