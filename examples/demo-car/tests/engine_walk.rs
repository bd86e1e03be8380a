//! Serves the generated demo car (`generated/demo-car`) through the engine and walks every
//! leaf: feed + get, set (accepted on actuators only, routed to the typed provider),
//! subscribe + event; typed feed/current for every datatype; the provider sees typed
//! targets for array and instance-specific actuators.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use demo_car_example::provider::{Provider, ProviderHook};
use demo_car_example::tree::{
    BodyType, DriveMode, FileDescriptor, FuelTypes, GeoPoint, Source, Switch, Vehicle, Waypoint,
};
use jiff::SignedDuration;
use serde_json::{Value as Json, json};
use viss_runtime::{
    Actuator, Engine, NodeId, NodeInfo, NodeKind, Session, TypedEngine, VissError, VissTree,
};

mod support;

use support::{STRUCT_ARRAY_ACTUATOR, TREE, engine, leaves, sample, start, waypoint};

fn request(engine: &Engine<Vehicle>, session: &mut Session, request: Json) -> Json {
    let mut out = Vec::new();
    engine.handle(session, request.to_string().as_bytes(), &mut out);
    serde_json::from_slice(&out).unwrap()
}

#[test]
fn the_walk_covers_every_leaf_kind_and_datatype() {
    let leaves = leaves();
    assert_eq!(leaves.len(), 172);
    let nodes: Vec<&NodeInfo> = leaves.iter().map(|id| TREE.node(*id)).collect();
    for kind in [NodeKind::Sensor, NodeKind::Actuator, NodeKind::Attribute] {
        assert!(nodes.iter().any(|node| node.kind == kind), "{kind:?}");
    }
    let datatypes: Vec<String> = nodes
        .iter()
        .filter_map(|node| node.datatype.as_ref().map(|d| d.name().into_owned()))
        .collect();
    for scalar in [
        "boolean", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64",
        "float", "double", "string",
    ] {
        for name in [scalar.to_owned(), format!("{scalar}[]")] {
            assert!(datatypes.contains(&name), "{name} missing");
        }
    }
    for name in [
        "Types.GeoPoint",
        "Types.GeoPoint[]",
        "Types.Waypoint",
        "Types.Waypoint[]",
    ] {
        assert!(datatypes.iter().any(|d| d == name), "{name} missing");
    }
}

