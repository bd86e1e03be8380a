//! Enum-typed leaves compile with no warnings: scalar and array leaves, a default, an
//! enum in a module, renamed variants, an alias, and the enums used through the engine.
#![deny(warnings)]

mod values {
    use viss_runtime::VissEnum;

    /// Body type.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, VissEnum)]
    pub enum BodyType {
        #[default]
        Sedan,
        Suv,
        #[viss(name = "2_DOOR")]
        TwoDoor,
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq, VissEnum)]
    pub enum Fuel {
        Gasoline,
        Diesel,
        #[viss(name = "E5_95")]
        E5_95,
    }

    /// One list, two concepts.
    pub type Spare = Fuel;
}

use values::{BodyType, Fuel, Spare};
use viss_runtime::{Actuator, Attribute, Engine, EngineConfig, Sensor, TypedEngine, VissTree};

#[derive(Debug, VissTree)]
#[viss(root)]
pub struct Vehicle {
    #[viss(allowed = ["SEDAN", "SUV", "2_DOOR"], default = "SEDAN")]
    pub body_type: Attribute<BodyType>,
    #[viss(allowed = ["GASOLINE", "DIESEL", "E5_95"], default = ["DIESEL"])]
    pub fuels: Attribute<Vec<Fuel>>,
    #[viss(allowed = ["E5_95", "DIESEL", "GASOLINE"])]
    pub spare: Sensor<Spare>,
    #[viss(allowed = ["SEDAN", "SUV", "2_DOOR"])]
    pub wanted: Actuator<BodyType>,
}

fn main() {
    let engine = Engine::new(Vehicle::TREE, EngineConfig::default());
    assert_eq!(engine.current(Vehicle::TREE.body_type), Some(BodyType::default()));
    assert_eq!(engine.current(Vehicle::TREE.fuels), Some(vec![Fuel::Diesel]));
    let now = jiff::Timestamp::now();
    engine.feed(Vehicle::TREE.spare, Spare::E5_95, now).unwrap();
    assert_eq!(engine.current(Vehicle::TREE.spare), Some(Fuel::E5_95));
    assert_eq!(BodyType::TwoDoor.to_string(), "2_DOOR");
}
