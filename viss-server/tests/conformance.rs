//! Runs the black-box VISS conformance suite (`tests/conformance`, Python pytest) against
//! the real binaries: `viss-server` on the standard tree and the generated demo-car server.
//! The suite's choices are written down in `docs/conformance.md`.

use std::path::PathBuf;
use std::process::Command;

use test_support::workspace_root;

/// A binary of another workspace package the suite runs (the generated demo car's server,
/// `viss-auth`): `variable` when set, else built here (the workspace's test build compiles
/// their crates but not their executables).
///
/// The build selects what `cargo test --workspace` selects (every package's binaries, tests
/// and examples), so Cargo unifies dependency features the same way and only links the
/// binaries; `-p <package>` alone re-resolved features and recompiled 30 to 66 crates per
/// binary (1 to 2.5 minutes each on 2 cores).
fn workspace_binary(variable: &str, package: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(variable) {
        return PathBuf::from(path);
    }
    let build = Command::new(env!("CARGO"))
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
    let server = PathBuf::from(env!("CARGO_BIN_EXE_viss-server"));
    server.with_file_name(format!("{package}{}", std::env::consts::EXE_SUFFIX))
}

#[test]
fn the_conformance_suite_passes_against_the_real_binaries() {
    let python = test_support::peers_python();
    // Cargo's scratch directory for integration tests: it exists wherever the target
    // directory is (a fresh clone has no `target/` of its own when CARGO_TARGET_DIR is set).
    let report = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("conformance-report.txt");
    let output = Command::new(python)
        .current_dir(workspace_root())
        .args([
            "-m",
            "pytest",
            "tests/conformance",
            "-q",
            "-p",
            "no:cacheprovider",
        ])
        .env("VISS_SERVER_BIN", env!("CARGO_BIN_EXE_viss-server"))
        .env(
            "VISS_DEMO_CAR_BIN",
            workspace_binary("VISS_DEMO_CAR_BIN", "demo-car"),
        )
        .env(
            "VISS_AUTH_BIN",
            workspace_binary("VISS_AUTH_BIN", "viss-auth"),
        )
        .env("VSS_SHARED", test_support::shared_dir())
        .env("VISS_CONFORMANCE_REPORT", &report)
        .output()
        .expect("pytest runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary = stdout.lines().last().unwrap_or_default();
    eprintln!("conformance suite: {summary}");
    assert!(
        output.status.success(),
        "the conformance suite failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(summary.contains("passed"), "{stdout}");
}
