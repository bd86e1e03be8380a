//! vss-tools semantics verified in `shared/reference/vss-format.md` (§2 scalars, §3 includes,
//! §9 instance forms, §11 overlays), checked on small inline trees.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use vss_model::vspec::load_from_str;
use vss_model::{Loaded, VspecOptions, VssTree, load};

fn units_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalid")
}

fn options() -> VspecOptions {
    VspecOptions {
        units: vec![units_dir().join("units.yaml")],
        quantities: vec![units_dir().join("quantities.yaml")],
        expand: true,
        ..VspecOptions::default()
    }
}

fn inline(text: &str) -> Loaded {
    load_from_str("inline.vspec", text, &options())
}

fn tree(text: &str) -> VssTree {
    let loaded = inline(text);
    let rendered = loaded.diagnostics.render(&loaded.sources);
    loaded.tree.unwrap_or_else(|| panic!("{rendered}"))
}

/// Paths below `A.D` (sorted), for instance-form checks.
fn door_paths(instances: &str) -> Vec<String> {
    let text = format!(
        "A:\n  type: branch\n  description: a\nA.D:\n  type: branch\n  instances: {instances}\n  description: d\nA.D.X:\n  type: sensor\n  datatype: boolean\n  description: x\n"
    );
    let t = tree(&text);
    let mut paths: Vec<String> = t
        .nodes()
        .iter()
        .filter(|n| n.is_leaf())
        .map(|n| n.path.trim_start_matches("A.D.").to_owned())
        .collect();
    paths.sort();
    paths
}

#[test]
fn instance_forms_match_vss_tools() {
    assert_eq!(door_paths("[Left, Right]"), ["Left.X", "Right.X"]);
    assert_eq!(door_paths("Row[1,3]"), ["Row1.X", "Row2.X", "Row3.X"]);
    assert_eq!(
        door_paths("['Row[1,2]', [Left, Right]]"),
        ["Row1.Left.X", "Row1.Right.X", "Row2.Left.X", "Row2.Right.X"]
    );
    assert_eq!(
        door_paths("['Row[1,2]', Left, Right]"),
        ["Row1.Left.X", "Row1.Right.X", "Row2.Left.X", "Row2.Right.X"]
    );
    assert_eq!(
        door_paths("[Left, Right, 'Row[1,2]']"),
        ["Left.X", "Right.X", "Row1.X", "Row2.X"]
    );
    assert_eq!(
        door_paths("[['Row[1,2]', Left]]"),
        ["Left.X", "Row1.X", "Row2.X"]
    );
    // a one-element range does not nest
    assert_eq!(
        door_paths("['Row[1,1]', [Left, Right]]"),
        ["Left.X", "Right.X", "Row1.X"]
    );
    assert_eq!(door_paths("[[A1, B1], [C1, D1], 'Z[1,2]']").len(), 8);
    assert_eq!(door_paths("[[[A1, B1]]]"), ["['A1', 'B1'].X"]);
}

#[test]
fn instantiate_false_stays_on_the_branch_and_sibling_relation_hoists() {
    let t = tree(
        "A:\n  type: branch\n  description: a\nA.D:\n  type: branch\n  instances: [Left, Right]\n  instances_relation: sibling\n  description: d\nA.D.Count:\n  type: attribute\n  datatype: uint8\n  instantiate: false\n  description: c\nA.D.X:\n  type: sensor\n  datatype: boolean\n  description: x\n",
    );
    assert!(t.lookup("A.D.Count").is_some());
    assert!(t.lookup("A.D.X").is_none());
    assert!(t.lookup("A.Left.X").is_some());
    assert!(t.lookup("A.Right.X").is_some());
    let left = t.get(t.lookup("A.Left").unwrap());
    assert_eq!(left.data.description.as_deref(), Some("d"));
}

