use viss_runtime::{Sensor, VissTree};

#[derive(VissTree)]
#[viss(root)]
pub struct Vehicle {
    #[viss(allowed = [true])]
    pub is_moving: Sensor<bool>,
    #[viss(allowed = ["P", 1])]
    pub gear: Sensor<String>,
    #[viss(allowed = [1, 2], min = 0)]
    pub mode: Sensor<u8>,
}

fn main() {}
