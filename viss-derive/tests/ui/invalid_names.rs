use viss_runtime::{Sensor, VissTree};

#[derive(VissTree)]
#[viss(root = "Vehicle.Car")]
pub struct Vehicle {
    #[viss(name = "Speed.Now")]
    pub speed: Sensor<f32>,
    #[viss(name = "")]
    pub gear: Sensor<u8>,
    #[viss(validate = "sometimes", uuid = "not-a-uuid")]
    pub mode: Sensor<u8>,
}

fn main() {}
