//! Helpers every test crate in the workspace shares.
//!
//! * [`shared_dir`] / [`shared_path`]: the one place that finds the read-only reference
//!   folder (`$VSS_SHARED`, else `../shared` beside the workspace root). Tests never copy
//!   its files into the repository.
//! * [`CountingAllocator`]: a global allocator wrapper with thread-local counters, so a test
//!   can assert "zero heap allocations on this path" even under the parallel test runner.
//! * [`auth::AccessEcosystem`]: viss-auth and a guarded viss-server trusting its tokens.
//! * [`mqtt::Broker`]: Debian's mosquitto on a free port.
//! * [`server::Server`] / [`server::curl`]: a server binary under test on free ports, stopped
//!   by its PID, and the HTTP peer.
//! * [`assert_linked_in_code_order`], [`assert_relocations_packed`],
//!   [`assert_libm_not_loaded`]: a server binary was linked in code order, with its relative
//!   relocations packed, and without libm.

mod alloc_count;
pub mod auth;
mod code_order;
pub mod mqtt;
pub mod server;

pub use alloc_count::{CountingAllocator, allocations_during, thread_allocations};
pub use code_order::{
    assert_libm_not_loaded, assert_linked_in_code_order, assert_relocations_packed,
};

use std::path::{Path, PathBuf};

/// The Python of the peers venv (`tests/peers/install.sh` prints `VISS_PEERS_PYTHON`).
///
/// # Panics
/// With the command that sets it up, when the variable is unset or names no file.
pub fn peers_python() -> PathBuf {
    match std::env::var_os("VISS_PEERS_PYTHON").map(PathBuf::from) {
        Some(path) if path.exists() => path,
        _ => panic!(
            "VISS_PEERS_PYTHON is not set to the peers venv's python: run \
             `eval \"$(tests/peers/install.sh)\"` from the workspace root first"
        ),
    }
}

/// protoc (the peers' grpcio-tools, a real peer) compiles `proto` to Python modules in
/// `out`, with `proto`'s folder as the include path.
///
/// # Panics
/// With protoc's own message when it refuses the file.
pub fn protoc_python(proto: &Path, out: &Path) {
    std::fs::create_dir_all(out).expect("the output folder");
    let dir = proto.parent().expect("a file in a folder");
    let output = std::process::Command::new(peers_python())
        .args(["-m", "grpc_tools.protoc"])
        .arg(format!("-I{}", dir.display()))
        .arg(format!("--python_out={}", out.display()))
        .arg(proto)
        .output()
        .expect("the peers' python runs");
    assert!(
        output.status.success(),
        "protoc refuses {}: {}",
        proto.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The workspace root (the folder holding the virtual `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    // CARGO_MANIFEST_DIR of this crate is <root>/test-support.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The shared reference folder: `$VSS_SHARED` if set, else `<workspace>/../shared`.
///
/// # Panics
/// With a message that says how to fix it, when the folder does not exist: a test that
/// needs reference data cannot do anything useful without it.
pub fn shared_dir() -> PathBuf {
    let dir = match std::env::var_os("VSS_SHARED") {
        Some(dir) => PathBuf::from(dir),
        None => workspace_root().join("..").join("shared"),
    };
    assert!(
        dir.join("vss").is_dir(),
        "the shared reference folder was not found at {}: clone the project with `shared/` \
         beside it, or point VSS_SHARED at that folder",
        dir.display()
    );
    dir
}

/// A path inside the shared reference folder, e.g. `shared_path("vss/json/vss.json")`.
///
/// # Panics
/// When the folder or the file is missing, naming both.
pub fn shared_path(relative: &str) -> PathBuf {
    let path = shared_dir().join(relative);
    assert!(
        path.exists(),
        "{} is missing from the shared reference folder",
        path.display()
    );
    path
}

/// A binary of another workspace package a test runs (the generated demo car's server,
/// `viss-auth`): `variable` when set, else built here, next to `sibling` (a binary of the
/// test's own package, `env!("CARGO_BIN_EXE_..")`). The workspace's test build compiles
/// their crates but not their executables.
///
/// The build selects what `cargo test --workspace` selects (every package's binaries, tests
/// and examples), so Cargo unifies dependency features the same way and only links the
/// binaries; `-p <package>` alone re-resolved features and recompiled 30 to 66 crates per
/// binary (1 to 2.5 minutes each on 2 cores).
///
/// # Panics
/// With Cargo's messages, when the build fails.
pub fn workspace_binary(variable: &str, package: &str, sibling: &Path) -> PathBuf {
    if let Some(path) = std::env::var_os(variable) {
        return PathBuf::from(path);
    }
    let build = std::process::Command::new(env!("CARGO"))
        .current_dir(workspace_root())
        .args([
            "build",
            "--offline",
            "--workspace",
            "--bins",
            "--tests",
            "--examples",
            "--message-format",
            "short",
        ])
        .output()
        .expect("cargo runs");
    assert!(
        build.status.success(),
        "cannot build {package}:\n{}",
        String::from_utf8_lossy(&build.stderr)
    );
    sibling.with_file_name(format!("{package}{}", std::env::consts::EXE_SUFFIX))
}
