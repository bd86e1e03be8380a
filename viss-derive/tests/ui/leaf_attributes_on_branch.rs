use viss_runtime::{Sensor, VissTree};

#[derive(VissTree)]
pub struct Cabin {
    pub temperature: Sensor<f32>,
}

#[derive(VissTree)]
#[viss(root)]
pub struct Vehicle {
    #[viss(unit = "celsius", default = 1, description = "Cabin.")]
    pub cabin: Cabin,
}

fn main() {}
