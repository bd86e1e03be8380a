//! The build-script tree is the whole standard tree, and its static lookup finds every node
//! by dot and slash path and nothing else.

use viss_runtime::model_tree::dynamic_tree_from_model;
use viss_runtime::{NodeId, VissBranch, VissTree};
use vss_model::vspec::{self, VspecOptions};
use vss_standard::{leaf_paths, tree::Vehicle};

#[test]
fn the_tree_has_every_node_of_the_standard_tree() {
    let loaded = vspec::load(&VspecOptions {
        source: test_support::shared_path("vss/spec/VehicleSignalSpecification.vspec"),
        ..VspecOptions::default()
    });
    let model = loaded.tree.expect("the standard tree loads");
    let dynamic = dynamic_tree_from_model(&model).expect("the model converts");
    let derived: Vec<&str> = Vehicle::TREE.nodes().iter().map(|n| &*n.path).collect();
    let expected: Vec<&str> = dynamic.nodes().iter().map(|n| &*n.path).collect();
    assert_eq!(derived.len(), 1_720);
    assert_eq!(derived, expected, "same paths in the same (tree) order");
    assert_eq!(leaf_paths().len(), 1_367);
}

#[test]
fn lookup_finds_every_node_by_dot_and_slash_path() {
    for (index, node) in Vehicle::TREE.nodes().iter().enumerate() {
        let id = NodeId(index as u32);
        assert_eq!(
            Vehicle::TREE.lookup_dotted(&node.path),
            Some(id),
            "{}",
            node.path
        );
        assert_eq!(Vehicle::TREE.lookup(&node.path.replace('.', "/")), Some(id));
    }
}

#[test]
fn the_per_segment_match_finds_every_node_below_the_root() {
    for (index, node) in Vehicle::TREE.nodes().iter().enumerate().skip(1) {
        let relative = node.path.strip_prefix("Vehicle.").expect("below the root");
        let found = <Vehicle as VissBranch>::lookup_relative(relative, 1);
        assert_eq!(found, Some(NodeId(index as u32)), "{}", node.path);
    }
}

#[test]
fn lookup_misses_what_is_not_in_the_tree() {
    for path in [
        "",
        "Vehicle.",
        "vehicle.Speed",
        "Vehicle.Speed.",
        "Vehicle.Speedx",
        "Vehicle.Cabin.Door.Row3.DriverSide.IsOpen",
        "Vehicle.Cabin.Door.Row1.DriverSide.IsOpen.Extra",
        "Vehicle..Speed",
    ] {
        assert_eq!(Vehicle::TREE.lookup(path), None, "{path:?}");
    }
}

/// The derive fills the hot and the cold table as `DynamicTree` does from the IR.
#[test]
fn both_tables_equal_the_dynamic_trees() {
    let loaded = vspec::load(&VspecOptions {
        source: test_support::shared_path("vss/spec/VehicleSignalSpecification.vspec"),
        ..VspecOptions::default()
    });
    let dynamic = dynamic_tree_from_model(&loaded.tree.expect("the standard tree loads"))
        .expect("the model converts");
    assert_eq!(Vehicle::TREE.node_meta().len(), Vehicle::TREE.nodes().len());
    for (index, (derived, expected)) in Vehicle::TREE
        .nodes()
        .iter()
        .zip(dynamic.nodes())
        .enumerate()
    {
        assert_eq!(derived, expected, "hot {}", derived.path);
        assert_eq!(
            Vehicle::TREE.node_meta()[index],
            dynamic.node_meta()[index],
            "cold {}",
            derived.path
        );
    }
}

/// An engine over the standard tree starts without reading the cold table (its 59 attribute
/// defaults and its pattern are on the hot table).
#[test]
fn start_up_reads_no_cold_metadata() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use viss_runtime::{Engine, EngineConfig, NodeInfo, NodeMeta};

    #[derive(Debug)]
    struct Counting(AtomicUsize);
    impl VissTree for Counting {
        fn nodes(&self) -> &[NodeInfo] {
            Vehicle::TREE.nodes()
        }
        fn node_meta(&self) -> &[NodeMeta] {
            self.0.fetch_add(1, Ordering::SeqCst);
            Vehicle::TREE.node_meta()
        }
        fn lookup_dotted(&self, path: &str) -> Option<NodeId> {
            Vehicle::TREE.lookup_dotted(path)
        }
    }
    let engine = Engine::new(Counting(AtomicUsize::new(0)), EngineConfig::default());
    assert_eq!(engine.tree().0.load(Ordering::SeqCst), 0);
}

/// The tree by its node tables alone, so the trait's scanning defaults answer.
struct Scanned;

impl VissTree for Scanned {
    fn nodes(&self) -> &[viss_runtime::NodeInfo] {
        Vehicle::TREE.nodes()
    }

    fn node_meta(&self) -> &[viss_runtime::NodeMeta] {
        Vehicle::TREE.node_meta()
    }

    fn lookup_dotted(&self, path: &str) -> Option<NodeId> {
        Vehicle::TREE.lookup_dotted(path)
    }
}

#[test]
fn the_start_up_tables_hold_every_attribute_default_and_pattern_node() {
    let derived = Vehicle::TREE.attribute_defaults();
    // 60 nodes have a `default`; one of them is an actuator (a default target, not a value).
    assert_eq!(
        derived.len(),
        59,
        "the standard tree has 59 attributes with a default"
    );
    assert_eq!(&*derived, &*Scanned.attribute_defaults());
    assert!(derived.iter().all(|entry| entry.node.default.is_some()));
    assert_eq!(&*Vehicle::TREE.pattern_nodes(), &*Scanned.pattern_nodes());
    assert_eq!(Vehicle::TREE.pattern_nodes().len(), 1);
}
