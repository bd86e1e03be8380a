use viss_runtime::{Sensor, VissTree};

#[derive(VissTree)]
#[viss(root, descripton = "typo")]
pub struct Vehicle {
    #[viss(units = "km/h", min = 0)]
    pub speed: Sensor<f32>,
}

fn main() {}
