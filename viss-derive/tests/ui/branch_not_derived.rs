use viss_runtime::{Sensor, VissTree};

pub struct Cabin {
    pub temperature: Sensor<f32>,
}

#[derive(VissTree)]
#[viss(root)]
pub struct Vehicle {
    pub cabin: Cabin,
}

fn main() {}
