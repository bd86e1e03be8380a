use viss_runtime::{Sensor, VissTree};

#[derive(VissTree)]
#[viss(description = "Lost: the node is described by the parent's field.")]
pub struct Cabin {
    pub temperature: Sensor<f32>,
}

fn main() {}
