//! Loads the tree to serve (vss-model front ends) and converts it for the engine.

use viss_runtime::DynamicTree;
use viss_runtime::model_tree::dynamic_tree_from_model;
use vss_model::json::{self, JsonOptions};
use vss_model::vspec::{self, VspecOptions};
use vss_model::{Loaded, Severity};

use crate::args::TreeArgs;

/// The served tree, or a message saying why there is none (diagnostics go to stderr).
pub fn load(args: &TreeArgs) -> Result<DynamicTree, String> {
    let loaded = match &args.json {
        Some(source) => json::load(&JsonOptions {
            source: source.clone(),
            types: args.json_types.clone(),
            strict: args.strict,
        }),
        None => vspec::load(&vspec_options(args)),
    };
    report(&loaded);
    let model = loaded
        .tree
        .ok_or_else(|| "the tree has errors (see above)".to_owned())?;
    dynamic_tree_from_model(&model).map_err(|error| format!("cannot serve the tree: {error}"))
}

fn vspec_options(args: &TreeArgs) -> VspecOptions {
    VspecOptions {
        source: args.vspec.clone().unwrap_or_default(),
        units: args.units.clone(),
        quantities: args.quantities.clone(),
        types: args.types.clone(),
        overlays: args.overlays.clone(),
        include_dirs: args.include_dirs.clone(),
        extended_attributes: args.extended_attributes.clone(),
        strict: args.strict,
        expand: true,
    }
}

fn report(loaded: &Loaded) {
    if loaded.diagnostics.is_empty() {
        return;
    }
    let errors = loaded.diagnostics.error_count();
    let warnings = loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .count();
    // Warnings of the standard tree are many and harmless to a server: print errors in
    // full, count warnings.
    if errors > 0 {
        eprint!("{}", loaded.diagnostics.render(&loaded.sources));
    }
    eprintln!("viss-server: tree loaded with {errors} error(s), {warnings} warning(s)");
}
