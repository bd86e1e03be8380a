use viss_runtime::{Sensor, VissTree};

#[derive(VissTree)]
#[viss(root)]
pub struct Vehicle {
    #[viss(min = 100, max = 10)]
    pub speed: Sensor<f32>,
}

fn main() {}
