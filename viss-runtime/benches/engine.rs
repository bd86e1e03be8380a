//! Request bytes → response bytes on the standard VSS tree (≈1,720 nodes): get of a
//! numeric leaf, get with a wildcard `paths` filter, set, and one feeder sample fanned out
//! to 1,000 change subscriptions.

#[path = "../tests/support/vss_json.rs"]
mod vss_json;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use jiff::Timestamp;
use viss_runtime::{DynamicTree, Engine, EngineConfig, Session, Value, VissTree};

fn engine() -> Engine<DynamicTree> {
    let engine = Engine::new(vss_json::standard_tree(), EngineConfig::default());
    let now = Timestamp::now();
    for (path, value) in [
        ("Vehicle.Speed", Value::Float(88.5)),
        (
            "Vehicle.Powertrain.TractionBattery.StateOfCharge.Current",
            Value::Float(71.25),
        ),
    ] {
        engine
            .update_path(path, value, now)
            .expect("bench signal exists");
    }
    let doors: Vec<_> = engine
        .tree()
        .nodes()
        .iter()
        .filter(|node| node.path.starts_with("Vehicle.Cabin.Door.") && node.name == "IsOpen")
        .map(|node| node.path.to_string())
        .collect();
    for path in doors {
        engine
            .update_path(&path, Value::Bool(false), now)
            .expect("door exists");
    }
    engine
}

fn bench_request(c: &mut Criterion, name: &str, engine: &Engine<DynamicTree>, request: &[u8]) {
    let mut session = engine.open_session();
    let mut out = Vec::with_capacity(64 * 1024);
    engine.handle(&mut session, request, &mut out);
    assert!(
        !out.windows(8).any(|window| window == b"\"error\":"),
        "{name}: {}",
        String::from_utf8_lossy(&out)
    );
    c.bench_function(name, |b| {
        b.iter(|| {
            engine.handle(&mut session, black_box(request), &mut out);
            black_box(out.len())
        })
    });
}

fn requests(c: &mut Criterion) {
    let engine = engine();
    bench_request(
        c,
        "get numeric leaf",
        &engine,
        br#"{"action":"get","path":"Vehicle.Speed","requestId":"8756"}"#,
    );
    bench_request(
        c,
        "get wildcard paths filter (1,720-node tree)",
        &engine,
        br#"{"action":"get","path":"Vehicle","filter":{"variant":"paths","parameter":["Cabin.Door.*.*.IsOpen","*.*.*.Current","Speed"]},"requestId":"5688"}"#,
    );
    bench_request(
        c,
        "set numeric actuator",
        &engine,
        br#"{"action":"set","path":"Vehicle.Body.Hood.Position","value":"42","requestId":"5687"}"#,
    );
}

fn fan_out(c: &mut Criterion) {
    let engine = engine();
    let node = engine
        .tree()
        .lookup("Vehicle.Speed")
        .expect("Vehicle.Speed");
    let mut sessions: Vec<Session> = (0..100).map(|_| engine.open_session()).collect();
    let mut out = Vec::new();
    let request = br#"{"action":"subscribe","path":"Vehicle.Speed","filter":{"variant":"change","parameter":{"logic-op":"ne","diff":"0"}},"requestId":"1"}"#;
    for session in &mut sessions {
        for _ in 0..10 {
            engine.handle(session, request, &mut out);
        }
    }
    let now = Timestamp::now();
    let mut event = Vec::with_capacity(256);
    let mut step = 0u16;
    c.bench_function("event fan-out to 1,000 subscriptions (per sample)", |b| {
        b.iter(|| {
            step = step.wrapping_add(1);
            engine
                .update(node, Value::Float(f32::from(step % 100)), now)
                .expect("update");
            let mut events = 0;
            for session in &sessions {
                while session.next_event(&mut event) {
                    events += 1;
                }
            }
            black_box(events)
        })
    });
}

criterion_group!(benches, requests, fan_out);
criterion_main!(benches);
