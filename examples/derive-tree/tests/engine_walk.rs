//! Walks every leaf of the derived tree and drives it through the engine: feed + get,
//! set (accepted on actuators only), subscribe + event; then typed feed/current/target for
//! every datatype.

use std::sync::Arc;

use derive_tree::{Position, VEHICLE, leaf_count};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value as Json, json};
use viss_runtime::{
    DataType, Engine, EngineConfig, ManualClock, NodeId, NodeInfo, NodeKind, ScalarType, Session,
    TypedEngine, Value, VissBranch, VissTree,
};

fn start() -> Timestamp {
    Timestamp::from_second(1_800_000_000).expect("a valid timestamp")
}

fn engine() -> (Engine<derive_tree::Vehicle>, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(start()));
    let engine = Engine::with_clock(VEHICLE, EngineConfig::default(), clock.clone());
    (engine, clock)
}

fn leaves() -> Vec<NodeId> {
    let mut leaves = Vec::new();
    VEHICLE.visit_leaves(&mut |id| leaves.push(id));
    leaves
}

/// A value valid for `node` (inside its limits, in its `allowed` list), typed and on the wire.
fn sample(node: &NodeInfo, step: u8) -> (Value, Json) {
    let scalar = |scalar: ScalarType| -> (Value, Json) {
        let small = i64::from(step % 2 + 1);
        match scalar {
            ScalarType::Boolean => (
                Value::Bool(step.is_multiple_of(2)),
                json!((step.is_multiple_of(2)).to_string()),
            ),
            ScalarType::String => {
                let text = node
                    .allowed
                    .first()
                    .map_or_else(|| format!("text{step}"), |first| first.to_string());
                (Value::String(text.clone().into()), json!(text))
            }
            ScalarType::Float | ScalarType::Double => (
                Value::Double(small as f64 + 0.5),
                json!(format!("{small}.5")),
            ),
            ScalarType::Int8 | ScalarType::Int16 | ScalarType::Int32 | ScalarType::Int64 => {
                (Value::Int(small), json!(small.to_string()))
            }
            _ => (Value::UInt(small as u64), json!(small.to_string())),
        }
    };
    let position = || {
        (
            Value::Struct(vec![
                (
                    "Latitude".into(),
                    Value::String(format!("{step}.25").into()),
                ),
                ("Longitude".into(), Value::String("7".into())),
            ]),
            json!({"Latitude": format!("{step}.25"), "Longitude": "7"}),
        )
    };
    match node.datatype.as_ref().expect("leaves have datatypes") {
        DataType::Scalar(kind) => scalar(*kind),
        DataType::Array(kind) => {
            let (value, wire) = scalar(*kind);
            (
                Value::Array(vec![value.clone(), value]),
                json!([wire.clone(), wire]),
            )
        }
        DataType::Struct(_) => position(),
        DataType::StructArray(_) => {
            let (value, wire) = position();
            (Value::Array(vec![value]), json!([wire]))
        }
    }
}

fn request(engine: &Engine<derive_tree::Vehicle>, session: &mut Session, request: Json) -> Json {
    let mut out = Vec::new();
    engine.handle(session, request.to_string().as_bytes(), &mut out);
    serde_json::from_slice(&out).expect("responses are JSON")
}

#[test]
fn the_walk_covers_every_leaf_kind_and_datatype() {
    let leaves = leaves();
    assert_eq!(leaves.len(), leaf_count());
    assert_eq!(leaves.len(), 39);
    let nodes: Vec<&NodeInfo> = leaves.iter().map(|id| VEHICLE.node(*id)).collect();
    for kind in [NodeKind::Sensor, NodeKind::Actuator, NodeKind::Attribute] {
        assert!(nodes.iter().any(|node| node.kind == kind), "{kind:?}");
    }
    let mut datatypes: Vec<String> = nodes
        .iter()
        .filter_map(|node| {
            node.datatype
                .as_ref()
                .map(|datatype| datatype.name().into_owned())
        })
        .collect();
    datatypes.sort();
    datatypes.dedup();
    for expected in [
        "boolean",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "int8",
        "int16",
        "int32",
        "int64",
        "float",
        "double",
        "string",
        "string[]",
        "float[]",
        "boolean[]",
        "double[]",
        "int16[]",
        "uint8[]",
        "Types.Position",
        "Types.Position[]",
    ] {
        assert!(
            datatypes.iter().any(|name| name == expected),
            "{expected} in {datatypes:?}"
        );
    }
}

