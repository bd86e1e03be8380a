//! The engine's message corpus: requests of every action and filter, valid and invalid, sent
//! through a fixture engine on an empty and on a fed store, then subscriptions driven by
//! samples and timers, unsubscribed (curvelog flushes) and ended by an error event. Every
//! request and every message the engine writes is shown to the caller (schema validation,
//! the protobuf round trip).

use serde_json::Value as Json;
use viss_runtime::{Value, VissTree};

use super::Fixture;

/// One thing the corpus run shows its observer.
#[derive(Debug)]
pub enum Seen<'a> {
    /// A request about to be sent.
    Request(&'a str),
    /// A response or event, with what produced it.
    Message(&'a Json, &'a str),
}

/// What a run produced.
#[derive(Debug)]
pub struct Run {
    pub requests: usize,
    /// Responses carrying `error`.
    pub errors: usize,
    /// Events of the drive phase (samples, timers, flushes, the error event).
    pub events: usize,
}

/// Runs the corpus, showing every request and message to `observe`.
pub fn run(mut observe: impl FnMut(Seen<'_>)) -> Run {
    let mut fixture = Fixture::new();
    let requests = requests(fixture.engine.tree());
    assert!(
        requests.len() >= 200,
        "corpus has {} requests",
        requests.len()
    );
    let mut errors = 0;
    for round in 0..2 {
        // Round 0 on an empty store (404s, in-line errors), round 1 with values and history.
        if round == 1 {
            feed_some(&fixture);
            fixture.advance(1000);
            feed_some(&fixture);
        }
        for request in &requests {
            observe(Seen::Request(request));
            let response = fixture.send(request);
            errors += usize::from(response.get("error").is_some());
            observe(Seen::Message(&response, request));
            for event in fixture.events() {
                observe(Seen::Message(&event, "event"));
            }
        }
    }
    // Drive the subscriptions: samples, timers, curvelog buffers.
    let mut events = 0;
    for step in 0..20u32 {
        fixture.advance(60);
        for (path, value) in [
            (
                "Vehicle.Speed",
                Value::Float(f32::from(u16::try_from(step % 7).expect("small"))),
            ),
            (
                "Vehicle.Body.Lights.IsHighBeamOn",
                Value::Bool(step % 2 == 0),
            ),
            (
                "Vehicle.Cabin.Infotainment.Media.Played.Track",
                Value::String(format!("t{}", step % 3).into()),
            ),
            (
                "Vehicle.Acceleration.Lateral",
                Value::Float(step as f32 / 3.0),
            ),
        ] {
            fixture.feed(path, value);
        }
        let now = fixture.now();
        fixture.feed_at(
            "Vehicle.CurrentLocation.Latitude",
            Value::Double(f64::from(step) * 0.1),
            now,
        );
        fixture.feed_at(
            "Vehicle.CurrentLocation.Longitude",
            Value::Double(f64::from(step % 4)),
            now,
        );
        fixture.tick();
        for event in fixture.events() {
            observe(Seen::Message(&event, "event"));
            events += 1;
        }
    }
    // Unsubscribing curvelog subscriptions flushes their last points.
    for id in 1..40 {
        fixture.send(&format!(
            r#"{{"action":"unsubscribe","subscriptionId":"{id}","requestId":"end"}}"#
        ));
        for event in fixture.events() {
            observe(Seen::Message(&event, "flush event"));
            events += 1;
        }
    }
    // Error events (a subscription ended by the transport, e.g. on token expiry).
    let id = fixture.subscribe(
        "Vehicle.Speed",
        r#"{"variant":"timebased","parameter":{"period":"10"}}"#,
    );
    let id: u64 = id.parse().expect("numeric id");
    assert!(fixture.engine.terminate(
        &mut fixture.session,
        id,
        viss_runtime::VissError::TokenExpired
    ));
    for event in fixture.events() {
        observe(Seen::Message(&event, "error event"));
        events += 1;
    }
    Run {
        requests: requests.len(),
        errors,
        events,
    }
}

/// Requests of every action and filter, valid and invalid.
pub fn requests(tree: &viss_runtime::DynamicTree) -> Vec<String> {
    let mut requests = Vec::new();
    let leaves: Vec<String> = tree
        .nodes()
        .iter()
        .filter(|node| node.datatype.is_some())
        .map(|node| node.path.to_string())
        .collect();
    let branches = [
        "Vehicle",
        "Vehicle.Cabin",
        "Vehicle.Powertrain",
        "Vehicle.Acceleration",
        "Server",
        "Vehicle.Cabin.Door.Row1",
    ];
    // get: every leaf, dot and slash, plus branches.
    for (index, path) in leaves.iter().enumerate() {
        requests.push(format!(
            r#"{{"action":"get","path":"{path}","requestId":"g{index}"}}"#
        ));
        requests.push(format!(
            r#"{{"action":"get","path":"{}","requestId":"s{index}"}}"#,
            path.replace('.', "/")
        ));
    }
    for path in branches {
        requests.push(format!(
            r#"{{"action":"get","path":"{path}","requestId":"b"}}"#
        ));
        for depth in 0..=3 {
            requests.push(format!(r#"{{"action":"get","path":"{path}","filter":{{"variant":"metadata","parameter":"{depth}"}},"requestId":"m"}}"#));
        }
    }
    for filter in [
        r#"{"variant":"paths","parameter":["Door.*.*.IsOpen","DriverPosition"]}"#,
        r#"{"variant":"paths","parameter":"Door.*.*.IsOpen"}"#,
        r#"{"variant":"paths","parameter":["Seat"]}"#,
        r#"{"variant":"paths","parameter":["*"]}"#,
        r#"{"variant":"paths","parameter":["Nope"]}"#,
        r#"{"variant":"paths","parameter":[]}"#,
        r#"{"variant":"paths","parameter":[1]}"#,
        r#"[{"variant":"paths","parameter":["Door.*.*.IsOpen"]},{"variant":"metadata","parameter":"1"}]"#,
        r#"[{"variant":"paths","parameter":["Seat.Position"]},{"variant":"history","parameter":"PT1H"}]"#,
        r#"{"variant":"history","parameter":"PT1H"}"#,
        r#"{"variant":"history","parameter":"P1W"}"#,
        r#"{"variant":"metadata","parameter":"x"}"#,
        r#"{"variant":"timebased","parameter":{"period":"100"}}"#,
        r#"{"variant":"change","parameter":{"logic-op":"ne","diff":"0"}}"#,
        r#"{"variant":"range","parameter":{"logic-op":"gt","boundary":"1"}}"#,
        r#"{"variant":"curvelog","parameter":{"maxerr":"1","bufsize":"5"}}"#,
        r#"{"variant":"nope","parameter":"1"}"#,
        r#"{"variant":"paths"}"#,
        r#"[]"#,
        r#""paths""#,
    ] {
        requests.push(format!(
            r#"{{"action":"get","path":"Vehicle.Cabin","filter":{filter},"requestId":"f"}}"#
        ));
    }
    for history_path in [
        "Vehicle.Speed",
        "Vehicle.Acceleration.Longitudinal",
        "Vehicle.Cabin.Seat.Position",
    ] {
        for period in [
            "PT1S", "PT1M", "PT1H", "P1D", "P2DT12H", "P998D", "P999D", "PT0.5S", "X",
        ] {
            requests.push(format!(r#"{{"action":"get","path":"{history_path}","filter":{{"variant":"history","parameter":"{period}"}},"requestId":"h"}}"#));
        }
    }
    // set: valid and invalid values for every leaf kind.
    for path in &leaves {
        for value in [
            r#""1""#,
            r#""true""#,
            r#""sport""#,
            r#"["a","b"]"#,
            r#"{"Latitude":"1","Longitude":"2"}"#,
            "1",
            "null",
        ] {
            requests.push(format!(
                r#"{{"action":"set","path":"{path}","value":{value},"requestId":"set"}}"#
            ));
        }
    }
    requests.push(
        r#"{"action":"set","path":"Vehicle.Cabin","value":"1","requestId":"set"}"#.to_owned(),
    );
    requests.push(r#"{"action":"set","value":"1","requestId":"set"}"#.to_owned());
    // subscribe: every variant on numeric, boolean and string signals, valid and invalid.
    let subscribe_filters = [
        r#"{"variant":"timebased","parameter":{"period":"100"}}"#,
        r#"{"variant":"timebased","parameter":{"period":"0"}}"#,
        r#"{"variant":"range","parameter":{"logic-op":"gt","boundary":"1"}}"#,
        r#"{"variant":"range","parameter":[{"logic-op":"lt","boundary":"1","combination-op":"OR"},{"logic-op":"gt","boundary":"5"}]}"#,
        r#"{"variant":"range","parameter":[{"logic-op":"lt","boundary":"1"}]}"#,
        r#"{"variant":"change","parameter":{"logic-op":"ne","diff":"0"}}"#,
        r#"{"variant":"change","parameter":{"logic-op":"gt","diff":"2"}}"#,
        r#"{"variant":"curvelog","parameter":{"maxerr":"0.5","bufsize":"3"}}"#,
        r#"{"variant":"curvelog","parameter":{"maxerr":"x","bufsize":"3"}}"#,
        r#"{"variant":"history","parameter":"PT1H"}"#,
        r#"{"variant":"metadata","parameter":"0"}"#,
        r#"{"variant":"paths","parameter":["Speed"]}"#,
    ];
    for path in [
        "Vehicle.Speed",
        "Vehicle.Body.Lights.IsHighBeamOn",
        "Vehicle.Cabin.Infotainment.Media.Played.Track",
        "Vehicle.Nope",
    ] {
        for filter in subscribe_filters {
            requests.push(format!(
                r#"{{"action":"subscribe","path":"{path}","filter":{filter},"requestId":"sub"}}"#
            ));
        }
    }
    for combined in [
        r#"[{"variant":"paths","parameter":["Speed","Acceleration.*"]},{"variant":"change","parameter":{"logic-op":"ne","diff":"0"}}]"#,
        r#"[{"variant":"paths","parameter":["CurrentLocation"]},{"variant":"curvelog","parameter":{"maxerr":"0.1","bufsize":"3"}}]"#,
        r#"[{"variant":"paths","parameter":["Acceleration.*"]},{"variant":"range","parameter":{"logic-op":"gt","boundary":"0"}}]"#,
        r#"[{"variant":"paths","parameter":["Speed"]},{"variant":"timebased","parameter":{"period":"50"}}]"#,
    ] {
        requests.push(format!(
            r#"{{"action":"subscribe","path":"Vehicle","filter":{combined},"requestId":"sub"}}"#
        ));
    }
    requests.push(r#"{"action":"subscribe","path":"Vehicle.Speed","requestId":"sub"}"#.to_owned());
    requests.push(r#"{"action":"subscribe","path":"Vehicle.Speed","dc":"2+1","filter":{"variant":"timebased","parameter":{"period":"100"}},"requestId":"sub"}"#.to_owned());
    // unsubscribe: ids 1..=12 exist (some), others do not.
    for id in ["1", "2", "3", "4", "999", "x", ""] {
        requests.push(format!(
            r#"{{"action":"unsubscribe","subscriptionId":"{id}","requestId":"un"}}"#
        ));
    }
    requests.push(r#"{"action":"unsubscribe","requestId":"un"}"#.to_owned());
    // malformed envelopes.
    for malformed in [
        "",
        "{",
        "[]",
        "null",
        r#"{"path":"Vehicle.Speed","requestId":"x"}"#,
        r#"{"action":"fly","path":"Vehicle.Speed","requestId":"x"}"#,
        r#"{"action":"subscription","subscriptionId":"1","requestId":"x"}"#,
        r#"{"action":["get"],"path":"Vehicle.Speed"}"#,
        r#"{"action":"get","path":"Vehicle.Speed","requestId":5}"#,
        r#"{"action":"get","path":5,"requestId":"x"}"#,
        r#"{"action":"get","path":"Vehicle.*","requestId":"x"}"#,
    ] {
        requests.push(malformed.to_owned());
    }
    requests
}

fn feed_some(fixture: &Fixture) {
    for (path, value) in [
        ("Vehicle.Speed", Value::Float(42.5)),
        ("Vehicle.Powertrain.CombustionEngine.RPM", Value::UInt(2372)),
        ("Vehicle.Powertrain.FuelSystem.Level", Value::UInt(50)),
        ("Vehicle.Acceleration.Longitudinal", Value::Float(0.125)),
        ("Vehicle.Cabin.Door.Row1.Left.IsOpen", Value::Bool(true)),
        ("Vehicle.Cabin.Seat.Position", Value::UInt(100)),
        (
            "Vehicle.Cabin.Infotainment.Media.Played.Track",
            Value::String("Fly \"me\"\n".into()),
        ),
        (
            "Vehicle.Cabin.Light.AmbientColors",
            Value::Array(vec![Value::String("red".into())]),
        ),
        (
            "Vehicle.Cabin.Infotainment.Navigation.Destination",
            Value::Struct(vec![("Latitude".into(), Value::String("1".into()))]),
        ),
    ] {
        fixture.feed(path, value);
    }
}
