use viss_runtime::{Actuator, VissTree};

#[derive(VissTree)]
#[viss(root)]
pub struct Door {
    pub is_open: Actuator<bool>,
    #[viss(name = "IsOpen")]
    pub open: Actuator<bool>,
}

fn main() {}
