//! The demo car: `DemoCar.vspec` (signals, instances), `DemoTypes.vspec` (struct types),
//! `DemoOverlay.vspec` (added, altered and instance-specific nodes) with the extended
//! attributes `dbc` and `priority`, and its own `units.yaml` / `quantities.yaml`.
//!
//! `generated/demo-car` is the crate `vssgen generate` makes from it
//! (`sh generated/regenerate.sh`); `tests/engine_walk.rs` serves that crate's tree through
//! the engine. This library only re-exports it.

pub use demo_car::{provider, tree};
