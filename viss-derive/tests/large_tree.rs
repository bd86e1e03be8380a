//! A tree of 16,227 nodes (an instance set of 24 × 25 branches of 26 leaves) builds its
//! static table and index at compile time, and every path is found.

use viss_runtime::{NodeId, Sensor, VissTree};

#[derive(Debug, VissTree)]
#[viss(root = "Vehicle")]
pub struct Large {
    #[viss(instances(["Row1", "Row2", "Row3", "Row4", "Row5", "Row6", "Row7", "Row8", "Row9", "Row10", "Row11", "Row12", "Row13", "Row14", "Row15", "Row16", "Row17", "Row18", "Row19", "Row20", "Row21", "Row22", "Row23", "Row24"], ["Position1", "Position2", "Position3", "Position4", "Position5", "Position6", "Position7", "Position8", "Position9", "Position10", "Position11", "Position12", "Position13", "Position14", "Position15", "Position16", "Position17", "Position18", "Position19", "Position20", "Position21", "Position22", "Position23", "Position24", "Position25"]))]
    pub seat: [[Seat; 25]; 24],
}

#[derive(Debug, VissTree)]
pub struct Seat {
    pub is_open: Sensor<u16>,
    pub is_locked: Sensor<u16>,
    pub position: Sensor<u16>,
    pub temperature: Sensor<u16>,
    pub pressure: Sensor<u16>,
    pub voltage: Sensor<u16>,
    pub current: Sensor<u16>,
    pub level: Sensor<u16>,
    pub speed: Sensor<u16>,
    pub is_active: Sensor<u16>,
    pub is_engaged: Sensor<u16>,
    pub mode: Sensor<u16>,
    pub status: Sensor<u16>,
    pub intensity: Sensor<u16>,
    pub angle: Sensor<u16>,
    pub distance: Sensor<u16>,
    pub count: Sensor<u16>,
    pub duration: Sensor<u16>,
    pub is_warning: Sensor<u16>,
    pub is_error: Sensor<u16>,
    pub target_value: Sensor<u16>,
    pub actual_value: Sensor<u16>,
    pub minimum_level: Sensor<u16>,
    pub maximum_level: Sensor<u16>,
    pub is_enabled: Sensor<u16>,
    pub identifier: Sensor<u16>,
}

#[test]
fn every_path_of_a_large_tree_is_found() {
    let tree = Large::TREE;
    let nodes = tree.nodes();
    assert_eq!(nodes.len(), 1 + 1 + 24 * (1 + 25 * (1 + 26)));
    for (index, node) in nodes.iter().enumerate() {
        assert_eq!(tree.lookup_dotted(&node.path), Some(NodeId(index as u32)));
    }
    let last = tree.seat[23][24].identifier.id();
    assert_eq!(
        tree.node(last).path,
        "Vehicle.Seat.Row24.Position25.Identifier"
    );
    assert_eq!(last.index(), nodes.len() - 1);
}
