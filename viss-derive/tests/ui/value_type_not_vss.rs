use viss_runtime::{Sensor, VissTree};

pub struct Wheel {
    pub pressure: u16,
}

#[derive(VissTree)]
#[viss(root)]
pub struct Vehicle {
    pub wheel: Sensor<Wheel>,
}

fn main() {}
