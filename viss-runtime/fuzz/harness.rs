//! The engine every fuzz target drives: a small tree with every datatype (struct values
//! and arrays included), short subscription limits, and a manual clock.

use std::sync::{Arc, OnceLock};

use viss_runtime::{
    DataType, DynamicTree, Engine, EngineConfig, Literal, ManualClock, NodeKind, NodeSpec,
    ScalarType, StructMember, StructType, Value,
};

fn tree() -> DynamicTree {
    use NodeKind::{Actuator, Attribute, Sensor};
    let mut builder = DynamicTree::builder();
    let specs = [
        (
            "Vehicle.Speed",
            NodeSpec::leaf("Speed", Sensor, "float").min(0.0).max(300.0),
        ),
        (
            "Vehicle.Level",
            NodeSpec::leaf("Level", Sensor, "uint8").max(100.0),
        ),
        (
            "Vehicle.Gear",
            NodeSpec::leaf("Gear", Actuator, "int8").min(-1.0).max(8.0),
        ),
        (
            "Vehicle.Mode",
            NodeSpec::leaf("Mode", Actuator, "string").allowed(["a", "b"]),
        ),
        ("Vehicle.Flag", NodeSpec::leaf("Flag", Actuator, "boolean")),
        (
            "Vehicle.Colors",
            NodeSpec::leaf("Colors", Actuator, "string[]"),
        ),
        (
            "Vehicle.Dest",
            NodeSpec::leaf("Dest", Actuator, "Types.Location"),
        ),
        (
            "Vehicle.Door.Row1.Left.IsOpen",
            NodeSpec::leaf("IsOpen", Actuator, "boolean"),
        ),
        (
            "Vehicle.Door.Row1.Right.IsOpen",
            NodeSpec::leaf("IsOpen", Actuator, "boolean"),
        ),
        (
            "Vehicle.Seats",
            NodeSpec::leaf("Seats", Attribute, "uint8[]")
                .default_value(Literal::Array(vec!["2".into()].into())),
        ),
        (
            "Vehicle.CurrentLocation.Latitude",
            NodeSpec::leaf("Latitude", Sensor, "double"),
        ),
        (
            "Vehicle.CurrentLocation.Longitude",
            NodeSpec::leaf("Longitude", Sensor, "double"),
        ),
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
        members: vec![
            member("Latitude", ScalarType::Double),
            member("Longitude", ScalarType::Double),
        ]
        .into(),
    });
    builder.build()
}

pub struct Harness {
    pub engine: Engine<DynamicTree>,
    pub clock: Arc<ManualClock>,
}

pub fn harness() -> &'static Harness {
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

/// Feeds a few signals from `seed` and runs the timers, so subscriptions the input made
/// produce events.
pub fn stir(harness: &Harness, seed: u8) {
    let engine = &harness.engine;
    harness
        .clock
        .advance(jiff::SignedDuration::from_millis(100));
    let now = viss_runtime::Clock::now(harness.clock.as_ref());
    let _ = engine.update_path("Vehicle.Speed", Value::Float(f32::from(seed)), now);
    let _ = engine.update_path("Vehicle.Flag", Value::Bool(seed % 2 == 0), now);
    let _ = engine.update_path(
        "Vehicle.CurrentLocation.Latitude",
        Value::Double(f64::from(seed)),
        now,
    );
    let _ = engine.update_path("Vehicle.CurrentLocation.Longitude", Value::Double(1.0), now);
    engine.tick(now);
}
