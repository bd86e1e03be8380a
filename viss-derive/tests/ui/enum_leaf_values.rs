use viss_runtime::{Actuator, VissEnum, VissTree};

#[derive(Debug, Clone, Copy, PartialEq, Eq, VissEnum)]
pub enum Switch {
    Close,
    Open,
}

#[derive(VissTree)]
#[viss(root)]
pub struct Vehicle {
    // Values of an enum leaf are strings; an array leaf's default is an array of them.
    #[viss(allowed = [1, 2], default = "OPEN")]
    pub trunk: Actuator<Vec<Switch>>,
    // The default is one of the values.
    #[viss(allowed = ["CLOSE", "OPEN"], default = "AJAR")]
    pub hood: Actuator<Switch>,
}

fn main() {}
