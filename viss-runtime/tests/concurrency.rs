//! The engine is shared by many connections and feeders at once.

mod support;

use std::sync::Arc;
use std::thread;

use support::fixture_tree;
use viss_runtime::{DynamicTree, Engine, EngineConfig, Session, Value};

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn engine_and_queues_are_send_and_sync() {
    assert_send_sync::<Engine<DynamicTree>>();
    assert_send_sync::<viss_runtime::EventQueue>();
    fn assert_send<T: Send>() {}
    assert_send::<Session>();
}

#[test]
fn connections_and_feeders_in_parallel() {
    let engine = Arc::new(Engine::new(
        fixture_tree(),
        EngineConfig {
            queue_capacity: 4,
            ..EngineConfig::default()
        },
    ));
    let feeder = {
        let engine = Arc::clone(&engine);
        thread::spawn(move || {
            for step in 0..2000u16 {
                let now = jiff::Timestamp::now();
                engine
                    .update_path("Vehicle.Speed", Value::Float(f32::from(step % 50)), now)
                    .unwrap();
                engine
                    .update_path(
                        "Vehicle.Powertrain.FuelSystem.Level",
                        Value::UInt(u64::from(step % 100)),
                        now,
                    )
                    .unwrap();
                if step % 100 == 0 {
                    engine.tick(now);
                }
            }
        })
    };
    let clients: Vec<_> = (0..4)
        .map(|client| {
            let engine = Arc::clone(&engine);
            thread::spawn(move || {
                let mut session = engine.open_session();
                let mut out = Vec::new();
                let subscribe = br#"{"action":"subscribe","path":"Vehicle.Speed","filter":{"variant":"change","parameter":{"logic-op":"ne","diff":"0"}},"requestId":"s"}"#;
                engine.handle(&mut session, subscribe, &mut out);
                assert!(!out.windows(7).any(|w| w == b"\"error\""));
                let mut answered = 0;
                for round in 0..500 {
                    let request = if round % 2 == 0 {
                        &br#"{"action":"get","path":"Vehicle.Powertrain.FuelSystem","requestId":"g"}"#[..]
                    } else {
                        &br#"{"action":"set","path":"Vehicle.Cabin.Seat.Position","value":"7","requestId":"s"}"#[..]
                    };
                    engine.handle(&mut session, request, &mut out);
                    answered += usize::from(serde_json::from_slice::<serde_json::Value>(&out).is_ok());
                    let mut event = Vec::new();
                    while session.next_event(&mut event) {
                        let parsed: serde_json::Value = serde_json::from_slice(&event).unwrap();
                        assert_eq!(parsed["action"], "subscription");
                    }
                }
                (client, answered, session.events().dropped())
            })
        })
        .collect();
    feeder.join().unwrap();
    for client in clients {
        let (_, answered, _dropped) = client.join().unwrap();
        assert_eq!(answered, 500);
    }
}
