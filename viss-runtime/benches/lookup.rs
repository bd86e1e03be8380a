//! Path → node lookup on a derived tree of 1,040 leaves (1,091 nodes, VSS-like names and
//! depth), every node once per iteration (ns/lookup = reported time / 1,091):
//!
//! * `derived_static_index`: `VissTree::lookup_dotted` of the derived root, the static
//!   open-addressing index built at compile time;
//! * `derived_segment_match`: `VissBranch::lookup_relative`, the generated per-segment
//!   `match` (what nested branch types use; the root node itself is not looked up here);
//! * `hashmap_str_baseline`: a `HashMap<&str, NodeId>` over the same paths;
//! * `dynamic_tree`: the runtime's `DynamicTree` (a `HashMap<Box<str>, NodeId>`).
//!
//! On the shared 2-core dev machine (load ~4, so only the ratios mean much), one run gave
//! 9.2 ns/lookup for the static index, 15.4 for the segment match, 23.7 for the
//! `HashMap<&str, _>` baseline and 29.4 for `DynamicTree`; an earlier, busier run 18.8 /
//! 31.4 / 35.7 / 42.0. Run: `cargo bench -p viss-runtime --bench lookup`.
//!
//! The tree is written out below (generated once by a script, kept as source).

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use viss_runtime::{Actuator, DynamicTree, NodeId, NodeSpec, Sensor, VissBranch, VissTree};