#[test]
fn every_leaf_is_fed_and_read_back_with_get() {
    let (engine, _) = engine();
    let mut session = engine.open_session();
    for (step, id) in leaves().into_iter().enumerate() {
        let node = TREE.node(id);
        let (value, wire) = sample(node, step);
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
fn set_is_accepted_on_actuators_only_and_reaches_the_provider() {
    let (mut engine, _) = engine();
    let recorder = Arc::new(Recorder::default());
    engine.set_provider(Arc::new(ProviderHook(Shared(Arc::clone(&recorder)))));
    let mut session = engine.open_session();
    let mut actuators = Vec::new();
    for (step, id) in leaves().into_iter().enumerate() {
        let node = TREE.node(id);
        let (_, wire) = sample(node, step);
        let response = request(
            &engine,
            &mut session,
            json!({"action": "set", "path": node.path, "value": wire, "requestId": "s"}),
        );
        if node.kind == NodeKind::Actuator {
            actuators.push(id);
            assert!(response.get("error").is_none(), "{}: {response}", node.path);
            assert!(engine.store().target(id).is_some(), "{}", node.path);
        } else {
            assert!(response.get("error").is_some(), "{}: {response}", node.path);
        }
    }
    assert_eq!(actuators.len(), 77);
    let seen = recorder.seen.lock().unwrap();
    assert_eq!(
        seen.len(),
        actuators.len(),
        "every accepted set reaches the provider"
    );
    assert!(seen.contains(&TREE.cabin.door.row1.driver_side.key_pad.is_enabled.id()));
    assert!(seen.contains(&TREE.cabin.door.row2[1].is_open.id()));
    assert!(seen.contains(&TREE.body.lights[1][0].brightness.id()));
    let stops = TREE.lookup(STRUCT_ARRAY_ACTUATOR).unwrap();
    assert!(
        seen.contains(&stops),
        "the struct-array actuator's set reaches the provider"
    );
}

/// Records which provider method saw which actuator (methods of several kinds: an
/// instance-specific branch, an array instance, a struct, an overridden-nothing default).
#[derive(Debug, Default)]
struct Recorder {
    seen: Mutex<Vec<NodeId>>,
    destination: Mutex<Option<Waypoint>>,
}

impl Recorder {
    fn record<T>(&self, actuator: Actuator<T>) {
        self.seen.lock().unwrap().push(actuator.id());
    }
}

/// The provider under test: shares the recorder with the test.
#[derive(Debug)]
struct Shared(Arc<Recorder>);

/// Every method records; the walk checks that each set arrived once, typed.
macro_rules! record_all {
    ($($method:ident: $ty:ty;)*) => {
        impl Provider for Shared {
            $(fn $method(&self, actuator: Actuator<$ty>, _target: $ty) {
                self.0.record(actuator);
            })*
            fn set_navigation_destination(&self, actuator: Actuator<Waypoint>, target: Waypoint) {
                self.0.record(actuator);
                *self.0.destination.lock().unwrap() = Some(target);
            }
        }
    };
}

record_all! {
    set_navigation_stops: Vec<Waypoint>;
    set_navigation_map_file: FileDescriptor;
    set_cabin_ambient_light: Vec<u8>;
    set_door_row1_driver_side_is_open: bool;
    set_door_row1_driver_side_is_locked: bool;
    set_window_position: u8;
    set_window_switch: Switch;
    set_key_pad_is_enabled: bool;
    set_door_is_open: bool;
    set_door_is_locked: bool;
    set_seat_heating: i8;
    set_seat_position: u16;
    set_seat_massage: u8;
    set_backrest_recline: f32;
    set_backrest_lumbar: u8;
    set_headrest_height: u8;
    set_headrest_angle: i8;
    set_infotainment_volume: u8;
    set_infotainment_source: Source;
    set_body_horn: bool;
    set_lights_is_on: bool;
    set_lights_brightness: u8;
    set_transmission_selected_gear: i8;
    set_transmission_drive_mode: DriveMode;
    set_battery_charge_limit: u8;
}

#[test]
fn the_provider_gets_typed_struct_targets() {
    let (mut engine, _) = engine();
    let recorder = Arc::new(Recorder::default());
    engine.set_provider(Arc::new(ProviderHook(Shared(Arc::clone(&recorder)))));
    let mut session = engine.open_session();
    let (_, wire) = waypoint(3);
    let response = request(
        &engine,
        &mut session,
        json!({"action": "set", "path": "Vehicle.Navigation.Destination", "value": wire,
               "requestId": "d"}),
    );
    assert!(response.get("error").is_none(), "{response}");
    let expected = Waypoint {
        name: "stop3".into(),
        point: GeoPoint {
            latitude: 3.25,
            longitude: 7.0,
        },
        priority: 2,
    };
    assert_eq!(
        *recorder.destination.lock().unwrap(),
        Some(expected.clone())
    );
    assert_eq!(engine.target(TREE.navigation.destination), Some(expected));
}

#[test]
fn every_leaf_can_be_subscribed_and_sends_events() {
    let (engine, clock) = engine();
    let mut session = engine.open_session();
    let leaves = leaves();
    for id in &leaves {
        let node = TREE.node(*id);
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
        let (value, _) = sample(TREE.node(*id), step);
        engine.update(*id, value, start()).unwrap();
    }
    clock.advance(SignedDuration::from_millis(100));
    engine.tick(viss_runtime::Clock::now(clock.as_ref()));
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
        let path = TREE.node(*id).path.to_string();
        assert!(seen.contains(&path), "no event for {path}");
    }
}

#[test]
fn typed_handles_feed_and_read_every_datatype() {
    let (engine, _) = engine();
    let ts = start();
    let v = TREE;
    let point = GeoPoint {
        latitude: 48.5,
        longitude: 9.25,
    };
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
        v.trip_time => u64::MAX,
        v.start_time => i64::MIN,
        v.vehicle_identification.vin => "WVW0000".to_owned(),
        v.current_location.altitude => -12_i32,
        v.current_location.heading => 270_u16,
        v.current_location.position => point.clone(),
        v.current_location.trail => vec![point.clone(), point.clone()],
        v.cabin.temperature => -5_i8,
        v.cabin.ambient_light => vec![255_u8, 128, 0],
        v.cabin.door.row2[0].window.position => 40_u8,
        v.cabin.door.row1.driver_side.key_pad.is_enabled => true,
        v.cabin.seat[1][2].backrest.recline => 12.5_f32,
        v.chassis.axle[1].wheel[0].tire.pressure => 230_u16,
        v.powertrain.battery.capacity => 77_u32,
        v.powertrain.battery.cell_voltages => vec![3.5_f32, 3.75],
        v.powertrain.battery.cell_temperatures => vec![-3_i8, 20],
        v.obd.dtc_list => vec!["P0001".to_owned()],
        v.obd.readiness => vec![true, false],
        v.obd.freeze_frame => vec![-1_i16, 2],
        v.obd.pressures => vec![101.325_f64],
        v.obd.counters => vec![7_u16],
        v.obd.timestamps => vec![u64::MAX],
        v.obd.offsets => vec![i64::MIN],
        v.obd.masks => vec![u32::MAX],
        v.obd.deltas => vec![i32::MIN],
    }
}

