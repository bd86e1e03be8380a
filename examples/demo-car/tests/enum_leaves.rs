//! Every leaf of the generated demo car with an `allowed` list of strings is typed with a
//! generated enum, and the wire does not change: for every value of every such leaf, `get`,
//! `set` and subscription events carry the exact VSS string; typed feeds write the enum; the
//! provider receives the enum; a value outside the list (or in another case) is refused
//! with 400 `invalid_data` and stores nothing.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use demo_car_example::provider::{Provider, ProviderHook};
use demo_car_example::tree::{BodyType, DriveMode, FuelTypes, Source, Switch, Type, Vehicle};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value as Json, json};
use viss_runtime::{
    Actuator, Clock, DataType, Engine, EngineConfig, ManualClock, NodeId, NodeKind, ScalarType,
    Session, TypedEngine, VissBranch, VissEnum, VissTree,
};

const TREE: Vehicle = Vehicle::TREE;

fn request(engine: &Engine<Vehicle>, session: &mut Session, request: &Json) -> Json {
    let mut out = Vec::new();
    engine.handle(session, request.to_string().as_bytes(), &mut out);
    serde_json::from_slice(&out).unwrap()
}

fn now() -> Timestamp {
    Timestamp::from_second(1_800_000_000).unwrap()
}

/// The leaves whose `allowed` list is strings, with the list.
fn enum_leaves() -> Vec<(NodeId, Vec<String>, bool)> {
    let mut leaves = Vec::new();
    TREE.visit_leaves(&mut |id| leaves.push(id));
    leaves
        .into_iter()
        .filter_map(|id| {
            let node = TREE.node(id);
            let array = match node.datatype.as_ref()? {
                DataType::Scalar(ScalarType::String) => false,
                DataType::Array(ScalarType::String) => true,
                _ => return None,
            };
            let values: Vec<String> = node.allowed.iter().map(ToString::to_string).collect();
            (!values.is_empty()).then_some((id, values, array))
        })
        .collect()
}

/// The wire form of `value` on a scalar or array leaf.
fn wire(value: &str, array: bool) -> Json {
    if array { json!([value]) } else { json!(value) }
}

#[test]
fn every_value_of_every_enum_leaf_travels_as_its_exact_vss_string() {
    let clock = Arc::new(ManualClock::new(now()));
    let engine = Engine::with_clock(TREE, EngineConfig::default(), clock.clone());
    let mut session = engine.open_session();
    let leaves = enum_leaves();
    // Body type, fuel types, 4 window switches, media source, powertrain type, drive mode.
    assert_eq!(leaves.len(), 9, "enum leaves of the demo car");
    let mut round_trips = 0;
    for (id, values, array) in &leaves {
        let node = TREE.node(*id);
        let subscribed = request(
            &engine,
            &mut session,
            &json!({"action": "subscribe", "path": node.path, "requestId": "s",
                    "filter": {"variant": "timebased", "parameter": {"period": "100"}}}),
        );
        assert!(subscribed.get("error").is_none(), "{subscribed}");
        for value in values {
            let expected = wire(value, *array);
            if node.kind == NodeKind::Actuator {
                let set = request(
                    &engine,
                    &mut session,
                    &json!({"action": "set", "path": node.path, "value": expected,
                            "requestId": "w"}),
                );
                assert!(set.get("error").is_none(), "{}: {set}", node.path);
            } else {
                let typed = viss_runtime::Value::String(value.clone().into());
                let fed = if *array {
                    viss_runtime::Value::Array(vec![typed])
                } else {
                    typed
                };
                engine.update(*id, fed, now()).unwrap();
            }
            let got = request(
                &engine,
                &mut session,
                &json!({"action": "get", "path": node.path, "requestId": "r"}),
            );
            assert_eq!(got["data"]["dp"]["value"], expected, "{}", node.path);
            clock.advance(SignedDuration::from_millis(100));
            engine.tick(Clock::now(clock.as_ref()));
            let mut event = Vec::new();
            let mut last = None;
            while session.next_event(&mut event) {
                last = Some(serde_json::from_slice::<Json>(&event).unwrap());
            }
            let last = last.unwrap_or_else(|| panic!("{}: no event", node.path));
            assert_eq!(last["data"]["dp"]["value"], expected, "{}", node.path);
            round_trips += 1;
        }
    }
    assert_eq!(
        round_trips, 38,
        "values of the enum leaves (4 + 4 + 4 × 5 + 4 + 3 + 3)"
    );
}

