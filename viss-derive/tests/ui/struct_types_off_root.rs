use viss_runtime::{Sensor, VissTree};

static TYPES: [viss_runtime::StructType; 0] = [];

#[derive(VissTree)]
#[viss(struct_types = TYPES)]
pub struct Cabin {
    pub temperature: Sensor<f32>,
}

fn main() {}
