use viss_runtime::{Sensor, VissTree};

#[derive(VissTree)]
#[viss(root)]
pub struct Vehicle {
    #[viss(enum("DRY" = 0, "WET" = 1))]
    pub surface: Sensor<String>,
    #[viss(enum("LOW" = 0))]
    pub level: Sensor<f32>,
    #[viss(enum("NONE" = 0, "RAIN" = 1, "NONE" = 2))]
    pub precipitation: Sensor<u8>,
    #[viss(enum("NONE" = 0, "HUGE" = 300, "HALF" = 1.5, "TEXT" = "x"))]
    pub kind: Sensor<u8>,
    #[viss(enum("NONE" = 0, "RAIN" = 1), default = 2)]
    pub weather: Sensor<u8>,
    #[viss(enum())]
    pub empty: Sensor<u8>,
    #[viss(enum("A" = 1))]
    pub body: Body,
}

#[derive(VissTree)]
pub struct Body {
    pub doors: Sensor<u8>,
}

fn main() {}
