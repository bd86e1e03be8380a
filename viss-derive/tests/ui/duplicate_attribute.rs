use viss_runtime::{Sensor, VissTree};

#[derive(VissTree)]
#[viss(root)]
pub struct Vehicle {
    #[viss(unit = "km/h", description = "Speed.")]
    #[viss(unit = "m/s")]
    pub speed: Sensor<f32>,
}

fn main() {}
