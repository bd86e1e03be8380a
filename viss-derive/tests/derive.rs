//! Behaviour of derived trees: node table, ids, paths, metadata, lookup, instances.

use viss_runtime::{
    Actuator, Attribute, DataType, Lit, Literal, MetaFlags, NodeId, NodeKind, ScalarType, Sensor,
    VissBranch, VissTree,
};

#[derive(Debug, VissTree)]
#[viss(root = "Vehicle", description = "High-level vehicle data.")]
pub struct Car {
    #[viss(unit = "km/h", min = 0, max = 250.5, description = "Vehicle speed.")]
    pub speed: Sensor<f32>,
    pub cabin: Cabin,
    #[viss(name = "VIN", default = "WVW", comment = "Not real.")]
    pub vin: Attribute<String>,
    #[viss(allowed = ["P", "D"], deprecation = "v5.0 moved")]
    pub gear: Actuator<String>,
    #[viss(default = [1, 2])]
    pub codes: Attribute<Vec<u8>>,
}

#[derive(Debug, VissTree)]
pub struct Cabin {
    #[viss(instances(["Row1", "Row2"], ["DriverSide", "PassengerSide"]), description = "Doors.")]
    pub door: [[Door; 2]; 2],
    #[viss(instances("Left", "Right"))]
    pub mirror: [Mirror; 2],
    pub temperature: Sensor<i16>,
}

#[derive(Debug, VissTree)]
pub struct Door {
    #[viss(description = "Is open?")]
    pub is_open: Actuator<bool>,
    pub window: Window,
}

#[derive(Debug, VissTree)]
pub struct Window {
    #[viss(min = 0, max = 100, unit = "percent")]
    pub position: Actuator<u8>,
}

#[derive(Debug, VissTree)]
pub struct Mirror {
    pub tilt: Actuator<i8>,
}

fn paths() -> Vec<String> {
    Car::TREE
        .nodes()
        .iter()
        .map(|node| node.path.to_string())
        .collect()
}

#[test]
fn node_table_is_in_tree_order_with_full_paths() {
    let paths = paths();
    assert_eq!(paths[0], "Vehicle");
    assert_eq!(paths[1], "Vehicle.Speed");
    assert_eq!(paths[2], "Vehicle.Cabin");
    assert_eq!(paths[3], "Vehicle.Cabin.Door");
    assert_eq!(paths[4], "Vehicle.Cabin.Door.Row1");
    assert_eq!(paths[5], "Vehicle.Cabin.Door.Row1.DriverSide");
    assert_eq!(paths[6], "Vehicle.Cabin.Door.Row1.DriverSide.IsOpen");
    assert_eq!(paths[7], "Vehicle.Cabin.Door.Row1.DriverSide.Window");
    assert_eq!(
        paths[8],
        "Vehicle.Cabin.Door.Row1.DriverSide.Window.Position"
    );
    assert_eq!(paths[9], "Vehicle.Cabin.Door.Row1.PassengerSide");
    assert!(paths.contains(&"Vehicle.Cabin.Door.Row2.PassengerSide.Window.Position".to_owned()));
    assert!(paths.contains(&"Vehicle.Cabin.Mirror.Right.Tilt".to_owned()));
    assert_eq!(paths.last().map(String::as_str), Some("Vehicle.Codes"));
    // 1 root + speed + cabin(1 + door(1 + 2*(1 + 2*(1+3))) + mirror(1 + 2*2) + temp) + 3
    assert_eq!(
        paths.len(),
        1 + 1 + (1 + (1 + 2 * (1 + 2 * 4)) + (1 + 2 * 2) + 1) + 3
    );
    assert_eq!(
        <Car as VissBranch>::NODE_COUNT as usize + 1,
        Car::TREE.nodes().len()
    );
}

#[test]
fn parents_and_subtree_ends_describe_the_tree() {
    let nodes = Car::TREE.nodes();
    for (index, node) in nodes.iter().enumerate() {
        assert!(node.end as usize > index && node.end as usize <= nodes.len());
        if let Some(parent) = node.parent {
            let parent_node = &nodes[parent.index()];
            assert!(parent.index() < index && index < parent_node.end as usize);
            assert_eq!(node.path, format!("{}.{}", parent_node.path, node.name));
        } else {
            assert_eq!(index, 0);
        }
        assert_eq!(
            node.kind == NodeKind::Branch,
            node.datatype.is_none(),
            "{}",
            node.path
        );
    }
    assert_eq!(nodes[0].end as usize, nodes.len());
}