#[derive(Debug, viss_derive::VissTree)]
#[viss(root)]
pub struct Vehicle {
    pub body: Body,
    pub cabin: Cabin,
    pub chassis: Chassis,
    pub adas: ADAS,
    pub powertrain: Powertrain,
    pub obd: OBD,
    pub infotainment: Infotainment,
    pub exterior: Exterior,
    pub service: Service,
    pub driver: Driver,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct Body {
    pub lights: BodyLights,
    pub climate: BodyClimate,
    pub sensors: BodySensors,
    pub controls: BodyControls,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct BodyLights {
    pub is_open: Actuator<f32>,
    pub is_locked: Sensor<bool>,
    pub position: Sensor<u8>,
    pub temperature: Actuator<i16>,
    pub pressure: Sensor<u16>,
    pub voltage: Sensor<f64>,
    pub current: Actuator<u32>,
    pub level: Sensor<String>,
    pub speed: Sensor<bool>,
    pub is_active: Actuator<i8>,
    pub is_engaged: Sensor<f32>,
    pub mode: Sensor<bool>,
    pub status: Actuator<u8>,
    pub intensity: Sensor<i16>,
    pub angle: Sensor<u16>,
    pub distance: Actuator<f64>,
    pub count: Sensor<u32>,
    pub duration: Sensor<String>,
    pub is_warning: Actuator<bool>,
    pub is_error: Sensor<i8>,
    pub target_value: Sensor<f32>,
    pub actual_value: Actuator<bool>,
    pub minimum_level: Sensor<u8>,
    pub maximum_level: Sensor<i16>,
    pub is_enabled: Actuator<u16>,
    pub identifier: Sensor<f64>,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct BodyClimate {
    pub is_open: Actuator<bool>,
    pub is_locked: Sensor<u8>,
    pub position: Sensor<i16>,
    pub temperature: Actuator<u16>,
    pub pressure: Sensor<f64>,
    pub voltage: Sensor<u32>,
    pub current: Actuator<String>,
    pub level: Sensor<bool>,
    pub speed: Sensor<i8>,
    pub is_active: Actuator<f32>,
    pub is_engaged: Sensor<bool>,
    pub mode: Sensor<u8>,
    pub status: Actuator<i16>,
    pub intensity: Sensor<u16>,
    pub angle: Sensor<f64>,
    pub distance: Actuator<u32>,
    pub count: Sensor<String>,
    pub duration: Sensor<bool>,
    pub is_warning: Actuator<i8>,
    pub is_error: Sensor<f32>,
    pub target_value: Sensor<bool>,
    pub actual_value: Actuator<u8>,
    pub minimum_level: Sensor<i16>,
    pub maximum_level: Sensor<u16>,
    pub is_enabled: Actuator<f64>,
    pub identifier: Sensor<u32>,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct BodySensors {
    pub is_open: Actuator<u8>,
    pub is_locked: Sensor<i16>,
    pub position: Sensor<u16>,
    pub temperature: Actuator<f64>,
    pub pressure: Sensor<u32>,
    pub voltage: Sensor<String>,
    pub current: Actuator<bool>,
    pub level: Sensor<i8>,
    pub speed: Sensor<f32>,
    pub is_active: Actuator<bool>,
    pub is_engaged: Sensor<u8>,
    pub mode: Sensor<i16>,
    pub status: Actuator<u16>,
    pub intensity: Sensor<f64>,
    pub angle: Sensor<u32>,
    pub distance: Actuator<String>,
    pub count: Sensor<bool>,
    pub duration: Sensor<i8>,
    pub is_warning: Actuator<f32>,
    pub is_error: Sensor<bool>,
    pub target_value: Sensor<u8>,
    pub actual_value: Actuator<i16>,
    pub minimum_level: Sensor<u16>,
    pub maximum_level: Sensor<f64>,
    pub is_enabled: Actuator<u32>,
    pub identifier: Sensor<String>,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct BodyControls {
    pub is_open: Actuator<i16>,
    pub is_locked: Sensor<u16>,
    pub position: Sensor<f64>,
    pub temperature: Actuator<u32>,
    pub pressure: Sensor<String>,
    pub voltage: Sensor<bool>,
    pub current: Actuator<i8>,
    pub level: Sensor<f32>,
    pub speed: Sensor<bool>,
    pub is_active: Actuator<u8>,
    pub is_engaged: Sensor<i16>,
    pub mode: Sensor<u16>,
    pub status: Actuator<f64>,
    pub intensity: Sensor<u32>,
    pub angle: Sensor<String>,
    pub distance: Actuator<bool>,
    pub count: Sensor<i8>,
    pub duration: Sensor<f32>,
    pub is_warning: Actuator<bool>,
    pub is_error: Sensor<u8>,
    pub target_value: Sensor<i16>,
    pub actual_value: Actuator<u16>,
    pub minimum_level: Sensor<f64>,
    pub maximum_level: Sensor<u32>,
    pub is_enabled: Actuator<String>,
    pub identifier: Sensor<bool>,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct Cabin {
    pub lights: CabinLights,
    pub climate: CabinClimate,
    pub sensors: CabinSensors,
    pub controls: CabinControls,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct CabinLights {
    pub is_open: Actuator<bool>,
    pub is_locked: Sensor<u8>,
    pub position: Sensor<i16>,
    pub temperature: Actuator<u16>,
    pub pressure: Sensor<f64>,
    pub voltage: Sensor<u32>,
    pub current: Actuator<String>,
    pub level: Sensor<bool>,
    pub speed: Sensor<i8>,
    pub is_active: Actuator<f32>,
    pub is_engaged: Sensor<bool>,
    pub mode: Sensor<u8>,
    pub status: Actuator<i16>,
    pub intensity: Sensor<u16>,
    pub angle: Sensor<f64>,
    pub distance: Actuator<u32>,
    pub count: Sensor<String>,
    pub duration: Sensor<bool>,
    pub is_warning: Actuator<i8>,
    pub is_error: Sensor<f32>,
    pub target_value: Sensor<bool>,
    pub actual_value: Actuator<u8>,
    pub minimum_level: Sensor<i16>,
    pub maximum_level: Sensor<u16>,
    pub is_enabled: Actuator<f64>,
    pub identifier: Sensor<u32>,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct CabinClimate {
    pub is_open: Actuator<u8>,
    pub is_locked: Sensor<i16>,
    pub position: Sensor<u16>,
    pub temperature: Actuator<f64>,
    pub pressure: Sensor<u32>,
    pub voltage: Sensor<String>,
    pub current: Actuator<bool>,
    pub level: Sensor<i8>,
    pub speed: Sensor<f32>,
    pub is_active: Actuator<bool>,
    pub is_engaged: Sensor<u8>,
    pub mode: Sensor<i16>,
    pub status: Actuator<u16>,
    pub intensity: Sensor<f64>,
    pub angle: Sensor<u32>,
    pub distance: Actuator<String>,
    pub count: Sensor<bool>,
    pub duration: Sensor<i8>,
    pub is_warning: Actuator<f32>,
    pub is_error: Sensor<bool>,
    pub target_value: Sensor<u8>,
    pub actual_value: Actuator<i16>,
    pub minimum_level: Sensor<u16>,
    pub maximum_level: Sensor<f64>,
    pub is_enabled: Actuator<u32>,
    pub identifier: Sensor<String>,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct CabinSensors {
    pub is_open: Actuator<i16>,
    pub is_locked: Sensor<u16>,
    pub position: Sensor<f64>,
    pub temperature: Actuator<u32>,
    pub pressure: Sensor<String>,
    pub voltage: Sensor<bool>,
    pub current: Actuator<i8>,
    pub level: Sensor<f32>,
    pub speed: Sensor<bool>,
    pub is_active: Actuator<u8>,
    pub is_engaged: Sensor<i16>,
    pub mode: Sensor<u16>,
    pub status: Actuator<f64>,
    pub intensity: Sensor<u32>,
    pub angle: Sensor<String>,
    pub distance: Actuator<bool>,
    pub count: Sensor<i8>,
    pub duration: Sensor<f32>,
    pub is_warning: Actuator<bool>,
    pub is_error: Sensor<u8>,
    pub target_value: Sensor<i16>,
    pub actual_value: Actuator<u16>,
    pub minimum_level: Sensor<f64>,
    pub maximum_level: Sensor<u32>,
    pub is_enabled: Actuator<String>,
    pub identifier: Sensor<bool>,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct CabinControls {
    pub is_open: Actuator<u16>,
    pub is_locked: Sensor<f64>,
    pub position: Sensor<u32>,
    pub temperature: Actuator<String>,
    pub pressure: Sensor<bool>,
    pub voltage: Sensor<i8>,
    pub current: Actuator<f32>,
    pub level: Sensor<bool>,
    pub speed: Sensor<u8>,
    pub is_active: Actuator<i16>,
    pub is_engaged: Sensor<u16>,
    pub mode: Sensor<f64>,
    pub status: Actuator<u32>,
    pub intensity: Sensor<String>,
    pub angle: Sensor<bool>,
    pub distance: Actuator<i8>,
    pub count: Sensor<f32>,
    pub duration: Sensor<bool>,
    pub is_warning: Actuator<u8>,
    pub is_error: Sensor<i16>,
    pub target_value: Sensor<u16>,
    pub actual_value: Actuator<f64>,
    pub minimum_level: Sensor<u32>,
    pub maximum_level: Sensor<String>,
    pub is_enabled: Actuator<bool>,
    pub identifier: Sensor<i8>,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct Chassis {
    pub lights: ChassisLights,
    pub climate: ChassisClimate,
    pub sensors: ChassisSensors,
    pub controls: ChassisControls,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct ChassisLights {
    pub is_open: Actuator<u8>,
    pub is_locked: Sensor<i16>,
    pub position: Sensor<u16>,
    pub temperature: Actuator<f64>,
    pub pressure: Sensor<u32>,
    pub voltage: Sensor<String>,
    pub current: Actuator<bool>,
    pub level: Sensor<i8>,
    pub speed: Sensor<f32>,
    pub is_active: Actuator<bool>,
    pub is_engaged: Sensor<u8>,
    pub mode: Sensor<i16>,
    pub status: Actuator<u16>,
    pub intensity: Sensor<f64>,
    pub angle: Sensor<u32>,
    pub distance: Actuator<String>,
    pub count: Sensor<bool>,
    pub duration: Sensor<i8>,
    pub is_warning: Actuator<f32>,
    pub is_error: Sensor<bool>,
    pub target_value: Sensor<u8>,
    pub actual_value: Actuator<i16>,
    pub minimum_level: Sensor<u16>,
    pub maximum_level: Sensor<f64>,
    pub is_enabled: Actuator<u32>,
    pub identifier: Sensor<String>,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct ChassisClimate {
    pub is_open: Actuator<i16>,
    pub is_locked: Sensor<u16>,
    pub position: Sensor<f64>,
    pub temperature: Actuator<u32>,
    pub pressure: Sensor<String>,
    pub voltage: Sensor<bool>,
    pub current: Actuator<i8>,
    pub level: Sensor<f32>,
    pub speed: Sensor<bool>,
    pub is_active: Actuator<u8>,
    pub is_engaged: Sensor<i16>,
    pub mode: Sensor<u16>,
    pub status: Actuator<f64>,
    pub intensity: Sensor<u32>,
    pub angle: Sensor<String>,
    pub distance: Actuator<bool>,
    pub count: Sensor<i8>,
    pub duration: Sensor<f32>,
    pub is_warning: Actuator<bool>,
    pub is_error: Sensor<u8>,
    pub target_value: Sensor<i16>,
    pub actual_value: Actuator<u16>,
    pub minimum_level: Sensor<f64>,
    pub maximum_level: Sensor<u32>,
    pub is_enabled: Actuator<String>,
    pub identifier: Sensor<bool>,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct ChassisSensors {
    pub is_open: Actuator<u16>,
    pub is_locked: Sensor<f64>,
    pub position: Sensor<u32>,
    pub temperature: Actuator<String>,
    pub pressure: Sensor<bool>,
    pub voltage: Sensor<i8>,
    pub current: Actuator<f32>,
    pub level: Sensor<bool>,
    pub speed: Sensor<u8>,
    pub is_active: Actuator<i16>,
    pub is_engaged: Sensor<u16>,
    pub mode: Sensor<f64>,
    pub status: Actuator<u32>,
    pub intensity: Sensor<String>,
    pub angle: Sensor<bool>,
    pub distance: Actuator<i8>,
    pub count: Sensor<f32>,
    pub duration: Sensor<bool>,
    pub is_warning: Actuator<u8>,
    pub is_error: Sensor<i16>,
    pub target_value: Sensor<u16>,
    pub actual_value: Actuator<f64>,
    pub minimum_level: Sensor<u32>,
    pub maximum_level: Sensor<String>,
    pub is_enabled: Actuator<bool>,
    pub identifier: Sensor<i8>,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct ChassisControls {
    pub is_open: Actuator<f64>,
    pub is_locked: Sensor<u32>,
    pub position: Sensor<String>,
    pub temperature: Actuator<bool>,
    pub pressure: Sensor<i8>,
    pub voltage: Sensor<f32>,
    pub current: Actuator<bool>,
    pub level: Sensor<u8>,
    pub speed: Sensor<i16>,
    pub is_active: Actuator<u16>,
    pub is_engaged: Sensor<f64>,
    pub mode: Sensor<u32>,
    pub status: Actuator<String>,
    pub intensity: Sensor<bool>,
    pub angle: Sensor<i8>,
    pub distance: Actuator<f32>,
    pub count: Sensor<bool>,
    pub duration: Sensor<u8>,
    pub is_warning: Actuator<i16>,
    pub is_error: Sensor<u16>,
    pub target_value: Sensor<f64>,
    pub actual_value: Actuator<u32>,
    pub minimum_level: Sensor<String>,
    pub maximum_level: Sensor<bool>,
    pub is_enabled: Actuator<i8>,
    pub identifier: Sensor<f32>,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct ADAS {
    pub lights: ADASLights,
    pub climate: ADASClimate,
    pub sensors: ADASSensors,
    pub controls: ADASControls,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct ADASLights {
    pub is_open: Actuator<i16>,
    pub is_locked: Sensor<u16>,
    pub position: Sensor<f64>,
    pub temperature: Actuator<u32>,
    pub pressure: Sensor<String>,
    pub voltage: Sensor<bool>,
    pub current: Actuator<i8>,
    pub level: Sensor<f32>,
    pub speed: Sensor<bool>,
    pub is_active: Actuator<u8>,
    pub is_engaged: Sensor<i16>,
    pub mode: Sensor<u16>,
    pub status: Actuator<f64>,
    pub intensity: Sensor<u32>,
    pub angle: Sensor<String>,
    pub distance: Actuator<bool>,
    pub count: Sensor<i8>,
    pub duration: Sensor<f32>,
    pub is_warning: Actuator<bool>,
    pub is_error: Sensor<u8>,
    pub target_value: Sensor<i16>,
    pub actual_value: Actuator<u16>,
    pub minimum_level: Sensor<f64>,
    pub maximum_level: Sensor<u32>,
    pub is_enabled: Actuator<String>,
    pub identifier: Sensor<bool>,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct ADASClimate {
    pub is_open: Actuator<u16>,
    pub is_locked: Sensor<f64>,
    pub position: Sensor<u32>,
    pub temperature: Actuator<String>,
    pub pressure: Sensor<bool>,
    pub voltage: Sensor<i8>,
    pub current: Actuator<f32>,
    pub level: Sensor<bool>,
    pub speed: Sensor<u8>,
    pub is_active: Actuator<i16>,
    pub is_engaged: Sensor<u16>,
    pub mode: Sensor<f64>,
    pub status: Actuator<u32>,
    pub intensity: Sensor<String>,
    pub angle: Sensor<bool>,
    pub distance: Actuator<i8>,
    pub count: Sensor<f32>,
    pub duration: Sensor<bool>,
    pub is_warning: Actuator<u8>,
    pub is_error: Sensor<i16>,
    pub target_value: Sensor<u16>,
    pub actual_value: Actuator<f64>,
    pub minimum_level: Sensor<u32>,
    pub maximum_level: Sensor<String>,
    pub is_enabled: Actuator<bool>,
    pub identifier: Sensor<i8>,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct ADASSensors {
    pub is_open: Actuator<f64>,
    pub is_locked: Sensor<u32>,
    pub position: Sensor<String>,
    pub temperature: Actuator<bool>,
    pub pressure: Sensor<i8>,
    pub voltage: Sensor<f32>,
    pub current: Actuator<bool>,
    pub level: Sensor<u8>,
    pub speed: Sensor<i16>,
    pub is_active: Actuator<u16>,
    pub is_engaged: Sensor<f64>,
    pub mode: Sensor<u32>,
    pub status: Actuator<String>,
    pub intensity: Sensor<bool>,
    pub angle: Sensor<i8>,
    pub distance: Actuator<f32>,
    pub count: Sensor<bool>,
    pub duration: Sensor<u8>,
    pub is_warning: Actuator<i16>,
    pub is_error: Sensor<u16>,
    pub target_value: Sensor<f64>,
    pub actual_value: Actuator<u32>,
    pub minimum_level: Sensor<String>,
    pub maximum_level: Sensor<bool>,
    pub is_enabled: Actuator<i8>,
    pub identifier: Sensor<f32>,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct ADASControls {
    pub is_open: Actuator<u32>,
    pub is_locked: Sensor<String>,
    pub position: Sensor<bool>,
    pub temperature: Actuator<i8>,
    pub pressure: Sensor<f32>,
    pub voltage: Sensor<bool>,
    pub current: Actuator<u8>,
    pub level: Sensor<i16>,
    pub speed: Sensor<u16>,
    pub is_active: Actuator<f64>,
    pub is_engaged: Sensor<u32>,
    pub mode: Sensor<String>,
    pub status: Actuator<bool>,
    pub intensity: Sensor<i8>,
    pub angle: Sensor<f32>,
    pub distance: Actuator<bool>,
    pub count: Sensor<u8>,
    pub duration: Sensor<i16>,
    pub is_warning: Actuator<u16>,
    pub is_error: Sensor<f64>,
    pub target_value: Sensor<u32>,
    pub actual_value: Actuator<String>,
    pub minimum_level: Sensor<bool>,
    pub maximum_level: Sensor<i8>,
    pub is_enabled: Actuator<f32>,
    pub identifier: Sensor<bool>,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct Powertrain {
    pub lights: PowertrainLights,
    pub climate: PowertrainClimate,
    pub sensors: PowertrainSensors,
    pub controls: PowertrainControls,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct PowertrainLights {
    pub is_open: Actuator<u16>,
    pub is_locked: Sensor<f64>,
    pub position: Sensor<u32>,
    pub temperature: Actuator<String>,
    pub pressure: Sensor<bool>,
    pub voltage: Sensor<i8>,
    pub current: Actuator<f32>,
    pub level: Sensor<bool>,
    pub speed: Sensor<u8>,
    pub is_active: Actuator<i16>,
    pub is_engaged: Sensor<u16>,
    pub mode: Sensor<f64>,
    pub status: Actuator<u32>,
    pub intensity: Sensor<String>,
    pub angle: Sensor<bool>,
    pub distance: Actuator<i8>,
    pub count: Sensor<f32>,
    pub duration: Sensor<bool>,
    pub is_warning: Actuator<u8>,
    pub is_error: Sensor<i16>,
    pub target_value: Sensor<u16>,
    pub actual_value: Actuator<f64>,
    pub minimum_level: Sensor<u32>,
    pub maximum_level: Sensor<String>,
    pub is_enabled: Actuator<bool>,
    pub identifier: Sensor<i8>,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct PowertrainClimate {
    pub is_open: Actuator<f64>,
    pub is_locked: Sensor<u32>,
    pub position: Sensor<String>,
    pub temperature: Actuator<bool>,
    pub pressure: Sensor<i8>,
    pub voltage: Sensor<f32>,
    pub current: Actuator<bool>,
    pub level: Sensor<u8>,
    pub speed: Sensor<i16>,
    pub is_active: Actuator<u16>,
    pub is_engaged: Sensor<f64>,
    pub mode: Sensor<u32>,
    pub status: Actuator<String>,
    pub intensity: Sensor<bool>,
    pub angle: Sensor<i8>,
    pub distance: Actuator<f32>,
    pub count: Sensor<bool>,
    pub duration: Sensor<u8>,
    pub is_warning: Actuator<i16>,
    pub is_error: Sensor<u16>,
    pub target_value: Sensor<f64>,
    pub actual_value: Actuator<u32>,
    pub minimum_level: Sensor<String>,
    pub maximum_level: Sensor<bool>,
    pub is_enabled: Actuator<i8>,
    pub identifier: Sensor<f32>,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct PowertrainSensors {
    pub is_open: Actuator<u32>,
    pub is_locked: Sensor<String>,
    pub position: Sensor<bool>,
    pub temperature: Actuator<i8>,
    pub pressure: Sensor<f32>,
    pub voltage: Sensor<bool>,
    pub current: Actuator<u8>,
    pub level: Sensor<i16>,
    pub speed: Sensor<u16>,
    pub is_active: Actuator<f64>,
    pub is_engaged: Sensor<u32>,
    pub mode: Sensor<String>,
    pub status: Actuator<bool>,
    pub intensity: Sensor<i8>,
    pub angle: Sensor<f32>,
    pub distance: Actuator<bool>,
    pub count: Sensor<u8>,
    pub duration: Sensor<i16>,
    pub is_warning: Actuator<u16>,
    pub is_error: Sensor<f64>,
    pub target_value: Sensor<u32>,
    pub actual_value: Actuator<String>,
    pub minimum_level: Sensor<bool>,
    pub maximum_level: Sensor<i8>,
    pub is_enabled: Actuator<f32>,
    pub identifier: Sensor<bool>,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct PowertrainControls {
    pub is_open: Actuator<String>,
    pub is_locked: Sensor<bool>,
    pub position: Sensor<i8>,
    pub temperature: Actuator<f32>,
    pub pressure: Sensor<bool>,
    pub voltage: Sensor<u8>,
    pub current: Actuator<i16>,
    pub level: Sensor<u16>,
    pub speed: Sensor<f64>,
    pub is_active: Actuator<u32>,
    pub is_engaged: Sensor<String>,
    pub mode: Sensor<bool>,
    pub status: Actuator<i8>,
    pub intensity: Sensor<f32>,
    pub angle: Sensor<bool>,
    pub distance: Actuator<u8>,
    pub count: Sensor<i16>,
    pub duration: Sensor<u16>,
    pub is_warning: Actuator<f64>,
    pub is_error: Sensor<u32>,
    pub target_value: Sensor<String>,
    pub actual_value: Actuator<bool>,
    pub minimum_level: Sensor<i8>,
    pub maximum_level: Sensor<f32>,
    pub is_enabled: Actuator<bool>,
    pub identifier: Sensor<u8>,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct OBD {
    pub lights: OBDLights,
    pub climate: OBDClimate,
    pub sensors: OBDSensors,
    pub controls: OBDControls,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct OBDLights {
    pub is_open: Actuator<f64>,
    pub is_locked: Sensor<u32>,
    pub position: Sensor<String>,
    pub temperature: Actuator<bool>,
    pub pressure: Sensor<i8>,
    pub voltage: Sensor<f32>,
    pub current: Actuator<bool>,
    pub level: Sensor<u8>,
    pub speed: Sensor<i16>,
    pub is_active: Actuator<u16>,
    pub is_engaged: Sensor<f64>,
    pub mode: Sensor<u32>,
    pub status: Actuator<String>,
    pub intensity: Sensor<bool>,
    pub angle: Sensor<i8>,
    pub distance: Actuator<f32>,
    pub count: Sensor<bool>,
    pub duration: Sensor<u8>,
    pub is_warning: Actuator<i16>,
    pub is_error: Sensor<u16>,
    pub target_value: Sensor<f64>,
    pub actual_value: Actuator<u32>,
    pub minimum_level: Sensor<String>,
    pub maximum_level: Sensor<bool>,
    pub is_enabled: Actuator<i8>,
    pub identifier: Sensor<f32>,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct OBDClimate {
    pub is_open: Actuator<u32>,
    pub is_locked: Sensor<String>,
    pub position: Sensor<bool>,
    pub temperature: Actuator<i8>,
    pub pressure: Sensor<f32>,
    pub voltage: Sensor<bool>,
    pub current: Actuator<u8>,
    pub level: Sensor<i16>,
    pub speed: Sensor<u16>,
    pub is_active: Actuator<f64>,
    pub is_engaged: Sensor<u32>,
    pub mode: Sensor<String>,
    pub status: Actuator<bool>,
    pub intensity: Sensor<i8>,
    pub angle: Sensor<f32>,
    pub distance: Actuator<bool>,
    pub count: Sensor<u8>,
    pub duration: Sensor<i16>,
    pub is_warning: Actuator<u16>,
    pub is_error: Sensor<f64>,
    pub target_value: Sensor<u32>,
    pub actual_value: Actuator<String>,
    pub minimum_level: Sensor<bool>,
    pub maximum_level: Sensor<i8>,
    pub is_enabled: Actuator<f32>,
    pub identifier: Sensor<bool>,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct OBDSensors {
    pub is_open: Actuator<String>,
    pub is_locked: Sensor<bool>,
    pub position: Sensor<i8>,
    pub temperature: Actuator<f32>,
    pub pressure: Sensor<bool>,
    pub voltage: Sensor<u8>,
    pub current: Actuator<i16>,
    pub level: Sensor<u16>,
    pub speed: Sensor<f64>,
    pub is_active: Actuator<u32>,
    pub is_engaged: Sensor<String>,
    pub mode: Sensor<bool>,
    pub status: Actuator<i8>,
    pub intensity: Sensor<f32>,
    pub angle: Sensor<bool>,
    pub distance: Actuator<u8>,
    pub count: Sensor<i16>,
    pub duration: Sensor<u16>,
    pub is_warning: Actuator<f64>,
    pub is_error: Sensor<u32>,
    pub target_value: Sensor<String>,
    pub actual_value: Actuator<bool>,
    pub minimum_level: Sensor<i8>,
    pub maximum_level: Sensor<f32>,
    pub is_enabled: Actuator<bool>,
    pub identifier: Sensor<u8>,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct OBDControls {
    pub is_open: Actuator<bool>,
    pub is_locked: Sensor<i8>,
    pub position: Sensor<f32>,
    pub temperature: Actuator<bool>,
    pub pressure: Sensor<u8>,
    pub voltage: Sensor<i16>,
    pub current: Actuator<u16>,
    pub level: Sensor<f64>,
    pub speed: Sensor<u32>,
    pub is_active: Actuator<String>,
    pub is_engaged: Sensor<bool>,
    pub mode: Sensor<i8>,
    pub status: Actuator<f32>,
    pub intensity: Sensor<bool>,
    pub angle: Sensor<u8>,
    pub distance: Actuator<i16>,
    pub count: Sensor<u16>,
    pub duration: Sensor<f64>,
    pub is_warning: Actuator<u32>,
    pub is_error: Sensor<String>,
    pub target_value: Sensor<bool>,
    pub actual_value: Actuator<i8>,
    pub minimum_level: Sensor<f32>,
    pub maximum_level: Sensor<bool>,
    pub is_enabled: Actuator<u8>,
    pub identifier: Sensor<i16>,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct Infotainment {
    pub lights: InfotainmentLights,
    pub climate: InfotainmentClimate,
    pub sensors: InfotainmentSensors,
    pub controls: InfotainmentControls,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct InfotainmentLights {
    pub is_open: Actuator<u32>,
    pub is_locked: Sensor<String>,
    pub position: Sensor<bool>,
    pub temperature: Actuator<i8>,
    pub pressure: Sensor<f32>,
    pub voltage: Sensor<bool>,
    pub current: Actuator<u8>,
    pub level: Sensor<i16>,
    pub speed: Sensor<u16>,
    pub is_active: Actuator<f64>,
    pub is_engaged: Sensor<u32>,
    pub mode: Sensor<String>,
    pub status: Actuator<bool>,
    pub intensity: Sensor<i8>,
    pub angle: Sensor<f32>,
    pub distance: Actuator<bool>,
    pub count: Sensor<u8>,
    pub duration: Sensor<i16>,
    pub is_warning: Actuator<u16>,
    pub is_error: Sensor<f64>,
    pub target_value: Sensor<u32>,
    pub actual_value: Actuator<String>,
    pub minimum_level: Sensor<bool>,
    pub maximum_level: Sensor<i8>,
    pub is_enabled: Actuator<f32>,
    pub identifier: Sensor<bool>,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct InfotainmentClimate {
    pub is_open: Actuator<String>,
    pub is_locked: Sensor<bool>,
    pub position: Sensor<i8>,
    pub temperature: Actuator<f32>,
    pub pressure: Sensor<bool>,
    pub voltage: Sensor<u8>,
    pub current: Actuator<i16>,
    pub level: Sensor<u16>,
    pub speed: Sensor<f64>,
    pub is_active: Actuator<u32>,
    pub is_engaged: Sensor<String>,
    pub mode: Sensor<bool>,
    pub status: Actuator<i8>,
    pub intensity: Sensor<f32>,
    pub angle: Sensor<bool>,
    pub distance: Actuator<u8>,
    pub count: Sensor<i16>,
    pub duration: Sensor<u16>,
    pub is_warning: Actuator<f64>,
    pub is_error: Sensor<u32>,
    pub target_value: Sensor<String>,
    pub actual_value: Actuator<bool>,
    pub minimum_level: Sensor<i8>,
    pub maximum_level: Sensor<f32>,
    pub is_enabled: Actuator<bool>,
    pub identifier: Sensor<u8>,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct InfotainmentSensors {
    pub is_open: Actuator<bool>,
    pub is_locked: Sensor<i8>,
    pub position: Sensor<f32>,
    pub temperature: Actuator<bool>,
    pub pressure: Sensor<u8>,
    pub voltage: Sensor<i16>,
    pub current: Actuator<u16>,
    pub level: Sensor<f64>,
    pub speed: Sensor<u32>,
    pub is_active: Actuator<String>,
    pub is_engaged: Sensor<bool>,
    pub mode: Sensor<i8>,
    pub status: Actuator<f32>,
    pub intensity: Sensor<bool>,
    pub angle: Sensor<u8>,
    pub distance: Actuator<i16>,
    pub count: Sensor<u16>,
    pub duration: Sensor<f64>,
    pub is_warning: Actuator<u32>,
    pub is_error: Sensor<String>,
    pub target_value: Sensor<bool>,
    pub actual_value: Actuator<i8>,
    pub minimum_level: Sensor<f32>,
    pub maximum_level: Sensor<bool>,
    pub is_enabled: Actuator<u8>,
    pub identifier: Sensor<i16>,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct InfotainmentControls {
    pub is_open: Actuator<i8>,
    pub is_locked: Sensor<f32>,
    pub position: Sensor<bool>,
    pub temperature: Actuator<u8>,
    pub pressure: Sensor<i16>,
    pub voltage: Sensor<u16>,
    pub current: Actuator<f64>,
    pub level: Sensor<u32>,
    pub speed: Sensor<String>,
    pub is_active: Actuator<bool>,
    pub is_engaged: Sensor<i8>,
    pub mode: Sensor<f32>,
    pub status: Actuator<bool>,
    pub intensity: Sensor<u8>,
    pub angle: Sensor<i16>,
    pub distance: Actuator<u16>,
    pub count: Sensor<f64>,
    pub duration: Sensor<u32>,
    pub is_warning: Actuator<String>,
    pub is_error: Sensor<bool>,
    pub target_value: Sensor<i8>,
    pub actual_value: Actuator<f32>,
    pub minimum_level: Sensor<bool>,
    pub maximum_level: Sensor<u8>,
    pub is_enabled: Actuator<i16>,
    pub identifier: Sensor<u16>,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct Exterior {
    pub lights: ExteriorLights,
    pub climate: ExteriorClimate,
    pub sensors: ExteriorSensors,
    pub controls: ExteriorControls,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct ExteriorLights {
    pub is_open: Actuator<String>,
    pub is_locked: Sensor<bool>,
    pub position: Sensor<i8>,
    pub temperature: Actuator<f32>,
    pub pressure: Sensor<bool>,
    pub voltage: Sensor<u8>,
    pub current: Actuator<i16>,
    pub level: Sensor<u16>,
    pub speed: Sensor<f64>,
    pub is_active: Actuator<u32>,
    pub is_engaged: Sensor<String>,
    pub mode: Sensor<bool>,
    pub status: Actuator<i8>,
    pub intensity: Sensor<f32>,
    pub angle: Sensor<bool>,
    pub distance: Actuator<u8>,
    pub count: Sensor<i16>,
    pub duration: Sensor<u16>,
    pub is_warning: Actuator<f64>,
    pub is_error: Sensor<u32>,
    pub target_value: Sensor<String>,
    pub actual_value: Actuator<bool>,
    pub minimum_level: Sensor<i8>,
    pub maximum_level: Sensor<f32>,
    pub is_enabled: Actuator<bool>,
    pub identifier: Sensor<u8>,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct ExteriorClimate {
    pub is_open: Actuator<bool>,
    pub is_locked: Sensor<i8>,
    pub position: Sensor<f32>,
    pub temperature: Actuator<bool>,
    pub pressure: Sensor<u8>,
    pub voltage: Sensor<i16>,
    pub current: Actuator<u16>,
    pub level: Sensor<f64>,
    pub speed: Sensor<u32>,
    pub is_active: Actuator<String>,
    pub is_engaged: Sensor<bool>,
    pub mode: Sensor<i8>,
    pub status: Actuator<f32>,
    pub intensity: Sensor<bool>,
    pub angle: Sensor<u8>,
    pub distance: Actuator<i16>,
    pub count: Sensor<u16>,
    pub duration: Sensor<f64>,
    pub is_warning: Actuator<u32>,
    pub is_error: Sensor<String>,
    pub target_value: Sensor<bool>,
    pub actual_value: Actuator<i8>,
    pub minimum_level: Sensor<f32>,
    pub maximum_level: Sensor<bool>,
    pub is_enabled: Actuator<u8>,
    pub identifier: Sensor<i16>,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct ExteriorSensors {
    pub is_open: Actuator<i8>,
    pub is_locked: Sensor<f32>,
    pub position: Sensor<bool>,
    pub temperature: Actuator<u8>,
    pub pressure: Sensor<i16>,
    pub voltage: Sensor<u16>,
    pub current: Actuator<f64>,
    pub level: Sensor<u32>,
    pub speed: Sensor<String>,
    pub is_active: Actuator<bool>,
    pub is_engaged: Sensor<i8>,
    pub mode: Sensor<f32>,
    pub status: Actuator<bool>,
    pub intensity: Sensor<u8>,
    pub angle: Sensor<i16>,
    pub distance: Actuator<u16>,
    pub count: Sensor<f64>,
    pub duration: Sensor<u32>,
    pub is_warning: Actuator<String>,
    pub is_error: Sensor<bool>,
    pub target_value: Sensor<i8>,
    pub actual_value: Actuator<f32>,
    pub minimum_level: Sensor<bool>,
    pub maximum_level: Sensor<u8>,
    pub is_enabled: Actuator<i16>,
    pub identifier: Sensor<u16>,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct ExteriorControls {
    pub is_open: Actuator<f32>,
    pub is_locked: Sensor<bool>,
    pub position: Sensor<u8>,
    pub temperature: Actuator<i16>,
    pub pressure: Sensor<u16>,
    pub voltage: Sensor<f64>,
    pub current: Actuator<u32>,
    pub level: Sensor<String>,
    pub speed: Sensor<bool>,
    pub is_active: Actuator<i8>,
    pub is_engaged: Sensor<f32>,
    pub mode: Sensor<bool>,
    pub status: Actuator<u8>,
    pub intensity: Sensor<i16>,
    pub angle: Sensor<u16>,
    pub distance: Actuator<f64>,
    pub count: Sensor<u32>,
    pub duration: Sensor<String>,
    pub is_warning: Actuator<bool>,
    pub is_error: Sensor<i8>,
    pub target_value: Sensor<f32>,
    pub actual_value: Actuator<bool>,
    pub minimum_level: Sensor<u8>,
    pub maximum_level: Sensor<i16>,
    pub is_enabled: Actuator<u16>,
    pub identifier: Sensor<f64>,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct Service {
    pub lights: ServiceLights,
    pub climate: ServiceClimate,
    pub sensors: ServiceSensors,
    pub controls: ServiceControls,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct ServiceLights {
    pub is_open: Actuator<bool>,
    pub is_locked: Sensor<i8>,
    pub position: Sensor<f32>,
    pub temperature: Actuator<bool>,
    pub pressure: Sensor<u8>,
    pub voltage: Sensor<i16>,
    pub current: Actuator<u16>,
    pub level: Sensor<f64>,
    pub speed: Sensor<u32>,
    pub is_active: Actuator<String>,
    pub is_engaged: Sensor<bool>,
    pub mode: Sensor<i8>,
    pub status: Actuator<f32>,
    pub intensity: Sensor<bool>,
    pub angle: Sensor<u8>,
    pub distance: Actuator<i16>,
    pub count: Sensor<u16>,
    pub duration: Sensor<f64>,
    pub is_warning: Actuator<u32>,
    pub is_error: Sensor<String>,
    pub target_value: Sensor<bool>,
    pub actual_value: Actuator<i8>,
    pub minimum_level: Sensor<f32>,
    pub maximum_level: Sensor<bool>,
    pub is_enabled: Actuator<u8>,
    pub identifier: Sensor<i16>,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct ServiceClimate {
    pub is_open: Actuator<i8>,
    pub is_locked: Sensor<f32>,
    pub position: Sensor<bool>,
    pub temperature: Actuator<u8>,
    pub pressure: Sensor<i16>,
    pub voltage: Sensor<u16>,
    pub current: Actuator<f64>,
    pub level: Sensor<u32>,
    pub speed: Sensor<String>,
    pub is_active: Actuator<bool>,
    pub is_engaged: Sensor<i8>,
    pub mode: Sensor<f32>,
    pub status: Actuator<bool>,
    pub intensity: Sensor<u8>,
    pub angle: Sensor<i16>,
    pub distance: Actuator<u16>,
    pub count: Sensor<f64>,
    pub duration: Sensor<u32>,
    pub is_warning: Actuator<String>,
    pub is_error: Sensor<bool>,
    pub target_value: Sensor<i8>,
    pub actual_value: Actuator<f32>,
    pub minimum_level: Sensor<bool>,
    pub maximum_level: Sensor<u8>,
    pub is_enabled: Actuator<i16>,
    pub identifier: Sensor<u16>,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct ServiceSensors {
    pub is_open: Actuator<f32>,
    pub is_locked: Sensor<bool>,
    pub position: Sensor<u8>,
    pub temperature: Actuator<i16>,
    pub pressure: Sensor<u16>,
    pub voltage: Sensor<f64>,
    pub current: Actuator<u32>,
    pub level: Sensor<String>,
    pub speed: Sensor<bool>,
    pub is_active: Actuator<i8>,
    pub is_engaged: Sensor<f32>,
    pub mode: Sensor<bool>,
    pub status: Actuator<u8>,
    pub intensity: Sensor<i16>,
    pub angle: Sensor<u16>,
    pub distance: Actuator<f64>,
    pub count: Sensor<u32>,
    pub duration: Sensor<String>,
    pub is_warning: Actuator<bool>,
    pub is_error: Sensor<i8>,
    pub target_value: Sensor<f32>,
    pub actual_value: Actuator<bool>,
    pub minimum_level: Sensor<u8>,
    pub maximum_level: Sensor<i16>,
    pub is_enabled: Actuator<u16>,
    pub identifier: Sensor<f64>,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct ServiceControls {
    pub is_open: Actuator<bool>,
    pub is_locked: Sensor<u8>,
    pub position: Sensor<i16>,
    pub temperature: Actuator<u16>,
    pub pressure: Sensor<f64>,
    pub voltage: Sensor<u32>,
    pub current: Actuator<String>,
    pub level: Sensor<bool>,
    pub speed: Sensor<i8>,
    pub is_active: Actuator<f32>,
    pub is_engaged: Sensor<bool>,
    pub mode: Sensor<u8>,
    pub status: Actuator<i16>,
    pub intensity: Sensor<u16>,
    pub angle: Sensor<f64>,
    pub distance: Actuator<u32>,
    pub count: Sensor<String>,
    pub duration: Sensor<bool>,
    pub is_warning: Actuator<i8>,
    pub is_error: Sensor<f32>,
    pub target_value: Sensor<bool>,
    pub actual_value: Actuator<u8>,
    pub minimum_level: Sensor<i16>,
    pub maximum_level: Sensor<u16>,
    pub is_enabled: Actuator<f64>,
    pub identifier: Sensor<u32>,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct Driver {
    pub lights: DriverLights,
    pub climate: DriverClimate,
    pub sensors: DriverSensors,
    pub controls: DriverControls,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct DriverLights {
    pub is_open: Actuator<i8>,
    pub is_locked: Sensor<f32>,
    pub position: Sensor<bool>,
    pub temperature: Actuator<u8>,
    pub pressure: Sensor<i16>,
    pub voltage: Sensor<u16>,
    pub current: Actuator<f64>,
    pub level: Sensor<u32>,
    pub speed: Sensor<String>,
    pub is_active: Actuator<bool>,
    pub is_engaged: Sensor<i8>,
    pub mode: Sensor<f32>,
    pub status: Actuator<bool>,
    pub intensity: Sensor<u8>,
    pub angle: Sensor<i16>,
    pub distance: Actuator<u16>,
    pub count: Sensor<f64>,
    pub duration: Sensor<u32>,
    pub is_warning: Actuator<String>,
    pub is_error: Sensor<bool>,
    pub target_value: Sensor<i8>,
    pub actual_value: Actuator<f32>,
    pub minimum_level: Sensor<bool>,
    pub maximum_level: Sensor<u8>,
    pub is_enabled: Actuator<i16>,
    pub identifier: Sensor<u16>,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct DriverClimate {
    pub is_open: Actuator<f32>,
    pub is_locked: Sensor<bool>,
    pub position: Sensor<u8>,
    pub temperature: Actuator<i16>,
    pub pressure: Sensor<u16>,
    pub voltage: Sensor<f64>,
    pub current: Actuator<u32>,
    pub level: Sensor<String>,
    pub speed: Sensor<bool>,
    pub is_active: Actuator<i8>,
    pub is_engaged: Sensor<f32>,
    pub mode: Sensor<bool>,
    pub status: Actuator<u8>,
    pub intensity: Sensor<i16>,
    pub angle: Sensor<u16>,
    pub distance: Actuator<f64>,
    pub count: Sensor<u32>,
    pub duration: Sensor<String>,
    pub is_warning: Actuator<bool>,
    pub is_error: Sensor<i8>,
    pub target_value: Sensor<f32>,
    pub actual_value: Actuator<bool>,
    pub minimum_level: Sensor<u8>,
    pub maximum_level: Sensor<i16>,
    pub is_enabled: Actuator<u16>,
    pub identifier: Sensor<f64>,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct DriverSensors {
    pub is_open: Actuator<bool>,
    pub is_locked: Sensor<u8>,
    pub position: Sensor<i16>,
    pub temperature: Actuator<u16>,
    pub pressure: Sensor<f64>,
    pub voltage: Sensor<u32>,
    pub current: Actuator<String>,
    pub level: Sensor<bool>,
    pub speed: Sensor<i8>,
    pub is_active: Actuator<f32>,
    pub is_engaged: Sensor<bool>,
    pub mode: Sensor<u8>,
    pub status: Actuator<i16>,
    pub intensity: Sensor<u16>,
    pub angle: Sensor<f64>,
    pub distance: Actuator<u32>,
    pub count: Sensor<String>,
    pub duration: Sensor<bool>,
    pub is_warning: Actuator<i8>,
    pub is_error: Sensor<f32>,
    pub target_value: Sensor<bool>,
    pub actual_value: Actuator<u8>,
    pub minimum_level: Sensor<i16>,
    pub maximum_level: Sensor<u16>,
    pub is_enabled: Actuator<f64>,
    pub identifier: Sensor<u32>,
}

#[derive(Debug, viss_derive::VissTree)]
pub struct DriverControls {
    pub is_open: Actuator<u8>,
    pub is_locked: Sensor<i16>,
    pub position: Sensor<u16>,
    pub temperature: Actuator<f64>,
    pub pressure: Sensor<u32>,
    pub voltage: Sensor<String>,
    pub current: Actuator<bool>,
    pub level: Sensor<i8>,
    pub speed: Sensor<f32>,
    pub is_active: Actuator<bool>,
    pub is_engaged: Sensor<u8>,
    pub mode: Sensor<i16>,
    pub status: Actuator<u16>,
    pub intensity: Sensor<f64>,
    pub angle: Sensor<u32>,
    pub distance: Actuator<String>,
    pub count: Sensor<bool>,
    pub duration: Sensor<i8>,
    pub is_warning: Actuator<f32>,
    pub is_error: Sensor<bool>,
    pub target_value: Sensor<u8>,
    pub actual_value: Actuator<i16>,
    pub minimum_level: Sensor<u16>,
    pub maximum_level: Sensor<f64>,
    pub is_enabled: Actuator<u32>,
    pub identifier: Sensor<String>,
}

fn paths() -> Vec<&'static str> {
    static TREE: Vehicle = Vehicle::TREE;
    TREE.nodes()
        .iter()
        .map(|node| match &node.path {
            std::borrow::Cow::Borrowed(path) => *path,
            std::borrow::Cow::Owned(_) => "",
        })
        .collect()
}

fn dynamic_tree(paths: &[&str]) -> DynamicTree {
    let tree = Vehicle::TREE;
    let mut builder = DynamicTree::builder();
    for (path, node) in paths.iter().zip(tree.nodes()).skip(1) {
        let spec = match &node.datatype {
            Some(datatype) => NodeSpec::leaf(node.name.to_string(), node.kind, &datatype.name()),
            None => NodeSpec::branch(node.name.to_string()),
        };
        builder
            .insert_path(path, spec)
            .expect("the derived tree is valid");
    }
    builder.build()
}

fn lookup(c: &mut Criterion) {
    let tree = Vehicle::TREE;
    let paths = paths();
    assert_eq!(paths.len(), 1_091);
    let baseline: HashMap<&str, NodeId> = paths
        .iter()
        .enumerate()
        .map(|(index, path)| (*path, NodeId(index as u32)))
        .collect();
    let dynamic = dynamic_tree(&paths);
    for path in &paths {
        assert_eq!(tree.lookup_dotted(path), baseline.get(path).copied());
        assert_eq!(dynamic.lookup_dotted(path), baseline.get(path).copied());
    }
    let mut group = c.benchmark_group("lookup_all_1091_paths");
    group.throughput(Throughput::Elements(paths.len() as u64));
    group.bench_function("derived_static_index", |b| {
        b.iter(|| {
            for path in &paths {
                black_box(tree.lookup_dotted(black_box(path)));
            }
        });
    });
    let relative: Vec<&str> = paths
        .iter()
        .map(|path| path.strip_prefix("Vehicle.").unwrap_or(""))
        .collect();
    group.bench_function("derived_segment_match", |b| {
        b.iter(|| {
            for path in &relative {
                black_box(<Vehicle as VissBranch>::lookup_relative(black_box(path), 1));
            }
        });
    });
    group.bench_function("hashmap_str_baseline", |b| {
        b.iter(|| {
            for path in &paths {
                black_box(baseline.get(black_box(path)).copied());
            }
        });
    });
    group.bench_function("dynamic_tree", |b| {
        b.iter(|| {
            for path in &paths {
                black_box(dynamic.lookup_dotted(black_box(path)));
            }
        });
    });
    group.finish();
}

criterion_group!(benches, lookup);
criterion_main!(benches);
