//! Generates the demo car's typed tree into `OUT_DIR/tree.rs` with the vssgen library, so
//! the tree always matches the `.vspec` sources without a checked-in copy.

use std::path::Path;
use std::process::ExitCode;

use vss_model::vspec::VspecOptions;

fn main() -> ExitCode {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../demo-car");
    let options = VspecOptions {
        source: demo.join("DemoCar.vspec"),
        types: vec![demo.join("DemoTypes.vspec")],
        overlays: vec![demo.join("DemoOverlay.vspec")],
        extended_attributes: vec!["dbc".into(), "priority".into()],
        ..VspecOptions::default()
    };
    vssgen::build_script::write_tree(&options, "build-rs-example", "tree.rs")
}
