//! The crate `vssgen generate` writes for the standard VSS tree (1,720 nodes) and the CVIS
//! separate-trailer tree (3,016 nodes) together (two roots, `Vehicle` and `Trailer`) passes
//! `cargo clippy --all-targets -- -D warnings` (which type-checks it too) outside the
//! workspace; one crate for both trees, so CI pays for one clippy run.
//!
//! Each crate depends on this workspace's viss-runtime by path, starts from the workspace's
//! `Cargo.lock` and builds `--offline` into the workspace's target directory, so on a machine
//! that has built the workspace once nothing is downloaded and viss-runtime's dependencies
//! are not rebuilt.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

use test_support::server::{Server, curl};
use test_support::{
    assert_linked_in_code_order, assert_relocations_packed, shared_path, workspace_root,
};
use vss_model::vspec::{self, VspecOptions};
use vssgen::backend::rust::{self, GenerateOptions, RuntimeDependency};

fn load(
    vspec: &Path,
    units: Vec<std::path::PathBuf>,
    quantities: Vec<std::path::PathBuf>,
) -> vss_model::VssTree {
    let loaded = vspec::load(&VspecOptions {
        source: vspec.to_owned(),
        units,
        quantities,
        ..VspecOptions::default()
    });
    assert!(!loaded.diagnostics.has_errors(), "{vspec:?} does not load");
    loaded.tree.unwrap()
}

