use viss_runtime::{Sensor, VissTree};

#[derive(VissTree)]
#[viss(root)]
pub struct Vehicle {
    pub size: Sensor<usize>,
    pub wide: Sensor<i128>,
    pub letter: Sensor<char>,
}

fn main() {}
