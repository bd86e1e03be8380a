//! The node table is split: the hot `NodeInfo` table is what start-up and requests read,
//! the cold `NodeMeta` table only metadata requests, exports and `set` checks of nodes with
//! an `enum` or `pattern`. An idle server so never touches the cold pages of a static table.
//! A tree wrapper counts every `node_meta()` call to prove the engine keeps to that.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};

use jiff::Timestamp;
use serde_json::{Value as Json, json};
use viss_runtime::{
    DynamicTree, Engine, EngineConfig, Literal, NodeId, NodeInfo, NodeKind, NodeMeta, NodeSpec,
    Value, VissTree,
};

/// A tree that counts reads of its cold table.
#[derive(Debug)]
struct Counting {
    tree: DynamicTree,
    cold_reads: AtomicUsize,
}

impl Counting {
    fn cold_reads(&self) -> usize {
        self.cold_reads.load(Ordering::SeqCst)
    }
}

impl VissTree for Counting {
    fn nodes(&self) -> &[NodeInfo] {
        self.tree.nodes()
    }

    fn node_meta(&self) -> &[NodeMeta] {
        self.cold_reads.fetch_add(1, Ordering::SeqCst);
        self.tree.node_meta()
    }

    fn lookup_dotted(&self, path: &str) -> Option<NodeId> {
        self.tree.lookup_dotted(path)
    }
}

/// Every kind of cold metadata, on nodes beside the numeric ones the test reads and writes.
fn engine() -> Engine<Counting> {
    let mut builder = DynamicTree::builder();
    let leaf = |name: &str, kind: NodeKind, datatype: &str| NodeSpec::leaf(name, kind, datatype);
    for (path, spec) in [
        (
            "Vehicle.Level",
            leaf("Level", NodeKind::Actuator, "uint8")
                .max(10.0)
                .unit("percent")
                .description("A level.")
                .comment("Numeric, no enum."),
        ),
        (
            "Vehicle.Precipitation",
            leaf("Precipitation", NodeKind::Actuator, "uint8")
                .enumeration([("NONE", 1), ("RAIN", 2)]),
        ),
        (
            "Vehicle.Vin",
            leaf("Vin", NodeKind::Actuator, "string").pattern("^[A-Z]{3}$"),
        ),
        (
            "Vehicle.Model",
            leaf("Model", NodeKind::Attribute, "string").description("No default."),
        ),
        (
            "Vehicle.DoorCount",
            leaf("DoorCount", NodeKind::Attribute, "uint8")
                .default_value(Literal::Scalar("4".into()))
                .description("A default: hot, the store reads it at start."),
        ),
        (
            "Vehicle.Old",
            leaf("Old", NodeKind::Sensor, "float").deprecation("v5.0 removed"),
        ),
    ] {
        builder.insert_path(path, spec).unwrap();
    }
    let tree = Counting {
        tree: builder.build(),
        cold_reads: AtomicUsize::new(0),
    };
    Engine::new(tree, EngineConfig::default())
}

fn request(engine: &Engine<Counting>, request: &Json) -> Json {
    let mut session = engine.open_session();
    let mut out = Vec::new();
    engine.handle(&mut session, request.to_string().as_bytes(), &mut out);
    serde_json::from_slice(&out).unwrap()
}

#[test]
fn start_up_and_numeric_get_and_set_never_read_the_cold_table() {
    let engine = engine();
    assert_eq!(engine.tree().cold_reads(), 0, "Engine::new read NodeMeta");
    let set = json!({"action": "set", "path": "Vehicle.Level", "value": "7", "requestId": "1"});
    let response = request(&engine, &set);
    assert_eq!(response.get("error"), None, "{response}");
    engine
        .update_path("Vehicle.Level", Value::Int(5), Timestamp::now())
        .unwrap();
    let get = json!({"action": "get", "path": "Vehicle.Level", "requestId": "2"});
    let response = request(&engine, &get);
    assert_eq!(response["data"]["dp"]["value"], "5", "{response}");
    let outside =
        json!({"action": "set", "path": "Vehicle.Level", "value": "11", "requestId": "3"});
    assert_eq!(request(&engine, &outside)["error"]["number"], "400");
    let attribute = json!({"action": "get", "path": "Vehicle.DoorCount", "requestId": "4"});
    let response = request(&engine, &attribute);
    assert_eq!(response["data"]["dp"]["value"], "4", "{response}");
    assert_eq!(
        engine.tree().cold_reads(),
        0,
        "a numeric get/set without enum read NodeMeta"
    );
}

#[test]
fn enum_sets_and_metadata_requests_read_the_cold_table() {
    let engine = engine();
    let set =
        json!({"action": "set", "path": "Vehicle.Precipitation", "value": "3", "requestId": "1"});
    assert_eq!(request(&engine, &set)["error"]["number"], "400");
    let after_enum = engine.tree().cold_reads();
    assert!(after_enum > 0, "the enum check must read NodeMeta");
    let metadata = json!({
        "action": "get",
        "path": "Vehicle.Level",
        "filter": {"variant": "metadata", "parameter": "0"},
        "requestId": "2",
    });
    let response = request(&engine, &metadata);
    assert_eq!(
        response["metadata"]["Level"]["unit"], "percent",
        "{response}"
    );
    assert!(engine.tree().cold_reads() > after_enum);
}
