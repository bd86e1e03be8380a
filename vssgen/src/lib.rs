//! vssgen: the generator library behind the `vssgen` command.
//!
//! * [`export`]: vss-tools-compatible exports (JSON, byte-identical to `vspec export json`).
//! * [`dump`]: a readable, deterministic one-line-per-node dump of the IR.
//! * [`backend`]: the generated crates (`backend::rust`: `vssgen generate`).
//! * [`build_script`]: the generator called from a user's `build.rs`.
//! * [`cli`]: the `vssgen` command line (`main.rs` only parses and calls [`cli::run`]).

pub mod backend;
pub mod build_script;
pub mod cli;
pub mod dump;
pub mod export;
