//! Malformed inputs (`tests/invalid/<case>/`): each is rejected or warned about with a stable
//! code at an exact file:line:col, and nothing panics.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use vss_model::{Loaded, Severity, VspecOptions, load};

fn dir(case: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/invalid")
        .join(case)
}

fn run(case: &str, overlays: &[&str], strict: bool) -> Loaded {
    let base = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/invalid");
    load(&VspecOptions {
        source: dir(case).join("test.vspec"),
        units: vec![base.join("units.yaml")],
        quantities: vec![base.join("quantities.yaml")],
        overlays: overlays.iter().map(|o| dir(case).join(o)).collect(),
        strict,
        expand: true,
        ..VspecOptions::default()
    })
}

/// Asserts a diagnostic with `code` and `severity` at `file:line:col`.
fn assert_diag(loaded: &Loaded, code: &str, severity: Severity, file: &str, line: u32, col: u32) {
    let found = loaded.diagnostics.iter().any(|d| {
        d.code == code
            && d.severity == severity
            && d.location.is_some_and(|l| {
                l.line == line && l.column == col && loaded.sources.path(l.file).ends_with(file)
            })
    });
    assert!(
        found,
        "expected {severity:?} {code} at {file}:{line}:{col}, got:\n{}",
        loaded.diagnostics.render(&loaded.sources)
    );
    if severity == Severity::Error {
        assert!(loaded.tree.is_none(), "an error must drop the tree");
    }
}

/// (case, overlays, strict, code, severity, file, line, column)
type Expectation = (
    &'static str,
    &'static [&'static str],
    bool,
    &'static str,
    Severity,
    &'static str,
    u32,
    u32,
);

const E: Severity = Severity::Error;
const W: Severity = Severity::Warning;

const CASES: &[Expectation] = &[
    (
        "bad_yaml",
        &[],
        false,
        "vss::yaml-syntax",
        E,
        "bad_yaml/test.vspec",
        7,
        14,
    ),
    (
        "duplicate_key",
        &[],
        false,
        "vss::duplicate-key",
        E,
        "duplicate_key/test.vspec",
        7,
        3,
    ),
    (
        "duplicate_key",
        &[],
        true,
        "vss::duplicate-key",
        E,
        "duplicate_key/test.vspec",
        7,
        3,
    ),
    (
        "unknown_datatype",
        &[],
        false,
        "vss::unknown-datatype",
        E,
        "unknown_datatype/test.vspec",
        6,
        13,
    ),
    (
        "min_greater_than_max",
        &[],
        false,
        "vss::min-greater-than-max",
        W,
        "min_greater_than_max/test.vspec",
        7,
        8,
    ),
    (
        "min_greater_than_max",
        &[],
        true,
        "vss::min-greater-than-max",
        E,
        "min_greater_than_max/test.vspec",
        7,
        8,
    ),
    (
        "default_not_allowed",
        &[],
        false,
        "vss::default-not-allowed",
        E,
        "default_not_allowed/test.vspec",
        8,
        12,
    ),
    (
        "falsy_default",
        &[],
        false,
        "vss::falsy-default-not-allowed",
        W,
        "falsy_default/test.vspec",
        8,
        12,
    ),
    (
        "falsy_default",
        &[],
        true,
        "vss::falsy-default-not-allowed",
        E,
        "falsy_default/test.vspec",
        8,
        12,
    ),
    (
        "bool_as_int",
        &[],
        false,
        "vss::bool-as-int",
        W,
        "bool_as_int/test.vspec",
        7,
        12,
    ),
    (
        "bool_as_int",
        &[],
        true,
        "vss::bool-as-int",
        E,
        "bool_as_int/test.vspec",
        7,
        12,
    ),
    (
        "include_loop",
        &[],
        false,
        "vss::include-cycle",
        E,
        "include_loop/loop_b.vspec",
        4,
        3,
    ),
    (
        "missing_include",
        &[],
        false,
        "vss::include-not-found",
        E,
        "missing_include/test.vspec",
        5,
        1,
    ),
    (
        "malformed_include",
        &[],
        false,
        "vss::malformed-include",
        E,
        "malformed_include/test.vspec",
        4,
        1,
    ),
    (
        "unit_not_allowed",
        &[],
        false,
        "vss::unit-datatype",
        E,
        "unit_not_allowed/test.vspec",
        7,
        9,
    ),
    (
        "unknown_unit",
        &[],
        false,
        "vss::unknown-unit",
        E,
        "unknown_unit/test.vspec",
        7,
        9,
    ),
    (
        "deprecated_unit",
        &[],
        false,
        "vss::deprecated-unit",
        W,
        "deprecated_unit/test.vspec",
        7,
        9,
    ),
    (
        "deprecated_unit",
        &[],
        true,
        "vss::deprecated-unit",
        E,
        "deprecated_unit/test.vspec",
        7,
        9,
    ),
    (
        "case_duplicate",
        &[],
        false,
        "vss::case-duplicate",
        W,
        "case_duplicate/test.vspec",
        8,
        1,
    ),
    (
        "case_duplicate",
        &[],
        true,
        "vss::case-duplicate",
        E,
        "case_duplicate/test.vspec",
        8,
        1,
    ),
    (
        "implicit_branch",
        &[],
        false,
        "vss::implicit-branch",
        W,
        "implicit_branch/test.vspec",
        4,
        1,
    ),
    (
        "nested_instances",
        &[],
        false,
        "vss::instances-nesting",
        W,
        "nested_instances/test.vspec",
        6,
        14,
    ),
    (
        "nested_instances",
        &[],
        true,
        "vss::instances-nesting",
        E,
        "nested_instances/test.vspec",
        6,
        14,
    ),
    (
        "invalid_range",
        &[],
        false,
        "vss::invalid-range",
        E,
        "invalid_range/test.vspec",
        6,
        14,
    ),
    (
        "missing_type",
        &[],
        false,
        "vss::missing-type",
        E,
        "missing_type/test.vspec",
        4,
        1,
    ),
    (
        "null_node",
        &[],
        false,
        "vss::invalid-node",
        E,
        "null_node/test.vspec",
        4,
        1,
    ),
    (
        "multiple_roots",
        &[],
        false,
        "vss::multiple-roots",
        E,
        "multiple_roots/test.vspec",
        4,
        1,
    ),
    (
        "orphan_root",
        &[],
        false,
        "vss::orphan",
        E,
        "orphan_root/test.vspec",
        4,
        1,
    ),
    (
        "instances_on_sensor",
        &[],
        false,
        "vss::forbidden-attribute",
        E,
        "instances_on_sensor/test.vspec",
        7,
        3,
    ),
    (
        "min_out_of_type",
        &[],
        false,
        "vss::invalid-value",
        E,
        "min_out_of_type/test.vspec",
        7,
        8,
    ),
    (
        "default_out_of_range",
        &[],
        false,
        "vss::default-out-of-range",
        E,
        "default_out_of_range/test.vspec",
        9,
        12,
    ),
    (
        "unmatched_instance",
        &[],
        false,
        "vss::unmatched-instance-node",
        W,
        "unmatched_instance/test.vspec",
        12,
        1,
    ),
    (
        "unmatched_instance",
        &[],
        true,
        "vss::unmatched-instance-node",
        E,
        "unmatched_instance/test.vspec",
        12,
        1,
    ),
    (
        "overlay_on_deleted",
        &["delete.vspec", "change.vspec"],
        false,
        "vss::overlay-on-deleted",
        W,
        "overlay_on_deleted/change.vspec",
        1,
        1,
    ),
    (
        "overlay_on_deleted",
        &["delete.vspec", "change.vspec"],
        true,
        "vss::overlay-on-deleted",
        E,
        "overlay_on_deleted/change.vspec",
        1,
        1,
    ),
    (
        "invalid_validate",
        &[],
        false,
        "vss::invalid-validate",
        E,
        "invalid_validate/test.vspec",
        8,
        13,
    ),
    (
        "invalid_validate",
        &["overlay.vspec"],
        false,
        "vss::invalid-validate",
        E,
        "invalid_validate/overlay.vspec",
        3,
        13,
    ),
];