#[test]
fn every_leaf_is_fed_and_read_back_with_get() {
    let (engine, _) = engine();
    let mut session = engine.open_session();
    for (step, id) in leaves().into_iter().enumerate() {
        let node = VEHICLE.node(id);
        let (value, wire) = sample(node, step as u8);
        engine
            .update(id, value, start())
            .unwrap_or_else(|error| panic!("{}: {error:?}", node.path));
        let response = request(
            &engine,
            &mut session,
            json!({"action": "get", "path": node.path, "requestId": step.to_string()}),
        );
        assert_eq!(response["data"]["path"], json!(node.path), "{response}");
        assert_eq!(
            response["data"]["dp"]["value"], wire,
            "{}: {response}",
            node.path
        );
    }
}

#[test]
fn set_is_accepted_on_actuators_and_refused_elsewhere() {
    let (engine, _) = engine();
    let mut session = engine.open_session();
    let mut actuators = 0;
    for (step, id) in leaves().into_iter().enumerate() {
        let node = VEHICLE.node(id);
        let (_, wire) = sample(node, step as u8);
        let response = request(
            &engine,
            &mut session,
            json!({"action": "set", "path": node.path, "value": wire, "requestId": "s"}),
        );
        if node.kind == NodeKind::Actuator {
            actuators += 1;
            assert!(response.get("error").is_none(), "{}: {response}", node.path);
            assert!(engine.store().target(id).is_some(), "{}", node.path);
        } else {
            assert!(response.get("error").is_some(), "{}: {response}", node.path);
        }
    }
    assert_eq!(actuators, 4 * 3 + 3);
}

