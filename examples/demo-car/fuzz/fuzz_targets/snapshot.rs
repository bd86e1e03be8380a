//! Arbitrary bytes as a snapshot message of the demo car (`generated/demo-car/src/snapshot.rs`
//! over `viss_runtime::snapshot`): decoding never panics, a message it refuses feeds
//! nothing, and whatever it feeds encodes again into a message that decodes with every
//! value accepted.
#![no_main]

use demo_car::tree::Vehicle;
use libfuzzer_sys::fuzz_target;
use viss_runtime::snapshot;
use viss_runtime::{Engine, EngineConfig, VissBranch as _};

fn values(engine: &Engine<Vehicle>) -> Vec<Option<viss_runtime::Value>> {
    let mut leaves = Vec::new();
    Vehicle::TREE.visit_leaves(&mut |id| leaves.push(id));
    leaves
        .into_iter()
        .map(|id| engine.store().current(id).map(|sample| sample.value))
        .collect()
}

/// Equal, counting NaN as equal to itself (the comparison is about presence and writes).
fn same(left: &[Option<viss_runtime::Value>], right: &[Option<viss_runtime::Value>]) -> bool {
    format!("{left:?}") == format!("{right:?}")
}

fuzz_target!(|data: &[u8]| {
    let engine = Engine::new(Vehicle::TREE, EngineConfig::default());
    let before = values(&engine);
    let ts = jiff::Timestamp::UNIX_EPOCH;
    match snapshot::decode(&Vehicle::TREE, &engine, data, ts) {
        Err(_) => assert!(
            same(&values(&engine), &before),
            "a refused message fed something"
        ),
        Ok(_) => {
            let mut again = Vec::new();
            snapshot::encode(&Vehicle::TREE, &engine, &mut again);
            let copy = Engine::new(Vehicle::TREE, EngineConfig::default());
            let report = snapshot::decode(&Vehicle::TREE, &copy, &again, ts)
                .expect("our own encoding decodes");
            assert_eq!(
                report.refused, 0,
                "our own encoding is accepted: {report:?}"
            );
            // Bytes, not values: a NaN fed is a NaN stored, and NaN != NaN.
            let mut third = Vec::new();
            snapshot::encode(&Vehicle::TREE, &copy, &mut third);
            assert!(third == again, "a re-encoded snapshot differs");
        }
    }
});
