//! The generated snapshot codec (`generated/demo-car/src/snapshot.rs`) against the engine
//! and against a real peer: every leaf of the demo car survives encode → decode, a branch
//! encodes as its own message, malformed bytes feed nothing, refused values are counted,
//! encoding allocates nothing once warm, and Python's protobuf runtime reads the Rust
//! encoding of `generated/demo-car/proto/vehicle.proto` to the same values.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::process::Command;

use demo_car_example::tree::Vehicle;
use jiff::Timestamp;
use serde_json::Value as Json;
use viss_runtime::snapshot::{self, FeedReport};
use viss_runtime::{DataType, Engine, NodeId, ScalarType, Value, VissError, VissTree};

use support::{TREE, engine, leaves, sample, start};

#[global_allocator]
static ALLOCATOR: test_support::CountingAllocator = test_support::CountingAllocator;

/// An engine with a valid value on every leaf (attributes included).
fn full_engine() -> Engine<Vehicle> {
    let (engine, _) = engine();
    for (step, id) in leaves().into_iter().enumerate() {
        let (value, _) = sample(TREE.node(id), step);
        engine.update(id, value, start()).unwrap();
    }
    engine
}

fn later() -> Timestamp {
    Timestamp::from_second(1_900_000_000).unwrap()
}

fn value(engine: &Engine<Vehicle>, id: NodeId) -> Option<Value> {
    engine.store().current(id).map(|sample| sample.value)
}

#[test]
fn every_leaf_survives_encode_and_decode() {
    let source = full_engine();
    let mut buf = Vec::new();
    snapshot::encode(&TREE, &source, &mut buf);
    let (target, _) = engine();
    let report = snapshot::decode(&TREE, &target, &buf, later()).unwrap();
    assert_eq!(
        report,
        FeedReport {
            written: leaves().len(),
            refused: 0,
            first_refusal: None
        }
    );
    for id in leaves() {
        let path = &TREE.node(id).path;
        assert_eq!(value(&target, id), value(&source, id), "{path}");
        assert_eq!(target.store().current(id).unwrap().ts, later(), "{path}");
    }
}

#[test]
fn a_branch_encodes_as_its_own_message() {
    let source = full_engine();
    let (mut whole, mut cabin) = (Vec::new(), Vec::new());
    snapshot::encode(&TREE, &source, &mut whole);
    snapshot::encode(&TREE.cabin, &source, &mut cabin);
    assert!(
        cabin.len() < whole.len() / 2,
        "{} of {}",
        cabin.len(),
        whole.len()
    );
    let (target, _) = engine();
    let report = snapshot::decode(&TREE.cabin, &target, &cabin, later()).unwrap();
    let mut cabin_leaves = Vec::new();
    viss_runtime::VissBranch::visit_leaves(&TREE.cabin, &mut |id| cabin_leaves.push(id));
    assert_eq!(report.written, cabin_leaves.len());
    for id in leaves() {
        let inside = cabin_leaves.contains(&id);
        let fed = target.store().current(id).is_some_and(|s| s.ts == later());
        assert_eq!(fed, inside, "{}", TREE.node(id).path);
    }
}

#[test]
fn malformed_snapshots_are_refused_and_feed_nothing() {
    let source = full_engine();
    let mut buf = Vec::new();
    snapshot::encode(&TREE, &source, &mut buf);
    let speed = TREE.speed.id();
    let truncated = &buf[..buf.len() - 1];
    let mut bad_utf8 = Vec::new();
    // Vehicle.VehicleIdentification (6) { VIN (1): 0xff 0xfe }, after a valid Speed (1).
    bad_utf8.extend([1 << 3 | 5, 0, 0, 0x20, 0x41]);
    bad_utf8.extend([6 << 3 | 2, 4, 1 << 3 | 2, 2, 0xff, 0xfe]);
    let cases: [(&str, &[u8]); 4] = [
        ("truncated", truncated),
        ("not UTF-8", &bad_utf8),
        ("a group", &[3 << 3 | 3, 0]),
        ("a string where a float is", &[1 << 3 | 2, 1, b'x']),
    ];
    for (what, bytes) in cases {
        let (target, _) = engine();
        let error = snapshot::decode(&TREE, &target, bytes, later());
        assert!(error.is_err(), "{what}: {error:?}");
        assert_eq!(value(&target, speed), None, "{what} fed Speed");
    }
}

