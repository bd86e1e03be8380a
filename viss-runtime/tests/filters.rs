//! Filter semantics against hand-computed expectations.

mod support;

use jiff::Timestamp;
use serde_json::Value as Json;
use support::{Fixture, dp_value, error_of};
use viss_runtime::filter::curvelog::simplify;
use viss_runtime::{EngineConfig, Value};

fn values_of(events: &[Json]) -> Vec<String> {
    events
        .iter()
        .map(|event| dp_value(event).as_str().unwrap_or("?").to_owned())
        .collect()
}

fn range_events(filter: &str, levels: &[u64]) -> Vec<String> {
    let mut fixture = Fixture::new();
    fixture.subscribe(
        "Vehicle.Powertrain.FuelSystem.Level",
        &format!(r#"{{"variant":"range","parameter":{filter}}}"#),
    );
    for level in levels {
        fixture.feed("Vehicle.Powertrain.FuelSystem.Level", Value::UInt(*level));
    }
    values_of(&fixture.events())
}

#[test]
fn range_single_boundary_every_operator() {
    let levels = [4, 5, 6];
    let case =
        |op: &str| range_events(&format!(r#"{{"logic-op":"{op}","boundary":"5"}}"#), &levels);
    assert_eq!(case("eq"), ["5"]);
    assert_eq!(case("ne"), ["4", "6"]);
    assert_eq!(case("gt"), ["6"]);
    assert_eq!(case("gte"), ["5", "6"]);
    assert_eq!(case("lt"), ["4"]);
    assert_eq!(case("lte"), ["4", "5"]);
}

#[test]
fn range_and_both_ways() {
    let levels = [3, 5, 7, 10, 12];
    // 5 < x < 10 (inside)
    let inside = range_events(
        r#"[{"logic-op":"gt","boundary":"5"},{"logic-op":"lt","boundary":"10"}]"#,
        &levels,
    );
    assert_eq!(inside, ["7"]);
    // explicit AND, inclusive, boundaries reversed in order
    let inclusive = range_events(
        r#"[{"logic-op":"lte","boundary":"10","combination-op":"AND"},{"logic-op":"gte","boundary":"5"}]"#,
        &levels,
    );
    assert_eq!(inclusive, ["5", "7", "10"]);
    // an AND that can never hold
    let never = range_events(
        r#"[{"logic-op":"lt","boundary":"5"},{"logic-op":"gt","boundary":"10"}]"#,
        &levels,
    );
    assert!(never.is_empty());
}

#[test]
fn range_or_both_ways() {
    let levels = [3, 5, 7, 10, 12];
    // x < 5 OR x > 10 (outside)
    let outside = range_events(
        r#"[{"logic-op":"lt","boundary":"5","combination-op":"OR"},{"logic-op":"gt","boundary":"10"}]"#,
        &levels,
    );
    assert_eq!(outside, ["3", "12"]);
    // x > 5 OR x < 10 (always)
    let always = range_events(
        r#"[{"logic-op":"gt","boundary":"5","combination-op":"OR"},{"logic-op":"lt","boundary":"10"}]"#,
        &levels,
    );
    assert_eq!(always, ["3", "5", "7", "10", "12"]);
}

#[test]
fn range_is_evaluated_on_the_first_path_and_reports_all() {
    let mut fixture = Fixture::new();
    fixture.subscribe(
        "Vehicle.Powertrain",
        r#"[{"variant":"paths","parameter":["FuelSystem.Level","CombustionEngine.RPM"]},{"variant":"range","parameter":{"logic-op":"gt","boundary":"50"}}]"#,
    );
    fixture.feed("Vehicle.Powertrain.CombustionEngine.RPM", Value::UInt(3000));
    assert!(fixture.events().is_empty(), "RPM is not the trigger");
    fixture.feed("Vehicle.Powertrain.FuelSystem.Level", Value::UInt(60));
    let events = fixture.events();
    assert_eq!(events.len(), 1);
    let data = events[0]["data"]
        .as_array()
        .expect("two signals: data array");
    assert_eq!(data[0]["path"], "Vehicle.Powertrain.FuelSystem.Level");
    assert_eq!(data[0]["dp"]["value"], "60");
    assert_eq!(data[1]["dp"]["value"], "3000");
}

fn change_events<F: Fn(&Fixture, usize)>(
    path: &str,
    filter: &str,
    initial: Option<Value>,
    samples: usize,
    feed: F,
) -> Vec<String> {
    let mut fixture = Fixture::new();
    if let Some(initial) = initial {
        fixture.feed(path, initial);
    }
    fixture.subscribe(
        path,
        &format!(r#"{{"variant":"change","parameter":{filter}}}"#),
    );
    for index in 0..samples {
        feed(&fixture, index);
    }
    values_of(&fixture.events())
}

#[test]
fn change_on_booleans() {
    let path = "Vehicle.Body.Lights.IsHighBeamOn";
    let sequence = [true, true, false, true, false, false];
    let run = |op: &str| {
        change_events(
            path,
            &format!(r#"{{"logic-op":"{op}","diff":"0"}}"#),
            Some(Value::Bool(false)),
            sequence.len(),
            |fixture, index| {
                fixture.feed(path, Value::Bool(sequence[index]));
            },
        )
    };
    // previous: false → true, true, false, true, false, false
    assert_eq!(run("gt"), ["true", "true"], "false→true edges");
    assert_eq!(run("lt"), ["false", "false"], "true→false edges");
    assert_eq!(
        run("ne"),
        ["true", "false", "true", "false"],
        "every toggle"
    );
    assert_eq!(run("eq"), ["true", "false"], "unchanged samples");
}

#[test]
fn change_on_numbers() {
    let path = "Vehicle.Speed";
    let speeds = [10.0, 10.0, 25.5, 20.0, 4.0, 5.0];
    let run = |filter: &str| {
        change_events(
            path,
            filter,
            Some(Value::Float(0.0)),
            speeds.len(),
            |fixture, index| {
                fixture.feed(path, Value::Float(speeds[index]));
            },
        )
    };
    // deltas from the previous sample: +10, 0, +15.5, -5.5, -16, +1
    assert_eq!(
        run(r#"{"logic-op":"ne","diff":"0"}"#),
        ["10", "25.5", "20", "4", "5"]
    );
    assert_eq!(run(r#"{"logic-op":"gt","diff":"10"}"#), ["25.5"]);
    assert_eq!(run(r#"{"logic-op":"gte","diff":"10"}"#), ["10", "25.5"]);
    assert_eq!(run(r#"{"logic-op":"lt","diff":"-10"}"#), ["4"]);
    assert_eq!(run(r#"{"logic-op":"lte","diff":"-5.5"}"#), ["20", "4"]);
    assert_eq!(run(r#"{"logic-op":"eq","diff":"0"}"#), ["10"]);
}

#[test]
fn change_on_strings() {
    let path = "Vehicle.Cabin.Infotainment.Media.Played.Track";
    let tracks = ["a", "a", "b", "c", "c"];
    let run = |op: &str| {
        change_events(
            path,
            &format!(r#"{{"logic-op":"{op}","diff":"0"}}"#),
            None,
            tracks.len(),
            |fixture, index| {
                fixture.feed(path, Value::String(tracks[index].into()));
            },
        )
    };
    // No value at subscribe time: the first sample only becomes the reference.
    assert_eq!(run("ne"), ["b", "c"]);
    assert_eq!(run("eq"), ["a", "c"]);
}

#[test]
fn curvelog_rdp_on_a_known_curve() {
    // A triangle: up 0..3, down to 0. The line from the ends is v = 0; the peak is 3 off.
    let times = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    let values = [0.0, 1.0, 2.0, 3.0, 2.0, 1.0, 0.0];
    let mut keep = Vec::new();
    simplify(&times, &values, 1, 0.5, &mut keep);
    assert_eq!(keep, [true, false, false, true, false, false, true]);
    simplify(&times, &values, 1, 3.0, &mut keep);
    assert_eq!(
        keep,
        [true, false, false, false, false, false, true],
        "error 3 is not above maxerr 3"
    );
    // A bump of 0.4 survives maxerr 0.3 but not 0.5 (vertical error, not perpendicular).
    let bumpy = [0.0, 0.0, 0.4, 0.0, 0.0];
    simplify(&times[..5], &bumpy, 1, 0.3, &mut keep);
    assert_eq!(keep, [true, false, true, false, true]);
    simplify(&times[..5], &bumpy, 1, 0.5, &mut keep);
    assert_eq!(keep, [true, false, false, false, true]);
    // Two dimensions: each alone is 0.3 off, together sqrt(0.18) ≈ 0.42 off.
    let plane = [0.0, 0.0, 0.3, 0.3, 0.0, 0.0];
    simplify(&times[..3], &plane, 2, 0.4, &mut keep);
    assert_eq!(keep, [true, true, true]);
    simplify(&times[..3], &plane, 2, 0.45, &mut keep);
    assert_eq!(keep, [true, false, true]);
}

fn curvelog_points(events: &[Json]) -> Vec<(String, String)> {
    events
        .iter()
        .flat_map(|event| {
            let dp = &event["data"]["dp"];
            let points: Vec<Json> = match dp {
                Json::Array(points) => points.clone(),
                single => vec![single.clone()],
            };
            points
        })
        .map(|point| {
            let value = point["value"].as_str().expect("value string").to_owned();
            let ts = point["ts"].as_str().expect("ts string");
            (value, ts[17..19].to_owned())
        })
        .collect()
}

#[test]
fn curvelog_buffers_carry_over_and_flush() {
    let mut fixture = Fixture::new();
    let path = "Vehicle.Speed";
    let at = |second: i64| Timestamp::from_second(1_586_957_820 + second).unwrap();
    fixture.feed_at(path, Value::Float(0.0), at(0));
    let id = fixture.subscribe(
        path,
        r#"{"variant":"curvelog","parameter":{"maxerr":"0.5","bufsize":"4"}}"#,
    );
    // Samples at t=1..=8: 1, 2, 3 | 2, 1, 0 | 0, 5
    for (second, speed) in [
        (1, 1.0),
        (2, 2.0),
        (3, 3.0),
        (4, 2.0),
        (5, 1.0),
        (6, 0.0),
        (7, 0.0),
        (8, 5.0),
    ] {
        fixture.feed_at(path, Value::Float(speed), at(second));
    }
    let response = fixture.send(&format!(
        r#"{{"action":"unsubscribe","subscriptionId":"{id}","requestId":"u"}}"#
    ));
    assert!(response.get("error").is_none());
    let events = fixture.events();
    // Event 1: first point (t0). Buffer [t0..t3] on a line → t3 only. Buffer [t3..t6]: t3 is
    // carried (not resent), 3→0 is a line → t6. Flush at unsubscribe: [t6, t7, t8]: t7 is
    // 1.67 off the line 0→5 → kept, and t8.
    assert_eq!(events.len(), 4);
    let points = curvelog_points(&events);
    let expected: Vec<(String, String)> = [("0", 0), ("3", 3), ("0", 6), ("0", 7), ("5", 8)]
        .iter()
        .map(|(v, s)| (v.to_string(), format!("{s:02}")))
        .collect();
    assert_eq!(points, expected);
}

#[test]
fn curvelog_groups_dimensions() {
    let mut fixture = Fixture::new();
    let at = |second: i64| Timestamp::from_second(1_586_957_820 + second).unwrap();
    fixture.subscribe(
        "Vehicle.CurrentLocation",
        r#"{"variant":"curvelog","parameter":{"maxerr":"0.4","bufsize":"3"}}"#,
    );
    let _ = fixture.events();
    // Latitude and longitude each 0.3 off the straight line in the middle: together 0.42.
    for (second, latitude, longitude) in [(0, 0.0, 0.0), (1, 0.3, 0.3), (2, 0.0, 0.0)] {
        fixture.feed_at(
            "Vehicle.CurrentLocation.Latitude",
            Value::Double(latitude),
            at(second),
        );
        fixture.feed_at(
            "Vehicle.CurrentLocation.Longitude",
            Value::Double(longitude),
            at(second),
        );
    }
    let events = fixture.events();
    assert_eq!(
        events.len(),
        2,
        "first point, then one group event: {events:?}"
    );
    let data = events[1]["data"]
        .as_array()
        .expect("a group event carries both members");
    assert_eq!(data.len(), 2);
    assert_eq!(data[0]["path"], "Vehicle.CurrentLocation.Latitude");
    let kept: Vec<&str> = data[0]["dp"]
        .as_array()
        .unwrap()
        .iter()
        .map(|dp| dp["value"].as_str().unwrap())
        .collect();
    assert_eq!(
        kept,
        ["0.3", "0"],
        "the middle point is kept in both dimensions"
    );
    let same_times = |index: usize| data[0]["dp"][index]["ts"] == data[1]["dp"][index]["ts"];
    assert!(same_times(0) && same_times(1));
}

#[test]
fn history_windows() {
    let mut fixture = Fixture::new();
    let path = "Vehicle.Speed";
    let now = fixture.now();
    let ago = |seconds: i64| {
        now.checked_sub(jiff::SignedDuration::from_secs(seconds))
            .unwrap()
    };
    for (seconds, speed) in [
        (2 * 86_400, 1.0),
        (3 * 3600, 2.0),
        (20 * 60, 3.0),
        (30, 4.0),
        (1, 5.0),
    ] {
        fixture.feed_at(path, Value::Float(speed), ago(seconds));
    }
    let history = |fixture: &mut Fixture, period: &str| -> Result<Vec<String>, (String, String)> {
        let response = fixture.send(&format!(r#"{{"action":"get","path":"{path}","filter":{{"variant":"history","parameter":"{period}"}},"requestId":"h"}}"#));
        match response["data"]["dp"].as_array() {
            Some(points) => Ok(points
                .iter()
                .map(|point| point["value"].as_str().unwrap().to_owned())
                .collect()),
            None => Err((
                error_of(&response).0.to_owned(),
                error_of(&response).2.to_owned(),
            )),
        }
    };
    // The current value (5, captured 1 s ago) is never part of the history.
    assert_eq!(history(&mut fixture, "PT1M"), Ok(vec!["4".to_owned()]));
    assert_eq!(
        history(&mut fixture, "PT30M"),
        Ok(vec!["3".to_owned(), "4".to_owned()])
    );
    assert_eq!(
        history(&mut fixture, "PT3H"),
        Ok(vec!["2".to_owned(), "3".to_owned(), "4".to_owned()])
    );
    assert_eq!(
        history(&mut fixture, "P2D"),
        Ok(vec!["1", "2", "3", "4"]
            .into_iter()
            .map(String::from)
            .collect())
    );
    assert_eq!(
        history(&mut fixture, "P1DT0H0M0.5S").map(|points| points.len()),
        Ok(3)
    );
    assert_eq!(
        history(&mut fixture, "PT10S"),
        Err((
            "404".to_owned(),
            "The requested data was not found".to_owned()
        ))
    );
}

#[test]
fn history_is_bounded_by_retention_and_count() {
    let config = EngineConfig {
        history: Some(viss_runtime::HistoryConfig {
            retention: jiff::SignedDuration::from_secs(60),
            max_samples: 3,
        }),
        ..EngineConfig::default()
    };
    let mut fixture = Fixture::with_config(config);
    let start = fixture.now();
    for second in 0..10 {
        fixture.feed_at(
            "Vehicle.Speed",
            Value::Float(second as f32),
            start
                .checked_add(jiff::SignedDuration::from_secs(second))
                .unwrap(),
        );
    }
    fixture.clock.set(
        start
            .checked_add(jiff::SignedDuration::from_secs(10))
            .unwrap(),
    );
    let response = fixture.send(r#"{"action":"get","path":"Vehicle.Speed","filter":{"variant":"history","parameter":"P1D"},"requestId":"h"}"#);
    let values: Vec<&str> = response["data"]["dp"]
        .as_array()
        .unwrap()
        .iter()
        .map(|dp| dp["value"].as_str().unwrap())
        .collect();
    assert_eq!(
        values,
        ["7", "8"],
        "3 kept, the newest is the current value"
    );
    fixture.feed_at(
        "Vehicle.Speed",
        Value::Float(100.0),
        start
            .checked_add(jiff::SignedDuration::from_secs(200))
            .unwrap(),
    );
    let response = fixture.send(r#"{"action":"get","path":"Vehicle.Speed","filter":{"variant":"history","parameter":"P1D"},"requestId":"h"}"#);
    assert_eq!(
        error_of(&response).0,
        "404",
        "older samples aged out: {response}"
    );
}

#[test]
fn history_with_paths() {
    let mut fixture = Fixture::new();
    let earlier = fixture
        .now()
        .checked_sub(jiff::SignedDuration::from_secs(5))
        .unwrap();
    for axis in ["Lateral", "Longitudinal"] {
        let path = format!("Vehicle.Acceleration.{axis}");
        fixture.feed_at(&path, Value::Float(1.0), earlier);
        fixture.feed(&path, Value::Float(2.0));
    }
    let response = fixture.send(r#"{"action":"get","path":"Vehicle","filter":[{"variant":"paths","parameter":["Acceleration.*"]},{"variant":"history","parameter":"PT1M"}],"requestId":"h"}"#);
    let data = response["data"].as_array().expect("several signals");
    assert_eq!(data.len(), 2, "Vertical has no history: {response}");
    assert_eq!(data[1]["path"], "Vehicle.Acceleration.Longitudinal");
    assert_eq!(data[1]["dp"][0]["value"], "1");
}

fn metadata(fixture: &mut Fixture, path: &str, depth: &str) -> Json {
    let response = fixture.send(&format!(r#"{{"action":"get","path":"{path}","filter":{{"variant":"metadata","parameter":"{depth}"}},"requestId":"m"}}"#));
    response["metadata"].clone()
}

fn depth_of(node: &Json) -> usize {
    match node.get("children").and_then(Json::as_object) {
        Some(children) => 1 + children.values().map(depth_of).max().unwrap_or(0),
        None => 1,
    }
}

#[test]
fn metadata_depths() {
    let mut fixture = Fixture::new();
    let one = metadata(&mut fixture, "Vehicle.Powertrain", "1");
    assert_eq!(one["Powertrain"]["type"], "branch");
    assert!(
        one["Powertrain"].get("children").is_none(),
        "depth 1: only the node"
    );
    let two = metadata(&mut fixture, "Vehicle.Powertrain", "2");
    let children = two["Powertrain"]["children"].as_object().unwrap();
    let names: Vec<&str> = children.keys().map(String::as_str).collect();
    assert_eq!(names, ["CombustionEngine", "FuelSystem", "Transmission"]);
    assert_eq!(
        depth_of(&two["Powertrain"]),
        2,
        "depth 2: node and children"
    );
    let all = metadata(&mut fixture, "Vehicle.Powertrain", "0");
    assert_eq!(
        depth_of(&all["Powertrain"]),
        3,
        "depth 0: the whole subtree"
    );
    let level = &all["Powertrain"]["children"]["FuelSystem"]["children"]["Level"];
    assert_eq!(level["type"], "sensor");
    assert_eq!(level["datatype"], "uint8");
    assert_eq!(level["unit"], "percent");
    assert_eq!(level["min"], "0");
    assert_eq!(level["max"], "100");
    assert_eq!(level["description"], "Level in fuel tank.");
    let hybrid = &all["Powertrain"]["children"]["FuelSystem"]["children"]["HybridType"];
    assert_eq!(hybrid["allowed"][2], "MILD");
    assert_eq!(hybrid["default"], "UNKNOWN");
    let gear = &all["Powertrain"]["children"]["Transmission"]["children"]["CurrentGear"];
    assert_eq!(gear["comment"], "R is -1.");
    assert_eq!(gear["min"], "-1");
    let old = metadata(&mut fixture, "Vehicle.OldSignal", "0");
    assert_eq!(old["OldSignal"]["deprecation"], "v5.0 removed");
    let seats = metadata(&mut fixture, "Vehicle.Cabin.SeatPosCount", "0");
    assert_eq!(
        seats["SeatPosCount"]["default"],
        serde_json::json!(["2", "3", "2"])
    );
}

#[test]
fn metadata_with_paths() {
    let mut fixture = Fixture::new();
    let response = fixture.send(r#"{"action":"get","path":"Vehicle.Cabin","filter":[{"variant":"paths","parameter":["Door.Row1.*.IsOpen","Seat"]},{"variant":"metadata","parameter":"1"}],"requestId":"m"}"#);
    let members: Vec<&str> = response["metadata"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        members,
        [
            "Vehicle.Cabin.Door.Row1.Left.IsOpen",
            "Vehicle.Cabin.Door.Row1.Right.IsOpen",
            "Vehicle.Cabin.Seat"
        ]
    );
}

#[test]
fn paths_wildcards_branches_and_duplicates() {
    let mut fixture = Fixture::new();
    let response = fixture.send(r#"{"action":"get","path":"Vehicle.Cabin","filter":{"variant":"paths","parameter":["Door.Row2.Right.IsOpen","Door.*.*.IsOpen","Door/Row1"]},"requestId":"p"}"#);
    let paths: Vec<&str> = response["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths.len(), 8, "duplicates removed: {paths:?}");
    assert_eq!(
        paths[0], "Vehicle.Cabin.Door.Row2.Right.IsOpen",
        "the first expression stays first"
    );
    assert_eq!(
        paths[1], "Vehicle.Cabin.Door.Row1.Left.IsOpen",
        "then tree order"
    );
    // One string instead of an array (the HTTP example's form) and a branch end point.
    let response = fixture.send(r#"{"action":"get","path":"Vehicle","filter":{"variant":"paths","parameter":"Acceleration"},"requestId":"p"}"#);
    assert_eq!(response["data"].as_array().map(Vec::len), Some(3));
    // A single resolved leaf is answered with a data object.
    fixture.feed("Vehicle.Speed", Value::Float(3.0));
    let response = fixture.send(r#"{"action":"get","path":"Vehicle","filter":{"variant":"paths","parameter":["Speed"]},"requestId":"p"}"#);
    assert_eq!(response["data"]["path"], "Vehicle.Speed");
}

#[test]
fn timebased_events_carry_capture_times() {
    let mut fixture = Fixture::new();
    fixture.feed("Vehicle.Speed", Value::Float(10.0));
    let captured = fixture.now();
    fixture.subscribe(
        "Vehicle",
        r#"[{"variant":"paths","parameter":["Speed","Powertrain.FuelSystem.Level"]},{"variant":"timebased","parameter":{"period":"100"}}]"#,
    );
    for _ in 0..5 {
        fixture.advance(100);
        fixture.tick();
    }
    let events = fixture.events();
    assert_eq!(events.len(), 5);
    let data = events[4]["data"].as_array().unwrap();
    assert_eq!(data[0]["dp"]["value"], "10");
    assert_eq!(
        data[0]["dp"]["ts"].as_str().unwrap(),
        format!("{captured:.3}"),
        "unchanged value keeps its capture time"
    );
    assert_eq!(data[1]["dp"]["value"], "viss-inline:Data-not-available");
    // Falling behind does not cause a burst: one event per tick at most.
    fixture.advance(1000);
    fixture.tick();
    assert_eq!(fixture.events().len(), 1);
}

#[test]
fn slow_consumers_lose_their_oldest_events() {
    let mut fixture = Fixture::with_config(EngineConfig {
        queue_capacity: 3,
        ..EngineConfig::default()
    });
    fixture.subscribe(
        "Vehicle.Speed",
        r#"{"variant":"change","parameter":{"logic-op":"ne","diff":"0"}}"#,
    );
    let mut other = fixture.engine.open_session();
    let mut out = Vec::new();
    fixture.engine.handle(
        &mut other,
        br#"{"action":"subscribe","path":"Vehicle.Speed","filter":{"variant":"change","parameter":{"logic-op":"ne","diff":"0"}},"requestId":"o"}"#,
        &mut out,
    );
    for speed in 1..=5 {
        fixture.feed("Vehicle.Speed", Value::Float(speed as f32));
    }
    assert_eq!(
        fixture.session.events().dropped(),
        1,
        "the first sample only sets the reference; 4 events, capacity 3"
    );
    assert_eq!(values_of(&fixture.events()), ["3", "4", "5"]);
    assert_eq!(other.events().len(), 3, "every session has its own queue");
    // Closing a session ends its subscriptions.
    fixture.engine.close_session(&mut other);
    let mut drained = Vec::new();
    while other.next_event(&mut drained) {}
    fixture.feed("Vehicle.Speed", Value::Float(9.0));
    assert!(other.events().is_empty());
    assert_eq!(fixture.events().len(), 1);
}

#[test]
fn dropped_sessions_stop_receiving() {
    let fixture = Fixture::new();
    let mut session = fixture.engine.open_session();
    let mut out = Vec::new();
    fixture.engine.handle(
        &mut session,
        br#"{"action":"subscribe","path":"Vehicle.Speed","filter":{"variant":"change","parameter":{"logic-op":"ne","diff":"0"}},"requestId":"o"}"#,
        &mut out,
    );
    let queue = session.events().clone();
    drop(session);
    fixture.feed("Vehicle.Speed", Value::Float(1.0));
    fixture.feed("Vehicle.Speed", Value::Float(2.0));
    assert!(queue.is_empty());
    fixture.tick();
}

#[test]
fn subscription_ids_are_unique_per_session() {
    let mut fixture = Fixture::new();
    let filter = r#"{"variant":"timebased","parameter":{"period":"10"}}"#;
    let ids: Vec<String> = (0..5)
        .map(|_| fixture.subscribe("Vehicle.Speed", filter))
        .collect();
    let mut unique = ids.clone();
    unique.dedup();
    assert_eq!(unique.len(), 5);
    assert_eq!(fixture.session.subscription_count(), 5);
}