#[test]
fn handles_carry_the_ids_of_their_nodes() {
    let tree = Car::TREE;
    let node = |id: NodeId| tree.node(id).path.to_string();
    assert_eq!(node(tree.speed.id()), "Vehicle.Speed");
    assert_eq!(node(tree.vin.id()), "Vehicle.VIN");
    assert_eq!(
        node(tree.cabin.door[1][0].is_open.id()),
        "Vehicle.Cabin.Door.Row2.DriverSide.IsOpen"
    );
    assert_eq!(
        node(tree.cabin.door[0][1].window.position.id()),
        "Vehicle.Cabin.Door.Row1.PassengerSide.Window.Position"
    );
    assert_eq!(
        node(tree.cabin.mirror[1].tilt.id()),
        "Vehicle.Cabin.Mirror.Right.Tilt"
    );
    assert_eq!(
        node(tree.cabin.temperature.id()),
        "Vehicle.Cabin.Temperature"
    );
}

#[test]
fn metadata_comes_from_the_attributes() {
    let tree = Car::TREE;
    assert_eq!(tree.node_meta().len(), tree.nodes().len());
    assert_eq!(
        tree.meta(NodeId(0)).description.as_deref(),
        Some("High-level vehicle data.")
    );
    let speed = tree.node(tree.speed.id());
    assert_eq!(speed.kind, NodeKind::Sensor);
    assert_eq!(speed.datatype, Some(DataType::Scalar(ScalarType::Float)));
    assert_eq!((speed.min, speed.max), (Some(0.0), Some(250.5)));
    assert_eq!(speed.meta_flags, MetaFlags::NONE);
    let speed_meta = tree.meta(tree.speed.id());
    assert_eq!(speed_meta.unit.as_deref(), Some("km/h"));
    assert_eq!(
        (
            speed_meta.min_text.as_deref(),
            speed_meta.max_text.as_deref()
        ),
        (Some("0"), Some("250.5"))
    );
    let vin = tree.node(tree.vin.id());
    assert_eq!(vin.kind, NodeKind::Attribute);
    assert_eq!(vin.meta_flags, MetaFlags::NONE);
    assert_eq!(vin.default, Some(Literal::Scalar(Lit::string("WVW"))));
    assert_eq!(
        tree.meta(tree.vin.id()).comment.as_deref(),
        Some("Not real.")
    );
    let gear = tree.node(tree.gear.id());
    assert_eq!(gear.kind, NodeKind::Actuator);
    assert_eq!(
        gear.allowed.iter().map(Lit::as_str).collect::<Vec<_>>(),
        ["P", "D"]
    );
    assert_eq!(
        tree.meta(tree.gear.id()).deprecation.as_deref(),
        Some("v5.0 moved")
    );
    let codes = tree.node(tree.codes.id());
    assert_eq!(codes.datatype, Some(DataType::Array(ScalarType::Uint8)));
    assert_eq!(
        codes.default,
        Some(Literal::Array(
            vec![Lit::number("1"), Lit::number("2")].into()
        ))
    );
    let door = tree
        .lookup("Vehicle.Cabin.Door.Row1")
        .map(|id| tree.meta(id));
    assert_eq!(
        door.and_then(|meta| meta.description.as_deref()),
        Some("Doors.")
    );
    for (node, meta) in tree.nodes().iter().zip(tree.node_meta()) {
        assert_eq!(node.meta_flags, MetaFlags::of(meta), "{}", node.path);
    }
}

#[test]
fn lookup_finds_every_node_and_nothing_else() {
    let tree = Car::TREE;
    for (index, node) in tree.nodes().iter().enumerate() {
        assert_eq!(
            tree.lookup_dotted(&node.path),
            Some(NodeId(index as u32)),
            "{}",
            node.path
        );
        let slashed = node.path.replace('.', "/");
        assert_eq!(tree.lookup(&slashed), Some(NodeId(index as u32)));
    }
    for missing in [
        "",
        "Car",
        "Vehicle.",
        "Vehicle.Speed.X",
        "Vehicle.Cabin.Door.Row3",
        "Vehicle.Cabin.Door.Row1.Middle",
        "Vehicle.Cabin.Door.Row1.DriverSide.IsOpen.More",
        "Vehicle.speed",
        "vehicle.Speed",
    ] {
        assert_eq!(tree.lookup_dotted(missing), None, "{missing}");
    }
}

#[test]
fn visit_leaves_walks_every_leaf_in_tree_order() {
    let mut visited = Vec::new();
    Car::TREE.visit_leaves(&mut |id| visited.push(id));
    let leaves: Vec<NodeId> = Car::TREE.leaves_under(NodeId(0)).collect();
    assert_eq!(visited, leaves);
    assert_eq!(visited.len(), 1 + 2 * 2 * 2 + 2 + 1 + 3);
}
