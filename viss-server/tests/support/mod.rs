//! Starts the real `viss-server` binary on 127.0.0.1 (ports chosen by the OS) and stops it
//! by PID; finds the peers (Python websockets venv, curl).

#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub use test_support::server::{Server, curl};

/// The standard tree (vss-tools JSON) with `extra` flags, on free ports.
pub fn start_server(extra: &[&str]) -> Server {
    let tree = test_support::shared_path("vss/json/vss.json");
    let mut args: Vec<&OsStr> = vec![OsStr::new("--json"), tree.as_os_str()];
    args.extend(extra.iter().map(OsStr::new));
    Server::start(Path::new(env!("CARGO_BIN_EXE_viss-server")), &args)
}

/// The Python of the peers venv (`tests/peers/install.sh` prints the variable).
pub fn peers_python() -> PathBuf {
    let python = std::env::var_os("VISS_PEERS_PYTHON").map(PathBuf::from);
    match python {
        Some(path) if path.exists() => path,
        _ => panic!(
            "VISS_PEERS_PYTHON is not set to the peers venv's python: run \
             `eval \"$(tests/peers/install.sh)\"` from the workspace root first"
        ),
    }
}

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