/// Generates `trees` into one temporary crate and runs clippy on it.
fn generate_and_clippy(trees: &[vss_model::VssTree], crate_name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let crate_dir = dir.path().join(crate_name);
    let options = GenerateOptions {
        runtime: RuntimeDependency::Path(workspace_root().join("viss-runtime")),
        ..GenerateOptions::new(crate_name)
    };
    let files = rust::generate_trees(trees, &options).unwrap();
    rust::write_files(&crate_dir, &files).unwrap();
    std::fs::copy(
        workspace_root().join("Cargo.lock"),
        crate_dir.join("Cargo.lock"),
    )
    .unwrap();
    let output = Command::new(env!("CARGO"))
        .current_dir(&crate_dir)
        .env("CARGO_TARGET_DIR", workspace_root().join("target"))
        .args([
            "clippy",
            "--offline",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "cargo clippy failed on the generated {crate_name}:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The size of `tree`'s signal tree.
fn signal_nodes(tree: &vss_model::VssTree) -> usize {
    tree.subtree(tree.signal_root().unwrap()).len()
}

#[test]
fn standard_and_cvis_trailer_crate_passes_clippy() {
    let standard = load(
        &shared_path("vss/spec/VehicleSignalSpecification.vspec"),
        Vec::new(),
        Vec::new(),
    );
    let dir =
        "vss/third-party/commercial-vehicle-information-specifications/spec/trees/Vehicle/Trailer";
    let trailer = load(
        &shared_path(&format!("{dir}/SeparateTrailerSignalSpecification.vspec")),
        vec![shared_path(&format!("{dir}/units.yaml"))],
        vec![shared_path(&format!("{dir}/quantities.yaml"))],
    );
    assert_eq!(signal_nodes(&standard), 1720, "standard signal tree size");
    assert_eq!(
        signal_nodes(&trailer),
        3016,
        "CVIS trailer signal tree size"
    );
    generate_and_clippy(&[standard, trailer], "vss-standard-and-trailer-server");
}

/// Each tree of a crate gets its own SDKs: the first tree's in `sdk/<language>/`, the
/// trailer's in `sdk/trailer/<language>/`, named after its root, typed by its own tree; the
/// trailer's Rust SDK checks as written (the server's lock file pins its dependencies).
fn further_trees_get_sdks_of_their_own(server: &Path) {
    let sdk = server.join("sdk");
    for (dir, package) in [("", "mycar-sdk"), ("trailer/", "mycar-trailer-sdk")] {
        let manifest = std::fs::read_to_string(sdk.join(format!("{dir}rust/Cargo.toml"))).unwrap();
        assert!(
            manifest.contains(&format!("name = \"{package}\"")),
            "{manifest}"
        );
        let npm =
            std::fs::read_to_string(sdk.join(format!("{dir}typescript/package.json"))).unwrap();
        assert!(npm.contains(&format!("\"name\": \"{package}\"")), "{npm}");
        let python = package.replace('-', "_");
        assert!(sdk.join(format!("{dir}python/{python}/tree.py")).is_file());
    }
    let trailer_tree = std::fs::read_to_string(sdk.join("trailer/rust/src/tree.rs")).unwrap();
    assert!(
        trailer_tree.contains("pub struct Trailer"),
        "{trailer_tree}"
    );
    let rust = sdk.join("trailer/rust");
    std::fs::copy(server.join("Cargo.lock"), rust.join("Cargo.lock")).unwrap();
    let check = Command::new(env!("CARGO"))
        .current_dir(&rust)
        .env("CARGO_TARGET_DIR", workspace_root().join("target"))
        .args(["check", "--offline"])
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "the trailer's Rust SDK does not check:\n{}",
        String::from_utf8_lossy(&check.stderr)
    );
}

/// The design's first user flow: `vssgen generate` with default flags into a directory
/// outside the workspace, the crate moved elsewhere, then `cargo build` there, unchanged.
/// (It builds into the workspace's target directory, offline, so nothing is downloaded.)
/// The crate serves two trees (`--tree` twice, each root its own type): the built server
/// answers curl for both roots.
#[test]
fn default_output_builds_as_written_and_after_a_move() {
    let dir = tempfile::tempdir().unwrap();
    let written = dir.path().join("written/mycar");
    let demo = workspace_root().join("examples/demo-car");
    // A second tree, its own root: a sensor and an actuator.
    let trailer = workspace_root().join("tests/trees/Trailer.vspec");
    let output = Command::new(env!("CARGO_BIN_EXE_vssgen"))
        .arg("generate")
        .arg("--tree")
        .arg(demo.join("DemoCar.vspec"))
        .arg("--tree")
        .arg(&trailer)
        // Given once, units apply to every tree (the trailer has none beside it).
        .arg("-u")
        .arg(demo.join("units.yaml"))
        .arg("-q")
        .arg(demo.join("quantities.yaml"))
        .arg("-t")
        .arg(demo.join("DemoTypes.vspec"))
        .arg("--out")
        .arg(&written)
        // The lock files stay out of the repository's tree folders.
        .arg("--proto-lock-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let manifest = std::fs::read_to_string(written.join("Cargo.toml")).unwrap();
    let runtime = workspace_root()
        .join("viss-runtime")
        .canonicalize()
        .unwrap();
    assert!(
        manifest.contains(&format!("path = \"{}\"", runtime.display())),
        "the runtime by absolute path:\n{manifest}"
    );
    assert!(written.join("Cargo.lock").is_file(), "the tested lock file");
    let moved = dir.path().join("elsewhere/mycar");
    std::fs::create_dir_all(moved.parent().unwrap()).unwrap();
    std::fs::rename(&written, &moved).unwrap();
    let build = Command::new(env!("CARGO"))
        .current_dir(&moved)
        .env("CARGO_TARGET_DIR", workspace_root().join("target"))
        .args(["build", "--offline"])
        .output()
        .unwrap();
    assert!(
        build.status.success(),
        "cargo build failed on the moved crate:\n{}",
        String::from_utf8_lossy(&build.stderr)
    );
    assert!(moved.join("src/trailer/tree.rs").is_file());
    assert_linked_in_code_order(&workspace_root().join("target/debug/mycar"));
    assert_relocations_packed(&workspace_root().join("target/debug/mycar"));
    test_support::assert_libm_not_loaded(&workspace_root().join("target/debug/mycar"));
    further_trees_get_sdks_of_their_own(&moved);
    let main = moved.join("src/main.rs");
    let rustfmt = Command::new("rustfmt")
        .args(["--check", "--edition", "2024"])
        .arg(&main)
        .output()
        .unwrap();
    assert!(
        rustfmt.status.success(),
        "main.rs is not as rustfmt writes it:\n{}",
        String::from_utf8_lossy(&rustfmt.stdout)
    );
    serves_both_trees(&workspace_root().join("target/debug/mycar"));
}

/// The generated server answers for both roots: paths resolve per root, a set on the
/// second tree's actuator round-trips, a root no tree has is unknown.
fn serves_both_trees(binary: &Path) {
    let server = Server::start(binary, &[std::ffi::OsStr::new("--insecure")]);
    let http = &server.http_url;
    let get = |path: &str| {
        let (status, body) = curl(&[&format!("{http}/{path}")]);
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        (status, body)
    };
    let (status, body) = get("Trailer/Weight");
    assert_eq!(status, 404, "{body}");
    assert_eq!(
        body["error"]["reason"], "unavailable_data",
        "known, no value yet"
    );
    let (status, body) = get("Boat/Weight");
    assert_eq!(
        (status, &body["error"]["reason"]),
        (404, &"unavailable_data".into())
    );
    assert_eq!(body["error"]["description"], "Data is unknown", "{body}");
    let (status, body) = curl(&[
        "-X",
        "POST",
        "-H",
        "Content-Type: application/json",
        "-d",
        r#"{"value":"true"}"#,
        &format!("{http}/Trailer/Light"),
    ]);
    assert_eq!(status, 200, "{body}");
    let (status, body) = get("Trailer/Light");
    assert_eq!(
        (status, &body["data"]["dp"]["value"]),
        (200, &"true".into()),
        "{body}"
    );
    let (status, body) = get("Vehicle/Speed");
    assert_eq!(status, 404, "{body}");
    assert_ne!(body["error"]["description"], "Data is unknown", "{body}");
}