#[test]
fn every_invalid_input_is_located() {
    for (case, overlays, strict, code, severity, file, line, col) in CASES {
        let loaded = run(case, overlays, *strict);
        assert_diag(&loaded, code, *severity, file, *line, *col);
    }
}

#[test]
fn warnings_keep_the_tree_and_deleted_nodes_stay_deleted() {
    let loaded = run(
        "overlay_on_deleted",
        &["delete.vspec", "change.vspec"],
        false,
    );
    let tree = loaded.tree.expect("warnings only");
    assert!(tree.lookup("A.B").is_none());
    assert!(tree.lookup("A.B.C").is_none());
    let implicit = run("implicit_branch", &[], false)
        .tree
        .expect("warnings only");
    let cabn = implicit.lookup("A.Cabn").expect("implicit branch exists");
    assert!(implicit.get(cabn).implicit);
}

#[test]
fn core_attributes_cannot_be_declared_extended() {
    let mut options = VspecOptions {
        source: dir("missing_type").join("test.vspec"),
        extended_attributes: vec!["datatype".into()],
        ..VspecOptions::default()
    };
    let loaded = load(&options);
    assert!(
        loaded
            .diagnostics
            .iter()
            .any(|d| d.code == "vss::invalid-extended-attribute")
    );
    options.extended_attributes = vec!["a,b".into()];
    assert!(load(&options).tree.is_none());
}

#[test]
fn every_error_is_collected_not_just_the_first() {
    let base = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/invalid");
    let text = "A:\n  type: branch\n  description: r\nA.X:\n  type: sensor\n  datatype: flaot\n  description: x\nA.Y:\n  type: sensor\n  datatype: float\n  unit: parsec\n  description: y\n";
    let loaded = vss_model::vspec::load_from_str(
        "inline.vspec",
        text,
        &VspecOptions {
            units: vec![base.join("units.yaml")],
            quantities: vec![base.join("quantities.yaml")],
            expand: true,
            ..VspecOptions::default()
        },
    );
    assert_eq!(
        loaded.diagnostics.error_count(),
        2,
        "{}",
        loaded.diagnostics.render(&loaded.sources)
    );
    let rendered = loaded.diagnostics.render(&loaded.sources);
    assert!(
        rendered.contains("inline.vspec:6:13: error[vss::unknown-datatype]"),
        "{rendered}"
    );
    assert!(
        rendered.contains("inline.vspec:11:9: error[vss::unknown-unit]"),
        "{rendered}"
    );
}

#[test]
fn a_bad_validate_names_the_four_tags_and_is_the_only_error() {
    let loaded = run("invalid_validate", &["overlay.vspec"], false);
    let rendered = loaded.diagnostics.render(&loaded.sources);
    assert_eq!(loaded.diagnostics.error_count(), 2, "{rendered}");
    assert!(
        rendered.contains(
            "'A.B': 'validate': 'readwrite' Input should be one of 'write-only', 'read-write', \
             'write-only+consent', 'read-write+consent'"
        ),
        "{rendered}"
    );
    assert!(
        rendered.contains("'A.B.Level': 'validate': '[\"read-write\"]' Input should be"),
        "{rendered}"
    );
    assert!(
        loaded
            .diagnostics
            .iter()
            .all(|d| d.code != "vss::unknown-attribute"),
        "{rendered}"
    );
}
