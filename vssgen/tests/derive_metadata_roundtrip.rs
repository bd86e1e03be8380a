//! Round trip: standard VSS tree → IR → `vssgen generate` → `#[derive(VissTree)]` metadata
//! → VISS `metadata` filter (VSS JSON layout) equals vss-tools' `vss.json`.
//!
//! The test compiles a small probe crate (the generated `tree.rs` + a `main` that answers
//! one metadata request) against this workspace's viss-runtime and compares every node:
//! the same children (vss.json sorts them by name, so as sets) and, per node, `type`, `datatype`, `unit`, `min`, `max`,
//! `allowed`, `default`, `description`, `comment`, `deprecation`. The runtime's metadata
//! writes every value as a string, so numbers are compared as numbers and booleans as
//! `true`/`false`. `enum` and `pattern` are not carried by the derive (`NodeInfo` has no
//! field for them): the test asserts they are the only attributes lost.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;
use test_support::{shared_path, workspace_root};
use vss_model::vspec::{self, VspecOptions};
use vssgen::backend::rust::{self, GenerateOptions};

const PROBE_MAIN: &str = r##"
mod tree;

use std::io::Write as _;

fn main() {
    let engine = viss_runtime::Engine::new(tree::Vehicle::TREE, viss_runtime::EngineConfig::default());
    let mut session = engine.open_session();
    let mut out = Vec::new();
    let request = br#"{"action":"get","path":"Vehicle","requestId":"m","filter":{"variant":"metadata","parameter":"0"}}"#;
    engine.handle(&mut session, request, &mut out);
    std::io::stdout().write_all(&out).ok();
}
"##;

/// The metadata the generated standard tree's derive serves, as the VISS response's
/// `metadata.Vehicle`.
fn derived_metadata() -> Value {
    let loaded = vspec::load(&VspecOptions {
        source: shared_path("vss/spec/VehicleSignalSpecification.vspec"),
        ..VspecOptions::default()
    });
    let tree = loaded.tree.unwrap();
    let text = rust::generate_tree(&tree, &GenerateOptions::new("probe")).unwrap();
    let dir = tempfile::tempdir().unwrap();
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
    let response: Value = serde_json::from_slice(&output.stdout).unwrap();
    response["metadata"]["Vehicle"].clone()
}

/// A VSS JSON value in the metadata's all-strings form.
fn as_text(value: &Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.iter().map(as_text).collect()),
        Value::String(text) => Value::String(text.clone()),
        Value::Number(number) => Value::String(number.as_f64().unwrap_or_default().to_string()),
        other => Value::String(other.to_string()),
    }
}

/// Numbers written as text in either form (`"0"`, `"0.0"`) compare as numbers.
fn normalise(value: &Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.iter().map(normalise).collect()),
        Value::String(text) => match text.parse::<f64>() {
            Ok(number) if !text.is_empty() && text != "NaN" && text != "inf" => {
                Value::String(number.to_string())
            }
            _ => Value::String(text.clone()),
        },
        other => as_text(other),
    }
}

const COMPARED: [&str; 10] = [
    "type",
    "datatype",
    "unit",
    "min",
    "max",
    "allowed",
    "default",
    "description",
    "comment",
    "deprecation",
];

/// Walks both trees; counts mismatches per attribute and attributes never compared.
fn compare(
    path: &str,
    expected: &Value,
    actual: &Value,
    mismatches: &mut BTreeMap<String, Vec<String>>,
    not_carried: &mut BTreeMap<String, usize>,
) {
    let empty = serde_json::Map::new();
    let expected_obj = expected.as_object().unwrap_or(&empty);
    let actual_obj = actual.as_object().unwrap_or(&empty);
    for key in expected_obj.keys() {
        if key != "children" && !COMPARED.contains(&key.as_str()) {
            *not_carried.entry(key.clone()).or_default() += 1;
        }
    }
    for key in COMPARED {
        let want = expected_obj
            .get(key)
            .map(|value| normalise(&as_text(value)));
        let got = actual_obj.get(key).map(normalise);
        if want != got {
            mismatches
                .entry(key.to_owned())
                .or_default()
                .push(format!("{path}: vss.json {want:?} vs derived {got:?}"));
        }
    }
    let children = |object: &serde_json::Map<String, Value>| {
        object
            .get("children")
            .and_then(Value::as_object)
            .map(|children| children.keys().cloned().collect::<BTreeSet<_>>())
            .unwrap_or_default()
    };
    let (want, got) = (children(expected_obj), children(actual_obj));
    if want != got {
        mismatches
            .entry("children".to_owned())
            .or_default()
            .push(format!("{path}: {want:?} vs {got:?}"));
        return;
    }
    for name in want {
        compare(
            &format!("{path}.{name}"),
            &expected["children"][&name],
            &actual["children"][&name],
            mismatches,
            not_carried,
        );
    }
}

#[test]
fn derived_metadata_of_the_standard_tree_equals_vss_json() {
    let expected: Value =
        serde_json::from_slice(&std::fs::read(shared_path("vss/json/vss.json")).unwrap()).unwrap();
    let actual = derived_metadata();
    let mut mismatches = BTreeMap::new();
    let mut not_carried = BTreeMap::new();
    compare(
        "Vehicle",
        &expected["Vehicle"],
        &actual,
        &mut mismatches,
        &mut not_carried,
    );
    let report: Vec<String> = mismatches
        .iter()
        .map(|(key, list)| format!("{key}: {} nodes, e.g. {}", list.len(), list[0]))
        .collect();
    assert!(mismatches.is_empty(), "mismatches:\n{}", report.join("\n"));
    // What the derive cannot carry (no NodeInfo field): 5 enums and 1 pattern in vss.json.
    assert_eq!(
        not_carried,
        BTreeMap::from([("enum".to_owned(), 5), ("pattern".to_owned(), 1)])
    );
}
