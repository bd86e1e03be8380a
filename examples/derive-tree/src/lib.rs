//! A user's hand-written VSS tree with `#[derive(VissTree)]`: a small car with every leaf
//! kind (sensor, actuator, attribute), every VSS datatype (all primitives, arrays, a struct
//! type and a struct array) and an instance set with two dimensions
//! (`Cabin.Door.Row1.DriverSide`).

use std::borrow::Cow;

use viss_runtime::typed::{struct_array_datatype, struct_datatype, take_field};
use viss_runtime::{Actuator, Attribute, DataType, Sensor, Value, VissTree, VssElement, VssType};

/// The VSS struct type `Types.Position`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Position {
    pub latitude: f64,
    pub longitude: f64,
}

impl VssType for Position {
    const DATATYPE: DataType = struct_datatype("Types.Position");

    fn into_value(self) -> Value {
        Value::Struct(vec![
            ("Latitude".to_owned(), self.latitude.into_value()),
            ("Longitude".to_owned(), self.longitude.into_value()),
        ])
    }

    fn from_value(value: Value) -> Option<Self> {
        let Value::Struct(mut fields) = value else {
            return None;
        };
        Some(Self {
            latitude: take_field(&mut fields, "Latitude")?,
            longitude: take_field(&mut fields, "Longitude")?,
        })
    }
}

impl VssElement for Position {
    const ARRAY_DATATYPE: DataType = struct_array_datatype("Types.Position");
}

/// The root: `Vehicle`.
#[derive(Debug, VissTree)]
#[viss(root, description = "High-level vehicle data.")]
pub struct Vehicle {
    #[viss(unit = "km/h", min = 0, max = 300, description = "Vehicle speed.")]
    pub speed: Sensor<f32>,
    #[viss(
        unit = "km",
        description = "Odometer reading, total distance travelled."
    )]
    pub traveled_distance: Sensor<f64>,
    #[viss(description = "Is the vehicle moving?")]
    pub is_moving: Sensor<bool>,
    #[viss(unit = "s", description = "Time since start of the current trip.")]
    pub trip_duration: Sensor<u64>,
    #[viss(description = "Attributes identifying the vehicle.")]
    pub vehicle_identification: VehicleIdentification,
    #[viss(description = "The current location of the vehicle.")]
    pub current_location: CurrentLocation,
    #[viss(description = "All in-cabin components.")]
    pub cabin: Cabin,
    #[viss(description = "Powertrain data.")]
    pub powertrain: Powertrain,
    #[viss(name = "OBD", description = "On-board diagnostics.")]
    pub obd: Obd,
}

/// `Vehicle.VehicleIdentification`.
#[derive(Debug, VissTree)]
pub struct VehicleIdentification {
    #[viss(
        name = "VIN",
        description = "17-character Vehicle Identification Number."
    )]
    pub vin: Attribute<String>,
    #[viss(default = 2024, description = "Model year.")]
    pub year: Attribute<u16>,
    #[viss(default = "Sedan", allowed = ["Sedan", "Hatchback", "SUV"], description = "Body type.")]
    pub body_type: Attribute<String>,
    #[viss(default = ["GASOLINE", "ELECTRIC"], description = "Fuel types.")]
    pub fuel_types: Attribute<Vec<String>>,
}

/// `Vehicle.CurrentLocation`.
#[derive(Debug, VissTree)]
pub struct CurrentLocation {
    #[viss(unit = "degrees", min = -90, max = 90, description = "Latitude.")]
    pub latitude: Sensor<f64>,
    #[viss(unit = "degrees", min = -180, max = 180, description = "Longitude.")]
    pub longitude: Sensor<f64>,
    #[viss(unit = "m", description = "Altitude relative to sea level.")]
    pub altitude: Sensor<i32>,
    #[viss(description = "Position as one struct value.")]
    pub position: Sensor<Position>,
    #[viss(description = "Recent positions, oldest first.")]
    pub trail: Sensor<Vec<Position>>,
}

/// `Vehicle.Cabin`.
#[derive(Debug, VissTree)]
pub struct Cabin {
    #[viss(
        instances(["Row1", "Row2"], ["DriverSide", "PassengerSide"]),
        description = "All doors."
    )]
    pub door: [[Door; 2]; 2],
    #[viss(default = 5, min = 1, max = 9, description = "Number of seats.")]
    pub seat_count: Attribute<u8>,
    #[viss(unit = "celsius", min = -40, max = 60, description = "Cabin temperature.")]
    pub temperature: Sensor<i8>,
    #[viss(description = "Ambient light colour, RGB.")]
    pub ambient_light: Actuator<Vec<u8>>,
}

/// `Vehicle.Cabin.Door.<row>.<side>`.
#[derive(Debug, VissTree)]
pub struct Door {
    #[viss(description = "Is the door open?")]
    pub is_open: Actuator<bool>,
    #[viss(description = "Is the door locked?")]
    pub is_locked: Actuator<bool>,
    #[viss(description = "Door window.")]
    pub window: Window,
}

/// `...Door.<row>.<side>.Window`.
#[derive(Debug, VissTree)]
pub struct Window {
    #[viss(
        unit = "percent",
        min = 0,
        max = 100,
        description = "0 = closed, 100 = open."
    )]
    pub position: Actuator<u8>,
}

/// `Vehicle.Powertrain`.
#[derive(Debug, VissTree)]
pub struct Powertrain {
    #[viss(unit = "rpm", max = 20000, description = "Engine speed.")]
    pub engine_speed: Sensor<u16>,
    #[viss(unit = "Nm", description = "Current torque.")]
    pub torque: Sensor<i16>,
    #[viss(min = -1, max = 8, description = "Selected gear; -1 reverse, 0 neutral.")]
    pub selected_gear: Actuator<i8>,
    #[viss(allowed = ["ECO", "NORMAL", "SPORT"], description = "Drive mode.")]
    pub drive_mode: Actuator<String>,
    #[viss(unit = "m", description = "Remaining range.")]
    pub range: Sensor<u32>,
    #[viss(
        unit = "ms",
        description = "Total engine run time.",
        deprecation = "v5.0 moved"
    )]
    pub run_time: Sensor<i64>,
}

/// `Vehicle.OBD`.
#[derive(Debug, VissTree)]
pub struct Obd {
    #[viss(name = "DTCList", description = "Diagnostic trouble codes.")]
    pub dtc_list: Sensor<Vec<String>>,
    #[viss(unit = "V", description = "Oxygen sensor voltages.")]
    pub o2_voltages: Sensor<Vec<f32>>,
    #[viss(description = "Readiness flags.", comment = "One per monitor.")]
    pub readiness: Sensor<Vec<bool>>,
    #[viss(unit = "kPa", description = "Pressures, double precision.")]
    pub pressures: Sensor<Vec<f64>>,
    #[viss(description = "Freeze frame counters.")]
    pub counters: Sensor<Vec<i16>>,
}

/// The handles of the whole tree.
pub const VEHICLE: Vehicle = Vehicle::TREE;

/// Leaves in [`Vehicle`] (checked by the tests).
pub fn leaf_count() -> usize {
    let mut count = 0;
    viss_runtime::VissBranch::visit_leaves(&VEHICLE, &mut |_| count += 1);
    count
}

/// The VSS name of the tree's root.
pub fn root_name() -> Cow<'static, str> {
    VEHICLE.nodes()[0].name.clone()
}
