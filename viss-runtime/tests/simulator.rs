//! The `--simulate` feeder over the standard tree, driven through the engine (no sockets):
//! sensors with an `enum` (such as `Vehicle.Exterior.PrecipitationType`) only take their
//! enum values, and actuators reach the target a client `set`s within a few rounds.
#![cfg(all(feature = "server", feature = "vss-model"))]
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use serde_json::{Value as Json, json};
use viss_runtime::model_tree::dynamic_tree_from_model;
use viss_runtime::server::simulator::Simulator;
use viss_runtime::tree::DataType;
use viss_runtime::value::parse_scalar;
use viss_runtime::{DynamicTree, Engine, EngineConfig, NodeId, NodeKind, Value, VissTree};
use vss_model::json::{self, JsonOptions};

fn standard_engine() -> Engine<DynamicTree> {
    let loaded = json::load(&JsonOptions {
        source: test_support::shared_path("vss/json/vss.json"),
        types: None,
        strict: false,
    });
    let model = loaded.tree.unwrap();
    Engine::new(
        dynamic_tree_from_model(&model).unwrap(),
        EngineConfig::default(),
    )
}

/// Every sensor with an `enum`, with its enum values typed as its datatype.
fn enum_sensors(engine: &Engine<DynamicTree>) -> Vec<(NodeId, Vec<Value>)> {
    let tree = engine.tree();
    (0..tree.nodes().len() as u32)
        .map(NodeId)
        .filter(|&node| tree.node(node).kind == NodeKind::Sensor)
        .filter_map(|node| {
            let info = tree.node(node);
            let Some(DataType::Scalar(scalar)) = info.datatype.as_ref() else {
                return None;
            };
            let enumeration = tree.enumeration(node);
            let values: Vec<Value> = enumeration
                .iter()
                .map(|entry| {
                    parse_scalar(entry.value.as_str(), *scalar, info, enumeration).unwrap()
                })
                .collect();
            (!values.is_empty()).then_some((node, values))
        })
        .collect()
}

#[test]
fn enum_sensors_of_the_standard_tree_take_only_enum_values() {
    let engine = standard_engine();
    let sensors = enum_sensors(&engine);
    let precipitation = engine
        .tree()
        .lookup("Vehicle.Exterior.PrecipitationType")
        .unwrap();
    assert!(
        sensors.iter().any(|(node, _)| *node == precipitation),
        "PrecipitationType has its enum"
    );
    let mut simulator = Simulator::new(engine.tree(), 3);
    simulator.seed_all(&engine);
    for round in 0..300 {
        // Half the rounds with a rolling window, as `signals_per_round` configures.
        simulator.step(&engine, if round % 2 == 0 { 0 } else { 50 });
        for (node, values) in &sensors {
            let value = engine.store().current(*node).unwrap().value;
            assert!(
                values.contains(&value),
                "{}: {value:?} not in {values:?}",
                engine.tree().node(*node).path
            );
        }
    }
}

fn send(engine: &Engine<DynamicTree>, request: &Json) -> Json {
    let mut session = engine.open_session();
    let mut out = Vec::new();
    engine.handle(&mut session, request.to_string().as_bytes(), &mut out);
    serde_json::from_slice(&out).unwrap()
}

fn get(engine: &Engine<DynamicTree>, path: &str) -> Json {
    let response = send(
        engine,
        &json!({"action": "get", "path": path, "requestId": "2"}),
    );
    response["data"]["dp"]["value"].clone()
}

#[test]
fn a_set_actuator_reaches_its_target_in_a_later_get() {
    let engine = standard_engine();
    let mut simulator = Simulator::new(engine.tree(), 9);
    simulator.seed_all(&engine);
    let sets = [
        ("Vehicle.Body.RearMainSpoilerPosition", "12.5"),
        ("Vehicle.Cabin.Door.Row1.DriverSide.Window.Position", "100"),
        ("Vehicle.Body.Lights.Beam.Low.IsOn", "true"),
        ("Vehicle.Powertrain.Transmission.PerformanceMode", "SPORT"),
        (
            "Vehicle.Cabin.Infotainment.Media.SelectedURI",
            "spotify:track:1",
        ),
    ];
    for (path, value) in sets {
        let response = send(
            &engine,
            &json!({"action": "set", "path": path, "value": value, "requestId": "1"}),
        );
        assert_eq!(response.get("error"), None, "{path}: {response}");
    }
    for _ in 0..10 {
        simulator.step(&engine, 0);
    }
    for (path, value) in sets {
        assert_eq!(get(&engine, path), json!(value), "{path}");
        let node = engine.tree().lookup(path).unwrap();
        let store = engine.store();
        assert_eq!(
            store.current(node).unwrap().value,
            store.target(node).unwrap().value
        );
    }
}
