// One derive with several independent mistakes: every one is reported, not just the first.
use viss_runtime::{Actuator, Sensor, VissTree};

#[derive(VissTree)]
#[viss(root)]
pub struct Vehicle {
    #[viss(colour = "red")]
    pub speed: Sensor<f32>,
    #[viss(min = 5, max = 1)]
    pub range: Sensor<u32>,
    #[viss(allowed = [true, false])]
    pub is_moving: Actuator<bool>,
    #[viss(name = "Speed")]
    pub velocity: Sensor<f32>,
}

fn main() {}
