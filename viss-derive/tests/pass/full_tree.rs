//! A tree using every field form compiles with no warnings, also with private types in a
//! module and a user scope full of names the generated code must not pick up.
#![deny(warnings)]

mod tree {
    use viss_runtime::{Actuator, Attribute, Sensor, VissTree};

    #[derive(Debug, VissTree)]
    #[viss(
        root = "Vehicle",
        description = "Root.",
        comment = "c",
        deprecation = "d",
        validate = "write-only"
    )]
    pub(crate) struct Car {
        #[viss(unit = "km/h", min = 0, max = 250, description = "Speed.")]
        pub(crate) speed: Sensor<f32>,
        #[viss(default = ["A"], allowed = ["A", "B"], uuid = "0123456789abcdef0123456789ABCDEF")]
        pub(crate) modes: Attribute<Vec<String>>,
        #[viss(validate = "read-write", default = -3, min = -5, max = 5)]
        pub(crate) trim: Actuator<i8>,
        #[viss(validate = "read-write+consent")]
        pub(crate) cabin: Cabin,
        pub(crate) empty: Empty,
    }

    #[derive(Debug, VissTree)]
    pub(crate) struct Cabin {
        #[viss(instances(["Row1", "Row2"], ["Left", "Right"]), validate = "write-only+consent")]
        pub(crate) door: [[Door; 2]; 2],
        #[viss(instances("Front"))]
        pub(crate) light: [Door; 1],
    }

    #[derive(Debug, VissTree)]
    pub(crate) struct Door {
        pub(crate) r#type: Attribute<String>,
    }

    #[derive(Debug, VissTree)]
    pub(crate) struct Empty {}
}

// Names a careless expansion could collide with.
#[allow(dead_code)]
struct NodeInfo;
#[allow(dead_code)]
struct Option;
#[allow(dead_code)]
const OFFSETS: () = ();
#[allow(dead_code)]
struct Validate;
#[allow(dead_code)]
enum Protects {}

fn main() {
    use viss_runtime::VissTree as _;
    let tree = tree::Car::TREE;
    // root, 3 leaves, Cabin, Door (2 rows of 2 sides of 1 leaf), Light (1 of 1 leaf), Empty
    assert_eq!(tree.nodes().len(), 1 + 3 + 1 + (1 + 2 * (1 + 2 * 2)) + (1 + 2) + 1);
    assert_eq!(tree.node(tree.cabin.door[1][1].r#type.id()).path, "Vehicle.Cabin.Door.Row2.Right.Type");
    assert_eq!(tree.lookup("Vehicle/Cabin/Light/Front/Type"), Some(tree.cabin.light[0].r#type.id()));
}
