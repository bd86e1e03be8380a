//! The reader against vss-tools' exports in `shared/vss/json` (tree-level parity; the byte
//! level parity of the real exporter is in `vssgen/tests/parity.rs`).

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use common::{diff, options, shared, tree_json};
use serde_json::Value;
use vss_model::{VspecOptions, load};

fn with_units(mut o: VspecOptions) -> VspecOptions {
    o.units = vec![shared("vss/spec/units.yaml")];
    o.quantities = vec![shared("vss/spec/quantities.yaml")];
    o.strict = true;
    o
}

fn expected(rel: &str) -> Value {
    let text = std::fs::read_to_string(shared(rel)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn assert_matches(o: &VspecOptions, rel: &str) {
    let loaded = load(o);
    let errors: Vec<String> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == vss_model::Severity::Error)
        .take(10)
        .map(|d| format!("{} {:?} {}", d.code, d.position(&loaded.sources), d.message))
        .collect();
    let tree = loaded.tree.unwrap_or_else(|| panic!("{rel}: {errors:#?}"));
    let actual = tree_json(&tree);
    let mut out = Vec::new();
    diff(&expected(rel), &actual, "", &mut out, 30);
    assert!(out.is_empty(), "{rel}: {out:#?}");
}

#[test]
fn standard_tree_matches_vss_json() {
    assert_matches(
        &with_units(options("spec/VehicleSignalSpecification.vspec")),
        "vss/json/vss.json",
    );
}

#[test]
fn standard_tree_no_expand_matches() {
    let mut o = with_units(options("spec/VehicleSignalSpecification.vspec"));
    o.expand = false;
    assert_matches(&o, "vss/json/vss-noexpand.json");
}

#[test]
fn standard_tree_with_types_matches() {
    let mut o = with_units(options("spec/VehicleSignalSpecification.vspec"));
    o.types = vec![shared("vss/spec/VehicleDataTypes.vspec")];
    assert_matches(&o, "vss/json/vss-with-types.json");
}

#[test]
fn overlays_match() {
    for (overlay, json) in [
        (
            "overlays/profiles/motorbike.vspec",
            "vss/json/overlays/vss-motorbike.json",
        ),
        (
            "overlays/extensions/dual_wiper_systems.vspec",
            "vss/json/overlays/vss-dualwiper.json",
        ),
        (
            "overlays/extensions/OBD.vspec",
            "vss/json/overlays/vss-obd.json",
        ),
    ] {
        let mut o = with_units(options("spec/VehicleSignalSpecification.vspec"));
        o.overlays = vec![shared(&format!("vss/{overlay}"))];
        assert_matches(&o, json);
    }
}

#[test]
fn kuksa_dbc_overlay_matches() {
    let mut o = with_units(options("spec/VehicleSignalSpecification.vspec"));
    o.overlays = vec![shared(
        "vss/third-party/kuksa-can-provider/mapping/vss_4.2/dbc_overlay.vspec",
    )];
    o.extended_attributes = vec!["dbc2vss".into(), "vss2dbc".into(), "dbc".into()];
    assert_matches(
        &o,
        "vss/json/third-party/vss-master-plus-kuksa-dbc-overlay-4.2.json",
    );
}

const TRAILER: &str =
    "third-party/commercial-vehicle-information-specifications/spec/trees/Vehicle/Trailer";

fn cvis(source: &str) -> VspecOptions {
    let mut o = options(&format!("{TRAILER}/{source}"));
    o.units = vec![shared(&format!("vss/{TRAILER}/units.yaml"))];
    o.quantities = vec![shared(&format!("vss/{TRAILER}/quantities.yaml"))];
    o
}

#[test]
fn cvis_trees_match() {
    assert_matches(
        &cvis("SeparateTrailerSignalSpecification.vspec"),
        "vss/json/third-party/cvis-separate-trailer.json",
    );
    let mut o = cvis("SeparateTrailerSignalSpecification.vspec");
    o.types = vec![shared(&format!(
        "vss/{TRAILER}/../Types/Datatypes-inline-struct.vspec"
    ))];
    assert_matches(
        &o,
        "vss/json/third-party/cvis-separate-trailer-with-types.json",
    );
}

#[test]
fn cvis_multiple_trailers_matches() {
    assert_matches(
        &cvis("MultipleTrailersSignalSpecification.vspec"),
        "vss/json/third-party/cvis-multiple-trailers.json",
    );
}

#[test]
fn node_counts_match_the_readme_figures() {
    let loaded = load(&with_units(options(
        "spec/VehicleSignalSpecification.vspec",
    )));
    assert_eq!(loaded.tree.as_ref().map(|t| t.len()), Some(1720));
    let mut o = with_units(options("spec/VehicleSignalSpecification.vspec"));
    o.expand = false;
    assert_eq!(load(&o).tree.map(|t| t.len()), Some(778));
    let multi = load(&cvis("MultipleTrailersSignalSpecification.vspec"));
    assert_eq!(multi.tree.map(|t| t.len()), Some(15057));
    // the comparison itself notices a difference
    let mut out = Vec::new();
    diff(
        &serde_json::json!({"a": {"b": 1}}),
        &serde_json::json!({"a": {"b": 1.0}}),
        "",
        &mut out,
        5,
    );
    assert_eq!(out.len(), 1);
}

#[test]
fn expanded_nodes_keep_their_instance_origin() {
    let tree = load(&with_units(options(
        "spec/VehicleSignalSpecification.vspec",
    )))
    .tree
    .unwrap();
    let id = tree
        .lookup("Vehicle.Cabin.Door.Row1.DriverSide.Window.Position")
        .unwrap();
    let origin = tree.get(id).instance_origin.clone().unwrap();
    assert_eq!(origin.template, "Vehicle.Cabin.Door.Window.Position");
    assert_eq!(origin.instances, vec!["Row1", "DriverSide"]);
    let branch = tree.lookup("Vehicle.Cabin.Door.Row1.DriverSide").unwrap();
    let origin = tree.get(branch).instance_origin.clone().unwrap();
    assert_eq!(origin.template, "Vehicle.Cabin.Door");
    assert_eq!(origin.instances, vec!["Row1", "DriverSide"]);
    assert!(
        tree.get(tree.lookup("Vehicle.Speed").unwrap())
            .instance_origin
            .is_none()
    );
}
