//! `viss-server`: serves a VSS tree loaded at start over Secure WebSocket and HTTPS.

mod args;
mod tree_input;

use std::process::ExitCode;

use clap::Parser;
use viss_runtime::server::{
    ServerConfig, engine_config, init_logging, run_until_signal, serving_forest,
};
use viss_runtime::{DynamicTree, Engine, Forest};

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
    let forest = match tree_input::load(&cli.tree).and_then(|trees| forest(trees, &config)) {
        Ok(forest) => forest,
        Err(message) => {
            eprintln!("{NAME}: {message}");
            return ExitCode::FAILURE;
        }
    };
    let engine = Engine::with_forest(forest, engine_config(&config));
    run_until_signal(NAME, engine, &config)
}

/// The first tree, every further one mounted beside it, and the `Server` tree.
fn forest(trees: Vec<DynamicTree>, config: &ServerConfig) -> Result<Forest<DynamicTree>, String> {
    let mut trees = trees.into_iter();
    let first = trees.next().ok_or("no tree given")?;
    let mut forest =
        serving_forest(first, config, &engine_config(config)).map_err(|error| error.to_string())?;
    for tree in trees {
        forest
            .mount(Box::new(tree))
            .map_err(|error| error.to_string())?;
    }
    Ok(forest)
}
