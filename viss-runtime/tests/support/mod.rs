//! Shared test fixtures: a small tree holding every path the TRANSPORT examples use, the
//! standard VSS tree loaded from ../shared, a schema validator and request helpers.
#![allow(dead_code)]

pub mod corpus;
pub mod vss_json;
#[cfg(feature = "ws")]
pub mod ws;

use std::sync::Arc;

use jiff::Timestamp;
use serde_json::Value as Json;
use viss_runtime::{
    Clock, DynamicTree, Engine, EngineConfig, HistoryConfig, Literal, ManualClock, NodeKind,
    NodeSpec, Session, Value,
};

/// 2020-04-15T13:37:00Z, the time of the spec examples.
pub fn start_time() -> Timestamp {
    "2020-04-15T13:37:00Z".parse().expect("valid timestamp")
}

fn leaf(name: &str, kind: NodeKind, datatype: &str) -> NodeSpec {
    NodeSpec::leaf(name, kind, datatype)
}

/// The fixture tree (our own, shaped after the spec examples).
pub fn fixture_tree() -> DynamicTree {
    use NodeKind::{Actuator, Attribute, Sensor};
    let mut tree = DynamicTree::builder();
    let mut add = |path: &str, spec: NodeSpec| {
        tree.insert_path(path, spec).expect("fixture node");
    };
    add(
        "Vehicle.Speed",
        leaf("Speed", Sensor, "float")
            .unit("km/h")
            .min(0.0)
            .max(300.0)
            .description("Vehicle speed."),
    );
    add(
        "Vehicle.Powertrain.CombustionEngine.RPM",
        leaf("RPM", Sensor, "uint16")
            .unit("rpm")
            .max(20000.0)
            .description("Engine speed."),
    );
    add(
        "Vehicle.Powertrain.FuelSystem.HybridType",
        leaf("HybridType", Attribute, "string")
            .allowed(["UNKNOWN", "NOT_APPLICABLE", "MILD", "FULL"])
            .default_value(Literal::Scalar("UNKNOWN".into()))
            .description("Defines the hybrid type of the vehicle."),
    );
    add(
        "Vehicle.Powertrain.FuelSystem.Level",
        leaf("Level", Sensor, "uint8")
            .unit("percent")
            .min(0.0)
            .max(100.0)
            .description("Level in fuel tank."),
    );
    add(
        "Vehicle.Powertrain.FuelSystem.IsFuelLevelLow",
        leaf("IsFuelLevelLow", Sensor, "boolean"),
    );
    add(
        "Vehicle.Powertrain.Transmission.PerformanceMode",
        leaf("PerformanceMode", Actuator, "string")
            .allowed(["normal", "sport", "economy", "snow", "rain"]),
    );
    add(
        "Vehicle.Powertrain.Transmission.CurrentGear",
        leaf("CurrentGear", Actuator, "int8")
            .min(-1.0)
            .max(8.0)
            .comment("R is -1."),
    );
    for row in 1..=4 {
        for side in ["Left", "Right"] {
            add(
                &format!("Vehicle.Cabin.Door.Row{row}.{side}.IsOpen"),
                leaf("IsOpen", Actuator, "boolean"),
            );
        }
    }
    add(
        "Vehicle.Cabin.DriverPosition",
        leaf("DriverPosition", Attribute, "uint8").default_value(Literal::Scalar("1".into())),
    );
    add(
        "Vehicle.Cabin.SeatPosCount",
        leaf("SeatPosCount", Attribute, "uint8[]").default_value(Literal::Array(
            vec!["2".into(), "3".into(), "2".into()].into(),
        )),
    );
    add(
        "Vehicle.Cabin.Infotainment.Media.Played.Track",
        leaf("Track", Sensor, "string"),
    );
    add(
        "Vehicle.Cabin.Infotainment.Navigation.Destination",
        leaf("Destination", Actuator, "Types.Location"),
    );
    add(
        "Vehicle.Cabin.Seat.Position",
        leaf("Position", Actuator, "uint16").min(0.0).max(1000.0),
    );
    add(
        "Vehicle.Cabin.Light.AmbientColors",
        leaf("AmbientColors", Actuator, "string[]"),
    );
    for axis in ["Lateral", "Longitudinal", "Vertical"] {
        add(
            &format!("Vehicle.Acceleration.{axis}"),
            leaf(axis, Sensor, "float").unit("m/s^2"),
        );
    }
    add(
        "Vehicle.CurrentLocation.Latitude",
        leaf("Latitude", Sensor, "double").min(-90.0).max(90.0),
    );
    add(
        "Vehicle.CurrentLocation.Longitude",
        leaf("Longitude", Sensor, "double").min(-180.0).max(180.0),
    );
    add(
        "Vehicle.Body.Lights.IsHighBeamOn",
        leaf("IsHighBeamOn", Actuator, "boolean"),
    );
    add(
        "Vehicle.OldSignal",
        leaf("OldSignal", Sensor, "int32").deprecation("v5.0 removed"),
    );
    add("Vehicle.EmptyBranch.Nothing", NodeSpec::branch("Nothing"));
    add(
        "Server.Support.Protocol",
        leaf("Protocol", Attribute, "string[]")
            .default_value(Literal::Array(vec!["ws".into()].into())),
    );
    tree.build()
}

