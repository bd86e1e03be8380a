//! What the benchmarks share: the standard tree built at run time, as viss-server serves it.

use viss_runtime::DynamicTree;
use viss_runtime::model_tree::dynamic_tree_from_model;
use vss_model::vspec::{self, VspecOptions};

/// The standard VSS tree as a `DynamicTree`, loaded from `../shared` like viss-server does.
pub fn standard_dynamic_tree() -> DynamicTree {
    let loaded = vspec::load(&VspecOptions {
        source: test_support::shared_path("vss/spec/VehicleSignalSpecification.vspec"),
        ..VspecOptions::default()
    });
    loaded
        .tree
        .map(|model| dynamic_tree_from_model(&model).expect("the model converts"))
        .expect("the standard tree loads")
}
