//! Round trip: standard VSS tree → IR → `vssgen generate` → `#[derive(VissTree)]` node
//! table → `viss_runtime::vss_json` equals vss-tools' `vss.json`, exactly.
//!
//! The test compiles a small probe crate (the generated `tree.rs` + a `main` that prints the
//! derived tree's VSS JSON export) against this workspace's viss-runtime and compares it
//! with `../shared/vss/json/vss.json` as `serde_json::Value`s: every node, every attribute
//! (`enum` and `pattern` included), numbers compared exactly (`0` and `0.0` differ), with
//! no exemptions. The tree is loaded with a deployment overlay of `validate` tags (VISS
//! access control) on a branch, an instance set and a leaf, so the expected JSON is
//! `vss.json` with those tags where vss-tools writes them (the set's copied onto every
//! instance branch).

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::process::Command;

use serde_json::Value;
use test_support::{shared_path, workspace_root};
use vss_model::vspec::{self, VspecOptions};
use vssgen::backend::rust::{self, GenerateOptions};

const PROBE_MAIN: &str = r##"
mod tree;

use std::io::Write as _;

fn main() {
    let json = viss_runtime::vss_json::to_string(&tree::Vehicle::TREE);
    std::io::stdout().write_all(json.as_bytes()).ok();
}
"##;

/// `validate` tags a deployment adds with an overlay: a branch, an instance set, a leaf.
const TAGS: &[(&str, &str)] = &[
    ("Vehicle.Body", "read-write"),
    ("Vehicle.Cabin.Door", "write-only+consent"),
    ("Vehicle.Speed", "write-only"),
];

/// The VSS JSON export of the generated standard tree's derived node table.
fn derived_export() -> Value {
    let dir = tempfile::tempdir().unwrap();
    let overlay: String = TAGS
        .iter()
        .map(|(path, tag)| format!("{path}:\n  validate: {tag}\n"))
        .collect();
    std::fs::write(dir.path().join("tags.vspec"), overlay).unwrap();
    let loaded = vspec::load(&VspecOptions {
        source: shared_path("vss/spec/VehicleSignalSpecification.vspec"),
        overlays: vec![dir.path().join("tags.vspec")],
        ..VspecOptions::default()
    });
    let tree = loaded.tree.unwrap();
    let text = rust::generate_tree(&tree, &GenerateOptions::new("probe")).unwrap();
    assert!(
        text.contains("pub door: [[Door; 2]; 2],"),
        "the tagged instance set stays an array"
    );
    let runtime = workspace_root().join("viss-runtime");
    let manifest = format!(
        "[package]\nname = \"vss-metadata-probe\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\
         publish = false\n\n[dependencies]\nviss-runtime = {{ path = {:?}, features = [\"derive\"] }}\n",
        runtime.display().to_string()
    );
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("Cargo.toml"), manifest).unwrap();
    std::fs::write(dir.path().join("src/tree.rs"), text).unwrap();
    std::fs::write(dir.path().join("src/main.rs"), PROBE_MAIN).unwrap();
    std::fs::copy(
        workspace_root().join("Cargo.lock"),
        dir.path().join("Cargo.lock"),
    )
    .unwrap();
    let output = Command::new(env!("CARGO"))
        .current_dir(dir.path())
        .env("CARGO_TARGET_DIR", workspace_root().join("target"))
        .args(["run", "--quiet", "--offline"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "the probe crate failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The first difference between two JSON values, as a path and both sides (for a readable
/// failure; the assertion itself compares whole values).
fn first_difference(path: &str, expected: &Value, actual: &Value) -> Option<String> {
    match (expected, actual) {
        (Value::Object(want), Value::Object(got)) => {
            for (key, value) in want {
                let Some(other) = got.get(key) else {
                    return Some(format!("{path}.{key}: missing in the derived export"));
                };
                if let Some(difference) = first_difference(&format!("{path}.{key}"), value, other) {
                    return Some(difference);
                }
            }
            got.keys()
                .find(|key| !want.contains_key(*key))
                .map(|key| format!("{path}.{key}: not in vss.json"))
        }
        _ if expected == actual => None,
        _ => Some(format!("{path}: vss.json {expected} vs derived {actual}")),
    }
}

/// `vss.json` with the [`TAGS`], as vss-tools exports them: on the tagged node and, for an
/// instance set, on every instance branch expansion creates below it.
fn expected_export() -> Value {
    let mut expected: Value =
        serde_json::from_slice(&std::fs::read(shared_path("vss/json/vss.json")).unwrap()).unwrap();
    for (path, tag) in TAGS {
        let mut node = &mut expected;
        for (depth, name) in path.split('.').enumerate() {
            node = if depth == 0 {
                &mut node[name]
            } else {
                &mut node["children"][name]
            };
        }
        node["validate"] = Value::from(*tag);
        if *path == "Vehicle.Cabin.Door" {
            for row in ["Row1", "Row2"] {
                let row = &mut node["children"][row];
                row["validate"] = Value::from(*tag);
                for side in ["DriverSide", "PassengerSide"] {
                    row["children"][side]["validate"] = Value::from(*tag);
                }
            }
        }
    }
    expected
}

#[test]
fn derived_export_of_the_standard_tree_equals_vss_json() {
    let expected = expected_export();
    let actual = derived_export();
    assert!(
        expected == actual,
        "first difference: {}",
        first_difference("", &expected, &actual).unwrap_or_default()
    );
    // `enum` and `pattern` are carried too: vss.json has 5 enums and 1 pattern.
    let text = actual.to_string();
    assert_eq!(text.matches("\"enum\":").count(), 5);
    assert_eq!(text.matches("\"pattern\":").count(), 1);
    // The three tags, and the door set's on its 2 + 4 instance branches, each once.
    assert_eq!(text.matches("\"validate\":").count(), 3 + 6);
}

#[test]
fn numbers_compare_exactly() {
    // The comparison above relies on this: an integer and a float never compare equal.
    let integer: Value = serde_json::from_str("0").unwrap();
    let float: Value = serde_json::from_str("0.0").unwrap();
    assert_ne!(integer, float);
}
