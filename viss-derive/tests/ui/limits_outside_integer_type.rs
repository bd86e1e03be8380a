use viss_runtime::{Sensor, VissTree};

#[derive(VissTree)]
#[viss(root)]
pub struct Vehicle {
    #[viss(min = -1, max = 300)]
    pub level: Sensor<u8>,
    #[viss(max = 2.5)]
    pub gear: Sensor<i8>,
}

fn main() {}
