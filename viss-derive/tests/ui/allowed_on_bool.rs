use viss_runtime::{Sensor, VissTree};

#[derive(VissTree)]
#[viss(root)]
pub struct Vehicle {
    #[viss(allowed = [true])]
    pub is_moving: Sensor<bool>,
    #[viss(allowed = ["P", 1])]
    pub gear: Sensor<String>,
}

fn main() {}
