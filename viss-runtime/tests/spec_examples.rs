//! Every request example of the TRANSPORT WebSocket section, answered with a response of
//! the same shape as the example response (same members at every level, same
//! object-vs-array choices, all values strings).

mod support;

use serde_json::{Value as Json, json};
use support::{Fixture, dp_value, error_of};
use viss_runtime::{Value, VissTree};

/// True when `actual` has exactly the members of `expected` at every level, arrays where
/// it has arrays (element shapes compared with the first expected element) and strings
/// where it has strings.
fn assert_same_shape(actual: &Json, expected: &Json, at: &str) {
    match (actual, expected) {
        (Json::Object(actual_members), Json::Object(expected_members)) => {
            let mut actual_keys: Vec<_> = actual_members.keys().collect();
            let mut expected_keys: Vec<_> = expected_members.keys().collect();
            actual_keys.sort();
            expected_keys.sort();
            assert_eq!(actual_keys, expected_keys, "members at {at}: {actual}");
            for (name, member) in expected_members {
                assert_same_shape(&actual_members[name], member, &format!("{at}.{name}"));
            }
        }
        (Json::Array(actual_items), Json::Array(expected_items)) => {
            assert!(!actual_items.is_empty(), "empty array at {at}");
            if let Some(first) = expected_items.first() {
                for item in actual_items {
                    assert_same_shape(item, first, at);
                }
            }
        }
        (Json::String(_), Json::String(_)) => {}
        _ => panic!("shape differs at {at}: got {actual}, expected like {expected}"),
    }
}

fn ts_is_utc_millis(ts: &Json) {
    let text = ts.as_str().expect("ts is a string");
    assert!(
        text.ends_with('Z') && text.len() == 24,
        "ts `{text}` is not YYYY-MM-DDTHH:MM:SS.sssZ"
    );
}

#[test]
fn read() {
    let mut fixture = Fixture::new();
    fixture.feed("Vehicle.Powertrain.CombustionEngine.RPM", Value::UInt(2372));
    let response = fixture.send(
        r#"{"action":"get","path":"Vehicle.Powertrain.CombustionEngine.RPM","requestId":"8756"}"#,
    );
    let expected = json!({"action":"get","requestId":"8756","data":{"path":"Vehicle.Powertrain.CombustionEngine.RPM","dp":{"value":"2372","ts":"2020-04-15T13:37:00Z"}},"ts":"2020-04-15T13:37:05Z"});
    assert_same_shape(&response, &expected, "$");
    assert_eq!(dp_value(&response), "2372");
    assert_eq!(
        response["data"]["path"],
        "Vehicle.Powertrain.CombustionEngine.RPM"
    );
    assert_eq!(response["data"]["dp"]["ts"], "2020-04-15T13:37:00.000Z");
    ts_is_utc_millis(&response["ts"]);

    let error = fixture.send(
        r#"{"action":"get","path":"Vehicle.Powertrain.CombustionEngine.Nope","requestId":"8756"}"#,
    );
    let expected_error = json!({"action":"get","requestId":"8756","error":{"number":"404","reason":"unavailable_data","description":"The requested data was not found."},"ts":"2020-04-15T13:37:00Z"});
    assert_same_shape(&error, &expected_error, "$");
    assert_eq!(
        error_of(&error),
        ("404", "unavailable_data", "Data is unknown")
    );
}

