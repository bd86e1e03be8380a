//! What the demo car's tests share: the tree, an engine on a manual clock, and a valid
//! value for every leaf (as fed and as it reads on the wire).

// Each test binary uses part of this module.
#![allow(dead_code)]

use std::sync::Arc;

use demo_car_example::tree::Vehicle;
use jiff::Timestamp;
use serde_json::{Value as Json, json};
use viss_runtime::{
    DataType, Engine, EngineConfig, ManualClock, NodeId, NodeInfo, ScalarType, Value, VissBranch,
};

pub const TREE: Vehicle = Vehicle::TREE;

/// The one actuator with a struct-array datatype (`Types.Waypoint[]`).
pub const STRUCT_ARRAY_ACTUATOR: &str = "Vehicle.Navigation.Stops";

pub fn start() -> Timestamp {
    Timestamp::from_second(1_800_000_000).unwrap()
}

pub fn engine() -> (Engine<Vehicle>, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(start()));
    let engine = Engine::with_clock(TREE, EngineConfig::default(), clock.clone());
    (engine, clock)
}

pub fn leaves() -> Vec<NodeId> {
    let mut leaves = Vec::new();
    TREE.visit_leaves(&mut |id| leaves.push(id));
    leaves
}

/// A value inside the node's limits (its `min`, or 1..2; its first `allowed` string).
pub fn scalar(node: &NodeInfo, scalar: ScalarType, step: usize) -> (Value, Json) {
    let small = (step % 2 + 1) as f64;
    let low = node.min.unwrap_or(small);
    match scalar {
        ScalarType::Boolean => {
            let flag = step.is_multiple_of(2);
            (Value::Bool(flag), json!(flag.to_string()))
        }
        ScalarType::String => {
            let text = node
                .allowed
                .first()
                .map_or_else(|| format!("text{step}"), ToString::to_string);
            (Value::String(text.clone().into()), json!(text))
        }
        ScalarType::Float | ScalarType::Double => {
            let number = low + 0.5;
            (Value::Double(number), json!(number.to_string()))
        }
        ScalarType::Int8 | ScalarType::Int16 | ScalarType::Int32 | ScalarType::Int64 => {
            (Value::Int(low as i64), json!((low as i64).to_string()))
        }
        _ => (Value::UInt(low as u64), json!((low as u64).to_string())),
    }
}

pub fn geo_point(step: usize) -> (Value, Json) {
    (
        Value::Struct(vec![
            (
                "Latitude".into(),
                Value::String(format!("{step}.25").into()),
            ),
            ("Longitude".into(), Value::String("7".into())),
        ]),
        json!({"Latitude": format!("{step}.25"), "Longitude": "7"}),
    )
}

/// A file descriptor (CORE App. C): a plain name, a SHA-1 and a uid.
pub fn file_descriptor(step: usize) -> (Value, Json) {
    let name = format!("file{step}.bin");
    let hash = format!("{:040x}", step + 1);
    let uid = format!("{:08x}", step + 1);
    (
        Value::Struct(vec![
            ("name".into(), Value::String(name.clone().into())),
            ("hash".into(), Value::String(hash.clone().into())),
            ("uid".into(), Value::String(uid.clone().into())),
        ]),
        json!({"name": name, "hash": hash, "uid": uid}),
    )
}

pub fn waypoint(step: usize) -> (Value, Json) {
    let (point, point_wire) = geo_point(step);
    (
        Value::Struct(vec![
            ("Name".into(), Value::String(format!("stop{step}").into())),
            ("Point".into(), point),
            ("Priority".into(), Value::String("2".into())),
        ]),
        json!({"Name": format!("stop{step}"), "Point": point_wire, "Priority": "2"}),
    )
}

/// A valid value for `node`, as fed and as it appears on the wire.
pub fn sample(node: &NodeInfo, step: usize) -> (Value, Json) {
    let structure = |name: &str| match name {
        "Types.GeoPoint" => geo_point(step),
        "Types.Waypoint" => waypoint(step),
        "Types.Resources.FileDescriptor" => file_descriptor(step),
        other => panic!("{}: unexpected struct {other}", node.path),
    };
    match node.datatype.as_ref().unwrap() {
        DataType::Scalar(kind) => scalar(node, *kind, step),
        DataType::Array(kind) => {
            let (value, wire) = scalar(node, *kind, step);
            (
                Value::Array(vec![value.clone(), value]),
                json!([wire.clone(), wire]),
            )
        }
        DataType::Struct(name) => structure(name),
        DataType::StructArray(name) => {
            let (value, wire) = structure(name);
            (Value::Array(vec![value]), json!([wire]))
        }
    }
}
