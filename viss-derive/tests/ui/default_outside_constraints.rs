use viss_runtime::{Attribute, VissTree};

#[derive(VissTree)]
#[viss(root)]
pub struct Vehicle {
    #[viss(min = 1, max = 9, default = 12)]
    pub seats: Attribute<u8>,
    #[viss(allowed = ["Sedan", "SUV"], default = "Truck")]
    pub body: Attribute<String>,
}

fn main() {}
