//! `generated/` is exactly what the generator writes today: `generated/regenerate.sh` is run
//! with the freshly built `vssgen` into a temporary directory and every file is compared
//! byte for byte (in both directions: no file missing, none extra).

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use test_support::workspace_root;

/// Every file below `dir`, relative to it, sorted.
fn files(dir: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.insert(path.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out
}

/// The first differing line, with a little context.
fn first_difference(expected: &str, actual: &str) -> String {
    let line = expected
        .lines()
        .zip(actual.lines())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
    format!(
        "first difference at line {}:\n  checked in: {:?}\n  generated:  {:?}",
        line + 1,
        expected.lines().nth(line).unwrap_or("<end of file>"),
        actual.lines().nth(line).unwrap_or("<end of file>"),
    )
}

#[test]
fn generated_matches_a_fresh_run_of_the_generator() {
    let root = workspace_root();
    let out = tempfile::tempdir().unwrap();
    let status = Command::new("sh")
        .arg(root.join("generated/regenerate.sh"))
        .env("VSSGEN", env!("CARGO_BIN_EXE_vssgen"))
        .env("OUT", out.path())
        .status()
        .unwrap();
    assert!(status.success(), "generated/regenerate.sh failed");
    let fix = "regenerate with `sh generated/regenerate.sh` and commit the result";
    for name in ["demo-car"] {
        let checked_in = root.join("generated").join(name);
        let fresh = out.path().join(name);
        let (expected, actual) = (files(&checked_in), files(&fresh));
        assert_eq!(
            expected, actual,
            "generated/{name}: file lists differ; {fix}"
        );
        for file in &expected {
            let a = std::fs::read_to_string(checked_in.join(file)).unwrap();
            let b = std::fs::read_to_string(fresh.join(file)).unwrap();
            assert!(
                a == b,
                "generated/{name}/{} is out of date; {fix}\n{}",
                file.display(),
                first_difference(&a, &b)
            );
        }
    }
}

#[test]
fn generation_is_deterministic() {
    let root = workspace_root();
    let run = || {
        let out = tempfile::tempdir().unwrap();
        let status = Command::new("sh")
            .arg(root.join("generated/regenerate.sh"))
            .env("VSSGEN", env!("CARGO_BIN_EXE_vssgen"))
            .env("OUT", out.path())
            .status()
            .unwrap();
        assert!(status.success());
        let dir = out.path().join("demo-car");
        files(&dir)
            .into_iter()
            .map(|file| (file.clone(), std::fs::read(dir.join(file)).unwrap()))
            .collect::<Vec<_>>()
    };
    assert_eq!(run(), run());
}
