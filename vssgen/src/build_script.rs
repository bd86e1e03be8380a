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

use vss_model::VssTree;
use vss_model::vspec::{self, VspecOptions};

use crate::backend::rust::{self, GenerateOptions};

/// Loads the vspec tree `options` names and writes `src/tree.rs` of the crate
/// `vssgen generate` would write as `OUT_DIR/<file_name>`. Asks Cargo to rerun when any
/// input file changes. Every diagnostic is printed as a `cargo::error` line.
pub fn write_tree(options: &VspecOptions, crate_name: &str, file_name: &str) -> ExitCode {
    write(options, crate_name, &[(file_name, rust::generate_tree)])
}

/// [`write_tree`], and the tree's protobuf snapshot codec (`src/snapshot.rs`, numbered as
/// `vssgen export proto` numbers the tree without a lock) as `OUT_DIR/<snapshot_file>`:
/// `pub mod snapshot { include!(concat!(env!("OUT_DIR"), "/snapshot.rs")); }` beside the
/// `tree` module (it names `crate::tree`), with viss-runtime's `protobuf` feature.
pub fn write_tree_and_snapshot(
    options: &VspecOptions,
    crate_name: &str,
    tree_file: &str,
    snapshot_file: &str,
) -> ExitCode {
    write(
        options,
        crate_name,
        &[
            (tree_file, rust::generate_tree),
            (snapshot_file, rust::generate_snapshot),
        ],
    )
}

type Generator = fn(&VssTree, &GenerateOptions) -> Result<String, rust::GenerateError>;

fn write(options: &VspecOptions, crate_name: &str, outputs: &[(&str, Generator)]) -> ExitCode {
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
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    let generate_options = GenerateOptions::new(crate_name);
    for (file_name, generate) in outputs {
        let out = out_dir.join(file_name);
        let written = generate(&tree, &generate_options)
            .map_err(|error| error.to_string())
            .and_then(|text| {
                std::fs::write(&out, text)
                    .map_err(|error| format!("cannot write {}: {error}", out.display()))
            });
        if let Err(error) = written {
            println!("cargo::error={error}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
