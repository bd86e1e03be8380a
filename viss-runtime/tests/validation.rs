//! Every bad request gets the right error from the table, and the engine keeps going.

mod support;

use support::{Fixture, error_of};
use viss_runtime::{EngineConfig, Value, VissTree};

fn expect_error(fixture: &mut Fixture, request: &str, expected: (&str, &str, &str)) {
    let response = fixture.send(request);
    assert_eq!(
        error_of(&response),
        expected,
        "request {request} got {response}"
    );
    assert!(response["ts"].is_string(), "error without ts: {response}");
}

const MALFORMED: (&str, &str, &str) = ("400", "bad_request", "The request is malformed");
const BAD_ACTION: (&str, &str, &str) = ("400", "bad_request", "Missing or invalid action");
const BAD_PATH: (&str, &str, &str) = ("400", "bad_request", "Missing or invalid path");
const BAD_FILTER: (&str, &str, &str) = ("400", "bad_request", "Missing or invalid filter");
const BAD_VALUE: (&str, &str, &str) = ("400", "bad_request", "Missing or invalid value");
const INCORRECT_FILTER: (&str, &str, &str) = ("400", "bad_request", "Incorrect filter");
const SENSOR_UPDATE: (&str, &str, &str) =
    ("400", "invalid_data", "Update of a sensor is not supported");
const BRANCH: (&str, &str, &str) = (
    "400",
    "invalid_data",
    "Requested action on a branch is not supported",
);
const OUTSIDE: (&str, &str, &str) = ("400", "invalid_data", "Data value outside limit");
const DATATYPE: (&str, &str, &str) = ("400", "invalid_data", "Incorrect data type");
const UNKNOWN: (&str, &str, &str) = ("404", "unavailable_data", "Data is unknown");
const UNKNOWN_ID: (&str, &str, &str) = ("404", "unavailable_data", "Unknown subscription Id");

