//! `vssgen export proto`: the per-tree `.proto` of the standard tree, the CVIS
//! multiple-trailers tree and the demo car is accepted by protox and by protoc itself
//! (grpcio-tools' `grpc_tools.protoc`, a real peer), and its field numbers never move:
//! signals added, removed and reordered in a copy of the demo car keep every existing number,
//! the removed ones are reserved, and a decoder built from the old `.proto` reads messages
//! written with the new one (Python `protobuf`).

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value as Json;

const DEMO: &str = "examples/demo-car";

fn workspace() -> PathBuf {
    test_support::workspace_root()
}

/// Runs `vssgen export proto` with `tree_args`, the lock file in `lock_dir`, into `out`;
/// returns whether it succeeded and its stderr.
fn export(tree_args: &[&Path], extra: &[&str], lock_dir: &Path, out: &Path) -> (bool, String) {
    let output = cargo_bin_cmd!("vssgen")
        .args(["export", "proto"])
        .args(tree_args)
        .arg("--proto-lock-dir")
        .arg(lock_dir)
        .arg("-o")
        .arg(out)
        .args(extra)
        .output()
        .expect("vssgen runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn demo_args(dir: &Path) -> Vec<PathBuf> {
    vec![
        "-s".into(),
        dir.join("DemoCar.vspec"),
        "-t".into(),
        dir.join("DemoTypes.vspec"),
        "-l".into(),
        dir.join("DemoOverlay.vspec"),
        "-e".into(),
        "dbc".into(),
        "-e".into(),
        "priority".into(),
    ]
}

/// A copy of the demo car's sources in `dir/tree`, to revise.
fn copy_demo_car(dir: &Path) -> PathBuf {
    let sources = dir.join("tree");
    std::fs::create_dir_all(&sources).expect("dir");
    for file in [
        "DemoCar.vspec",
        "DemoTypes.vspec",
        "DemoOverlay.vspec",
        "units.yaml",
        "quantities.yaml",
    ] {
        std::fs::copy(workspace().join(DEMO).join(file), sources.join(file)).expect("copy");
    }
    sources
}

fn protox_accepts(proto: &Path) {
    let dir = proto.parent().expect("a directory");
    let file = proto.file_name().expect("a file name");
    if let Err(error) = protox::compile([file], [dir]) {
        panic!("protox refuses {}: {error:?}", proto.display());
    }
}

#[test]
fn the_standard_cvis_and_demo_car_protos_are_accepted_by_protox_and_protoc() {
    let dir = tempfile::tempdir().expect("temp dir");
    let standard = test_support::shared_path("vss/json/vss.json");
    let cvis = test_support::shared_path("vss/json/third-party/cvis-multiple-trailers.json");
    let demo = demo_args(&workspace().join(DEMO));
    let cases: Vec<(&str, Vec<PathBuf>)> = vec![
        ("standard", vec!["--json".into(), standard]),
        ("cvis", vec!["--json".into(), cvis]),
        ("demo", demo),
    ];
    for (name, args) in cases {
        let args: Vec<&Path> = args.iter().map(PathBuf::as_path).collect();
        let proto = dir.path().join(format!("{name}.proto"));
        let lock_dir = dir.path().join(format!("{name}-lock"));
        std::fs::create_dir_all(&lock_dir).expect("lock dir");
        let (ok, stderr) = export(&args, &[], &lock_dir, &proto);
        let locks = std::fs::read_dir(&lock_dir).expect("lock dir").count();
        assert_eq!(
            locks, 1,
            "{name}: one <root>.protolock.json in --proto-lock-dir"
        );
        assert!(ok, "{name}: {stderr}");
        protox_accepts(&proto);
        test_support::protoc_python(&proto, &dir.path().join(format!("{name}-py")));
        let text = std::fs::read_to_string(&proto).expect("proto written");
        assert!(text.contains("syntax = \"proto3\";") && text.contains("package "));
    }
    let standard = std::fs::read_to_string(dir.path().join("standard.proto")).expect("proto");
    // Allowed-string lists are enums (the Rust server's 56), each with an UNSPECIFIED zero;
    // leaves sharing a list share its enum; arrays are repeated.
    let enums = standard.matches("\nenum ").count();
    assert_eq!(enums, 56, "one enum per distinct allowed list");
    assert_eq!(standard.matches("_UNSPECIFIED = 0;").count(), enums);
    assert!(standard.contains("optional RoadIcingState Rollover = "));
    assert!(standard.contains("message Vehicle {") && standard.contains("repeated "));
}

/// The numbers the lock gives message `message`'s fields.
fn numbers(lock: &Json, message: &str) -> Vec<(String, u64)> {
    lock["messages"][message]["assigned"]
        .as_object()
        .map(|fields| {
            fields
                .iter()
                .map(|(name, entry)| (name.clone(), entry["number"].as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default()
}

fn read_json(path: &Path) -> Json {
    serde_json::from_str(&std::fs::read_to_string(path).expect("readable")).expect("JSON")
}

/// Removes the `Vehicle.IsMoving` block, moves `Vehicle.TripTime` to the front of the
/// signals, and adds `Vehicle.Range`.
fn revise(vspec: &str) -> String {
    let blocks: Vec<&str> = vspec.split("\n\n").collect();
    let is_block = |block: &&str, name: &str| block.trim_start().starts_with(name);
    let trip = blocks
        .iter()
        .find(|block| is_block(block, "Vehicle.TripTime:"))
        .expect("TripTime block");
    let mut revised: Vec<&str> = Vec::new();
    for block in &blocks {
        if is_block(block, "Vehicle.IsMoving:") || is_block(block, "Vehicle.TripTime:") {
            continue;
        }
        revised.push(block);
        if is_block(block, "Vehicle:") {
            revised.push(trip);
        }
    }
    let mut text = revised.join("\n\n");
    text.push_str(
        "\n\nVehicle.Range:\n  type: sensor\n  datatype: uint32\n  unit: m\n  \
         description: Remaining range.\n",
    );
    text
}

#[test]
fn field_numbers_never_move_and_an_old_decoder_reads_new_messages() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sources = copy_demo_car(dir.path());
    let args = demo_args(&sources);
    let args: Vec<&Path> = args.iter().map(PathBuf::as_path).collect();
    let lock = sources.join("Vehicle.protolock.json");
    let old_dir = dir.path().join("old");
    let new_dir = dir.path().join("new");
    std::fs::create_dir_all(&old_dir).expect("dir");
    std::fs::create_dir_all(&new_dir).expect("dir");
    let (ok, stderr) = export(&args, &[], &sources, &old_dir.join("vehicle.proto"));
    assert!(ok, "{stderr}");
    let before = read_json(&lock);
    // The same tree again: the lock does not change.
    let (ok, _) = export(&args, &[], &sources, &old_dir.join("again.proto"));
    assert!(ok);
    assert_eq!(read_json(&lock), before);

    let vspec = sources.join("DemoCar.vspec");
    let text = std::fs::read_to_string(&vspec).expect("vspec");
    std::fs::write(&vspec, revise(&text)).expect("revised");
    let (ok, stderr) = export(&args, &[], &sources, &new_dir.join("vehicle.proto"));
    assert!(ok, "{stderr}");
    let after = read_json(&lock);
    let old = numbers(&before, "Vehicle");
    let new = numbers(&after, "Vehicle");
    for (name, number) in &old {
        if name == "IsMoving" {
            continue;
        }
        let kept = new.iter().find(|(other, _)| other == name).map(|(_, n)| *n);
        assert_eq!(kept, Some(*number), "Vehicle.{name} moved");
    }
    let is_moving = old
        .iter()
        .find(|(name, _)| name == "IsMoving")
        .map(|(_, n)| *n)
        .expect("IsMoving was numbered");
    let reserved = &after["messages"]["Vehicle"]["reserved"];
    assert!(
        reserved
            .as_array()
            .is_some_and(|entries| entries
                .iter()
                .any(|entry| entry["name"] == "IsMoving"
                    && entry["number"].as_u64() == Some(is_moving))),
        "IsMoving is reserved: {reserved}"
    );
    let highest = old.iter().map(|(_, n)| *n).max().unwrap_or(0);
    let range = new
        .iter()
        .find(|(name, _)| name == "Range")
        .map(|(_, n)| *n)
        .expect("Range numbered");
    assert!(range > highest, "a fresh number for Range: {range}");
    let new_proto = std::fs::read_to_string(new_dir.join("vehicle.proto")).expect("proto");
    assert!(
        new_proto.contains(&format!("reserved {is_moving};")),
        "{new_proto}"
    );
    assert!(new_proto.contains("reserved \"IsMoving\";"));
    protox_accepts(&new_dir.join("vehicle.proto"));

    // An old decoder reads a new message: protoc compiles both revisions for Python.
    test_support::protoc_python(&old_dir.join("vehicle.proto"), &old_dir);
    test_support::protoc_python(&new_dir.join("vehicle.proto"), &new_dir);
    // Two processes: both revisions declare `vehicle.proto`, which one descriptor pool
    // cannot hold twice.
    let data = dir.path().join("vehicle.bin");
    let write = r#"
import importlib.util, sys
spec = importlib.util.spec_from_file_location("vehicle_pb2", sys.argv[1] + "/vehicle_pb2.py")
new = importlib.util.module_from_spec(spec); spec.loader.exec_module(new)
message = new.Vehicle(Speed=88.5, TripTime=3600, Range=120000)
message.Cabin.Temperature = -12
message.Cabin.Seat_Row1_DriverSide.Heating = -30
open(sys.argv[2], "wb").write(message.SerializeToString())
"#;
    let read = r#"
import importlib.util, sys
spec = importlib.util.spec_from_file_location("vehicle_pb2", sys.argv[1] + "/vehicle_pb2.py")
old = importlib.util.module_from_spec(spec); spec.loader.exec_module(old)
decoded = old.Vehicle.FromString(open(sys.argv[2], "rb").read())
assert decoded.Speed == 88.5 and decoded.TripTime == 3600, decoded
assert decoded.Cabin.Temperature == -12 and decoded.Cabin.Seat_Row1_DriverSide.Heating == -30
assert not decoded.HasField("IsMoving")
"#;
    for (script, revision) in [(write, &new_dir), (read, &old_dir)] {
        let output = Command::new(test_support::peers_python())
            .arg("-c")
            .arg(script)
            .arg(revision)
            .arg(&data)
            .output()
            .expect("python runs");
        assert!(
            output.status.success(),
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn a_wire_type_change_is_refused_unless_breaking_changes_are_allowed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sources = copy_demo_car(dir.path());
    let args = demo_args(&sources);
    let args: Vec<&Path> = args.iter().map(PathBuf::as_path).collect();
    let lock = sources.join("Vehicle.protolock.json");
    let out = dir.path().join("vehicle.proto");
    assert!(export(&args, &[], &sources, &out).0);
    let vspec = sources.join("DemoCar.vspec");
    let text = std::fs::read_to_string(&vspec).expect("vspec");
    // TraveledDistance: double -> float (64-bit -> 32-bit on the wire).
    let changed = text.replacen(
        "Vehicle.TraveledDistance:\n  type: sensor\n  datatype: double",
        "Vehicle.TraveledDistance:\n  type: sensor\n  datatype: float",
        1,
    );
    assert_ne!(
        changed, text,
        "the demo car's TraveledDistance is a double sensor"
    );
    std::fs::write(&vspec, changed).expect("write");
    let locked = std::fs::read_to_string(&lock).expect("lock");
    let (ok, stderr) = export(&args, &[], &sources, &out);
    assert!(!ok, "refused");
    assert!(
        stderr.contains("Vehicle.TraveledDistance: field 2 changes its wire type")
            && stderr.contains("--allow-breaking"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(&lock).expect("lock"),
        locked,
        "a refused run leaves the lock alone"
    );
    let (ok, stderr) = export(&args, &["--allow-breaking"], &sources, &out);
    assert!(ok, "{stderr}");
    let proto = std::fs::read_to_string(&out).expect("proto");
    assert!(proto.contains("optional float TraveledDistance = 2;"));
}
