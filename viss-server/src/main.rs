//! `viss-server`: serves a VSS tree loaded at start over Secure WebSocket and HTTPS.

mod args;
mod tree_input;

use std::process::ExitCode;

use clap::Parser;
use viss_runtime::Engine;
use viss_runtime::server::{engine_config, init_logging, run_until_signal};

use args::Cli;

const NAME: &str = "viss-server";

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match cli.server.load_config() {
        Ok(config) => config,
        Err(message) => {
            eprintln!("{NAME}: {message}");
            return ExitCode::from(2);
        }
    };
    init_logging(&config.log);
    let tree = match tree_input::load(&cli.tree) {
        Ok(tree) => tree,
        Err(message) => {
            eprintln!("{NAME}: {message}");
            return ExitCode::FAILURE;
        }
    };
    let engine = Engine::new(tree, engine_config(&config.limits));
    run_until_signal(NAME, engine, &config)
}