#[test]
fn refused_values_are_counted_and_the_rest_is_fed() {
    // Speed (1, float, 0..200) = 500, IsMoving (3, bool) = true, TripTime (4) = 7,
    // an unknown field 9999 (a newer tree's signal) in between.
    let mut bytes = vec![1 << 3 | 5];
    bytes.extend(500.0_f32.to_le_bytes());
    bytes.extend([3 << 3, 1]);
    bytes.extend([0xf8, 0xb8, 0x02, 42]); // field 9999, varint 42
    bytes.extend([4 << 3, 7]);
    let (target, _) = engine();
    let report = snapshot::decode(&TREE, &target, &bytes, later()).unwrap();
    assert_eq!(report.written, 2);
    assert_eq!(report.refused, 1);
    assert_eq!(
        report.first_refusal,
        Some((TREE.speed.id(), VissError::OutsideLimit))
    );
    assert_eq!(value(&target, TREE.speed.id()), None);
    assert_eq!(value(&target, TREE.is_moving.id()), Some(Value::Bool(true)));
    assert_eq!(value(&target, TREE.trip_time.id()), Some(Value::UInt(7)));
}

/// Leaves whose values are scalars or enums (no string, array or struct to allocate).
fn scalar_leaves() -> Vec<NodeId> {
    leaves()
        .into_iter()
        .filter(|id| {
            let node = TREE.node(*id);
            match node.datatype.as_ref().unwrap() {
                DataType::Scalar(ScalarType::String) => !node.allowed.is_empty(),
                DataType::Scalar(_) => true,
                _ => false,
            }
        })
        .collect()
}

#[test]
fn encoding_allocates_nothing_once_warm_and_scalar_decoding_nothing_at_all() {
    let source = full_engine();
    let mut buf = Vec::new();
    // The counter counts: a cold buffer grows.
    let ((), cold) =
        test_support::allocations_during(|| snapshot::encode(&TREE, &source, &mut buf));
    assert!(cold > 0, "the counting allocator is installed");
    let ((), allocations) =
        test_support::allocations_during(|| snapshot::encode(&TREE, &source, &mut buf));
    assert_eq!(allocations, 0, "encoding the whole tree");

    let (scalars, _) = engine();
    for id in leaves() {
        if scalar_leaves().contains(&id) {
            scalars
                .update(id, value(&source, id).unwrap(), start())
                .unwrap();
        } else {
            // String and array attributes start at their defaults.
            scalars.mark_unavailable(id);
        }
    }
    snapshot::encode(&TREE, &scalars, &mut buf);
    let (target, _) = engine();
    snapshot::decode(&TREE, &target, &buf, later()).unwrap();
    let (report, allocations) =
        test_support::allocations_during(|| snapshot::decode(&TREE, &target, &buf, later()));
    assert_eq!(report.unwrap().written, scalar_leaves().len());
    assert_eq!(allocations, 0, "decoding and feeding scalars and enums");
}

/// protoc (grpcio-tools) compiles the checked-in `.proto`; Python's protobuf runtime
/// decodes the Rust encoding and prints every leaf it holds as `path → value`.
const PYTHON_READER: &str = r#"
import importlib.util, json, sys
from google.protobuf.descriptor import FieldDescriptor as F
spec = importlib.util.spec_from_file_location("vehicle_pb2", sys.argv[1] + "/vehicle_pb2.py")
pb = importlib.util.module_from_spec(spec); spec.loader.exec_module(pb)
structs = set(sys.argv[3].split(","))

def scalar(field, value):
    if field.type == F.TYPE_ENUM:
        return field.enum_type.values_by_number[value].name
    if field.type == F.TYPE_MESSAGE:
        return {f.name: convert(f, v) for f, v in value.ListFields()}
    return value

def convert(field, value):
    if field.is_repeated:
        return [scalar(field, item) for item in value]
    return scalar(field, value)

def walk(message, prefix, out):
    for field, value in message.ListFields():
        path = prefix + "." + field.name.replace("_", ".")
        if field.type == F.TYPE_MESSAGE and field.message_type.name not in structs:
            walk(value, path, out)
        else:
            out[path] = convert(field, value)

out = {}
walk(pb.Vehicle.FromString(open(sys.argv[2], "rb").read()), "Vehicle", out)
print(json.dumps(out))
"#;

