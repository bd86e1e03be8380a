//! Starts the real `viss-server` binary on 127.0.0.1 (ports chosen by the OS) and stops it
//! by PID; finds the peers (Python websockets venv, curl).

#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output};

pub use test_support::server::{Server, curl};

/// The standard tree (vss-tools JSON) with `extra` flags, on free ports.
pub fn start_server(extra: &[&str]) -> Server {
    start_server_with_env(extra, &[])
}

/// [`start_server`] with `env` set for the server.
pub fn start_server_with_env(extra: &[&str], env: &[(&str, &str)]) -> Server {
    let tree = test_support::shared_path("vss/json/vss.json");
    let mut args: Vec<&OsStr> = vec![OsStr::new("--json"), tree.as_os_str()];
    args.extend(extra.iter().map(OsStr::new));
    Server::start_with_env(Path::new(env!("CARGO_BIN_EXE_viss-server")), &args, env)
}

pub use test_support::peers_python;

/// Runs `tests/peers/wss_client.py` with `args`.
pub fn wss_client(args: &[&str]) -> Output {
    let script = test_support::workspace_root().join("tests/peers/wss_client.py");
    Command::new(peers_python())
        .arg(script)
        .args(args)
        .output()
        .expect("python runs")
}

pub fn stdout_of(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
