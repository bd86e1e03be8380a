use viss_runtime::{Sensor, VissTree};

#[derive(VissTree)]
#[viss(root)]
pub struct Vehicle {
    pub speed: Sensor<Option<f32>>,
    pub matrix: Sensor<Vec<Vec<u8>>>,
    pub reference: Sensor<&'static str>,
}

fn main() {}