/// Whether Python's reading `actual` is the engine's `expected` (an enum leaf's string is
/// the proto value name ending in its VSS string).
fn same(expected: &Value, actual: &Json, enum_leaf: bool) -> bool {
    match (expected, actual) {
        (Value::Bool(flag), Json::Bool(read)) => flag == read,
        (Value::UInt(number), Json::Number(read)) => read.as_u64() == Some(*number),
        (Value::Int(number), Json::Number(read)) => read.as_i64() == Some(*number),
        (Value::Float(number), Json::Number(read)) => read.as_f64() == Some(f64::from(*number)),
        (Value::Double(number), Json::Number(read)) => read.as_f64() == Some(*number),
        (Value::String(text), Json::String(read)) if enum_leaf => {
            read.ends_with(&format!("_{}", vssgen::backend::proto::screaming(text)))
        }
        (Value::String(text), Json::String(read)) => text == read,
        (Value::Array(items), Json::Array(read)) => {
            items.len() == read.len()
                && items
                    .iter()
                    .zip(read)
                    .all(|(item, read)| same(item, read, enum_leaf))
        }
        (Value::Struct(members), Json::Object(read)) => {
            members.len() == read.len()
                && members
                    .iter()
                    .all(|(name, item)| read.get(name).is_some_and(|read| same(item, read, false)))
        }
        _ => false,
    }
}

fn run_python(proto_out: &Path, data: &Path) -> serde_json::Map<String, Json> {
    let output = Command::new(test_support::peers_python())
        .arg("-c")
        .arg(PYTHON_READER)
        .arg(proto_out)
        .arg(data)
        .arg("GeoPoint,Waypoint,FileDescriptor")
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn python_reads_the_rust_snapshot_to_the_same_values() {
    let dir = tempfile::tempdir().unwrap();
    let proto_dir = test_support::workspace_root().join("generated/demo-car/proto");
    test_support::protoc_python(&proto_dir.join("vehicle.proto"), dir.path());
    let source = full_engine();
    let mut buf = Vec::new();
    snapshot::encode(&TREE, &source, &mut buf);
    let data = dir.path().join("snapshot.bin");
    std::fs::write(&data, &buf).unwrap();
    let read = run_python(dir.path(), &data);
    assert_eq!(read.len(), leaves().len(), "{read:?}");
    for id in leaves() {
        let node = TREE.node(id);
        let expected = value(&source, id).unwrap();
        let actual = read
            .get(node.path.as_ref())
            .unwrap_or_else(|| panic!("{} missing", node.path));
        let enum_leaf = !node.allowed.is_empty()
            && matches!(
                node.datatype,
                Some(DataType::Scalar(ScalarType::String) | DataType::Array(ScalarType::String))
            );
        assert!(
            same(&expected, actual, enum_leaf),
            "{}: {expected:?} read as {actual}",
            node.path
        );
    }
}

/// The encoding of a fully fed demo car, made once.
fn full_snapshot() -> &'static [u8] {
    static SNAPSHOT: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    SNAPSHOT.get_or_init(|| {
        let mut buf = Vec::new();
        snapshot::encode(&TREE, &full_engine(), &mut buf);
        buf
    })
}

/// Whether decoding `bytes` either fails and feeds nothing, or succeeds; never a panic.
fn hostile_bytes_hold(bytes: &[u8]) -> Result<(), proptest::test_runner::TestCaseError> {
    let (target, _) = engine();
    let before: Vec<Option<Value>> = leaves().into_iter().map(|id| value(&target, id)).collect();
    if snapshot::decode(&TREE, &target, bytes, later()).is_err() {
        let after: Vec<Option<Value>> = leaves().into_iter().map(|id| value(&target, id)).collect();
        proptest::prop_assert_eq!(before, after, "a refused message fed something");
    }
    Ok(())
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic_and_refused_ones_feed_nothing(
        bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)
    ) {
        hostile_bytes_hold(&bytes)?;
    }

    #[test]
    fn mutated_snapshots_never_panic_and_refused_ones_feed_nothing(
        edits in proptest::collection::vec((proptest::prelude::any::<usize>(), proptest::prelude::any::<u8>()), 1..8),
        cut in proptest::prelude::any::<usize>(),
    ) {
        let mut bytes = full_snapshot().to_vec();
        for (at, byte) in edits {
            let at = at % bytes.len();
            bytes[at] = byte;
        }
        bytes.truncate(cut % (bytes.len() + 1));
        hostile_bytes_hold(&bytes)?;
    }
}
