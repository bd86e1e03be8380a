//! The Rust backend's shape decisions, on the demo car and the standard tree: one type per
//! concept, instance sets as arrays, the per-instance fallback for instance-specific
//! overlays, names (keywords, renames), struct types, extended attributes kept as docs,
//! the CLI with `--tree` (vspec and JSON) and errors.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use assert_cmd::cargo::cargo_bin_cmd;
use test_support::{shared_path, workspace_root};
use vss_model::vspec::{self, VspecOptions};
use vssgen::backend::rust::{self, GenerateError, GenerateOptions};

fn demo_tree() -> vss_model::VssTree {
    let demo = workspace_root().join("examples/demo-car");
    let loaded = vspec::load(&VspecOptions {
        source: demo.join("DemoCar.vspec"),
        types: vec![demo.join("DemoTypes.vspec")],
        overlays: vec![demo.join("DemoOverlay.vspec")],
        extended_attributes: vec!["dbc".into(), "priority".into()],
        ..VspecOptions::default()
    });
    loaded.tree.unwrap()
}

fn file<'a>(files: &'a [rust::GeneratedFile], path: &str) -> &'a str {
    &files
        .iter()
        .find(|file| file.path == path)
        .unwrap()
        .contents
}

#[test]
fn instance_sets_become_arrays_of_one_shared_type() {
    let tree = rust::generate_tree(&demo_tree(), &GenerateOptions::new("demo")).unwrap();
    assert!(tree.contains("pub seat: [[Seat; 3]; 2],"), "2-D seat set");
    assert!(tree.contains("pub axle: [Axle; 2],"), "1-D axle set");
    assert!(
        tree.contains("pub wheel: [Wheel; 2],"),
        "set nested in a set"
    );
    assert!(
        tree.contains(r#"instances(["Row1", "Row2"], ["DriverSide", "Middle", "PassengerSide"])"#)
    );
    assert_eq!(tree.matches("pub struct Seat {").count(), 1);
    assert!(tree.contains("(and 5 more branches of the same shape)"));
}

#[test]
fn an_instance_specific_overlay_falls_back_to_per_instance_types() {
    let tree = rust::generate_tree(&demo_tree(), &GenerateOptions::new("demo")).unwrap();
    // Only Row1.DriverSide has a KeyPad: Door is no longer one array ...
    assert!(tree.contains("pub door: DoorInstances,"));
    assert!(tree.contains("The instances of `Door` differ"));
    // ... but the instances that are still equal share a type and an array.
    assert!(tree.contains("pub row2: [Door; 2],"));
    assert!(tree.contains("pub driver_side: DoorRow1DriverSide,"));
    assert!(tree.contains("pub passenger_side: Door,"));
    assert!(tree.contains("pub key_pad: KeyPad,"));
}

#[test]
fn struct_types_extended_attributes_and_renames() {
    let tree = rust::generate_tree(&demo_tree(), &GenerateOptions::new("demo")).unwrap();
    assert!(tree.contains("pub struct GeoPoint {"));
    assert!(
        tree.contains("pub point: GeoPoint,"),
        "nested struct property"
    );
    assert!(tree.contains(r#""Types.Waypoint""#), "the VSS struct name");
    assert!(tree.contains("pub trail: ::viss_runtime::Sensor<Vec<GeoPoint>>,"));
    assert!(
        tree.contains(r#"extended(dbc = "VehicleSpeedKph", priority = 1)"#),
        "overlay value wins"
    );
    assert!(tree.contains("extended(priority = 2)"));
    assert!(tree.contains(r#"pattern = "^[A-HJ-NPR-Z0-9]{17}$""#));
    assert!(
        !tree.contains("/// VSS `"),
        "no metadata is left to the docs"
    );
    assert!(tree.contains(r#"#[viss(name = "OBD", description = "On-board diagnostics.")]"#));
    assert!(tree.contains("max = 200"), "the overlay's altered max");
}

#[test]
fn the_standard_tree_uses_raw_identifiers_for_keywords() {
    let loaded = vspec::load(&VspecOptions {
        source: shared_path("vss/spec/VehicleSignalSpecification.vspec"),
        ..VspecOptions::default()
    });
    let files = rust::generate(&loaded.tree.unwrap(), &GenerateOptions::new("std")).unwrap();
    let tree = file(&files, "src/tree.rs");
    assert!(tree.contains("pub r#type: ::viss_runtime::Attribute<String>,"));
    assert!(tree.contains("pub door: [[Door; 2]; 2],"));
    let paths: Vec<&str> = files.iter().map(|file| file.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "Cargo.toml",
            "README.md",
            "src/lib.rs",
            "src/tree.rs",
            "src/provider.rs",
            "src/main.rs"
        ]
    );
    for file in &files {
        assert!(
            file.contents.contains("@generated"),
            "{} is stamped",
            file.path
        );
    }
    assert!(file(&files, "Cargo.toml").contains(r#"viss-runtime = { version = "0.1""#));
    assert!(file(&files, "src/provider.rs").contains("fn set_door_is_open("));
}

#[test]
fn main_rs_hands_the_tree_and_provider_to_the_runtime_and_is_rustfmt_stable() {
    let files = rust::generate(&demo_tree(), &GenerateOptions::new("my-car")).unwrap();
    let main = file(&files, "src/main.rs");
    assert!(main.contains("use my_car::provider::{AcceptAll, ProviderHook};"));
    assert!(main.contains("const NAME: &str = \"my-car\";"));
    assert!(
        main.contains("::viss_runtime::server::main(NAME, ABOUT, Vehicle::TREE, Some(provider))")
    );
    assert!(!main.contains("rustfmt::skip"), "{main}");
    // Short enough that rustfmt (max_width 100) leaves every line as written.
    assert!(main.lines().all(|line| line.len() <= 100), "{main}");
}

#[test]
fn standalone_crates_get_small_release_profiles_and_workspace_members_none() {
    let standalone = rust::generate(&demo_tree(), &GenerateOptions::new("car")).unwrap();
    let manifest = file(&standalone, "Cargo.toml");
    for line in [
        "[profile.release]",
        "lto = \"fat\"",
        "codegen-units = 1",
        "[profile.small]",
    ] {
        assert!(manifest.contains(line), "{line} missing from:\n{manifest}");
    }
    let member = GenerateOptions {
        workspace_member: true,
        ..GenerateOptions::new("car")
    };
    let files = rust::generate(&demo_tree(), &member).unwrap();
    assert!(!file(&files, "Cargo.toml").contains("[profile"));
}

#[test]
fn invalid_crate_names_are_refused() {
    let error = rust::generate(&demo_tree(), &GenerateOptions::new("1 bad")).unwrap_err();
    assert_eq!(error, GenerateError::CrateName("1 bad".into()));
}

#[test]
fn the_cli_generates_from_a_json_export_with_tree() {
    let out = tempfile::tempdir().unwrap();
    let crate_dir = out.path().join("from-json");
    cargo_bin_cmd!("vssgen")
        .args(["generate", "--tree"])
        .arg(shared_path("vss/json/vss.json"))
        .arg("--out")
        .arg(&crate_dir)
        .args(["--runtime-path", "../viss-runtime"])
        .assert()
        .success();
    let manifest = std::fs::read_to_string(crate_dir.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("name = \"from-json\""), "{manifest}");
    assert!(manifest.contains(r#"viss-runtime = { path = "../viss-runtime""#));
    let tree = std::fs::read_to_string(crate_dir.join("src/tree.rs")).unwrap();
    // A JSON export has no instance origins: instances are plain branches, still shared.
    assert!(tree.contains("pub struct Vehicle {"));
}

#[test]
fn the_cli_reports_unloadable_input_with_exit_code_1() {
    let out = tempfile::tempdir().unwrap();
    cargo_bin_cmd!("vssgen")
        .args(["generate", "--tree", "does-not-exist.vspec", "--out"])
        .arg(out.path())
        .assert()
        .code(1);
}