#[test]
fn values_outside_the_list_are_refused_with_invalid_data() {
    let engine = Engine::new(TREE, EngineConfig::default());
    let mut session = engine.open_session();
    for (id, values, array) in enum_leaves() {
        let node = TREE.node(id);
        if node.kind != NodeKind::Actuator {
            continue;
        }
        for wrong in [
            values[0].to_lowercase(),
            format!("{}_", values[0]),
            String::new(),
        ] {
            let set = request(
                &engine,
                &mut session,
                &json!({"action": "set", "path": node.path, "value": wire(&wrong, array),
                        "requestId": "w"}),
            );
            assert_eq!(set["error"]["number"], "400", "{}: {set}", node.path);
            assert_eq!(
                set["error"]["reason"], "invalid_data",
                "{}: {set}",
                node.path
            );
        }
        assert_eq!(
            engine.store().target(id),
            None,
            "{}: nothing stored",
            node.path
        );
    }
}

#[test]
fn typed_feeds_write_the_enum_and_the_wire_reads_its_string() {
    let engine = Engine::new(TREE, EngineConfig::default());
    let mut session = engine.open_session();
    let windows = [
        TREE.cabin.door.row1.driver_side.window.switch,
        TREE.cabin.door.row1.passenger_side.window.switch,
        TREE.cabin.door.row2[0].window.switch,
        TREE.cabin.door.row2[1].window.switch,
    ];
    for (index, switch) in Switch::VARIANTS.iter().enumerate() {
        let window = windows[index % windows.len()];
        engine.feed(window, *switch, now()).unwrap();
        assert_eq!(engine.current(window), Some(*switch));
        let path = &TREE.node(window.id()).path;
        let got = request(
            &engine,
            &mut session,
            &json!({"action": "get", "path": path, "requestId": "r"}),
        );
        assert_eq!(got["data"]["dp"]["value"], switch.to_string());
    }
    assert_eq!(
        engine.current(TREE.vehicle_identification.body_type),
        Some(BodyType::default()),
        "the attribute starts at its default, the enum's #[default]"
    );
    assert_eq!(Type::default(), Type::Hybrid);
    engine
        .feed(
            TREE.powertrain.transmission.drive_mode,
            DriveMode::Sport,
            now(),
        )
        .unwrap();
    assert_eq!(
        engine.current(TREE.powertrain.transmission.drive_mode),
        Some(DriveMode::Sport)
    );
    assert_eq!(
        engine.current(TREE.vehicle_identification.fuel_types),
        Some(vec![FuelTypes::Gasoline, FuelTypes::Electric])
    );
    assert_eq!("STREAMING".parse::<Source>(), Ok(Source::Streaming));
    assert!("streaming".parse::<Source>().is_err());
}

/// Records the typed targets the provider receives.
#[derive(Debug, Default)]
struct Targets {
    switches: Mutex<Vec<(NodeId, Switch)>>,
    sources: Mutex<Vec<Source>>,
}

#[derive(Debug)]
struct Recording(Arc<Targets>);

impl Provider for Recording {
    fn set_window_switch(&self, actuator: Actuator<Switch>, target: Switch) {
        self.0
            .switches
            .lock()
            .unwrap()
            .push((actuator.id(), target));
    }

    fn set_infotainment_source(&self, _actuator: Actuator<Source>, target: Source) {
        self.0.sources.lock().unwrap().push(target);
    }
}

#[test]
fn the_provider_receives_the_enum() {
    let mut engine = Engine::new(TREE, EngineConfig::default());
    let targets = Arc::new(Targets::default());
    engine.set_provider(Arc::new(ProviderHook(Recording(Arc::clone(&targets)))));
    let mut session = engine.open_session();
    let window = TREE.cabin.door.row2[1].window.switch;
    for value in ["ONE_SHOT_OPEN", "CLOSE"] {
        let set = request(
            &engine,
            &mut session,
            &json!({"action": "set", "path": TREE.node(window.id()).path, "value": value,
                    "requestId": "w"}),
        );
        assert!(set.get("error").is_none(), "{set}");
    }
    let set = request(
        &engine,
        &mut session,
        &json!({"action": "set", "path": "Vehicle.Cabin.Infotainment.Source", "value": "USB",
                "requestId": "w"}),
    );
    assert!(set.get("error").is_none(), "{set}");
    assert_eq!(
        *targets.switches.lock().unwrap(),
        [
            (window.id(), Switch::OneShotOpen),
            (window.id(), Switch::Close)
        ]
    );
    assert_eq!(*targets.sources.lock().unwrap(), [Source::Usb]);
    assert_eq!(engine.target(window), Some(Switch::Close));
}
