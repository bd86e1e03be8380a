//! The `vssgen` command: subcommands, exit codes (0 ok, 1 invalid input, 2 usage), located
//! diagnostics, and output that matches vss-tools.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use assert_cmd::cargo::cargo_bin_cmd;
use test_support::shared_path;

fn vssgen() -> Command {
    cargo_bin_cmd!("vssgen")
}

/// Runs `vssgen args` in `dir`, checks the exit code, returns (stdout, stderr).
fn run_in(dir: &Path, args: &[&str], code: i32) -> (String, String) {
    let assert = vssgen().current_dir(dir).args(args).assert().code(code);
    let output = assert.get_output();
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn shared_vss() -> PathBuf {
    shared_path("vss")
}

/// A scratch folder holding `files` (name, content).
fn scratch(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    for (name, content) in files {
        std::fs::write(dir.path().join(name), content).expect("a writable temporary folder");
    }
    dir
}

const STANDARD: [&str; 7] = [
    "-u",
    "spec/units.yaml",
    "-q",
    "spec/quantities.yaml",
    "--strict",
    "-s",
    "spec/VehicleSignalSpecification.vspec",
];

#[test]
fn help_lists_the_subcommands() {
    let (stdout, _) = run_in(Path::new("."), &["--help"], 0);
    for subcommand in ["check", "export", "dump-ir"] {
        assert!(stdout.contains(subcommand), "{stdout}");
    }
    let (stdout, _) = run_in(Path::new("."), &["export", "--help"], 0);
    assert!(stdout.contains("json"), "{stdout}");
    let (stdout, _) = run_in(Path::new("."), &["export", "json", "--help"], 0);
    for flag in [
        "--vspec",
        "--units",
        "--types-output",
        "--no-expand",
        "--pretty",
        "--json",
    ] {
        assert!(stdout.contains(flag), "{flag} missing from {stdout}");
    }
}

#[test]
fn usage_errors_exit_with_2() {
    let here = Path::new(".");
    let (_, stderr) = run_in(here, &[], 2);
    assert!(stderr.contains("Usage"), "{stderr}");
    run_in(here, &["frobnicate"], 2);
    let (_, stderr) = run_in(here, &["export", "json"], 2);
    assert!(stderr.contains("--vspec"), "{stderr}");
    run_in(here, &["check", "--json", "a.json", "-s", "b.vspec"], 2);
    run_in(here, &["check", "--json", "a.json", "-u", "units.yaml"], 2);
    let (_, stderr) = run_in(here, &["check", "-s", "a.vspec", "-e", "unit"], 2);
    assert!(stderr.contains("'unit' is a core attribute"), "{stderr}");
    run_in(here, &["check", "-s", "a.vspec", "-e", "a,b"], 2);
}

#[test]
fn check_counts_the_standard_tree_from_vspec_and_from_json() {
    let expected = "ok: 1720 nodes (353 branch, 560 sensor, 643 actuator, 164 attribute)\n";
    let (stdout, stderr) = run_in(
        &shared_vss(),
        &["check"]
            .iter()
            .chain(&STANDARD)
            .copied()
            .collect::<Vec<_>>(),
        0,
    );
    assert_eq!(stdout, expected, "{stderr}");
    let (stdout, _) = run_in(&shared_vss(), &["check", "--json", "json/vss.json"], 0);
    assert_eq!(stdout, expected);
}

#[test]
fn invalid_json_exits_with_1_and_a_located_error() {
    let dir = scratch(&[(
        "bad.json",
        "{\"Vehicle\": {\n  \"children\": {\n    \"Speed\": {\"datatype\": \"flaot\", \"type\": \"sensor\"}},\n  \"type\": \"branch\"}}",
    )]);
    let (stdout, stderr) = run_in(dir.path(), &["check", "--json", "bad.json"], 1);
    assert_eq!(stdout, "");
    assert!(
        stderr.starts_with(
            "bad.json:3:27: error[json::unknown-datatype]: Vehicle.Speed: 'flaot' is not a valid datatype"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("1 error(s)"), "{stderr}");
    let dir = scratch(&[("broken.json", "{\"Vehicle\": {\"type\": \"branch\"\n")]);
    let (_, stderr) = run_in(dir.path(), &["export", "json", "--json", "broken.json"], 1);
    assert!(
        stderr.starts_with("broken.json:2:1: error[json::syntax]"),
        "{stderr}"
    );
}

const CAR: &str = "Vehicle:\n  type: branch\n  description: Root.\n\nVehicle.Speed:\n  type: sensor\n  datatype: float\n  description: Speed.\n  my_extra: 1\n";

#[test]
fn invalid_vspec_exits_with_1_and_a_located_error() {
    let bad =
        format!("{CAR}\nVehicle.Bad:\n  type: sensor\n  datatype: flaot\n  description: Bad.\n");
    let dir = scratch(&[("car.vspec", &bad)]);
    let (stdout, stderr) = run_in(
        dir.path(),
        &["export", "json", "-s", "car.vspec", "-o", "out.json"],
        1,
    );
    assert_eq!(stdout, "");
    assert!(
        stderr.contains("car.vspec:13:13: error[vss::unknown-datatype]"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("out.json").exists(),
        "no output on invalid input"
    );
}

#[test]
fn warnings_are_printed_but_exit_0_unless_strict() {
    let dir = scratch(&[("car.vspec", CAR)]);
    let (stdout, stderr) = run_in(dir.path(), &["check", "-s", "car.vspec"], 0);
    assert_eq!(stdout, "ok: 2 nodes (1 branch, 1 sensor)\n");
    assert!(
        stderr.contains("car.vspec:5:1: warning[vss::unknown-attribute]"),
        "{stderr}"
    );
    let (_, stderr) = run_in(dir.path(), &["check", "--strict", "-s", "car.vspec"], 1);
    assert!(
        stderr.contains("car.vspec:5:1: error[vss::unknown-attribute]"),
        "{stderr}"
    );
    run_in(
        dir.path(),
        &["check", "--strict", "-e", "my_extra", "-s", "car.vspec"],
        0,
    );
}

#[test]
fn export_json_matches_vss_tools_from_vspec_with_split_types() {
    let out = tempfile::tempdir().unwrap();
    let signals = out.path().join("signals.json");
    let types = out.path().join("types.json");
    let mut args = vec![
        "export",
        "json",
        "-t",
        "spec/VehicleDataTypes.vspec",
        "--pretty",
    ];
    args.extend(STANDARD);
    let (signals_arg, types_arg) = (signals.to_string_lossy(), types.to_string_lossy());
    args.extend(["-o", &signals_arg, "--types-output", &types_arg]);
    run_in(&shared_vss(), &args, 0);
    let read = |p: &Path| std::fs::read(p).unwrap();
    assert!(read(&signals) == read(&shared_path("vss/json/vss-split.json")));
    assert!(read(&types) == read(&shared_path("vss/json/vss-types.json")));
}

#[test]
fn export_json_from_json_writes_the_same_bytes_to_stdout() {
    let (stdout, _) = run_in(
        &shared_vss(),
        &[
            "export",
            "json",
            "--json",
            "json/vss-noexpand.json",
            "--pretty",
        ],
        0,
    );
    let expected = std::fs::read_to_string(shared_path("vss/json/vss-noexpand.json")).unwrap();
    assert!(stdout == expected, "JSON → JSON differs from the reference");
    let (stdout, _) = run_in(
        &shared_vss(),
        &[
            "export",
            "json",
            "--json",
            "json/vss-split.json",
            "--json-types",
            "json/vss-types.json",
        ],
        0,
    );
    assert!(
        stdout.starts_with("{\"ComplexDataTypes\": {\"VehicleDataTypes\": {\"children\": "),
        "{}",
        &stdout[..80]
    );
}

#[test]
fn dump_ir_prints_one_line_per_node() {
    let dir = scratch(&[(
        "t.json",
        r#"{"V": {"children": {"Door": {"children": {"IsOpen": {"datatype": "boolean", "type": "actuator"}}, "instances": ["Row[1,2]"], "type": "branch"}, "Speed": {"datatype": "float", "type": "sensor", "unit": "km/h"}}, "type": "branch"}}"#,
    )]);
    let (stdout, _) = run_in(dir.path(), &["dump-ir", "--json", "t.json"], 0);
    assert_eq!(
        stdout,
        "V branch\nV.Door branch instances=[\"Row[1,2]\"]\nV.Door.IsOpen actuator datatype=boolean\nV.Speed sensor datatype=float unit=km/h\n"
    );
    run_in(
        dir.path(),
        &["dump-ir", "--json", "t.json", "-o", "dump.txt"],
        0,
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("dump.txt")).unwrap(),
        stdout
    );
}

#[test]
fn unwritable_output_exits_with_1() {
    let (_, stderr) = run_in(
        &shared_vss(),
        &[
            "export",
            "json",
            "--json",
            "json/vss.json",
            "-o",
            "/nonexistent/dir/out.json",
        ],
        1,
    );
    assert!(
        stderr.starts_with("error: cannot write /nonexistent/dir/out.json"),
        "{stderr}"
    );
}
