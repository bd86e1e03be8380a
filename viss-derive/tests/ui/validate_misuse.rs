use viss_runtime::{Actuator, Sensor, VissTree};

#[derive(VissTree)]
#[viss(validate = "read-write")]
pub struct Cabin {
    pub temperature: Sensor<f32>,
}

#[derive(VissTree)]
pub struct Door {
    #[viss(validate = "read-only", extended(validate = "read-write"))]
    pub is_open: Actuator<bool>,
}

#[derive(VissTree)]
#[viss(root, validate = "write-only+Consent")]
pub struct Vehicle {
    #[viss(validate = "readwrite", description = "A branch.")]
    pub cabin: Cabin,
    #[viss(instances("Left", "Right"), validate = "")]
    pub door: [Door; 2],
    #[viss(validate = 1)]
    pub speed: Sensor<f32>,
}

fn main() {}
