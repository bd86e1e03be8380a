use viss_runtime::{Attribute, VissTree};

#[derive(VissTree)]
#[viss(root)]
pub struct Vehicle {
    #[viss(default = "fast")]
    pub max_speed: Attribute<f32>,
    #[viss(default = 3)]
    pub fuel_types: Attribute<Vec<String>>,
    #[viss(default = [1, 2])]
    pub seats: Attribute<u8>,
    #[viss(default = 1.5)]
    pub doors: Attribute<u8>,
}

fn main() {}
