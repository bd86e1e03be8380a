//! An enum leaf against a free string leaf on the derived standard VSS tree, request bytes →
//! response bytes (and a typed feed), the same value text `"PLAY"` on both:
//!
//! * `Vehicle.Cabin.Infotainment.Media.Action`: an actuator with a 7-value `allowed` list,
//!   typed `Actuator<Action>` by the generator;
//! * `Vehicle.Cabin.Infotainment.Media.SelectedURI`: a `string` actuator without a list.
//!
//! `set` on the enum leaf checks the list and stores the tree's static string (no
//! allocation); `set` on the free string leaf stores an owned copy. `dynamic_tree` repeats
//! the enum `set` on the runtime-built tree viss-server serves (its list is owned, so the
//! stored string is a copy there).
//!
//! Run: `cargo bench -p vss-standard --bench enum_leaves`.

mod support;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use viss_runtime::{Engine, EngineConfig, TypedEngine as _, VissTree};
use vss_standard::tree::{Action, Vehicle};

const ENUM_PATH: &str = "Vehicle.Cabin.Infotainment.Media.Action";
const STRING_PATH: &str = "Vehicle.Cabin.Infotainment.Media.SelectedURI";

fn set(path: &str) -> Vec<u8> {
    format!(r#"{{"action":"set","path":"{path}","value":"PLAY","requestId":"5687"}}"#).into_bytes()
}

fn get(path: &str) -> Vec<u8> {
    format!(r#"{{"action":"get","path":"{path}","requestId":"8756"}}"#).into_bytes()
}

fn bench_request<T: VissTree>(
    c: &mut Criterion,
    group: &str,
    name: &str,
    engine: &Engine<T>,
    request: &[u8],
) {
    let mut session = engine.open_session();
    let mut out = Vec::with_capacity(1024);
    engine.handle(&mut session, request, &mut out);
    assert!(
        !out.windows(8).any(|window| window == b"\"error\":"),
        "{name}: {}",
        String::from_utf8_lossy(&out)
    );
    c.benchmark_group(group).bench_function(name, |b| {
        b.iter(|| {
            out.clear();
            engine.handle(&mut session, black_box(request), &mut out);
            black_box(out.len())
        })
    });
}

fn enum_against_string(c: &mut Criterion) {
    let engine = Engine::new(Vehicle::TREE, EngineConfig::default());
    bench_request(c, "set", "enum_leaf", &engine, &set(ENUM_PATH));
    bench_request(c, "set", "string_leaf", &engine, &set(STRING_PATH));
    bench_request(c, "get", "enum_leaf", &engine, &get(ENUM_PATH));
    bench_request(c, "get", "string_leaf", &engine, &get(STRING_PATH));

    let dynamic = support::standard_dynamic_tree();
    let dynamic = Engine::new(dynamic, EngineConfig::default());
    bench_request(
        c,
        "set",
        "enum_leaf_dynamic_tree",
        &dynamic,
        &set(ENUM_PATH),
    );

    let action = Vehicle::TREE.cabin.infotainment.media.action;
    let uri = Vehicle::TREE.cabin.infotainment.media.selected_uri;
    let now = jiff::Timestamp::now();
    let mut group = c.benchmark_group("typed_feed");
    group.bench_function("enum_leaf", |b| {
        b.iter(|| engine.feed(action, black_box(Action::Play), now))
    });
    group.bench_function("string_leaf", |b| {
        b.iter(|| engine.feed(uri, black_box("PLAY").to_owned(), now))
    });
    group.finish();
}

criterion_group!(benches, enum_against_string);
criterion_main!(benches);
