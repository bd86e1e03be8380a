//! The per-tree protobuf snapshot of the standard VSS tree (the generated `snapshot` codec
//! of its `.proto`) against JSON, in the same run:
//!
//! * size (printed once): the snapshot message against the engine's JSON answer to a get
//!   of `Vehicle` with the unfed leaves' entries taken out (what a client would otherwise
//!   fetch for the same values), and against the bare JSON object `{path: value}` without
//!   timestamps;
//! * `engine/get-whole-tree`: the engine answering that get in JSON (the encode baseline);
//! * `snapshot/encode`: the whole tree into its message (reused buffer);
//! * `engine/feed-every-value`: `Engine::update` of every fed value (the decode baseline);
//! * `snapshot/decode`: the message fed back into an engine (checked whole first, then
//!   every value checked and stored like a feeder's writes).
//!
//! Fed: every numeric and boolean leaf, the same rule as viss-runtime's `protobuf` bench,
//! so the three sizes (JSON, `VISS-protoenc`, snapshot) line up.
//!
//! Run: `cargo bench -p vss-standard --bench snapshot`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use jiff::Timestamp;
use viss_runtime::snapshot;
use viss_runtime::{
    DataType, Engine, EngineConfig, NodeId, ScalarType, Value, VissBranch, VissTree,
};
use vss_standard::tree::Vehicle;

const TREE: Vehicle = Vehicle::TREE;

/// The engine, and the values it accepted.
fn fed_engine() -> (Engine<Vehicle>, Vec<(NodeId, Value)>) {
    let engine = Engine::new(TREE, EngineConfig::default());
    let now = Timestamp::now();
    let mut fed = Vec::new();
    let mut leaves = Vec::new();
    TREE.visit_leaves(&mut |id| leaves.push(id));
    for id in leaves {
        let value = match TREE.node(id).datatype.as_ref() {
            Some(DataType::Scalar(ScalarType::Boolean)) => Value::Bool(true),
            Some(DataType::Scalar(ScalarType::Float)) => Value::Float(21.5),
            Some(DataType::Scalar(ScalarType::Double)) => Value::Double(48.137_154),
            Some(DataType::Scalar(scalar)) if scalar.is_unsigned() => Value::UInt(42),
            Some(DataType::Scalar(scalar)) if scalar.is_integer() => Value::Int(-7),
            _ => continue,
        };
        // Values outside a leaf's limits are refused: such leaves just stay unfed.
        if engine.update(id, value.clone(), now).is_ok() {
            fed.push((id, value));
        }
    }
    (engine, fed)
}

fn sizes(engine: &Engine<Vehicle>, get_vehicle: &str, snapshot: &[u8]) {
    let mut session = engine.open_session();
    let mut json = Vec::new();
    engine.handle(&mut session, get_vehicle.as_bytes(), &mut json);
    let mut response: serde_json::Value = serde_json::from_slice(&json).expect("JSON");
    let unfed = |item: &serde_json::Value| {
        item["dp"]["value"]
            .as_str()
            .is_some_and(|value| value.starts_with("viss-inline:"))
    };
    let data = response["data"]
        .as_array_mut()
        .expect("data of many leaves");
    data.retain(|item| !unfed(item));
    let data = data.clone();
    let json = serde_json::to_vec(&response).expect("JSON");
    let values: serde_json::Map<String, serde_json::Value> = data
        .iter()
        .map(|item| {
            let path = item["path"].as_str().expect("path").to_owned();
            (path, item["dp"]["value"].clone())
        })
        .collect();
    let bare = serde_json::to_vec(&values).expect("JSON");
    let percent = |part: usize, whole: usize| 100.0 * part as f64 / whole as f64;
    eprintln!(
        "size whole tree ({} fed leaves): JSON get response {} B, bare JSON {{path: value}} {} B, \
         snapshot {} B ({:.1}% of the response, {:.1}% of bare JSON)",
        data.len(),
        json.len(),
        bare.len(),
        snapshot.len(),
        percent(snapshot.len(), json.len()),
        percent(snapshot.len(), bare.len()),
    );
}

fn snapshot_bench(c: &mut Criterion) {
    let (engine, fed) = fed_engine();
    let get_vehicle = r#"{"action":"get","path":"Vehicle","requestId":"1"}"#;
    let mut buf = Vec::new();
    snapshot::encode(&TREE, &engine, &mut buf);
    sizes(&engine, get_vehicle, &buf);

    let mut session = engine.open_session();
    let mut out = Vec::new();
    c.bench_function("engine/get-whole-tree", |b| {
        b.iter(|| {
            engine.handle(&mut session, black_box(get_vehicle.as_bytes()), &mut out);
            black_box(out.len())
        })
    });
    let mut encoded = Vec::new();
    c.bench_function("snapshot/encode", |b| {
        b.iter(|| {
            snapshot::encode(black_box(&TREE), &engine, &mut encoded);
            black_box(encoded.len())
        })
    });
    // History off in the engine fed: its ring per signal (on by default) doubles the cost
    // of every store write in both benchmarks and hides the codec's own cost.
    let target = Engine::new(
        TREE,
        EngineConfig {
            history: None,
            ..EngineConfig::default()
        },
    );
    let now = Timestamp::now();
    c.bench_function("engine/feed-every-value", |b| {
        b.iter(|| {
            for (id, value) in &fed {
                black_box(target.update(*id, value.clone(), now)).expect("accepted before");
            }
        })
    });
    c.bench_function("snapshot/decode", |b| {
        b.iter(|| {
            let report = snapshot::decode(&TREE, &target, black_box(&buf), now);
            black_box(report.expect("a valid snapshot").written)
        })
    });
}

criterion_group!(benches, snapshot_bench);
criterion_main!(benches);
