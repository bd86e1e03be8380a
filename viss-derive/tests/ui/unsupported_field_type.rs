use viss_runtime::{Sensor, VissTree};

#[derive(VissTree)]
#[viss(root)]
pub struct Vehicle {
    pub speed: f32,
    pub gear: Option<Sensor<u8>>,
    pub pair: (Sensor<u8>, Sensor<u8>),
    pub handle: Sensor,
}

fn main() {}
