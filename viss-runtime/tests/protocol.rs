//! The second conformance pass at the engine: set that round-trips, VISSv2 sessions, data
//! compression, error events that a full queue never drops, in-line errors that follow
//! their switch in events too, and the `Server` tree mounted beside the vehicle tree
//! (`docs/conformance.md`).

mod support;

use serde_json::{Value as Json, json};
use support::{Fixture, error_of, start_time};
use viss_runtime::capabilities::{Capabilities, Protocol};
use viss_runtime::protocol::Version;
use viss_runtime::{
    DynamicTree, Engine, EngineConfig, Forest, ManualClock, NodeKind, NodeSpec, Value,
};

fn v2_fixture() -> Fixture {
    let mut fixture = Fixture::new();
    fixture.session = fixture.engine.open_session_for(Version::V2);
    fixture
}

#[test]
fn set_then_get_and_set_then_event_without_a_provider() {
    let mut fixture = Fixture::new();
    let id = fixture.subscribe(
        "Vehicle.Cabin.Seat.Position",
        r#"{"variant":"change","parameter":{"logic-op":"ne","diff":"0"}}"#,
    );
    let set = fixture.send(
        r#"{"action":"set","path":"Vehicle.Cabin.Seat.Position","value":"250","requestId":"1"}"#,
    );
    assert!(set.get("error").is_none(), "{set}");
    let get =
        fixture.send(r#"{"action":"get","path":"Vehicle.Cabin.Seat.Position","requestId":"2"}"#);
    assert_eq!(get["data"]["dp"]["value"], "250", "{get}");
    fixture.send(
        r#"{"action":"set","path":"Vehicle.Cabin.Seat.Position","value":"300","requestId":"3"}"#,
    );
    let events = fixture.events();
    let values: Vec<&Json> = events
        .iter()
        .filter(|event| event["subscriptionId"] == id.as_str())
        .map(|event| &event["data"]["dp"]["value"])
        .collect();
    assert_eq!(values, [&json!("300")], "{events:?}");
}

#[test]
fn vissv2_sessions_speak_v2() {
    let mut fixture = v2_fixture();
    let error = fixture.send(r#"{"action":"get","path":"Vehicle.Nope","requestId":"1"}"#);
    assert_eq!(
        error["error"],
        json!({"number": 404, "reason": "unavailable_data", "message": "Data is unknown"})
    );
    // Subscribe without filter: the current value at once, then every new value.
    fixture.feed("Vehicle.Speed", Value::Float(10.5));
    let subscribed =
        fixture.send(r#"{"action":"subscribe","path":"Vehicle.Speed","requestId":"2"}"#);
    let id = subscribed["subscriptionId"].as_str().unwrap().to_owned();
    fixture.feed("Vehicle.Speed", Value::Float(10.5));
    fixture.feed("Vehicle.Speed", Value::Float(12.5));
    let values: Vec<Json> = fixture
        .events()
        .iter()
        .map(|event| event["data"]["dp"]["value"].clone())
        .collect();
    assert_eq!(values, [json!("10.5"), json!("10.5"), json!("12.5")]);
    // `type` filters and `boundary-op`.
    let range = fixture.send(
        r#"{"action":"subscribe","path":"Vehicle.Speed","filter":{"type":"range","parameter":{"boundary-op":"gt","boundary":"100"}},"requestId":"3"}"#,
    );
    assert!(range["subscriptionId"].is_string(), "{range}");
    // Unsubscribe echoes the id; an unknown one is 400 invalid_data, echoed too.
    let done = fixture.send(&format!(
        r#"{{"action":"unsubscribe","subscriptionId":"{id}","requestId":"4"}}"#
    ));
    assert_eq!(done["subscriptionId"], id.as_str(), "{done}");
    let unknown = fixture.send(r#"{"action":"unsubscribe","subscriptionId":"77","requestId":"5"}"#);
    assert_eq!(unknown["subscriptionId"], "77");
    assert_eq!(unknown["error"]["number"], 400);
    assert_eq!(unknown["error"]["reason"], "invalid_data");
    // static-metadata: the whole subtree.
    let metadata = fixture.send(
        r#"{"action":"get","path":"Vehicle.Cabin.Seat","filter":{"type":"static-metadata","parameter":""},"requestId":"6"}"#,
    );
    assert_eq!(
        metadata["metadata"]["Seat"]["children"]["Position"]["type"], "actuator",
        "{metadata}"
    );
}

#[test]
fn vissv3_sessions_refuse_the_v2_forms() {
    let mut fixture = Fixture::new();
    let bad_filter = ("400", "bad_request", "Missing or invalid filter");
    let typed = fixture.send(
        r#"{"action":"subscribe","path":"Vehicle.Speed","filter":{"type":"change","parameter":{"logic-op":"ne","diff":"0"}},"requestId":"1"}"#,
    );
    assert_eq!(error_of(&typed), bad_filter);
    let unfiltered =
        fixture.send(r#"{"action":"subscribe","path":"Vehicle.Speed","requestId":"2"}"#);
    assert_eq!(error_of(&unfiltered), bad_filter);
    let boundary_op = fixture.send(
        r#"{"action":"subscribe","path":"Vehicle.Speed","filter":{"variant":"range","parameter":{"boundary-op":"gt","boundary":"1"}},"requestId":"3"}"#,
    );
    assert_eq!(error_of(&boundary_op), bad_filter);
    let unknown = fixture.send(r#"{"action":"unsubscribe","subscriptionId":"77","requestId":"4"}"#);
    assert_eq!(error_of(&unknown).0, "404");
    assert!(unknown.get("subscriptionId").is_none());
}

#[test]
fn an_invalid_action_is_not_echoed_but_the_request_id_is() {
    let mut fixture = Fixture::new();
    for request in [
        r#"{"action":"fly","path":"Vehicle.Speed","requestId":"9"}"#,
        r#"{"path":"Vehicle.Speed","requestId":"9"}"#,
    ] {
        let response = fixture.send(request);
        assert!(response.get("action").is_none(), "{response}");
        assert_eq!(response["requestId"], "9");
        assert_eq!(error_of(&response).0, "400");
    }
}

#[test]
fn dc_compresses_paths_and_timestamps_and_decodes_back() {
    let mut fixture = Fixture::new();
    let captured = fixture.now() - jiff::SignedDuration::from_millis(123);
    fixture.feed_at("Vehicle.Speed", Value::Float(50.0), captured);
    let plain = fixture.send(r#"{"action":"get","path":"Vehicle.Speed","requestId":"1"}"#);
    let compressed =
        fixture.send(r#"{"action":"get","path":"Vehicle.Speed","dc":"2+1","requestId":"1"}"#);
    assert_eq!(compressed["data"]["path"], "0");
    assert_eq!(compressed["data"]["dp"]["ts"], "-123");
    // Decoding: the offset from the message ts gives the capture time back.
    let message: jiff::Timestamp = compressed["ts"].as_str().unwrap().parse().unwrap();
    let decoded = message + jiff::SignedDuration::from_millis(-123);
    let original: jiff::Timestamp = plain["data"]["dp"]["ts"].as_str().unwrap().parse().unwrap();
    assert_eq!(decoded, original);
    // A multi-path subscription: full paths first, then sorted indexes.
    fixture.feed("Vehicle.CurrentLocation.Latitude", Value::Double(1.0));
    fixture.feed("Vehicle.CurrentLocation.Longitude", Value::Double(2.0));
    let subscribed = fixture.send(
        r#"{"action":"subscribe","path":"Vehicle.CurrentLocation","dc":"2+0","filter":{"variant":"timebased","parameter":{"period":"100"}},"requestId":"2"}"#,
    );
    assert!(subscribed["subscriptionId"].is_string(), "{subscribed}");
    for _ in 0..2 {
        fixture.advance(100);
        fixture.tick();
    }
    let events = fixture.events();
    let paths = |event: &Json| -> Vec<String> {
        event["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item["path"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        paths(&events[0]),
        [
            "Vehicle.CurrentLocation.Latitude",
            "Vehicle.CurrentLocation.Longitude"
        ]
    );
    assert_eq!(paths(&events[1]), ["0", "1"]);
    let unsupported =
        fixture.send(r#"{"action":"get","path":"Vehicle.Speed","dc":"1+0","requestId":"3"}"#);
    assert_eq!(error_of(&unsupported).2, "Unsupported feature");
}

#[test]
fn error_events_survive_a_full_queue() {
    let mut fixture = Fixture::with_config(EngineConfig {
        queue_capacity: 2,
        max_subscription_duration: Some(jiff::SignedDuration::from_millis(500)),
        ..EngineConfig::default()
    });
    fixture.feed("Vehicle.Speed", Value::Float(1.0));
    let id = fixture.subscribe(
        "Vehicle.Speed",
        r#"{"variant":"timebased","parameter":{"period":"100"}}"#,
    );
    for _ in 0..6 {
        fixture.advance(100);
        fixture.tick();
    }
    let events = fixture.events();
    assert_eq!(events.len(), 2, "{events:?}");
    let last = &events[1];
    assert_eq!(last["subscriptionId"], id.as_str());
    assert_eq!(error_of(last).0, "408", "{events:?}");
}

#[test]
fn without_inline_errors_events_leave_missing_signals_out() {
    let mut fixture = Fixture::with_config(EngineConfig {
        inline_errors: false,
        ..EngineConfig::default()
    });
    fixture.feed("Vehicle.CurrentLocation.Latitude", Value::Double(1.0));
    fixture.subscribe(
        "Vehicle.CurrentLocation",
        r#"{"variant":"timebased","parameter":{"period":"100"}}"#,
    );
    fixture.advance(100);
    fixture.tick();
    let events = fixture.events();
    let event = events.first().expect("one event");
    assert_eq!(
        event["data"]["path"], "Vehicle.CurrentLocation.Latitude",
        "the missing longitude is left out: {event}"
    );
    let text = event.to_string();
    assert!(!text.contains("viss-inline"), "{text}");
    let read = fixture.send(r#"{"action":"get","path":"Vehicle.CurrentLocation","requestId":"1"}"#);
    assert_eq!(error_of(&read).0, "404");
}

#[test]
fn the_server_tree_is_served_beside_the_vehicle() {
    let mut capabilities = Capabilities::of_engine(&EngineConfig::default());
    capabilities.protocols.push(Protocol {
        name: "ws",
        port: 6443,
    });
    let mut vehicle = DynamicTree::builder();
    let speed = NodeSpec::leaf("Speed", NodeKind::Sensor, "float");
    vehicle.insert_path("Vehicle.Speed", speed).unwrap();
    let forest = Forest::new(vehicle.build())
        .with(capabilities.tree())
        .unwrap();
    let clock = std::sync::Arc::new(ManualClock::new(start_time()));
    let engine = Engine::with_forest_and_clock(forest, EngineConfig::default(), clock);
    let mut session = engine.open_session();
    let mut out = Vec::new();
    let mut send = |request: &str| -> Json {
        engine.handle(&mut session, request.as_bytes(), &mut out);
        serde_json::from_slice(&out).unwrap()
    };
    let protocols = send(r#"{"action":"get","path":"Server.Support.Protocol","requestId":"1"}"#);
    assert_eq!(
        protocols["data"]["dp"]["value"],
        json!(["ws"]),
        "{protocols}"
    );
    let port = send(
        r#"{"action":"get","path":"Server/Config/Protocol/Websocket/Primary/PortNum","requestId":"2"}"#,
    );
    assert_eq!(port["data"]["dp"]["value"], "6443");
    let metadata = send(
        r#"{"action":"get","path":"Server","filter":{"variant":"metadata","parameter":"2"},"requestId":"3"}"#,
    );
    assert_eq!(
        metadata["metadata"]["Server"]["children"]["Support"]["type"],
        "branch"
    );
    let set = send(
        r#"{"action":"set","path":"Server.Support.Protocol","value":["http"],"requestId":"4"}"#,
    );
    assert_eq!(error_of(&set).1, "invalid_data");
    engine
        .update_path("Vehicle.Speed", Value::Float(1.5), start_time())
        .unwrap();
    let vehicle = send(r#"{"action":"get","path":"Vehicle.Speed","requestId":"5"}"#);
    assert_eq!(vehicle["data"]["dp"]["value"], "1.5", "{vehicle}");
    let unknown = send(r#"{"action":"get","path":"Trailer.Weight","requestId":"6"}"#);
    assert_eq!(
        error_of(&unknown),
        ("404", "unavailable_data", "Data is unknown")
    );
    // The whole Server tree by wildcard paths.
    let everything = send(
        r#"{"action":"get","path":"Server","filter":{"variant":"paths","parameter":"Support.*"},"requestId":"7"}"#,
    );
    assert!(
        everything["data"]
            .as_array()
            .is_some_and(|items| items.len() >= 4),
        "{everything}"
    );
}

#[test]
fn feeders_get_a_typed_error_for_values_the_node_refuses() {
    let fixture = Fixture::new();
    let engine = &fixture.engine;
    let now = fixture.now();
    let latitude = "Vehicle.CurrentLocation.Latitude";
    assert_eq!(
        engine.update_path(latitude, Value::Double(91.0), now),
        Err(viss_runtime::VissError::OutsideLimit)
    );
    assert_eq!(
        engine.update_path(latitude, Value::Bool(true), now),
        Err(viss_runtime::VissError::IncorrectDataType)
    );
    assert!(
        engine
            .store()
            .current(engine.forest().lookup(latitude).unwrap())
            .is_none()
    );
    let mode = "Vehicle.Powertrain.Transmission.PerformanceMode";
    for (text, expected) in [
        (
            "viss-inline:Data-not-available",
            Err(viss_runtime::VissError::IncorrectDataType),
        ),
        ("TURBO", Err(viss_runtime::VissError::OutsideLimit)),
        ("sport", Ok(())),
    ] {
        assert_eq!(
            engine.update_path(mode, Value::String(text.into()), now),
            expected,
            "{text}"
        );
    }
    assert!(
        engine
            .update_path(latitude, Value::Double(45.0), now)
            .is_ok()
    );
}