#[test]
fn malformed_messages_are_bad_requests() {
    let mut fixture = Fixture::new();
    for request in [
        "",
        "not json",
        "[1,2]",
        "\"get\"",
        "{\"action\":\"get\",",
        "{\"action\":\"get\",\"action\":\"set\",\"path\":\"Vehicle\"}",
    ] {
        expect_error(&mut fixture, request, MALFORMED);
    }
    let response = fixture.send(r#"{"action":"get","path":"Vehicle.Speed","requestId":17}"#);
    assert_eq!(error_of(&response), MALFORMED);
    assert!(
        response.get("requestId").is_none(),
        "a non-string requestId is not echoed"
    );
}

#[test]
fn missing_or_invalid_action() {
    let mut fixture = Fixture::new();
    expect_error(
        &mut fixture,
        r#"{"path":"Vehicle.Speed","requestId":"1"}"#,
        BAD_ACTION,
    );
    expect_error(
        &mut fixture,
        r#"{"action":5,"path":"Vehicle.Speed","requestId":"1"}"#,
        BAD_ACTION,
    );
    let response =
        fixture.send(r#"{"action":"subscription","subscriptionId":"1","requestId":"2"}"#);
    assert_eq!(error_of(&response), BAD_ACTION);
    assert_eq!(response["requestId"], "2");
}

#[test]
fn missing_or_invalid_path() {
    let mut fixture = Fixture::new();
    for path in [
        "",
        "Vehicle.*",
        ".Vehicle",
        "Vehicle.",
        "Vehicle..Speed",
        "Vehicle//Speed",
    ] {
        expect_error(
            &mut fixture,
            &format!(r#"{{"action":"get","path":"{path}","requestId":"1"}}"#),
            BAD_PATH,
        );
    }
    expect_error(
        &mut fixture,
        r#"{"action":"get","requestId":"1"}"#,
        BAD_PATH,
    );
    expect_error(
        &mut fixture,
        r#"{"action":"get","path":["Vehicle"],"requestId":"1"}"#,
        BAD_PATH,
    );
    expect_error(
        &mut fixture,
        r#"{"action":"set","value":"1","requestId":"1"}"#,
        BAD_PATH,
    );
}

#[test]
fn unknown_paths_are_404() {
    let mut fixture = Fixture::new();
    expect_error(
        &mut fixture,
        r#"{"action":"get","path":"Vehicle.Nope","requestId":"1"}"#,
        UNKNOWN,
    );
    expect_error(
        &mut fixture,
        r#"{"action":"get","path":"Truck","requestId":"1"}"#,
        UNKNOWN,
    );
    expect_error(
        &mut fixture,
        r#"{"action":"get","path":"vehicle.speed","requestId":"1"}"#,
        UNKNOWN,
    );
    expect_error(
        &mut fixture,
        r#"{"action":"get","path":"Vehicle.Cabin","filter":{"variant":"paths","parameter":["Door.*.Nope"]},"requestId":"1"}"#,
        UNKNOWN,
    );
    expect_error(
        &mut fixture,
        r#"{"action":"get","path":"Vehicle.EmptyBranch","requestId":"1"}"#,
        UNKNOWN,
    );
}

#[test]
fn slash_paths_are_accepted_and_answered_with_dots() {
    let mut fixture = Fixture::new();
    fixture.feed("Vehicle.Speed", Value::Float(12.5));
    let response = fixture.send(r#"{"action":"get","path":"Vehicle/Speed","requestId":"1"}"#);
    assert_eq!(response["data"]["path"], "Vehicle.Speed");
    assert_eq!(response["data"]["dp"]["value"], "12.5");
}

#[test]
fn values_not_available_yet() {
    let mut fixture = Fixture::new();
    expect_error(
        &mut fixture,
        r#"{"action":"get","path":"Vehicle.Speed","requestId":"1"}"#,
        ("404", "unavailable_data", "Data temporarily unaccessible"),
    );
    let node = fixture.engine.tree().lookup("Vehicle.Speed").unwrap();
    fixture.feed("Vehicle.Speed", Value::Float(1.0));
    fixture.engine.mark_unavailable(node);
    expect_error(
        &mut fixture,
        r#"{"action":"get","path":"Vehicle.Speed","requestId":"1"}"#,
        ("404", "unavailable_data", "Data temporarily unaccessible"),
    );
}

#[test]
fn in_line_errors_can_be_turned_off() {
    let mut fixture = Fixture::with_config(EngineConfig {
        inline_errors: false,
        ..EngineConfig::default()
    });
    expect_error(
        &mut fixture,
        r#"{"action":"get","path":"Vehicle.Acceleration","requestId":"1"}"#,
        ("404", "unavailable_data", "Data temporarily unaccessible"),
    );
}

#[test]
fn set_validation() {
    let mut fixture = Fixture::new();
    let set = |path: &str, value: &str| {
        format!(r#"{{"action":"set","path":"{path}","value":{value},"requestId":"9"}}"#)
    };
    expect_error(
        &mut fixture,
        &set("Vehicle.Speed", r#""10""#),
        SENSOR_UPDATE,
    );
    expect_error(
        &mut fixture,
        &set("Vehicle.Cabin.DriverPosition", r#""1""#),
        SENSOR_UPDATE,
    );
    expect_error(&mut fixture, &set("Vehicle.Cabin", r#""1""#), BRANCH);
    expect_error(
        &mut fixture,
        &set("Vehicle.Cabin.Seat.Position", r#""abc""#),
        DATATYPE,
    );
    expect_error(
        &mut fixture,
        &set("Vehicle.Cabin.Seat.Position", "500"),
        DATATYPE,
    );
    expect_error(
        &mut fixture,
        &set("Vehicle.Cabin.Seat.Position", r#""5.5""#),
        DATATYPE,
    );
    expect_error(
        &mut fixture,
        &set("Vehicle.Cabin.Seat.Position", r#"["5"]"#),
        DATATYPE,
    );
    expect_error(
        &mut fixture,
        &set("Vehicle.Cabin.Seat.Position", r#""1001""#),
        OUTSIDE,
    );
    expect_error(
        &mut fixture,
        &set("Vehicle.Cabin.Seat.Position", r#""-1""#),
        OUTSIDE,
    );
    expect_error(
        &mut fixture,
        &set("Vehicle.Powertrain.Transmission.CurrentGear", r#""9""#),
        OUTSIDE,
    );
    expect_error(
        &mut fixture,
        &set("Vehicle.Powertrain.Transmission.CurrentGear", r#""300""#),
        OUTSIDE,
    );
    expect_error(
        &mut fixture,
        &set(
            "Vehicle.Powertrain.Transmission.PerformanceMode",
            r#""turbo""#,
        ),
        OUTSIDE,
    );
    expect_error(
        &mut fixture,
        &set("Vehicle.Body.Lights.IsHighBeamOn", r#""yes""#),
        DATATYPE,
    );
    expect_error(
        &mut fixture,
        &set("Vehicle.Body.Lights.IsHighBeamOn", "true"),
        DATATYPE,
    );
    expect_error(
        &mut fixture,
        &set("Vehicle.Body.Lights.IsHighBeamOn", "null"),
        BAD_VALUE,
    );
    expect_error(
        &mut fixture,
        &set("Vehicle.Cabin.Light.AmbientColors", "[]"),
        BAD_VALUE,
    );
    expect_error(
        &mut fixture,
        &set("Vehicle.Cabin.Light.AmbientColors", r#""red""#),
        DATATYPE,
    );
    expect_error(
        &mut fixture,
        &set("Vehicle.Cabin.Light.AmbientColors", r#"["viss-inline:x"]"#),
        DATATYPE,
    );
    expect_error(&mut fixture, &set("Vehicle.Nope", r#""1""#), UNKNOWN);
    expect_error(
        &mut fixture,
        r#"{"action":"set","path":"Vehicle.Body.Lights.IsHighBeamOn","requestId":"9"}"#,
        BAD_VALUE,
    );
    expect_error(
        &mut fixture,
        r#"{"action":"set","path":"Vehicle.Body.Lights.IsHighBeamOn","value":"true","filter":{"variant":"paths","parameter":["x"]},"requestId":"9"}"#,
        INCORRECT_FILTER,
    );
    // And the engine keeps going: valid sets of every value shape succeed.
    for (path, value) in [
        ("Vehicle.Body.Lights.IsHighBeamOn", r#""true""#),
        ("Vehicle.Powertrain.Transmission.CurrentGear", r#""-1""#),
        ("Vehicle.Cabin.Light.AmbientColors", r#"["red","blue"]"#),
        (
            "Vehicle.Cabin.Infotainment.Navigation.Destination",
            r#"{"Latitude":"57.7","Longitude":"11.9"}"#,
        ),
    ] {
        let response = fixture.send(&set(path, value));
        assert!(
            response.get("error").is_none(),
            "{path} = {value}: {response}"
        );
    }
}

#[test]
fn set_reaches_the_provider_and_the_target() {
    use std::sync::{Arc, Mutex};
    struct Recorder(Mutex<Vec<(String, Value)>>);
    impl viss_runtime::SetHook for Recorder {
        fn on_set(&self, _node: viss_runtime::NodeId, path: &str, value: &Value) {
            self.0
                .lock()
                .unwrap()
                .push((path.to_owned(), value.clone()));
        }

        /// Drives "hardware": the current value comes from the feeder.
        fn echoes_target(&self) -> bool {
            false
        }
    }
    let mut fixture = Fixture::new();
    let recorder = Arc::new(Recorder(Mutex::new(Vec::new())));
    fixture.engine.set_provider(recorder.clone());
    fixture.send(
        r#"{"action":"set","path":"Vehicle.Cabin.Seat.Position","value":"250","requestId":"1"}"#,
    );
    fixture.send(
        r#"{"action":"set","path":"Vehicle.Cabin.Seat.Position","value":"2500","requestId":"2"}"#,
    );
    assert_eq!(
        *recorder.0.lock().unwrap(),
        [("Vehicle.Cabin.Seat.Position".to_owned(), Value::UInt(250))]
    );
    // A provider driving hardware: get returns the current value (from the feeder), not the
    // target.
    let response =
        fixture.send(r#"{"action":"get","path":"Vehicle.Cabin.Seat.Position","requestId":"3"}"#);
    assert_eq!(error_of(&response).0, "404");
    fixture.feed("Vehicle.Cabin.Seat.Position", Value::UInt(200));
    let response =
        fixture.send(r#"{"action":"get","path":"Vehicle.Cabin.Seat.Position","requestId":"4"}"#);
    assert_eq!(response["data"]["dp"]["value"], "200");
}

/// Each tree of a forest has a hook of its own, and a mounted tree's hook gets the ids that
/// tree knows (so a typed tree's handles compare as they are); a tree without a hook keeps
/// state storage.
#[test]
fn each_tree_has_its_own_provider_with_its_own_ids() {
    use std::sync::{Arc, Mutex};
    use viss_runtime::{DynamicTree, Engine, Forest, NodeId, NodeKind, NodeSpec, SetHook};
    #[derive(Default)]
    struct Recorder(Mutex<Vec<(NodeId, String)>>);
    impl SetHook for Recorder {
        fn on_set(&self, node: NodeId, path: &str, _value: &Value) {
            self.0.lock().unwrap().push((node, path.to_owned()));
        }
    }
    let tree = |paths: &[&str]| {
        let mut builder = DynamicTree::builder();
        for path in paths {
            let name = path.rsplit('.').next().unwrap();
            let spec = NodeSpec::leaf(name, NodeKind::Actuator, "boolean");
            builder.insert_path(path, spec).unwrap();
        }
        builder.build()
    };
    let trailer = tree(&["Trailer.Axle.Lift", "Trailer.Light"]);
    let trailer_light = trailer.lookup("Trailer/Light").unwrap();
    let forest = Forest::new(tree(&["Vehicle.Horn"]))
        .with(tree(&["Caravan.Step"]))
        .unwrap()
        .with(trailer)
        .unwrap();
    let mut engine = Engine::with_forest(forest, EngineConfig::default());
    let (vehicle_hook, trailer_hook) =
        (Arc::new(Recorder::default()), Arc::new(Recorder::default()));
    engine.set_provider(vehicle_hook.clone());
    assert!(engine.set_tree_provider("Trailer", trailer_hook.clone()));
    assert!(!engine.set_tree_provider("Boat", trailer_hook.clone()));
    let mut session = engine.open_session();
    let mut out = Vec::new();
    for path in ["Vehicle.Horn", "Trailer.Light", "Caravan.Step"] {
        let request = format!(r#"{{"action":"set","path":"{path}","value":"true"}}"#);
        engine.handle(&mut session, request.as_bytes(), &mut out);
        let response: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert!(response.get("error").is_none(), "{path}: {response}");
    }
    let vehicle_horn = engine.forest().lookup("Vehicle/Horn").unwrap();
    assert_eq!(
        *vehicle_hook.0.lock().unwrap(),
        [(vehicle_horn, "Vehicle.Horn".to_owned())]
    );
    assert_eq!(
        *trailer_hook.0.lock().unwrap(),
        [(trailer_light, "Trailer.Light".to_owned())],
        "the trailer's own id, not the forest's"
    );
    assert_ne!(engine.forest().lookup("Trailer/Light"), Some(trailer_light));
    // No hook on the caravan: state storage, set then get returns the value.
    engine.handle(
        &mut session,
        br#"{"action":"get","path":"Caravan.Step"}"#,
        &mut out,
    );
    let response: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(response["data"]["dp"]["value"], "true", "{response}");
}

/// A derived tree mounted beside another numbers its handles from 0 like any tree:
/// `Engine::typed_tree` feeds and reads them at their place in the forest, where the
/// primary tree's typed API would hit the primary tree's node of the same number.
#[test]
fn a_mounted_derived_tree_is_fed_through_its_typed_view() {
    use viss_derive::VissTree;
    use viss_runtime::{
        Actuator, Engine, Forest, NodeId, Sensor, TypedEngine, VissError, VissTree as _,
    };

    #[derive(Debug, VissTree)]
    #[viss(root)]
    pub struct Vehicle {
        pub speed: Sensor<u16>,
    }

    #[derive(Debug, VissTree)]
    #[viss(root)]
    pub struct Trailer {
        pub weight: Sensor<u16>,
        pub light: Actuator<bool>,
    }

    let forest = Forest::new(Vehicle::TREE).with(Trailer::TREE).unwrap();
    let engine = Engine::with_forest(forest, EngineConfig::default());
    let now = jiff::Timestamp::now();
    // Same local id in both trees.
    assert_eq!(Vehicle::TREE.speed.id(), Trailer::TREE.weight.id());
    let trailer = engine.typed_tree("Trailer").unwrap();
    trailer.feed(Trailer::TREE.weight, 1200, now).unwrap();
    assert_eq!(trailer.current(Trailer::TREE.weight), Some(1200));
    assert_eq!(
        engine.current(Vehicle::TREE.speed),
        None,
        "the vehicle is untouched"
    );
    let vehicle = engine.typed_tree("Vehicle").unwrap();
    vehicle.feed(Vehicle::TREE.speed, 80, now).unwrap();
    assert_eq!(engine.current(Vehicle::TREE.speed), Some(80));
    assert_eq!(trailer.current(Trailer::TREE.weight), Some(1200));

    let mut session = engine.open_session();
    let mut out = Vec::new();
    engine.handle(
        &mut session,
        br#"{"action":"get","path":"Trailer.Weight","requestId":"1"}"#,
        &mut out,
    );
    let response: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(response["data"]["dp"]["value"], "1200", "{response}");
    engine.handle(
        &mut session,
        br#"{"action":"set","path":"Trailer.Light","value":"true","requestId":"2"}"#,
        &mut out,
    );
    assert_eq!(trailer.target(Trailer::TREE.light), Some(true));

    assert!(engine.typed_tree("Boat").is_none());
    let beyond = Sensor::<u16>::from_id(NodeId(Trailer::TREE.nodes().len() as u32));
    assert_eq!(trailer.feed(beyond, 1, now), Err(VissError::DataUnknown));
    assert_eq!(trailer.current(beyond), None);
}

#[test]
fn filters_with_the_wrong_method() {
    let mut fixture = Fixture::new();
    for variant in [
        r#"{"variant":"timebased","parameter":{"period":"100"}}"#,
        r#"{"variant":"change","parameter":{"logic-op":"ne","diff":"0"}}"#,
        r#"{"variant":"range","parameter":{"logic-op":"gt","boundary":"1"}}"#,
        r#"{"variant":"curvelog","parameter":{"maxerr":"1","bufsize":"10"}}"#,
    ] {
        expect_error(
            &mut fixture,
            &format!(
                r#"{{"action":"get","path":"Vehicle.Speed","filter":{variant},"requestId":"1"}}"#
            ),
            INCORRECT_FILTER,
        );
    }
    for variant in [
        r#"{"variant":"history","parameter":"PT1H"}"#,
        r#"{"variant":"metadata","parameter":"0"}"#,
    ] {
        expect_error(
            &mut fixture,
            &format!(
                r#"{{"action":"subscribe","path":"Vehicle.Speed","filter":{variant},"requestId":"1"}}"#
            ),
            INCORRECT_FILTER,
        );
    }
    // A range/change trigger path must not be a wildcard.
    expect_error(
        &mut fixture,
        r#"{"action":"subscribe","path":"Vehicle.Cabin","filter":[{"variant":"paths","parameter":["Door.*.*.IsOpen"]},{"variant":"change","parameter":{"logic-op":"ne","diff":"0"}}],"requestId":"1"}"#,
        INCORRECT_FILTER,
    );
}

#[test]
fn missing_or_invalid_filters() {
    let mut fixture = Fixture::new();
    let subscribe = |filter: &str| {
        format!(
            r#"{{"action":"subscribe","path":"Vehicle.Speed","filter":{filter},"requestId":"1"}}"#
        )
    };
    expect_error(
        &mut fixture,
        r#"{"action":"subscribe","path":"Vehicle.Speed","requestId":"1"}"#,
        BAD_FILTER,
    );
    for filter in [
        r#""timebased""#,
        "[]",
        r#"{"variant":"timebased"}"#,
        r#"{"parameter":{"period":"1"}}"#,
        r#"{"variant":"sometimes","parameter":"1"}"#,
        r#"{"variant":"paths","parameter":["Speed"]}"#,
        r#"{"variant":"timebased","parameter":{"period":"0"}}"#,
        r#"{"variant":"timebased","parameter":{"period":"-5"}}"#,
        r#"{"variant":"timebased","parameter":{"period":"1.5"}}"#,
        r#"{"variant":"timebased","parameter":{"period":100}}"#,
        r#"{"variant":"range","parameter":{"logic-op":"between","boundary":"1"}}"#,
        r#"{"variant":"range","parameter":[{"logic-op":"gt","boundary":"1"}]}"#,
        r#"{"variant":"range","parameter":[{"logic-op":"gt","boundary":"1","combination-op":"XOR"},{"logic-op":"lt","boundary":"5"}]}"#,
        r#"{"variant":"change","parameter":{"logic-op":"ne"}}"#,
        r#"{"variant":"curvelog","parameter":{"maxerr":"-1","bufsize":"10"}}"#,
        r#"{"variant":"curvelog","parameter":{"maxerr":"1","bufsize":"1"}}"#,
        r#"[{"variant":"timebased","parameter":{"period":"1"}},{"variant":"change","parameter":{"logic-op":"ne","diff":"0"}}]"#,
        r#"[{"variant":"paths","parameter":["Speed"]},{"variant":"paths","parameter":["Speed"]}]"#,
        r#"[{"variant":"paths","parameter":["Speed"]},{"variant":"timebased","parameter":{"period":"1"}},{"variant":"timebased","parameter":{"period":"1"}}]"#,
    ] {
        expect_error(&mut fixture, &subscribe(filter), BAD_FILTER);
    }
    expect_error(
        &mut fixture,
        &subscribe(r#"{"variant":"range","parameter":{"logic-op":"gt","boundary":"high"}}"#),
        DATATYPE,
    );
    let get = |filter: &str| {
        format!(r#"{{"action":"get","path":"Vehicle","filter":{filter},"requestId":"1"}}"#)
    };
    for filter in [
        r#"{"variant":"history","parameter":"P1W"}"#,
        r#"{"variant":"history","parameter":"P999D"}"#,
        r#"{"variant":"history","parameter":"PT"}"#,
        r#"{"variant":"history","parameter":"P1Y"}"#,
        r#"{"variant":"metadata","parameter":"-1"}"#,
        r#"{"variant":"metadata","parameter":["type"]}"#,
        r#"{"variant":"paths","parameter":[]}"#,
        r#"{"variant":"paths","parameter":["Cabin..Door"]}"#,
        r#"[{"variant":"history","parameter":"PT1H"},{"variant":"metadata","parameter":"1"}]"#,
    ] {
        expect_error(&mut fixture, &get(filter), BAD_FILTER);
    }
}

#[test]
fn filters_against_the_wrong_datatype() {
    let mut fixture = Fixture::new();
    let subscribe = |path: &str, filter: &str| {
        format!(r#"{{"action":"subscribe","path":"{path}","filter":{filter},"requestId":"1"}}"#)
    };
    expect_error(
        &mut fixture,
        &subscribe(
            "Vehicle.Body.Lights.IsHighBeamOn",
            r#"{"variant":"range","parameter":{"logic-op":"gt","boundary":"0"}}"#,
        ),
        DATATYPE,
    );
    expect_error(
        &mut fixture,
        &subscribe(
            "Vehicle.Cabin.Infotainment.Media.Played.Track",
            r#"{"variant":"curvelog","parameter":{"maxerr":"1","bufsize":"10"}}"#,
        ),
        DATATYPE,
    );
    expect_error(
        &mut fixture,
        &subscribe(
            "Vehicle.Cabin.Light.AmbientColors",
            r#"{"variant":"change","parameter":{"logic-op":"ne","diff":"0"}}"#,
        ),
        DATATYPE,
    );
    expect_error(
        &mut fixture,
        &subscribe(
            "Vehicle.Body.Lights.IsHighBeamOn",
            r#"{"variant":"change","parameter":{"logic-op":"gt","diff":"1"}}"#,
        ),
        BAD_FILTER,
    );
    expect_error(
        &mut fixture,
        &subscribe(
            "Vehicle.Cabin.Infotainment.Media.Played.Track",
            r#"{"variant":"change","parameter":{"logic-op":"gt","diff":"0"}}"#,
        ),
        BAD_FILTER,
    );
    expect_error(
        &mut fixture,
        &subscribe(
            "Vehicle.Acceleration",
            r#"{"variant":"change","parameter":{"logic-op":"ne","diff":"0"}}"#,
        ),
        BRANCH,
    );
}

#[test]
fn unsubscribe_errors() {
    let mut fixture = Fixture::new();
    expect_error(
        &mut fixture,
        r#"{"action":"unsubscribe","subscriptionId":"77","requestId":"1"}"#,
        UNKNOWN_ID,
    );
    expect_error(
        &mut fixture,
        r#"{"action":"unsubscribe","subscriptionId":"abc","requestId":"1"}"#,
        UNKNOWN_ID,
    );
    expect_error(
        &mut fixture,
        r#"{"action":"unsubscribe","requestId":"1"}"#,
        MALFORMED,
    );
    expect_error(
        &mut fixture,
        r#"{"action":"unsubscribe","subscriptionId":7,"requestId":"1"}"#,
        MALFORMED,
    );
    // Ids are per session: another session's id is unknown here.
    let id = fixture.subscribe(
        "Vehicle.Speed",
        r#"{"variant":"timebased","parameter":{"period":"100"}}"#,
    );
    let mut other = fixture.engine.open_session();
    let mut out = Vec::new();
    let request = format!(r#"{{"action":"unsubscribe","subscriptionId":"{id}","requestId":"1"}}"#);
    fixture
        .engine
        .handle(&mut other, request.as_bytes(), &mut out);
    let response: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(error_of(&response), UNKNOWN_ID);
    let twice = fixture.send(&request);
    assert!(twice.get("error").is_none());
    assert_eq!(
        error_of(&fixture.send(&request)),
        UNKNOWN_ID,
        "an id cannot be unsubscribed twice"
    );
}

#[test]
fn unsupported_features_are_404() {
    let mut fixture = Fixture::with_config(EngineConfig {
        history: None,
        ..EngineConfig::default()
    });
    let unsupported = ("404", "unavailable_data", "Unsupported feature");
    // Static-UID path compression needs UIDs the tree does not carry.
    expect_error(
        &mut fixture,
        r#"{"action":"get","path":"Vehicle.Speed","dc":"1+1","requestId":"1"}"#,
        unsupported,
    );
    expect_error(
        &mut fixture,
        r#"{"action":"get","path":"Vehicle.Speed","dc":"2+x","requestId":"1"}"#,
        MALFORMED,
    );
    expect_error(
        &mut fixture,
        r#"{"action":"get","path":"Vehicle.Speed","filter":{"variant":"history","parameter":"PT1H"},"requestId":"1"}"#,
        unsupported,
    );
}

#[test]
fn subscription_limit_is_configurable() {
    let mut fixture = Fixture::with_config(EngineConfig {
        max_subscriptions_per_session: 2,
        ..EngineConfig::default()
    });
    let filter = r#"{"variant":"timebased","parameter":{"period":"100"}}"#;
    let first = fixture.subscribe("Vehicle.Speed", filter);
    let second = fixture.subscribe("Vehicle.Speed", filter);
    assert_ne!(first, second);
    expect_error(
        &mut fixture,
        &format!(
            r#"{{"action":"subscribe","path":"Vehicle.Speed","filter":{filter},"requestId":"1"}}"#
        ),
        (
            "429",
            "too_many_requests",
            "Rate-limiting due to too many requests",
        ),
    );
}

#[test]
fn request_ids_are_echoed_escaped() {
    let mut fixture = Fixture::new();
    let response =
        fixture.send(r#"{"action":"get","path":"Vehicle.Nope","requestId":"a\"b\\c\u00e9\n"}"#);
    assert_eq!(response["requestId"], "a\"b\\c\u{e9}\n");
}

#[test]
fn a_terminated_subscription_ends_with_an_error_event() {
    let mut fixture = Fixture::new();
    let id = fixture.subscribe(
        "Vehicle.Speed",
        r#"{"variant":"change","parameter":{"logic-op":"ne","diff":"0"}}"#,
    );
    let numeric: u64 = id.parse().unwrap();
    assert!(fixture.engine.terminate(
        &mut fixture.session,
        numeric,
        viss_runtime::VissError::TokenExpired
    ));
    assert!(!fixture.engine.terminate(
        &mut fixture.session,
        numeric,
        viss_runtime::VissError::TokenExpired
    ));
    fixture.feed("Vehicle.Speed", Value::Float(1.0));
    fixture.feed("Vehicle.Speed", Value::Float(2.0));
    let events = fixture.events();
    assert_eq!(events.len(), 1, "only the error event: {events:?}");
    assert_eq!(events[0]["subscriptionId"], id.as_str());
    assert_eq!(
        error_of(&events[0]),
        ("401", "invalid_token", "Access token has expired")
    );
    let response = fixture.send(&format!(
        r#"{{"action":"unsubscribe","subscriptionId":"{id}","requestId":"1"}}"#
    ));
    assert_eq!(error_of(&response), UNKNOWN_ID);
}

#[test]
fn subscriptions_past_the_duration_limit_end_with_408() {
    let mut fixture = Fixture::with_config(EngineConfig {
        max_subscription_duration: Some(jiff::SignedDuration::from_secs(10)),
        max_subscriptions_per_session: 1,
        ..EngineConfig::default()
    });
    let id = fixture.subscribe(
        "Vehicle.Speed",
        r#"{"variant":"timebased","parameter":{"period":"4000"}}"#,
    );
    for step in [4_000, 4_000, 1_999] {
        fixture.advance(step);
        fixture.tick();
    }
    assert_eq!(
        fixture.events().len(),
        2,
        "two timebased events, no error yet"
    );
    fixture.advance(1);
    fixture.tick();
    let events = fixture.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["subscriptionId"], id.as_str());
    assert_eq!(
        error_of(&events[0]),
        (
            "408",
            "request_timeout",
            "Subscribe duration limit exceeded"
        )
    );
    fixture.advance(10_000);
    fixture.tick();
    assert!(fixture.events().is_empty(), "the subscription is over");
    let request = format!(r#"{{"action":"unsubscribe","subscriptionId":"{id}","requestId":"1"}}"#);
    assert_eq!(error_of(&fixture.send(&request)), UNKNOWN_ID);
    // The ended subscription no longer counts against the per-session limit.
    fixture.subscribe(
        "Vehicle.Speed",
        r#"{"variant":"timebased","parameter":{"period":"4000"}}"#,
    );
}