#[test]
fn attributes_start_at_their_defaults_and_overlay_changes_apply() {
    let (engine, _) = engine();
    let identification = &TREE.vehicle_identification;
    assert_eq!(engine.current(identification.year), Some(2026));
    assert_eq!(
        engine.current(identification.body_type),
        Some(BodyType::Sedan)
    );
    assert_eq!(
        engine.current(identification.fuel_types),
        Some(vec![FuelTypes::Gasoline, FuelTypes::Electric])
    );
    // The overlay lowered Vehicle.Speed's max from 250 to 200.
    assert_eq!(TREE.node(TREE.speed.id()).max, Some(200.0));
    assert_eq!(
        engine
            .tree()
            .lookup("Vehicle.Cabin.Door.Row1.DriverSide.KeyPad.IsEnabled"),
        Some(TREE.cabin.door.row1.driver_side.key_pad.is_enabled.id())
    );
    assert_eq!(
        engine
            .tree()
            .lookup("Vehicle.Cabin.Door.Row2.DriverSide.KeyPad"),
        None
    );
}

/// A feeder's struct value is checked member by member against its struct type (here a
/// latitude above `max: 90`), refused with a typed error and not stored.
#[test]
fn fed_struct_members_are_checked_against_their_type() {
    let (engine, _) = engine();
    let position = TREE.current_location.position;
    let inside = GeoPoint {
        latitude: 90.0,
        longitude: -180.0,
    };
    engine.feed(position, inside.clone(), start()).unwrap();
    for outside in [
        GeoPoint {
            latitude: 90.5,
            longitude: 0.0,
        },
        GeoPoint {
            latitude: 0.0,
            longitude: -181.0,
        },
    ] {
        assert_eq!(
            engine.feed(position, outside, start()),
            Err(VissError::OutsideLimit)
        );
    }
    assert_eq!(
        engine.current(position),
        Some(inside),
        "the refused values are not stored"
    );
    let trail = TREE.current_location.trail;
    let one_bad = vec![
        GeoPoint {
            latitude: 1.0,
            longitude: 2.0,
        },
        GeoPoint {
            latitude: -91.0,
            longitude: 2.0,
        },
    ];
    assert_eq!(
        engine.feed(trail, one_bad, start()),
        Err(VissError::OutsideLimit)
    );
}
