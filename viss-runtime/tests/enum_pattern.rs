//! `set` validation of the `enum` and `pattern` metadata: a value outside a node's `enum`,
//! or a string not matching its `pattern`, gets the same 400 error as an out-of-range value.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use serde_json::{Value as Json, json};
use viss_runtime::{DynamicTree, Engine, EngineConfig, NodeKind, NodeSpec};

fn engine() -> Engine<DynamicTree> {
    let mut builder = DynamicTree::builder();
    let actuator = |name: &str, datatype: &str| NodeSpec::leaf(name, NodeKind::Actuator, datatype);
    for (path, spec) in [
        (
            "Vehicle.Precipitation",
            actuator("Precipitation", "uint8").enumeration([("NONE", 1), ("RAIN", 2), ("SNOW", 4)]),
        ),
        (
            "Vehicle.Vin",
            actuator("Vin", "string").pattern("^[A-HJ-NPR-Z0-9]{17}$"),
        ),
        (
            "Vehicle.Codes",
            actuator("Codes", "string[]").pattern("^P[0-9]{4}$"),
        ),
        ("Vehicle.Level", actuator("Level", "uint8").max(10.0)),
        // A Python-only pattern (look-ahead) is not enforced rather than rejecting everything.
        (
            "Vehicle.Loose",
            actuator("Loose", "string").pattern("^(?=A)A+$"),
        ),
    ] {
        builder.insert_path(path, spec).unwrap();
    }
    Engine::new(builder.build(), EngineConfig::default())
}

fn set(engine: &Engine<DynamicTree>, path: &str, value: Json) -> Json {
    let mut session = engine.open_session();
    let mut out = Vec::new();
    let request = json!({"action": "set", "path": path, "value": value, "requestId": "1"});
    engine.handle(&mut session, request.to_string().as_bytes(), &mut out);
    serde_json::from_slice(&out).unwrap()
}

/// The error member of a response, `None` for a success.
fn error(response: &Json) -> Option<Json> {
    response.get("error").cloned()
}

#[test]
fn enum_values_are_the_only_values_a_set_takes() {
    let engine = engine();
    let outside_limit = error(&set(&engine, "Vehicle.Level", json!("11"))).unwrap();
    assert_eq!(outside_limit["number"], "400", "{outside_limit}");
    for accepted in ["1", "2", "4"] {
        let response = set(&engine, "Vehicle.Precipitation", json!(accepted));
        assert_eq!(error(&response), None, "{accepted}: {response}");
    }
    for rejected in ["0", "3", "5", "255"] {
        let response = set(&engine, "Vehicle.Precipitation", json!(rejected));
        assert_eq!(error(&response), Some(outside_limit.clone()), "{rejected}");
    }
    // The names are metadata; the value is the number.
    let response = set(&engine, "Vehicle.Precipitation", json!("RAIN"));
    assert_eq!(error(&response).unwrap()["number"], "400");
}

#[test]
fn strings_must_match_the_pattern() {
    let engine = engine();
    let outside_limit = error(&set(&engine, "Vehicle.Level", json!("11"))).unwrap();
    let response = set(&engine, "Vehicle.Vin", json!("WVWZZZ1JZXW000001"));
    assert_eq!(error(&response), None, "{response}");
    for rejected in [
        "WVWZZZ1JZXW00000",
        "WVWZZZ1JZXW000001X",
        "IVWZZZ1JZXW000001",
        "",
    ] {
        let response = set(&engine, "Vehicle.Vin", json!(rejected));
        assert_eq!(
            error(&response),
            Some(outside_limit.clone()),
            "{rejected:?}"
        );
    }
    let response = set(&engine, "Vehicle.Codes", json!(["P0001", "P1234"]));
    assert_eq!(error(&response), None, "{response}");
    let response = set(&engine, "Vehicle.Codes", json!(["P0001", "U1234"]));
    assert_eq!(error(&response), Some(outside_limit.clone()));
    let response = set(&engine, "Vehicle.Loose", json!("anything"));
    assert_eq!(error(&response), None, "{response}");
}

#[test]
fn metadata_shows_enum_and_pattern() {
    let engine = engine();
    let mut session = engine.open_session();
    let mut out = Vec::new();
    let request = br#"{"action":"get","path":"Vehicle","requestId":"m","filter":{"variant":"metadata","parameter":"0"}}"#;
    engine.handle(&mut session, request, &mut out);
    let response: Json = serde_json::from_slice(&out).unwrap();
    let children = &response["metadata"]["Vehicle"]["children"];
    assert_eq!(
        children["Precipitation"]["enum"],
        json!({"NONE": "1", "RAIN": "2", "SNOW": "4"})
    );
    assert_eq!(children["Vin"]["pattern"], "^[A-HJ-NPR-Z0-9]{17}$");
}
