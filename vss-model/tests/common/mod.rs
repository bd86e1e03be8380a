//! Test helpers: a minimal vss-tools-shaped JSON view of a tree (§15), used to compare the
//! reader against the reference exports before and independently of the real exporter.

#![allow(dead_code)]

use std::path::PathBuf;

use serde_json::{Map, Value, json};
use vss_model::{NodeId, VspecOptions, VssTree};

/// Path of a file under `/work/shared`.
pub fn shared(rel: &str) -> PathBuf {
    test_support::shared_path(rel)
}

/// Options for a vss-tools command line run from `shared/vss`.
pub fn options(source: &str) -> VspecOptions {
    VspecOptions {
        source: shared(&format!("vss/{source}")),
        expand: true,
        ..VspecOptions::default()
    }
}

/// vss-tools' JSON for the subtree at `id` (keys sorted when serialised with sort).
pub fn node_json(tree: &VssTree, id: NodeId) -> Value {
    let node = tree.get(id);
    let data = &node.data;
    let mut out = Map::new();
    out.insert("type".into(), json!(node.kind.name()));
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v
            && !(v.is_null() || v.as_array().is_some_and(|a| a.is_empty()))
        {
            out.insert(k.into(), v);
        }
    };
    put("description", data.description.clone().map(Value::from));
    put("comment", data.comment.clone().map(Value::from));
    put("deprecation", data.deprecation.clone().map(Value::from));
    put("fka", Some(Value::from(data.fka.clone())));
    put("constUID", data.const_uid.clone().map(Value::from));
    put(
        "datatype",
        data.datatype.as_ref().map(|d| Value::from(d.to_string())),
    );
    put("unit", data.unit.clone().map(Value::from));
    put("min", data.min.clone().map(Value::Number));
    put("max", data.max.clone().map(Value::Number));
    put("allowed", data.allowed.clone().map(Value::Array));
    put("default", data.default.clone());
    put(
        "enum",
        data.enumeration
            .as_ref()
            .map(|m| Value::Object(m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())),
    );
    put("pattern", data.pattern.clone().map(Value::from));
    put("instances", data.instances.clone());
    for (k, v) in &data.extended {
        put(k, Some(v.clone()));
    }
    if !node.children.is_empty() {
        let children: Map<String, Value> = node
            .children
            .iter()
            .map(|c| (tree.get(*c).name.clone(), node_json(tree, *c)))
            .collect();
        out.insert("children".into(), Value::Object(children));
    }
    Value::Object(out)
}

/// `{root: ...}` plus `ComplexDataTypes` for a types tree.
pub fn tree_json(tree: &VssTree) -> Value {
    let mut out = Map::new();
    let roots = tree.roots();
    if let Some(root) = roots.first() {
        out.insert(tree.get(*root).name.clone(), node_json(tree, *root));
    }
    if roots.len() > 1 {
        let mut types = Map::new();
        for r in &roots[1..] {
            types.insert(tree.get(*r).name.clone(), node_json(tree, *r));
        }
        out.insert("ComplexDataTypes".into(), Value::Object(types));
    }
    Value::Object(out)
}

/// A readable list of differences between two JSON values (first `limit`).
pub fn diff(expected: &Value, actual: &Value, path: &str, out: &mut Vec<String>, limit: usize) {
    if out.len() >= limit {
        return;
    }
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                match a.get(k) {
                    Some(av) => diff(ev, av, &format!("{path}/{k}"), out, limit),
                    None => out.push(format!("{path}/{k}: missing")),
                }
            }
            for k in a.keys() {
                if !e.contains_key(k) {
                    out.push(format!("{path}/{k}: unexpected"));
                }
            }
        }
        _ if expected != actual => out.push(format!("{path}: expected {expected}, got {actual}")),
        _ => {}
    }
}
