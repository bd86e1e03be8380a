use viss_runtime::{Actuator, Sensor, VissTree};

#[derive(VissTree)]
pub struct Door {
    pub is_open: Actuator<bool>,
}

#[derive(VissTree)]
#[viss(root)]
pub struct Cabin {
    #[viss(instances("Row1", "Row2"))]
    pub door: [Door; 3],
    pub seat: [Door; 2],
    #[viss(instances("Left", "Left"))]
    pub mirror: [Door; 2],
    #[viss(instances("Row1", "Row2"))]
    pub window: [[Door; 2]; 2],
    #[viss(instances("A"))]
    pub light: Sensor<bool>,
    #[viss(instances("A"))]
    pub sensors: [Sensor<bool>; 1],
}

fn main() {}
