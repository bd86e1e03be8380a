use viss_runtime::{Sensor, VissTree};

#[derive(VissTree)]
#[viss(root)]
pub struct Vehicle {
    #[viss(min = 0)]
    pub vin: Sensor<String>,
    #[viss(max = 1)]
    pub is_moving: Sensor<bool>,
    #[viss(max = 10)]
    pub codes: Sensor<Vec<u8>>,
}

fn main() {}
