//! The Rust backend's shape decisions, on the demo car and the standard tree: one type per
//! concept, instance sets as arrays, the per-instance fallback for instance-specific
//! overlays, names (keywords, renames), struct types, extended attributes kept as docs,
//! the CLI with `--tree` (vspec and JSON) and errors.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use assert_cmd::cargo::cargo_bin_cmd;
use test_support::{shared_path, workspace_root};
use vss_model::vspec::{self, VspecOptions};
use vssgen::backend::rust::{self, GenerateError, GenerateOptions};

fn demo_tree() -> vss_model::VssTree {
    let demo = workspace_root().join("examples/demo-car");
    let loaded = vspec::load(&VspecOptions {
        source: demo.join("DemoCar.vspec"),
        types: vec![demo.join("DemoTypes.vspec")],
        overlays: vec![demo.join("DemoOverlay.vspec")],
        extended_attributes: vec!["dbc".into(), "priority".into()],
        ..VspecOptions::default()
    });
    loaded.tree.unwrap()
}

fn file<'a>(files: &'a [rust::GeneratedFile], path: &str) -> &'a str {
    &files
        .iter()
        .find(|file| file.path == path)
        .unwrap()
        .contents
}

#[test]
fn instance_sets_become_arrays_of_one_shared_type() {
    let tree = rust::generate_tree(&demo_tree(), &GenerateOptions::new("demo")).unwrap();
    assert!(tree.contains("pub seat: [[Seat; 3]; 2],"), "2-D seat set");
    assert!(tree.contains("pub axle: [Axle; 2],"), "1-D axle set");
    assert!(
        tree.contains("pub wheel: [Wheel; 2],"),
        "set nested in a set"
    );
    assert!(
        tree.contains(r#"instances(["Row1", "Row2"], ["DriverSide", "Middle", "PassengerSide"])"#)
    );
    assert_eq!(tree.matches("pub struct Seat {").count(), 1);
    assert!(tree.contains("(and 5 more branches of the same shape)"));
}

#[test]
fn an_instance_specific_overlay_falls_back_to_per_instance_types() {
    let tree = rust::generate_tree(&demo_tree(), &GenerateOptions::new("demo")).unwrap();
    // Only Row1.DriverSide has a KeyPad: Door is no longer one array ...
    assert!(tree.contains("pub door: DoorInstances,"));
    assert!(tree.contains("The instances of `Door` differ"));
    // ... but the instances that are still equal share a type and an array.
    assert!(tree.contains("pub row2: [Door; 2],"));
    assert!(tree.contains("pub driver_side: DoorRow1DriverSide,"));
    assert!(tree.contains("pub passenger_side: Door,"));
    assert!(tree.contains("pub key_pad: KeyPad,"));
}

#[test]
fn struct_types_extended_attributes_and_renames() {
    let tree = rust::generate_tree(&demo_tree(), &GenerateOptions::new("demo")).unwrap();
    assert!(tree.contains("pub struct GeoPoint {"));
    assert!(
        tree.contains("pub point: GeoPoint,"),
        "nested struct property"
    );
    assert!(tree.contains(r#""Types.Waypoint""#), "the VSS struct name");
    assert!(tree.contains("pub trail: ::viss_runtime::Sensor<Vec<GeoPoint>>,"));
    assert!(
        tree.contains(r#"extended(dbc = "VehicleSpeedKph", priority = 1)"#),
        "overlay value wins"
    );
    assert!(tree.contains("extended(priority = 2)"));
    assert!(tree.contains(r#"pattern = "^[A-HJ-NPR-Z0-9]{17}$""#));
    assert!(
        !tree.contains("/// VSS `"),
        "no metadata is left to the docs"
    );
    assert!(tree.contains(r#"#[viss(name = "OBD", description = "On-board diagnostics.")]"#));
    assert!(tree.contains("max = 200"), "the overlay's altered max");
}

/// `validate` tags become `#[viss(validate = "..")]` on the root, branch fields, instance
/// sets (which stay arrays: the derive gives the tag to every instance) and leaves, never an
/// `extended(..)` entry; an instance-specific tag makes the instances differ.
#[test]
fn validate_tags_are_emitted_on_every_node_kind() {
    let base = "A:\n  type: branch\n  description: a\n  validate: write-only\n\
                A.B:\n  type: branch\n  description: b\n  validate: read-write\n\
                A.B.S:\n  type: sensor\n  datatype: boolean\n  description: s\n  validate: read-write+consent\n  dbc: x\n\
                A.D:\n  type: branch\n  instances: [Left, Right]\n  description: d\n  validate: write-only+consent\n\
                A.D.X:\n  type: actuator\n  datatype: boolean\n  description: x\n\
                A.E:\n  type: branch\n  instances: [Left, Right]\n  description: e\n\
                A.E.Y:\n  type: actuator\n  datatype: boolean\n  description: y\n";
    let generate = |overlay: Option<&str>| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("base.vspec"), base).unwrap();
        let mut overlays = Vec::new();
        if let Some(overlay) = overlay {
            std::fs::write(dir.path().join("overlay.vspec"), overlay).unwrap();
            overlays.push(dir.path().join("overlay.vspec"));
        }
        let loaded = vspec::load(&VspecOptions {
            source: dir.path().join("base.vspec"),
            overlays,
            ..VspecOptions::default()
        });
        let rendered = loaded.diagnostics.render(&loaded.sources);
        let tree = loaded.tree.unwrap_or_else(|| panic!("{rendered}"));
        rust::generate_tree(&tree, &GenerateOptions::new("tagged")).unwrap()
    };
    let tree = generate(None);
    assert!(
        tree.contains(r#"#[viss(root = "A", description = "a", validate = "write-only")]"#),
        "{tree}"
    );
    assert!(
        tree.contains(r#"#[viss(description = "b", validate = "read-write")]"#),
        "{tree}"
    );
    assert!(
        tree.contains(
            r#"#[viss(description = "s", validate = "read-write+consent", extended(dbc = "x"))]"#
        ),
        "{tree}"
    );
    assert!(
        tree.contains(
            r#"validate = "write-only+consent"
    )]
    pub d: [D; 2],"#
        ),
        "the set's field, still an array: {tree}"
    );
    assert!(tree.contains("pub e: [E; 2],"), "{tree}");
    assert_eq!(tree.matches("validate = ").count(), 4, "{tree}");
    assert!(!tree.contains("extended(validate"), "{tree}");
    // Tagging one instance (a deployment overlay) makes that instance a type of its own.
    let tree = generate(Some("A.E.Left:\n  validate: read-write\n"));
    assert!(!tree.contains("pub e: [E; 2],"), "{tree}");
    assert!(
        tree.contains(r#"#[viss(description = "e", validate = "read-write")]"#),
        "A.E.Left: {tree}"
    );
    assert_eq!(
        tree.matches(r#"validate = "read-write""#).count(),
        2,
        "A.B and A.E.Left: {tree}"
    );
}

#[test]
fn the_standard_tree_uses_raw_identifiers_for_keywords() {
    let loaded = vspec::load(&VspecOptions {
        source: shared_path("vss/spec/VehicleSignalSpecification.vspec"),
        ..VspecOptions::default()
    });
    let files = rust::generate(&loaded.tree.unwrap(), &GenerateOptions::new("std")).unwrap();
    let tree = file(&files, "src/tree.rs");
    assert!(tree.contains("pub r#type: ::viss_runtime::Attribute<TransmissionType>,"));
    assert!(tree.contains("pub door: [[Door; 2]; 2],"));
    let paths: Vec<&str> = files.iter().map(|file| file.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "Cargo.toml",
            "README.md",
            "src/lib.rs",
            "src/tree.rs",
            "src/provider.rs",
            "src/snapshot.rs",
            "src/main.rs",
            ".cargo/config.toml",
            "link/cc-ordered",
            "link/code-order.txt"
        ]
    );
    for file in &files {
        assert!(
            file.contents.contains("@generated"),
            "{} is stamped",
            file.path
        );
    }
    assert!(file(&files, "Cargo.toml").contains(r#"viss-runtime = { version = "0.1""#));
    assert!(file(&files, "src/provider.rs").contains("fn set_door_is_open("));
}

#[test]
fn main_rs_hands_the_tree_and_provider_to_the_runtime_and_is_rustfmt_stable() {
    let files = rust::generate(&demo_tree(), &GenerateOptions::new("my-car")).unwrap();
    let main = file(&files, "src/main.rs");
    assert!(main.contains("use my_car::provider::{AcceptAll, ProviderHook};"));
    assert!(main.contains("const NAME: &str = \"my-car\";"));
    assert!(
        main.contains("::viss_runtime::server::main(NAME, ABOUT, Vehicle::TREE, Some(provider))")
    );
    assert!(!main.contains("rustfmt::skip"), "{main}");
    // Short enough that rustfmt (max_width 100) leaves every line as written.
    assert!(main.lines().all(|line| line.len() <= 100), "{main}");
}

#[test]
fn standalone_crates_get_small_release_profiles_and_workspace_members_none() {
    let standalone = rust::generate(&demo_tree(), &GenerateOptions::new("car")).unwrap();
    let manifest = file(&standalone, "Cargo.toml");
    for line in [
        "[profile.release]",
        "lto = \"fat\"",
        "codegen-units = 1",
        "[profile.small]",
    ] {
        assert!(manifest.contains(line), "{line} missing from:\n{manifest}");
    }
    let member = GenerateOptions {
        workspace_member: true,
        ..GenerateOptions::new("car")
    };
    let files = rust::generate(&demo_tree(), &member).unwrap();
    assert!(!file(&files, "Cargo.toml").contains("[profile"));
    // the code-ordered link: a crate of its own links through link/cc-ordered, for its own
    // binary (cargo links `car-site` as deps/car_site-<hash>); a member as its workspace does
    let standalone = rust::generate(&demo_tree(), &GenerateOptions::new("car-site")).unwrap();
    assert!(file(&standalone, ".cargo/config.toml").contains("linker = \"link/cc-ordered\""));
    let script = file(&standalone, "link/cc-ordered");
    assert!(script.starts_with("#!/bin/sh\n# @generated"), "{script}");
    assert!(script.contains("car_site-*) server=1 ;;"), "{script}");
    // it parses as POSIX sh (an apostrophe in a comment of its awk program once ended the
    // program's quotes)
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cc-ordered");
    std::fs::write(&path, script).unwrap();
    let parsed = std::process::Command::new("sh")
        .arg("-n")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        parsed.status.success(),
        "{}",
        String::from_utf8_lossy(&parsed.stderr)
    );
    let order = file(&standalone, "link/code-order.txt");
    assert!(
        order.lines().count() > 500,
        "{} functions",
        order.lines().count()
    );
    assert!(
        order.contains("_ZNviss_runtime"),
        "the runtime's own functions are in the order"
    );
    assert!(
        files
            .iter()
            .all(|file| !file.path.starts_with("link/") && !file.path.starts_with(".cargo/")),
        "a workspace member gets no linker of its own"
    );
}

/// The header of viss-server's linker script, which says how to remake it.
/// The link script asks for packed relocations (`-z pack-relative-relocs`) only for the
/// server binary linked by lld as a position-independent executable where this machine's
/// glibc reads them (2.36 or later), links again without them when that link fails, and
/// passes a failed link's status on. Run with stand-ins for `cc` (it logs its arguments) and
/// `getconf`; the script stops after the first link, as there is no `code-order.txt` beside it.
#[cfg(unix)]
#[test]
fn the_link_script_packs_relocations_only_for_the_server_on_a_glibc_that_reads_them() {
    use std::os::unix::fs::PermissionsExt;
    let standalone = rust::generate(&demo_tree(), &GenerateOptions::new("car-site")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("cc-ordered");
    std::fs::write(&script, file(&standalone, "link/cc-ordered")).unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let stand_ins = [
        (
            "cc",
            "#!/bin/sh\necho \"$*\" >> \"$CC_LOG\"\nfor arg in \"$@\"; do\n  \
             [ \"$arg\" = -Wl,-z,pack-relative-relocs ] && [ -n \"$CC_CANNOT_PACK\" ] && exit 5\n\
             done\nexit \"${CC_STATUS:-0}\"\n",
        ),
        (
            "getconf",
            "#!/bin/sh\n[ -n \"$GLIBC\" ] && echo \"$GLIBC\"\nexit 0\n",
        ),
    ];
    for (name, text) in stand_ins {
        let path = bin.join(name);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let log = dir.path().join("cc.log");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // links `out` with `args` and `env`: the script's status and each `cc` call's arguments
    let link = |out: &str, args: &[&str], env: &[(&str, &str)]| -> (i32, Vec<String>) {
        let _ = std::fs::remove_file(&log);
        let status = std::process::Command::new("sh")
            .arg(&script)
            .args(args)
            .args([
                "-o",
                &dir.path().join("deps").join(out).to_string_lossy(),
                "main.o",
            ])
            .env("PATH", &path)
            .env("CC_LOG", &log)
            .env_remove("VSSGEN_NO_PACKED_RELOCS")
            .envs(env.iter().copied())
            .status()
            .unwrap();
        let calls = std::fs::read_to_string(&log).unwrap_or_default();
        (
            status.code().unwrap_or(-1),
            calls.lines().map(str::to_owned).collect(),
        )
    };
    let packs = |calls: &[String]| {
        calls
            .iter()
            .map(|call| call.ends_with(" -Wl,-z,pack-relative-relocs"))
            .collect::<Vec<bool>>()
    };
    let server = "car_site-0123abcd";
    let pie = ["-fuse-ld=lld", "-pie"];
    let new_glibc = [("GLIBC", "glibc 2.36")];
    let (status, calls) = link(server, &pie, &new_glibc);
    assert_eq!((status, packs(&calls)), (0, vec![true]), "{calls:?}");
    let (_, calls) = link(server, &pie, &[("GLIBC", "glibc 3.1")]);
    assert_eq!(packs(&calls), [true], "a later major version");
    for (case, out, args, env) in [
        (
            "glibc 2.35",
            server,
            &pie[..],
            &[("GLIBC", "glibc 2.35")][..],
        ),
        ("no answer from getconf", server, &pie, &[("GLIBC", "")]),
        (
            "turned off",
            server,
            &pie,
            &[("GLIBC", "glibc 2.36"), ("VSSGEN_NO_PACKED_RELOCS", "1")],
        ),
        (
            "another binary",
            "build_script_build-0123abcd",
            &pie,
            &new_glibc,
        ),
        ("not lld", server, &["-pie"], &new_glibc),
        (
            "not position-independent",
            server,
            &["-fuse-ld=lld"],
            &new_glibc,
        ),
    ] {
        let (status, calls) = link(out, args, env);
        assert_eq!(
            (status, packs(&calls)),
            (0, vec![false]),
            "{case}: {calls:?}"
        );
    }
    let (status, calls) = link(
        server,
        &pie,
        &[("GLIBC", "glibc 2.36"), ("CC_CANNOT_PACK", "1")],
    );
    assert_eq!(
        (status, packs(&calls)),
        (0, vec![true, false]),
        "linked again, unpacked"
    );
    let (status, calls) = link(server, &pie, &[("GLIBC", "glibc 2.36"), ("CC_STATUS", "3")]);
    assert_eq!(
        (status, packs(&calls)),
        (3, vec![true, false]),
        "a failed link fails"
    );
    let (status, calls) = link("other-0123abcd", &pie, &[("CC_STATUS", "4")]);
    assert_eq!((status, calls.len()), (4, 1));
}

const VISS_SERVER_LINK_HEADER: &str = "# @generated by vssgen from templates/link/cc-ordered.j2 \
for the workspace's viss-server.\n# Do not edit: regenerate with \
`VSSGEN_BLESS=1 cargo test -p vssgen --test rust_backend viss_server`.";

/// The workspace links viss-server through `viss-server/link/cc-ordered` (named by the
/// workspace's `.cargo/config.toml`): the generator's script for that binary, kept equal to
/// the template's rendering here. `VSSGEN_BLESS=1` writes it.
#[test]
fn viss_server_links_through_the_generators_script() {
    let root = workspace_root();
    let expected = rust::link::script("viss-server", VISS_SERVER_LINK_HEADER).unwrap();
    let path = root.join("viss-server/link/cc-ordered");
    if std::env::var_os("VSSGEN_BLESS").is_some() {
        std::fs::write(&path, &expected).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }
    let checked_in = std::fs::read_to_string(&path).unwrap();
    assert!(
        checked_in == expected,
        "viss-server/link/cc-ordered is not the template's rendering: regenerate with \
         `VSSGEN_BLESS=1 cargo test -p vssgen --test rust_backend viss_server`"
    );
    assert!(
        expected.contains("viss_server-*) server=1 ;;"),
        "{expected}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = path.metadata().unwrap().permissions().mode();
        assert!(
            mode & 0o111 != 0,
            "viss-server/link/cc-ordered is not executable"
        );
    }
    let config = std::fs::read_to_string(root.join(".cargo/config.toml")).unwrap();
    assert!(
        config.contains("linker = \"viss-server/link/cc-ordered\""),
        "{config}"
    );
    let order = std::fs::read_to_string(root.join("viss-server/link/code-order.txt")).unwrap();
    assert!(
        order.lines().filter(|line| !line.starts_with('#')).count() > 500,
        "viss-server/link/code-order.txt lists too few functions"
    );
}

/// The snapshot codec takes its numbers from the `.proto`'s numbering (the lock), not from
/// the tree's order: a moved number moves in both.
#[test]
fn the_snapshot_codec_uses_the_proto_numbers() {
    use vssgen::backend::proto::{self, ProtoOptions};
    let tree = demo_tree();
    let options = ProtoOptions {
        command: "test".to_owned(),
        lock_name: "Vehicle.protolock.json".to_owned(),
        allow_breaking: false,
    };
    let mut numbering = proto::generate(&tree, None, &options).unwrap().numbering;
    let fresh = rust::generate(&tree, &GenerateOptions::new("car")).unwrap();
    let fresh = file(&fresh, "src/snapshot.rs");
    assert!(
        fresh.contains("out.leaf(store, 1, self.speed.id(), Kind::Float);"),
        "{fresh}"
    );
    assert!(fresh.contains("(1, \"SEDAN\")"), "{fresh}");
    numbering
        .messages
        .get_mut("Vehicle")
        .unwrap()
        .insert("Speed".to_owned(), 99);
    numbering
        .enums
        .get_mut("BodyType")
        .unwrap()
        .insert("SEDAN".to_owned(), 17);
    let locked = GenerateOptions {
        proto_numbers: vec![numbering],
        ..GenerateOptions::new("car")
    };
    let files = rust::generate(&tree, &locked).unwrap();
    let snapshot = file(&files, "src/snapshot.rs");
    assert!(snapshot.contains("out.leaf(store, 99, self.speed.id(), Kind::Float);"));
    assert!(snapshot.contains("99 => field.leaf(self.speed.id(), Kind::Float),"));
    assert!(snapshot.contains("(17, \"SEDAN\")"), "{snapshot}");
}

#[test]
fn invalid_crate_names_are_refused() {
    let error = rust::generate(&demo_tree(), &GenerateOptions::new("1 bad")).unwrap_err();
    assert_eq!(error, GenerateError::CrateName("1 bad".into()));
}

#[test]
fn the_cli_generates_from_a_json_export_with_tree() {
    let out = tempfile::tempdir().unwrap();
    let crate_dir = out.path().join("from-json");
    cargo_bin_cmd!("vssgen")
        .args(["generate", "--tree"])
        .arg(shared_path("vss/json/vss.json"))
        .arg("--out")
        .arg(&crate_dir)
        .args(["--runtime-path", "../viss-runtime"])
        // Never write into the shared reference folder.
        .arg("--proto-lock-dir")
        .arg(out.path())
        .assert()
        .success();
    let manifest = std::fs::read_to_string(crate_dir.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("name = \"from-json\""), "{manifest}");
    assert!(manifest.contains(r#"viss-runtime = { path = "../viss-runtime""#));
    let tree = std::fs::read_to_string(crate_dir.join("src/tree.rs")).unwrap();
    // A JSON export has no instance origins: instances are plain branches, still shared.
    assert!(tree.contains("pub struct Vehicle {"));
}

#[test]
fn the_cli_reports_unloadable_input_with_exit_code_1() {
    let out = tempfile::tempdir().unwrap();
    cargo_bin_cmd!("vssgen")
        .args(["generate", "--tree", "does-not-exist.vspec", "--out"])
        .arg(out.path())
        .assert()
        .code(1);
}

/// Every `allowed` list of strings in the standard tree becomes an enum: 115 leaves (104
/// `string`, 11 `string[]`), 56 distinct lists; the standard tree has no numeric `allowed`
/// list (the demo car's `Massage` is one and stays `u8`).
#[test]
fn the_standard_tree_types_every_allowed_list_of_strings_as_an_enum() {
    let loaded = vspec::load(&VspecOptions {
        source: shared_path("vss/spec/VehicleSignalSpecification.vspec"),
        ..VspecOptions::default()
    });
    let tree = loaded.tree.unwrap();
    let plan = rust::types::plan(&tree).unwrap();
    let with_allowed: Vec<_> = tree
        .subtree(plan.root_node)
        .into_iter()
        .filter(|id| tree.get(*id).data.allowed.is_some())
        .collect();
    let strings = with_allowed
        .iter()
        .filter(|id| rust::enums::string_list(tree.get(**id)).is_some())
        .count();
    println!(
        "standard tree: {} leaves with `allowed`, {strings} of strings, {} enum leaves, {} enums, {} aliases",
        with_allowed.len(),
        plan.enums.leaf_types.len(),
        plan.enums.enums.len(),
        plan.enums
            .enums
            .iter()
            .map(|e| e.aliases.len())
            .sum::<usize>(),
    );
    assert_eq!(with_allowed.len(), 115, "leaves with an allowed list");
    assert_eq!(strings, 115, "all of them lists of strings");
    assert_eq!(
        plan.enums.leaf_types.len(),
        115,
        "every one typed with an enum"
    );
    assert_eq!(plan.enums.enums.len(), 56, "one enum per distinct list");
    // Every enum spells its leaves' lists exactly, in order.
    for ty in &plan.enums.enums {
        for leaf in &ty.leaves {
            let list = rust::enums::string_list(tree.get(*leaf)).unwrap();
            let names: Vec<_> = ty.variants.iter().map(|v| v.vss_name.clone()).collect();
            assert_eq!(names, list, "{}", ty.ident);
        }
    }
    let ident = |path: &str| {
        let id = tree.lookup(path).unwrap();
        plan.enums.leaf_types[&id].as_str()
    };
    assert_eq!(
        ident("Vehicle.ADAS.ActiveAutonomyLevel"),
        "ActiveAutonomyLevel"
    );
    // `Switch` names two lists: the one most leaves use keeps the name.
    assert_eq!(
        ident("Vehicle.Cabin.Door.Row1.DriverSide.Window.Switch"),
        "Switch"
    );
    assert_eq!(ident("Vehicle.Cabin.Sunroof.Switch"), "SunroofSwitch");
    // `Type` names two lists used once each: both are prefixed.
    assert_eq!(ident("Vehicle.Powertrain.Type"), "PowertrainType");
    assert_eq!(
        ident("Vehicle.Powertrain.Transmission.Type"),
        "TransmissionType"
    );
    // Three concepts share one list: one enum named after the first in source order,
    // two aliases.
    let shared = plan
        .enums
        .enums
        .iter()
        .find(|ty| ty.ident == "Rollover")
        .unwrap();
    let aliases: Vec<_> = shared
        .aliases
        .iter()
        .map(|(alias, _)| alias.as_str())
        .collect();
    assert_eq!(aliases, ["VisibilityImpairment", "RoadIcingState"]);
    assert_eq!(ident("Vehicle.Safety.RoadIcingState"), "RoadIcingState");

    let files = rust::generate(&tree, &GenerateOptions::new("std")).unwrap();
    let code = file(&files, "src/tree.rs");
    assert!(
        code.contains("pub active_autonomy_level: ::viss_runtime::Sensor<ActiveAutonomyLevel>,")
    );
    assert!(code.contains("pub type RoadIcingState = Rollover;"));
    assert!(code.contains("#[viss(name = \"SAE_2_DISENGAGING\")]\n    Sae2Disengaging,"));
    assert!(!code.contains("non_exhaustive"));
}

/// A tree whose only enum leaf is an array still generates (the README's enum section needs
/// a scalar example and is left out), and a list no enum can spell (a repeated value) stays
/// `String`.
#[test]
fn array_only_enums_and_unspellable_lists_generate() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("Car.vspec");
    std::fs::write(
        &source,
        "Vehicle:\n  type: branch\n  description: Root.\n\
         Vehicle.Fuels:\n  type: attribute\n  datatype: string[]\n  description: Fuels.\n  \
         allowed: ['GASOLINE', 'DIESEL']\n\
         Vehicle.Mode:\n  type: actuator\n  datatype: string\n  description: Mode.\n  \
         allowed: ['ECO', 'ECO']\n",
    )
    .unwrap();
    let loaded = vspec::load(&VspecOptions {
        source,
        ..VspecOptions::default()
    });
    let files = rust::generate(&loaded.tree.unwrap(), &GenerateOptions::new("car")).unwrap();
    let tree = file(&files, "src/tree.rs");
    assert!(
        tree.contains("pub fuels: ::viss_runtime::Attribute<Vec<Fuels>>,"),
        "{tree}"
    );
    assert!(
        tree.contains("pub mode: ::viss_runtime::Actuator<String>,"),
        "{tree}"
    );
    let readme = file(&files, "README.md");
    assert!(
        readme.contains("Leaves with an `allowed` list of strings (1) are typed with enums (1,")
    );
    assert!(!readme.contains("## Enums"));
}
