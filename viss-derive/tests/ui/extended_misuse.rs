use viss_runtime::{Sensor, VissTree};

#[derive(VissTree)]
#[viss(root)]
pub struct Vehicle {
    #[viss(extended(dbc = "Speed", r#type = "sensor", dbc = "Again"))]
    pub speed: Sensor<f32>,
    #[viss(extended(signal = json(r#"{"name": "Rpm",}"#)))]
    pub rpm: Sensor<u16>,
    #[viss(extended(signal = -"x"))]
    pub gear: Sensor<u8>,
    #[viss(fka = ["Vehicle.Old", 1], const_uid = "0x1")]
    pub odometer: Sensor<f32>,
    pub cabin: Cabin,
}

#[derive(VissTree)]
#[viss(extended(dbc = "Cabin"), fka = ["Vehicle.Interior"])]
pub struct Cabin {
    pub temperature: Sensor<f32>,
}

fn main() {}
