use viss_runtime::{Sensor, VissTree};

#[derive(VissTree)]
#[viss(root)]
pub struct Vehicle {
    #[viss(min = "zero")]
    pub speed: Sensor<f32>,
    #[viss(allowed = "P")]
    pub gear: Sensor<String>,
    #[viss(unit = 5)]
    pub range: Sensor<u32>,
}

fn main() {}
