//! `validate` (VISS access control, CORE §8.8) on every kind of node: the root (container
//! attribute), branch fields, instance sets (the set and every instance) and leaves, in the
//! hot `NodeInfo::validate`; written once per tagged node by the VSS JSON export and never
//! an extended attribute.

use viss_runtime::{Actuator, NodeId, Protects, Sensor, Validate, VissTree};

#[derive(Debug, VissTree)]
#[viss(root = "Vehicle", validate = "write-only", description = "Root.")]
pub struct Car {
    #[viss(validate = "read-write", description = "Cabin.")]
    pub cabin: Cabin,
    pub body: Body,
    #[viss(validate = "read-write+consent")]
    pub speed: Sensor<f32>,
}

#[derive(Debug, VissTree)]
pub struct Cabin {
    #[viss(
        instances("Left", "Right"),
        validate = "write-only+consent",
        extended(dbc = "D")
    )]
    pub door: [Door; 2],
    pub temperature: Sensor<f32>,
}

#[derive(Debug, VissTree)]
pub struct Door {
    pub is_open: Actuator<bool>,
}

#[derive(Debug, VissTree)]
pub struct Body {
    pub hood: Actuator<bool>,
}

fn tag(path: &str) -> Option<Validate> {
    let tree = Car::TREE;
    let id = tree
        .lookup(path)
        .unwrap_or_else(|| panic!("no node {path}"));
    tree.node(id).validate
}

#[test]
fn every_node_kind_carries_its_own_tag_in_the_hot_table() {
    let (writes, reads) = (Protects::Writes, Protects::ReadsAndWrites);
    assert_eq!(
        Car::TREE.node(NodeId(0)).validate,
        Some(Validate::new(writes, false)),
        "the root (container attribute)"
    );
    assert_eq!(tag("Vehicle.Cabin"), Some(Validate::new(reads, false)));
    assert_eq!(tag("Vehicle.Speed"), Some(Validate::new(reads, true)));
    for door in [
        "Vehicle.Cabin.Door",
        "Vehicle.Cabin.Door.Left",
        "Vehicle.Cabin.Door.Right",
    ] {
        assert_eq!(tag(door), Some(Validate::new(writes, true)), "{door}");
    }
    // Untagged nodes stay `None` (they inherit; the engine resolves that).
    for untagged in [
        "Vehicle.Body",
        "Vehicle.Body.Hood",
        "Vehicle.Cabin.Temperature",
        "Vehicle.Cabin.Door.Left.IsOpen",
    ] {
        assert_eq!(tag(untagged), None, "{untagged}");
    }
    let tagged = Car::TREE
        .nodes()
        .iter()
        .filter(|node| node.validate.is_some());
    assert_eq!(tagged.count(), 1 + 1 + 1 + 3);
    let door = Car::TREE.lookup("Vehicle.Cabin.Door.Left").unwrap();
    let extended = &Car::TREE.meta(door).extended;
    assert_eq!(
        extended.iter().map(|e| &*e.name).collect::<Vec<_>>(),
        ["dbc"],
        "the tag is not an extended attribute"
    );
}

#[test]
fn the_vss_json_export_writes_each_tag_once() {
    let json = viss_runtime::vss_json::to_string(&Car::TREE);
    assert_eq!(json.matches(r#""validate":"#).count(), 6, "{json}");
    for member in [
        // the root's members end the document
        r#""description":"Root.","type":"branch","validate":"write-only"}}"#,
        r#""description":"Cabin.","type":"branch","validate":"read-write"}"#,
        r#""Speed":{"datatype":"float","type":"sensor","validate":"read-write+consent"}"#,
        r#""dbc":"D","type":"branch","validate":"write-only+consent"}"#,
        r#""Body":{"children":{"Hood":{"datatype":"boolean","type":"actuator"}},"type":"branch"}"#,
    ] {
        assert!(json.contains(member), "{member} in {json}");
    }
}