#[test]
fn instance_specific_overrides_additions_and_deletes() {
    let base = "A:\n  type: branch\n  description: a\nA.D:\n  type: branch\n  instances: ['Row[1,2]', [Left, Right]]\n  description: d\nA.D.X:\n  type: sensor\n  datatype: float\n  description: x\n";
    let overlay = "A.D.Row1.Left.X:\n  unit: km\nA.D.Row2.Right.Y:\n  type: sensor\n  datatype: boolean\n  description: only here\nA.D.Row2.Left:\n  delete: true\n";
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("base.vspec"), base).unwrap();
    std::fs::write(dir.path().join("overlay.vspec"), overlay).unwrap();
    let mut o = options();
    o.source = dir.path().join("base.vspec");
    o.overlays = vec![dir.path().join("overlay.vspec")];
    let loaded = load(&o);
    let t = loaded.tree.unwrap();
    let x = t.get(t.lookup("A.D.Row1.Left.X").unwrap());
    assert_eq!(x.data.unit.as_deref(), Some("km"));
    assert_eq!(x.data.description.as_deref(), Some("x"));
    assert!(
        t.get(t.lookup("A.D.Row1.Right.X").unwrap())
            .data
            .unit
            .is_none()
    );
    assert!(t.lookup("A.D.Row2.Right.Y").is_some());
    assert!(t.lookup("A.D.Row1.Right.Y").is_none());
    assert!(t.lookup("A.D.Row2.Left").is_none());
    // no implicit branch is left behind by the instance-specific keys
    assert!(t.nodes().iter().all(|n| !n.implicit));
}

#[test]
fn yaml_1_1_scalars_resolve_like_pyyaml() {
    let t = tree(
        "A:\n  type: branch\n  description: a\nA.V:\n  type: sensor\n  datatype: float\n  min: 010\n  max: 1e3\n  description: v\nA.IsOn:\n  type: actuator\n  datatype: boolean\n  default: ON\n  description: b\n",
    );
    let v = t.get(t.lookup("A.V").unwrap());
    assert_eq!(v.data.min, Some(serde_json::Number::from(8)));
    assert_eq!(v.data.max.as_ref().and_then(|n| n.as_f64()), Some(1000.0));
    assert!(v.data.max.as_ref().unwrap().is_f64());
    let on = t.get(t.lookup("A.IsOn").unwrap());
    assert_eq!(on.data.default, Some(serde_json::Value::Bool(true)));
    // unquoted ON in a string `allowed` list is a boolean and fails, as in vss-tools
    let loaded = inline(
        "A:\n  type: branch\n  description: a\nA.M:\n  type: actuator\n  datatype: string\n  allowed: [ON, OFF]\n  description: m\n",
    );
    assert!(
        loaded
            .diagnostics
            .iter()
            .any(|d| d.code == "vss::value-type")
    );
}

#[test]
fn includes_follow_vss_tools_order_prefix_and_search_path() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir(root.join("sub")).unwrap();
    std::fs::write(
        root.join("main.vspec"),
        "#include sub/b.vspec A.B\nA:\n  type: branch\n  description: from main\nA.B:\n  type: branch\n  description: b\nA.B.X:\n  type: sensor\n  datatype: float\n  description: main wins?\n",
    )
    .unwrap();
    // included later in merge order, so it overrides main even though its #include is first
    std::fs::write(
        root.join("sub/b.vspec"),
        "X:\n  description: included wins\n#include leaf\n  #include leaf.vspec Deep\n",
    )
    .unwrap();
    // the root directory is searched before the includer's directory
    std::fs::write(
        root.join("leaf.vspec"),
        "L:\n  type: sensor\n  datatype: float\n  description: root leaf\n",
    )
    .unwrap();
    std::fs::write(
        root.join("sub/leaf.vspec"),
        "L:\n  type: sensor\n  datatype: float\n  description: sub leaf\n",
    )
    .unwrap();
    let mut o = options();
    o.source = root.join("main.vspec");
    let loaded = load(&o);
    let rendered = loaded.diagnostics.render(&loaded.sources);
    let t = loaded.tree.unwrap_or_else(|| panic!("{rendered}"));
    let x = t.get(t.lookup("A.B.X").unwrap());
    assert_eq!(x.data.description.as_deref(), Some("included wins"));
    let leaf = t.get(t.lookup("A.B.L").unwrap());
    assert_eq!(leaf.data.description.as_deref(), Some("root leaf"));
    // indented include, prefix composed with the inherited one
    assert!(t.lookup("A.B.Deep.L").is_some());
}

#[test]
fn overlay_globs_reach_template_keys_and_maps_merge() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("base.vspec"),
        "A:\n  type: branch\n  description: a\nA.D:\n  type: branch\n  instances: [Left, Right]\n  description: d\nA.D.X:\n  type: sensor\n  datatype: float\n  description: x\n  ext: {a: 1, b: 2}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("o.vspec"), "\"A.D.*\":\n  ext: {b: 3}\n").unwrap();
    let mut o = options();
    o.source = dir.path().join("base.vspec");
    o.overlays = vec![dir.path().join("o.vspec")];
    let t = load(&o).tree.unwrap();
    for side in ["Left", "Right"] {
        let x = t.get(t.lookup(&format!("A.D.{side}.X")).unwrap());
        assert_eq!(
            x.data.extended.get("ext"),
            Some(&serde_json::json!({"a": 1, "b": 3}))
        );
    }
}

