use viss_runtime::{Attribute, VissTree};

#[derive(VissTree)]
#[viss(root)]
pub struct Vehicle {
    #[viss(pattern = "^[A-Z{17}$")]
    pub vin: Attribute<String>,
    #[viss(pattern = "^[0-9]+$")]
    pub year: Attribute<u16>,
    #[viss(pattern = "^(?=P)P[0-9]{4}$")]
    pub code: Attribute<String>,
    #[viss(pattern = 17)]
    pub serial: Attribute<String>,
}

fn main() {}
