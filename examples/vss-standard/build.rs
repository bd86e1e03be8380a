//! Generates the standard VSS tree's typed Rust (`vssgen generate`'s `src/tree.rs` and
//! `src/snapshot.rs`) into `OUT_DIR/tree.rs` and `OUT_DIR/snapshot.rs` from `../shared/vss/spec` (or `$VSS_SHARED/vss/spec`): instances
//! expanded, units and quantities beside the root `.vspec`, as `vspec export json` reads them.

use std::process::ExitCode;

use vss_model::vspec::VspecOptions;

fn main() -> ExitCode {
    println!("cargo::rerun-if-env-changed=VSS_SHARED");
    let options = VspecOptions {
        source: test_support::shared_path("vss/spec/VehicleSignalSpecification.vspec"),
        ..VspecOptions::default()
    };
    vssgen::build_script::write_tree_and_snapshot(
        &options,
        "vss-standard",
        "tree.rs",
        "snapshot.rs",
    )
}
