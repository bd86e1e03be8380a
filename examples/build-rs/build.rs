//! Generates the demo car's typed tree into `OUT_DIR/tree.rs` with the vssgen library, so
//! the tree always matches the `.vspec` sources without a checked-in copy.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use vss_model::vspec::{self, VspecOptions};
use vssgen::backend::rust::{self, GenerateOptions};

fn main() -> ExitCode {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../demo-car");
    for file in [
        "DemoCar.vspec",
        "DemoTypes.vspec",
        "DemoOverlay.vspec",
        "units.yaml",
        "quantities.yaml",
    ] {
        println!("cargo::rerun-if-changed={}", demo.join(file).display());
    }
    let loaded = vspec::load(&VspecOptions {
        source: demo.join("DemoCar.vspec"),
        types: vec![demo.join("DemoTypes.vspec")],
        overlays: vec![demo.join("DemoOverlay.vspec")],
        extended_attributes: vec!["dbc".into(), "priority".into()],
        ..VspecOptions::default()
    });
    let Some(tree) = loaded.tree else {
        println!("cargo::error=the demo car does not load:");
        for line in loaded.diagnostics.render(&loaded.sources).lines() {
            println!("cargo::error={line}");
        }
        return ExitCode::FAILURE;
    };
    let options = GenerateOptions::new("build-rs-example");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default()).join("tree.rs");
    match rust::generate_tree(&tree, &options).map(|text| std::fs::write(&out, text)) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(error)) => {
            println!("cargo::error=cannot write {}: {error}", out.display());
            ExitCode::FAILURE
        }
        Err(error) => {
            println!("cargo::error={error}");
            ExitCode::FAILURE
        }
    }
}