#[test]
fn include_dirs_are_searched_after_the_root_directory() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    std::fs::create_dir(&lib).unwrap();
    std::fs::write(
        dir.path().join("main.vspec"),
        "A:\n  type: branch\n  description: a\n  includes: [shared]\n",
    )
    .unwrap();
    std::fs::write(
        lib.join("shared.vspec"),
        "S:\n  type: sensor\n  datatype: float\n  description: s\n",
    )
    .unwrap();
    let mut o = options();
    o.source = dir.path().join("main.vspec");
    assert!(load(&o).tree.is_none(), "not found without -I");
    o.include_dirs = vec![lib];
    let t = load(&o).tree.unwrap();
    assert!(t.lookup("A.S").is_some());
    assert!(
        t.get(t.lookup("A").unwrap()).data.extended.is_empty(),
        "`includes` is consumed"
    );
}

/// `validate` (VISS access control) is read typed on every node kind, the root included,
/// copied onto instance branches, added, changed and removed (`null`) by overlays, kept as
/// written among the extended attributes, and never reported as unknown, even `--strict`.
#[test]
fn validate_tags_are_read_on_every_node_and_set_by_overlays() {
    use vss_model::{Protects, Validate};
    let base = "A:\n  type: branch\n  description: a\n  validate: write-only\nA.D:\n  type: branch\n  instances: [Left, Right]\n  description: d\n  validate: read-write\nA.D.X:\n  type: actuator\n  datatype: float\n  description: x\nA.S:\n  type: sensor\n  datatype: float\n  description: s\n  validate: write-only+consent\nA.T:\n  type: sensor\n  datatype: float\n  description: t\n  validate: read-write\n";
    let overlay = "A.D.Left.X:\n  validate: read-write+consent\nA.N:\n  type: attribute\n  datatype: string\n  description: n\n  validate: write-only\nA.T:\n  validate: null\n";
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("base.vspec"), base).unwrap();
    std::fs::write(dir.path().join("overlay.vspec"), overlay).unwrap();
    for strict in [false, true] {
        let mut o = options();
        o.source = dir.path().join("base.vspec");
        o.overlays = vec![dir.path().join("overlay.vspec")];
        o.strict = strict;
        let loaded = load(&o);
        let rendered = loaded.diagnostics.render(&loaded.sources);
        assert!(loaded.diagnostics.is_empty(), "strict={strict}: {rendered}");
        let t = loaded.tree.unwrap();
        let tag = |path: &str| t.get(t.lookup(path).unwrap()).data.validate;
        let (rw, wo) = (Protects::ReadsAndWrites, Protects::Writes);
        assert_eq!(tag("A"), Some(Validate::new(wo, false)), "the root");
        assert_eq!(tag("A.D"), Some(Validate::new(rw, false)), "a branch");
        assert_eq!(tag("A.D.Left"), Some(Validate::new(rw, false)), "instance");
        assert_eq!(tag("A.D.Right"), Some(Validate::new(rw, false)), "instance");
        assert_eq!(tag("A.D.Left.X"), Some(Validate::new(rw, true)), "overlay");
        assert_eq!(tag("A.D.Right.X"), None, "inheritance is not resolved here");
        assert_eq!(tag("A.S"), Some(Validate::new(wo, true)), "a leaf");
        assert_eq!(
            tag("A.N"),
            Some(Validate::new(wo, false)),
            "an overlay node"
        );
        assert_eq!(tag("A.T"), None, "an overlay removes the tag");
        let t_node = t.get(t.lookup("A.T").unwrap());
        assert_eq!(
            t_node.data.extended.get("validate"),
            Some(&serde_json::Value::Null),
            "kept as written for the export"
        );
        let left_x = t.get(t.lookup("A.D.Left.X").unwrap());
        assert_eq!(
            left_x.data.extended.get("validate"),
            Some(&serde_json::json!("read-write+consent"))
        );
        assert_eq!(left_x.data.untyped_extended().count(), 0);
    }
}
