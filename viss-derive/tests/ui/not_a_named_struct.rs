use viss_runtime::{Sensor, VissTree};

#[derive(VissTree)]
pub enum Gear {
    Park,
    Drive,
}

#[derive(VissTree)]
pub struct Pair(Sensor<u8>, Sensor<u8>);

#[derive(VissTree)]
pub struct Generic<T> {
    pub value: Sensor<T>,
}

fn main() {}
