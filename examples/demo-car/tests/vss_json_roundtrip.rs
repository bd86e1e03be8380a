//! Round trip of the demo car: the generated crate's derived tree (`generated/demo-car`),
//! exported with `viss_runtime::vss_json`, equals `vssgen export json` of the demo car's
//! sources with the options `generated/regenerate.sh` generates it with (types, overlay,
//! `-e dbc -e priority`), exactly. The export's `ComplexDataTypes` (the types tree) is not
//! part of a served signal tree, so the signal tree `Vehicle` is compared.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use demo_car_example::tree::Vehicle;
use serde_json::Value;
use vss_model::vspec::{self, VspecOptions};
use vssgen::export::json::{JsonExportOptions, export};

fn expected_export() -> Value {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let extended = vec!["dbc".to_owned(), "priority".to_owned()];
    let loaded = vspec::load(&VspecOptions {
        source: demo.join("DemoCar.vspec"),
        types: vec![demo.join("DemoTypes.vspec")],
        overlays: vec![demo.join("DemoOverlay.vspec")],
        extended_attributes: extended.clone(),
        ..VspecOptions::default()
    });
    let tree = loaded.tree.unwrap();
    let options = JsonExportOptions {
        extended_attributes: extended,
        ..JsonExportOptions::default()
    };
    let text = export(&tree, &options).signals_text(&options);
    serde_json::from_str(&text).unwrap()
}

#[test]
fn derived_demo_car_exports_what_vssgen_exports() {
    let expected = expected_export();
    let actual: Value =
        serde_json::from_str(&viss_runtime::vss_json::to_string(&Vehicle::TREE)).unwrap();
    assert!(expected.get("ComplexDataTypes").is_some());
    assert_eq!(actual.as_object().map(|roots| roots.len()), Some(1));
    assert_eq!(expected["Vehicle"], actual["Vehicle"]);
    // The metadata the derive used to keep as doc comments is in the tree now.
    let text = actual.to_string();
    assert!(text.contains(r#""dbc":"VehicleSpeedKph""#), "{text}");
    assert!(text.contains(r#""priority":2"#));
    assert!(text.contains(r#""pattern":"^[A-HJ-NPR-Z0-9]{17}$""#));
}