#[test]
fn authorized_read() {
    let mut fixture = Fixture::new();
    fixture.feed("Vehicle.Powertrain.CombustionEngine.RPM", Value::UInt(2372));
    let response = fixture.send(r#"{"action":"get","path":"Vehicle.Powertrain.CombustionEngine.RPM","authorization":"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJuYW1...Zw_KSsds","requestId":"8657"}"#);
    let expected = json!({"action":"get","requestId":"8657","data":{"path":"Vehicle.Powertrain.CombustionEngine.RPM","dp":{"value":"2372","ts":"2020-04-15T13:37:00Z"}},"ts":"2020-04-15T13:37:01Z"});
    assert_same_shape(&response, &expected, "$");
    assert_eq!(response["requestId"], "8657");
}

#[test]
fn search_read() {
    let mut fixture = Fixture::new();
    fixture.feed("Vehicle.Cabin.Door.Row1.Left.IsOpen", Value::Bool(false));
    fixture.feed("Vehicle.Cabin.Door.Row4.Right.IsOpen", Value::Bool(true));
    let response = fixture.send(r#"{"action":"get","path":"Vehicle.Cabin","filter":{"variant":"paths","parameter":["Door.*.*.IsOpen","DriverPosition"]},"requestId":"5688"}"#);
    let expected = json!({"action":"get","data":[{"path":"Vehicle.Cabin.Door.Row1.Left.IsOpen","dp":{"value":"false","ts":"2020-04-15T13:37:00Z"}}],"requestId":"5688","ts":"2020-04-15T07:00:02Z"});
    assert_same_shape(&response, &expected, "$");
    let data = response["data"].as_array().expect("data array");
    assert_eq!(data.len(), 9, "8 doors + DriverPosition");
    assert_eq!(data[0]["path"], "Vehicle.Cabin.Door.Row1.Left.IsOpen");
    assert_eq!(data[0]["dp"]["value"], "false");
    assert_eq!(data[7]["path"], "Vehicle.Cabin.Door.Row4.Right.IsOpen");
    assert_eq!(data[7]["dp"]["value"], "true");
    assert_eq!(data[8]["path"], "Vehicle.Cabin.DriverPosition");
    assert_eq!(data[8]["dp"]["value"], "1");
    // Doors never fed are reported in-line (TRANSPORT §4.1.1).
    assert_eq!(data[1]["dp"]["value"], "viss-inline:Data-not-available");
}

#[test]
fn history_read() {
    let mut fixture = Fixture::new();
    let path = "Vehicle.Acceleration.Longitudinal";
    fixture.feed_at(
        path,
        Value::Float(0.123),
        "2020-04-15T13:00:00Z".parse().unwrap(),
    );
    fixture.feed_at(
        path,
        Value::Float(0.125),
        "2020-04-15T13:36:02Z".parse().unwrap(),
    );
    fixture.feed_at(
        path,
        Value::Float(0.2),
        "2020-04-15T13:36:59Z".parse().unwrap(),
    );
    let response = fixture.send(r#"{"action":"get","path":"Vehicle.Acceleration.Longitudinal","filter":{"variant":"history","parameter":"P2DT12H"},"requestId":"5688"}"#);
    let expected = json!({"action":"get","data":{"path":"Vehicle.Acceleration.Longitudinal","dp":[{"value":"0.123","ts":"2020-04-15T13:00:00Z"},{"value":"0.125","ts":"2020-04-15T13:37:02Z"}]},"requestId":"5688","ts":"2020-04-15T13:37:02Z"});
    assert_same_shape(&response, &expected, "$");
    let dps = response["data"]["dp"].as_array().expect("dp array");
    let values: Vec<&str> = dps.iter().map(|dp| dp["value"].as_str().unwrap()).collect();
    assert_eq!(
        values,
        ["0.123", "0.125"],
        "the current value 0.2 is excluded"
    );
}

#[test]
fn signal_discovery_read() {
    let mut fixture = Fixture::new();
    let response = fixture.send(r#"{"action":"get","path":"Vehicle.Powertrain.FuelSystem","filter":{"variant":"metadata","parameter":"2"},"requestId":"5687"}"#);
    assert_eq!(response["action"], "get");
    assert_eq!(response["requestId"], "5687");
    ts_is_utc_millis(&response["ts"]);
    let fuel = &response["metadata"]["FuelSystem"];
    assert_eq!(fuel["type"], "branch");
    let children = fuel["children"].as_object().expect("children object");
    assert!(children.contains_key("HybridType"));
    assert_eq!(children["HybridType"]["type"], "attribute");
    assert_eq!(
        response.as_object().unwrap().len(),
        4,
        "action, requestId, metadata, ts"
    );
}

#[test]
fn update() {
    let mut fixture = Fixture::new();
    let response = fixture.send(r#"{"action":"set","path":"Vehicle.Powertrain.Transmission.PerformanceMode","value":"sport","requestId":"5687"}"#);
    assert_same_shape(
        &response,
        &json!({"action":"set","requestId":"5687","ts":"2020-04-15T13:37:00Z"}),
        "$",
    );
    let target = fixture.engine.store().target(
        fixture
            .engine
            .tree()
            .lookup("Vehicle.Powertrain.Transmission.PerformanceMode")
            .unwrap(),
    );
    assert_eq!(
        target.map(|sample| sample.value),
        Some(Value::String("sport".into()))
    );

    let error = fixture.send(r#"{"action":"set","path":"Vehicle.Powertrain.Transmission.Nope","value":"sport","requestId":"5687"}"#);
    let expected_error = json!({"action":"set","requestId":"5687","error":{"number":"404","reason":"unavailable_data","description":"The requested data was not found."},"ts":"2020-04-15T13:37:00Z"});
    assert_same_shape(&error, &expected_error, "$");
}

#[test]
fn authorized_update() {
    let mut fixture = Fixture::new();
    let response = fixture.send(r#"{"action":"set","path":"Vehicle.Powertrain.Transmission.PerformanceMode","value":"sport","authorization":"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJuYW1...Zw_KSsds","requestId":"5687"}"#);
    assert_same_shape(
        &response,
        &json!({"action":"set","requestId":"5687","ts":"2020-04-15T13:37:00Z"}),
        "$",
    );
}

fn subscribe_response_shape() -> Json {
    json!({"action":"subscribe","subscriptionId":"12345","requestId":"6578","ts":"2020-04-15T13:37:00Z"})
}

fn single_event_shape() -> Json {
    json!({"action":"subscription","subscriptionId":"12345","data":{"path":"Vehicle.Powertrain.FuelSystem.Level","dp":{"value":"50","ts":"2020-04-15T13:37:00Z"}},"ts":"2020-04-15T13:37:00Z"})
}

#[test]
fn subscribe_timebased() {
    let mut fixture = Fixture::new();
    fixture.feed("Vehicle.Powertrain.FuelSystem.Level", Value::UInt(50));
    let response = fixture.send(r#"{"action":"subscribe","path":"Vehicle.Powertrain.FuelSystem.Level","filter":{"variant":"timebased","parameter":{"period":"500"}},"requestId":"6578"}"#);
    assert_same_shape(&response, &subscribe_response_shape(), "$");
    fixture.advance(499);
    fixture.tick();
    assert!(fixture.events().is_empty(), "no event before one period");
    fixture.advance(1);
    fixture.tick();
    let events = fixture.events();
    assert_eq!(events.len(), 1);
    assert_same_shape(&events[0], &single_event_shape(), "$");
    assert_eq!(events[0]["subscriptionId"], response["subscriptionId"]);
    assert_eq!(dp_value(&events[0]), "50");

    let error = fixture.send(r#"{"action":"subscribe","path":"Vehicle.Powertrain.FuelSystem.Nope","filter":{"variant":"timebased","parameter":{"period":"500"}},"requestId":"6578"}"#);
    let expected_error = json!({"action":"subscribe","requestId":"6578","error":{"number":"404","reason":"unavailable_data","description":"x"},"ts":"2020-04-15T13:37:00Z"});
    assert_same_shape(&error, &expected_error, "$");
}

#[test]
fn subscription_error_event_shape() {
    let mut out = Vec::new();
    viss_runtime::engine::write_error_event(
        &mut out,
        "12345",
        viss_runtime::VissError::TokenExpired,
        support::start_time(),
    );
    let event: Json = serde_json::from_slice(&out).unwrap();
    let expected = json!({"action":"subscription","subscriptionId":"12345","error":{"number":"401","reason":"expired_token","description":"Access token has expired."},"ts":"2020-04-15T13:37:00Z"});
    assert_same_shape(&event, &expected, "$");
    // The example's reason `expired_token` is outside the table (§18-Q8): 401 is invalid_token.
    assert_eq!(
        error_of(&event),
        ("401", "invalid_token", "Access token has expired")
    );
}

#[test]
fn authorized_subscribe_range() {
    let mut fixture = Fixture::new();
    let response = fixture.send(r#"{"action":"subscribe","path":"Vehicle.Powertrain.FuelSystem.Level","filter":{"variant":"range","parameter":[{"logic-op":"gt","boundary":"49"},{"logic-op":"lt","boundary":"51"}]},"authorization":"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJuYW1...Zw_KSsds","requestId":"6578"}"#);
    assert_same_shape(&response, &subscribe_response_shape(), "$");
    fixture.feed("Vehicle.Powertrain.FuelSystem.Level", Value::UInt(48));
    fixture.feed("Vehicle.Powertrain.FuelSystem.Level", Value::UInt(50));
    fixture.feed("Vehicle.Powertrain.FuelSystem.Level", Value::UInt(51));
    let events = fixture.events();
    assert_eq!(events.len(), 1, "only 50 is inside (49, 51)");
    assert_same_shape(&events[0], &single_event_shape(), "$");
    assert_eq!(dp_value(&events[0]), "50");
}

#[test]
fn curve_logging_subscribe() {
    let mut fixture = Fixture::new();
    fixture.feed("Vehicle.Powertrain.FuelSystem.Level", Value::UInt(50));
    let response = fixture.send(r#"{"action":"subscribe","path":"Vehicle.Powertrain.FuelSystem.Level","filter":{"variant":"curvelog","parameter":{"maxerr":"0.5","bufsize":"100"}},"requestId":"6578"}"#);
    assert_same_shape(&response, &subscribe_response_shape(), "$");
    let first = fixture.events();
    assert_eq!(first.len(), 1, "the curve's first point is sent at once");
    // A straight fall from 50 to 25 over 99 more samples: only the end point survives.
    for step in 1..100u64 {
        fixture.advance(1000);
        let level = 50.0 - 25.0 * step as f64 / 99.0;
        fixture.feed(
            "Vehicle.Powertrain.FuelSystem.Level",
            Value::UInt(level.round() as u64),
        );
    }
    let events = fixture.events();
    assert_eq!(events.len(), 1, "one event per full buffer");
    let expected = json!({"action":"subscription","subscriptionId":"12345","data":{"path":"Vehicle.Powertrain.FuelSystem.Level","dp":[{"value":"50","ts":"2020-04-15T13:38:00Z"},{"value":"25","ts":"2020-04-15T13:39:30Z"}]},"ts":"2020-04-15T13:37:00Z"});
    assert_same_shape(&events[0], &expected, "$");
    let dps = events[0]["data"]["dp"].as_array().unwrap();
    assert_eq!(dps.last().unwrap()["value"], "25");
}

#[test]
fn range_subscribe_or() {
    let mut fixture = Fixture::new();
    // The printed example has a duplicated `"filter":` key, which is not JSON (§18-Q20).
    let broken = fixture.send(r#"{"action":"subscribe","path":"Vehicle.Powertrain.FuelSystem.Level","filter": "filter":{"variant":"range","parameter":[{"logic-op":"lt","boundary":"50","combination-op":"OR"},{"logic-op":"gt","boundary":"55"}]},"requestId":"6578"}"#);
    assert_eq!(error_of(&broken).1, "bad_request");
    let response = fixture.send(r#"{"action":"subscribe","path":"Vehicle.Powertrain.FuelSystem.Level","filter":{"variant":"range","parameter":[{"logic-op":"lt","boundary":"50","combination-op":"OR"},{"logic-op":"gt","boundary":"55"}]},"requestId":"6578"}"#);
    assert_same_shape(&response, &subscribe_response_shape(), "$");
    for level in [51, 49, 53, 56] {
        fixture.feed("Vehicle.Powertrain.FuelSystem.Level", Value::UInt(level));
    }
    let values: Vec<String> = fixture
        .events()
        .iter()
        .map(|event| dp_value(event).as_str().unwrap().to_owned())
        .collect();
    assert_eq!(values, ["49", "56"]);
}

#[test]
fn change_subscribe() {
    let mut fixture = Fixture::new();
    fixture.feed("Vehicle.Powertrain.FuelSystem.Level", Value::UInt(20));
    let response = fixture.send(r#"{"action":"subscribe","path":"Vehicle.Powertrain.FuelSystem.Level","filter":{"variant":"change","parameter":{"logic-op":"gt","diff":"10"}},"requestId":"6578"}"#);
    assert_same_shape(&response, &subscribe_response_shape(), "$");
    for level in [25, 36, 40, 60] {
        fixture.feed("Vehicle.Powertrain.FuelSystem.Level", Value::UInt(level));
    }
    let events = fixture.events();
    let values: Vec<&str> = events
        .iter()
        .map(|event| dp_value(event).as_str().unwrap())
        .collect();
    assert_eq!(
        values,
        ["36", "60"],
        "rises of more than 10 between sequential captures"
    );
    assert_same_shape(&events[0], &single_event_shape(), "$");
}

#[test]
fn unsubscribe() {
    let mut fixture = Fixture::new();
    let id = fixture.subscribe(
        "Vehicle.Powertrain.FuelSystem.Level",
        r#"{"variant":"change","parameter":{"logic-op":"ne","diff":"0"}}"#,
    );
    let response = fixture.send(&format!(
        r#"{{"action":"unsubscribe","subscriptionId":"{id}","requestId":"5786"}}"#
    ));
    assert_same_shape(
        &response,
        &json!({"action":"unsubscribe","requestId":"5786","ts":"2020-04-15T13:37:00Z"}),
        "$",
    );
    fixture.feed("Vehicle.Powertrain.FuelSystem.Level", Value::UInt(1));
    assert!(fixture.events().is_empty(), "no events after unsubscribe");

    let error =
        fixture.send(r#"{"action":"unsubscribe","subscriptionId":"12345","requestId":"6578"}"#);
    let expected = json!({"action":"unsubscribe","requestId":"6578","error":{"number":"400","reason":"invalid_data","description":"Data present in the request is invalid."},"ts":"2020-04-15T13:37:00Z"});
    assert_same_shape(&error, &expected, "$");
    // TRANSPORT §4.1.2 (not the example, §18-Q9) gives the number for an unknown id.
    assert_eq!(
        error_of(&error),
        ("404", "unavailable_data", "Unknown subscription Id")
    );
}
