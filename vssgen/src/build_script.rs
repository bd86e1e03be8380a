//! Running the generator from a user's `build.rs`: load a tree, write its typed Rust into
//! `OUT_DIR`, and report every problem the way Cargo shows build-script errors.
//!
//! ```no_run
//! // build.rs
//! use vss_model::vspec::VspecOptions;
//! fn main() -> std::process::ExitCode {
//!     let options = VspecOptions { source: "spec/Vehicle.vspec".into(), ..VspecOptions::default() };
//!     vssgen::build_script::write_tree(&options, "my-car", "tree.rs")
//! }
//! ```
//! and in the crate: `pub mod tree { include!(concat!(env!("OUT_DIR"), "/tree.rs")); }`.

use std::path::PathBuf;
use std::process::ExitCode;

use vss_model::vspec::{self, VspecOptions};

use crate::backend::rust::{self, GenerateOptions};

/// Loads the vspec tree `options` names and writes `src/tree.rs` of the crate
/// `vssgen generate` would write as `OUT_DIR/<file_name>`. Asks Cargo to rerun when any
/// input file changes. Every diagnostic is printed as a `cargo::error` line.
pub fn write_tree(options: &VspecOptions, crate_name: &str, file_name: &str) -> ExitCode {
    let loaded = vspec::load(options);
    for file in loaded.sources.files() {
        println!("cargo::rerun-if-changed={}", file.path.display());
    }
    let Some(tree) = loaded.tree else {
        println!(
            "cargo::error=the VSS tree {} does not load:",
            options.source.display()
        );
        for line in loaded.diagnostics.render(&loaded.sources).lines() {
            println!("cargo::error={line}");
        }
        return ExitCode::FAILURE;
    };
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default()).join(file_name);
    let text = match rust::generate_tree(&tree, &GenerateOptions::new(crate_name)) {
        Ok(text) => text,
        Err(error) => {
            println!("cargo::error={error}");
            return ExitCode::FAILURE;
        }
    };
    match std::fs::write(&out, text) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            println!("cargo::error=cannot write {}: {error}", out.display());
            ExitCode::FAILURE
        }
    }
}
