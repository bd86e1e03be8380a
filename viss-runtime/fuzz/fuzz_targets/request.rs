//! Arbitrary bytes as a VISS request: the engine must never panic, must always answer with
//! valid JSON, and every event it queues must be valid JSON too. The first byte picks the
//! session's version (VISSv3 or VISSv2), so both dialects' parsers and writers are fuzzed,
//! `dc` and struct values included.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use viss_runtime::{
    DataType, DynamicTree, Engine, EngineConfig, Literal, ManualClock, NodeKind, NodeSpec, ScalarType, StructMember,
    StructType, Value,
};

fn tree() -> DynamicTree {
    use NodeKind::{Actuator, Attribute, Sensor};
    let mut builder = DynamicTree::builder();
    let specs = [
        ("Vehicle.Speed", NodeSpec::leaf("Speed", Sensor, "float").min(0.0).max(300.0)),
        ("Vehicle.Level", NodeSpec::leaf("Level", Sensor, "uint8").max(100.0)),
        ("Vehicle.Gear", NodeSpec::leaf("Gear", Actuator, "int8").min(-1.0).max(8.0)),
        ("Vehicle.Mode", NodeSpec::leaf("Mode", Actuator, "string").allowed(["a", "b"])),
        ("Vehicle.Flag", NodeSpec::leaf("Flag", Actuator, "boolean")),
        ("Vehicle.Colors", NodeSpec::leaf("Colors", Actuator, "string[]")),
        ("Vehicle.Dest", NodeSpec::leaf("Dest", Actuator, "Types.Location")),
        ("Vehicle.Door.Row1.Left.IsOpen", NodeSpec::leaf("IsOpen", Actuator, "boolean")),
        ("Vehicle.Door.Row1.Right.IsOpen", NodeSpec::leaf("IsOpen", Actuator, "boolean")),
        ("Vehicle.Seats", NodeSpec::leaf("Seats", Attribute, "uint8[]").default_value(Literal::Array(vec!["2".into()].into()))),
        ("Vehicle.CurrentLocation.Latitude", NodeSpec::leaf("Latitude", Sensor, "double")),
        ("Vehicle.CurrentLocation.Longitude", NodeSpec::leaf("Longitude", Sensor, "double")),
    ];
    for (path, spec) in specs {
        let _ = builder.insert_path(path, spec);
    }
    let member = |name: &'static str, scalar| StructMember {
        name: name.into(),
        datatype: DataType::Scalar(scalar),
        min: Some(-180.0),
        max: Some(180.0),
        allowed: Vec::new().into(),
    };
    builder.struct_type(StructType {
        name: "Types.Location".into(),
        members: vec![member("Latitude", ScalarType::Double), member("Longitude", ScalarType::Double)].into(),
    });
    builder.build()
}

struct Harness {
    engine: Engine<DynamicTree>,
    clock: Arc<ManualClock>,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let clock = Arc::new(ManualClock::new(jiff::Timestamp::UNIX_EPOCH));
        let config = EngineConfig {
            queue_capacity: 16,
            max_subscriptions_per_session: 8,
            max_subscription_duration: Some(jiff::SignedDuration::from_millis(250)),
            ..EngineConfig::default()
        };
        let engine = Engine::with_clock(tree(), config, clock.clone());
        Harness { engine, clock }
    })
}

fuzz_target!(|data: &[u8]| {
    let harness = harness();
    let engine = &harness.engine;
    let version = if data.first().is_some_and(|byte| byte % 2 == 1) {
        viss_runtime::protocol::Version::V2
    } else {
        viss_runtime::protocol::Version::V3
    };
    let mut session = engine.open_session_for(version);
    let mut out = Vec::new();
    engine.handle(&mut session, data, &mut out);
    assert!(serde_json::from_slice::<serde_json::Value>(&out).is_ok(), "response is not JSON: {out:?}");
    // Exercise whatever subscription the input created.
    harness.clock.advance(jiff::SignedDuration::from_millis(100));
    let now = harness.clock.now_for_fuzz();
    let seed = data.first().copied().unwrap_or(0);
    let _ = engine.update_path("Vehicle.Speed", Value::Float(f32::from(seed)), now);
    let _ = engine.update_path("Vehicle.Flag", Value::Bool(seed % 2 == 0), now);
    let _ = engine.update_path("Vehicle.CurrentLocation.Latitude", Value::Double(f64::from(seed)), now);
    let _ = engine.update_path("Vehicle.CurrentLocation.Longitude", Value::Double(1.0), now);
    engine.tick(now);
    engine.handle(&mut session, data, &mut out);
    let mut event = Vec::new();
    while session.next_event(&mut event) {
        assert!(serde_json::from_slice::<serde_json::Value>(&event).is_ok(), "event is not JSON: {event:?}");
    }
    engine.close_session(&mut session);
});

trait NowForFuzz {
    fn now_for_fuzz(&self) -> jiff::Timestamp;
}

impl NowForFuzz for ManualClock {
    fn now_for_fuzz(&self) -> jiff::Timestamp {
        viss_runtime::Clock::now(self)
    }
}