#[test]
fn every_leaf_can_be_subscribed_and_sends_events() {
    let (engine, clock) = engine();
    let mut session = engine.open_session();
    let leaves = leaves();
    for id in &leaves {
        let node = VEHICLE.node(*id);
        let response = request(
            &engine,
            &mut session,
            json!({"action": "subscribe", "path": node.path, "requestId": "sub",
                   "filter": {"variant": "timebased", "parameter": {"period": "100"}}}),
        );
        assert!(
            response.get("subscriptionId").is_some(),
            "{}: {response}",
            node.path
        );
    }
    for (step, id) in leaves.iter().enumerate() {
        let (value, _) = sample(VEHICLE.node(*id), step as u8);
        engine.update(*id, value, start()).unwrap();
    }
    clock.advance(SignedDuration::from_millis(100));
    engine.tick(clock_now(&clock));
    let mut event = Vec::new();
    let mut seen = Vec::new();
    while session.next_event(&mut event) {
        let event: Json = serde_json::from_slice(&event).unwrap();
        assert_eq!(event["action"], "subscription");
        seen.push(
            event["data"]["path"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    for id in &leaves {
        let path = VEHICLE.node(*id).path.to_string();
        assert!(seen.contains(&path), "no event for {path}");
    }
}

fn clock_now(clock: &ManualClock) -> Timestamp {
    viss_runtime::Clock::now(clock)
}

#[test]
fn typed_handles_feed_and_read_every_datatype() {
    let (engine, _) = engine();
    let ts = start();
    let v = VEHICLE;
    let location = &v.current_location;
    macro_rules! round_trip {
        ($($leaf:expr => $value:expr,)*) => {$(
            engine.feed($leaf, $value, ts).unwrap();
            assert_eq!(engine.current($leaf), Some($value), stringify!($leaf));
        )*};
    }
    round_trip! {
        v.speed => 87.5_f32,
        v.traveled_distance => 12_345.25_f64,
        v.is_moving => true,
        v.trip_duration => u64::MAX,
        v.vehicle_identification.vin => "WVW0000".to_owned(),
        location.altitude => -12_i32,
        location.position => Position { latitude: 48.5, longitude: 9.25 },
        location.trail => vec![Position { latitude: 1.0, longitude: 2.0 }],
        v.cabin.temperature => -5_i8,
        v.cabin.ambient_light => vec![255_u8, 128, 0],
        v.cabin.door[1][0].window.position => 40_u8,
        v.powertrain.engine_speed => 3000_u16,
        v.powertrain.torque => -150_i16,
        v.powertrain.range => 450_000_u32,
        v.powertrain.run_time => i64::MIN,
        v.obd.dtc_list => vec!["P0001".to_owned(), "U0100".to_owned()],
        v.obd.o2_voltages => vec![0.5_f32, 0.75],
        v.obd.readiness => vec![true, false],
        v.obd.pressures => vec![101.325_f64],
        v.obd.counters => vec![-1_i16, 2],
    }
}

#[test]
fn attributes_start_at_their_default_and_actuators_keep_their_target() {
    let (engine, _) = engine();
    let identification = &VEHICLE.vehicle_identification;
    assert_eq!(engine.current(identification.year), Some(2024));
    assert_eq!(
        engine.current(identification.body_type).as_deref(),
        Some("Sedan")
    );
    assert_eq!(
        engine.current(identification.fuel_types),
        Some(vec!["GASOLINE".to_owned(), "ELECTRIC".to_owned()])
    );
    assert_eq!(engine.current(VEHICLE.cabin.seat_count), Some(5));
    let door = &VEHICLE.cabin.door[1][1];
    let mut session = engine.open_session();
    let response = request(
        &engine,
        &mut session,
        json!({"action": "set", "path": "Vehicle.Cabin.Door.Row2.PassengerSide.IsOpen",
               "value": "true", "requestId": "1"}),
    );
    assert!(response.get("error").is_none(), "{response}");
    assert_eq!(engine.target(door.is_open), Some(true));
    assert_eq!(engine.target(door.is_locked), None);
    // No provider drives the door: state storage makes the target its current value.
    assert_eq!(engine.current(door.is_open), Some(true));
    assert_eq!(engine.current(door.is_locked), None);
}

#[test]
fn set_outside_the_derived_limits_is_refused() {
    let (engine, _) = engine();
    let mut session = engine.open_session();
    let response = request(
        &engine,
        &mut session,
        json!({"action": "set", "path": "Vehicle.Powertrain.DriveMode", "value": "TURBO",
               "requestId": "1"}),
    );
    assert_eq!(response["error"]["number"], json!("400"), "{response}");
    let response = request(
        &engine,
        &mut session,
        json!({"action": "set", "path": "Vehicle.Cabin.Door.Row1.DriverSide.Window.Position",
               "value": "101", "requestId": "2"}),
    );
    assert_eq!(response["error"]["number"], json!("400"), "{response}");
}

#[test]
fn metadata_filter_shows_the_derived_metadata() {
    let (engine, _) = engine();
    let mut session = engine.open_session();
    let response = request(
        &engine,
        &mut session,
        json!({"action": "get", "path": "Vehicle.Powertrain", "requestId": "m",
               "filter": {"variant": "metadata", "parameter": "2"}}),
    );
    let powertrain = &response["metadata"]["Powertrain"];
    assert_eq!(powertrain["type"], "branch", "{response}");
    assert_eq!(powertrain["description"], "Powertrain data.");
    let drive_mode = &powertrain["children"]["DriveMode"];
    assert_eq!(
        drive_mode["allowed"],
        json!(["ECO", "NORMAL", "SPORT"]),
        "{response}"
    );
    assert_eq!(
        powertrain["children"]["RunTime"]["deprecation"],
        "v5.0 moved"
    );
    assert_eq!(powertrain["children"]["SelectedGear"]["min"], "-1");
}
