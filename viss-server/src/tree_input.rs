//! Loads the trees to serve (vss-model's shared loader) and converts them for the engine.

use viss_runtime::DynamicTree;
use viss_runtime::model_tree::dynamic_tree_from_model;
use vss_model::cli::TreeArgs;
use vss_model::input::Report;

/// The served trees, in the order given, or a message saying why there are none
/// (diagnostics go to stderr).
pub fn load(args: &TreeArgs) -> Result<Vec<DynamicTree>, String> {
    let models = args.load_all("viss-server", Report::ErrorsOnly)?;
    models
        .iter()
        .map(|model| {
            dynamic_tree_from_model(model)
                .map_err(|error| format!("cannot serve the tree: {error}"))
        })
        .collect()
}
