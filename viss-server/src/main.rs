//! `viss-server`: serves a VSS tree loaded at start over Secure WebSocket and HTTPS.

mod args;
mod tree_input;

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use tracing_subscriber::EnvFilter;
use viss_runtime::server::{self, Listening, ServerConfig};
use viss_runtime::{Engine, EngineConfig, VissTree};

use args::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match load_config(&cli) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("viss-server: {message}");
            return ExitCode::from(2);
        }
    };
    init_logging(&config);
    let tree = match tree_input::load(&cli.tree) {
        Ok(tree) => tree,
        Err(message) => {
            eprintln!("viss-server: {message}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("viss-server: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(tree, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("viss-server: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Defaults < TOML file < environment < flags (clap reads the `VISS_*` variables).
fn load_config(cli: &Cli) -> Result<ServerConfig, String> {
    let mut config = match &cli.server.config {
        Some(path) => ServerConfig::from_file(path).map_err(|error| error.to_string())?,
        None => ServerConfig::default(),
    };
    cli.server.apply(&mut config);
    Ok(config)
}

fn init_logging(config: &ServerConfig) {
    let filter = EnvFilter::try_new(&config.log.level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if config.log.json {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn serve(tree: viss_runtime::DynamicTree, config: ServerConfig) -> Result<(), String> {
    let nodes = tree.nodes().len();
    let engine_config = EngineConfig {
        queue_capacity: config.limits.event_queue,
        max_subscriptions_per_session: config.limits.max_subscriptions_per_connection,
        ..EngineConfig::default()
    };
    let engine = Arc::new(Engine::new(tree, engine_config));
    let listening = server::start(engine, &config)
        .await
        .map_err(|error| error.to_string())?;
    print_where_to_connect(&listening, nodes);
    server::shutdown_signal().await;
    listening.shutdown().await;
    Ok(())
}

/// The lines a user (and the tests) read to connect.
fn print_where_to_connect(listening: &Listening, nodes: usize) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "viss-server: serving {nodes} nodes");
    if let Some(address) = listening.ws {
        let _ = writeln!(
            stdout,
            "  WebSocket: {}://{address}  (sub-protocol VISSv3)",
            listening.ws_scheme()
        );
    }
    if let Some(address) = listening.http {
        let _ = writeln!(
            stdout,
            "  HTTP:      {}://{address}/Vehicle/Speed",
            listening.http_scheme()
        );
    }
    if let Some(files) = &listening.tls {
        let kind = if files.self_signed {
            "self-signed"
        } else {
            "configured"
        };
        let _ = writeln!(stdout, "  certificate: {} ({kind})", files.cert.display());
        if files.self_signed {
            let _ = writeln!(
                stdout,
                "  trust it: curl --cacert {} ...; Python ssl.create_default_context(cafile=...)",
                files.cert.display()
            );
        }
    }
    let _ = stdout.flush();
}
