//! JSON front end → IR → JSON exporter reproduces vss-tools' own exports byte for byte.
//!
//! Every file under `shared/vss/json` (pretty and compact, with types embedded or split, with
//! overlays and third-party trees), plus the compact expected files of vss-tools' own test
//! fixtures and the VSS 4.2 JSON that KUKSA ships.

use std::path::{Path, PathBuf};

use serde_json::Value;
use test_support::shared_path;
use vss_model::json::{JsonOptions, load};
use vssgen::export::json::{JsonExport, JsonExportOptions, export};

/// Loads `main` (+ `types`) and exports it again with the formatting the file itself uses.
fn roundtrip(main: &Path, types: Option<&Path>) -> (JsonExport, JsonExportOptions) {
    let loaded = load(&JsonOptions {
        source: main.to_path_buf(),
        types: types.map(Path::to_path_buf),
        strict: false,
    });
    assert!(
        loaded.diagnostics.is_empty(),
        "{}",
        loaded.diagnostics.render(&loaded.sources)
    );
    let tree = loaded.tree.expect("a tree without diagnostics");
    let options = JsonExportOptions {
        pretty: read(main).starts_with("{\n"),
        split_types: types.is_some(),
        ..JsonExportOptions::default()
    };
    (export(&tree, &options), options)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).expect("a readable reference file")
}

/// `None` when equal, else where the texts first differ.
fn first_difference(expected: &str, actual: &str) -> Option<String> {
    if expected == actual {
        return None;
    }
    let offset = expected
        .bytes()
        .zip(actual.bytes())
        .position(|(a, b)| a != b)
        .unwrap_or(expected.len().min(actual.len()));
    let context = |text: &str| {
        let start = offset.saturating_sub(60);
        text.get(start..(offset + 60).min(text.len()))
            .unwrap_or("")
            .to_owned()
    };
    Some(format!(
        "at byte {offset}:\n  expected …{:?}…\n  actual   …{:?}…",
        context(expected),
        context(actual)
    ))
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("a readable reference folder")
        .map(|e| e.expect("a folder entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

/// Round-trips each `(main, types)` pair and returns a description of every mismatch.
fn mismatches(pairs: &[(PathBuf, Option<PathBuf>)]) -> Vec<String> {
    let mut failures = Vec::new();
    for (main, types) in pairs {
        let (exported, options) = roundtrip(main, types.as_deref());
        let mut outputs = vec![(main, exported.signals_text(&options))];
        if let Some(types) = types {
            outputs.push((types, exported.types_text(&options).unwrap_or_default()));
        }
        for (path, actual) in outputs {
            if let Some(difference) = first_difference(&read(path), &actual) {
                failures.push(format!("{}: {difference}", path.display()));
            }
        }
    }
    failures
}

#[test]
fn every_reference_export_round_trips_byte_for_byte() {
    let dir = shared_path("vss/json");
    let mut files = Vec::new();
    json_files(&dir, &mut files);
    let types_file = dir.join("vss-types.json");
    let pairs: Vec<_> = files
        .iter()
        .filter(|f| **f != types_file)
        .map(|f| {
            let split = f.ends_with("vss-split.json");
            (f.clone(), split.then(|| types_file.clone()))
        })
        .collect();
    assert_eq!(pairs.len(), 11, "{pairs:?}");
    let failures = mismatches(&pairs);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn vss_tools_fixture_exports_round_trip_byte_for_byte() {
    let dir = shared_path("vss/third-party/vss-tools-tests");
    let mut files = Vec::new();
    json_files(&dir, &mut files);
    // Only vss-tools' `expected*.json` exports (the fixtures also hold VHAL id maps), minus
    // the one with `uuid`s, which the reader drops on purpose (checked below).
    // test_structs writes its signals with `--types-output`: `expected.json` is the types
    // file that goes with `expected-signals.json`, not an export of its own.
    let structs = dir.join("test_structs");
    let split_types = structs.join("expected.json");
    let pairs: Vec<_> = files
        .iter()
        .filter(|f| {
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            name.starts_with("expected") && name != "expected_uuid.json" && **f != split_types
        })
        .map(|f| {
            let types = (*f == structs.join("expected-signals.json")).then(|| split_types.clone());
            (f.clone(), types)
        })
        .collect();
    assert!(pairs.iter().any(|(_, types)| types.is_some()));
    assert!(pairs.len() >= 20, "{pairs:?}");
    let failures = mismatches(&pairs);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Removes every `uuid` key, recursively.
fn without_uuids(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.shift_remove("uuid");
            map.values_mut().for_each(without_uuids);
        }
        Value::Array(items) => items.iter_mut().for_each(without_uuids),
        _ => {}
    }
}

#[test]
fn old_exports_with_uuids_load_and_lose_only_the_uuids() {
    let path =
        shared_path("vss/third-party/vss-tools-tests/test_types_with_uuid/expected_uuid.json");
    let (exported, _) = roundtrip(&path, None);
    let mut expected: Value = serde_json::from_str(&read(&path)).unwrap();
    assert!(read(&path).contains("\"uuid\""));
    without_uuids(&mut expected);
    assert_eq!(exported.signals, expected);
}

#[test]
fn kuksa_vss_4_2_json_with_extended_attributes_round_trips() {
    let path = shared_path("vss/third-party/kuksa-can-provider/mapping/vss_4.2/vss_dbc.json");
    let failures = mismatches(&[(path.clone(), None)]);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let (exported, _) = roundtrip(&path, None);
    let text = serde_json::to_string(&exported.signals).unwrap();
    assert!(
        text.contains("\"dbc2vss\""),
        "the extended attributes survive"
    );
}