/// An engine over the fixture tree with a manual clock at [`start_time`].
pub struct Fixture {
    pub engine: Engine<DynamicTree>,
    pub clock: Arc<ManualClock>,
    pub session: Session,
    pub out: Vec<u8>,
}

impl Fixture {
    pub fn new() -> Self {
        Self::with_config(EngineConfig {
            history: Some(HistoryConfig {
                retention: jiff::SignedDuration::from_hours(72),
                max_samples: 100,
            }),
            ..EngineConfig::default()
        })
    }

    pub fn with_config(config: EngineConfig) -> Self {
        let clock = Arc::new(ManualClock::new(start_time()));
        let engine = Engine::with_clock(fixture_tree(), config, clock.clone());
        let session = engine.open_session();
        Self {
            engine,
            clock,
            session,
            out: Vec::new(),
        }
    }

    /// Sends `request` and returns the response parsed as JSON.
    pub fn send(&mut self, request: &str) -> Json {
        self.engine
            .handle(&mut self.session, request.as_bytes(), &mut self.out);
        serde_json::from_slice(&self.out).unwrap_or_else(|error| {
            panic!(
                "response is not JSON ({error}): {}",
                String::from_utf8_lossy(&self.out)
            )
        })
    }

    /// Feeds a value at the clock's current time plus nothing.
    pub fn feed(&self, path: &str, value: Value) {
        self.engine
            .update_path(path, value, self.clock.now())
            .expect("fixture update");
    }

    /// Feeds a value captured at `ts`.
    pub fn feed_at(&self, path: &str, value: Value, ts: Timestamp) {
        self.engine
            .update_path(path, value, ts)
            .expect("fixture update");
    }

    /// The fixture clock's time.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Runs the engine's timers at the clock's time.
    pub fn tick(&self) {
        self.engine.tick(self.clock.now());
    }

    /// Advances the clock by `millis`.
    pub fn advance(&self, millis: i64) {
        self.clock
            .advance(jiff::SignedDuration::from_millis(millis));
    }

    /// All queued events, parsed.
    pub fn events(&self) -> Vec<Json> {
        let mut events = Vec::new();
        let mut buffer = Vec::new();
        while self.session.next_event(&mut buffer) {
            events.push(serde_json::from_slice(&buffer).expect("event is JSON"));
        }
        events
    }

    /// Subscribes and returns the subscription id.
    pub fn subscribe(&mut self, path: &str, filter: &str) -> String {
        let response = self.send(&format!(
            r#"{{"action":"subscribe","path":"{path}","filter":{filter},"requestId":"sub"}}"#
        ));
        response["subscriptionId"]
            .as_str()
            .unwrap_or_else(|| panic!("subscribe failed: {response}"))
            .to_owned()
    }
}

/// `(number, reason, description)` of an error response.
pub fn error_of(response: &Json) -> (&str, &str, &str) {
    let error = &response["error"];
    (
        error["number"].as_str().unwrap_or(""),
        error["reason"].as_str().unwrap_or(""),
        error["description"].as_str().unwrap_or(""),
    )
}

/// The normative VISS v3.0 schema.
pub fn schema_validator() -> jsonschema::Validator {
    let path = test_support::shared_path("schemas/viss-v3-messages.schema.json");
    let text = std::fs::read_to_string(path).expect("schema readable");
    let schema: Json = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("schema compiles")
}

/// The `value` of a single data point response.
pub fn dp_value(response: &Json) -> &Json {
    &response["data"]["dp"]["value"]
}
