//! Runs the black-box VISS conformance suite (`tests/conformance`, Python pytest) against
//! the real binaries: `viss-server` on the standard tree and the generated demo-car server.
//! The suite's choices are written down in `docs/conformance.md`.

use std::path::{Path, PathBuf};
use std::process::Command;

use test_support::workspace_root;

/// A binary of another workspace package the suite runs, built beside viss-server.
fn workspace_binary(variable: &str, package: &str) -> PathBuf {
    let server = Path::new(env!("CARGO_BIN_EXE_viss-server"));
    test_support::workspace_binary(variable, package, server)
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
