use viss_runtime::{Actuator, Sensor, VissEnum, VissTree};

#[derive(Debug, Clone, Copy, PartialEq, Eq, VissEnum)]
pub enum Switch {
    Inactive,
    Close,
    Open,
}

#[derive(Debug)]
pub struct Position;

#[derive(VissTree)]
#[viss(root)]
pub struct Vehicle {
    // The enum misses a value of the list.
    #[viss(allowed = ["INACTIVE", "CLOSE", "OPEN", "ONE_SHOT_OPEN"])]
    pub window: Actuator<Switch>,
    // The enum has a value the list does not have.
    #[viss(allowed = ["INACTIVE", "OPEN"])]
    pub sunroof: Actuator<Switch>,
    // An enum-typed leaf without its list.
    pub hood: Sensor<Switch>,
    // A list on a value type that is no enum.
    #[viss(allowed = ["HERE"])]
    pub position: Sensor<Position>,
}

fn main() {}
