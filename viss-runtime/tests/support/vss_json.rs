//! Test-only loader: vss-tools JSON (../shared/vss/json/vss.json) into a DynamicTree.

use serde_json::Value as Json;
use viss_runtime::tree::BuilderNode;
use viss_runtime::{DynamicTree, DynamicTreeBuilder, Literal, NodeKind, NodeSpec, Validate};

/// The standard VSS tree (about 1,720 nodes).
pub fn standard_tree() -> DynamicTree {
    let path = test_support::shared_path("vss/json/vss.json");
    let text = std::fs::read_to_string(path).expect("vss.json readable");
    let json: Json = serde_json::from_str(&text).expect("vss.json is JSON");
    let mut builder = DynamicTree::builder();
    if let Some(roots) = json.as_object() {
        for (name, node) in roots {
            add(&mut builder, None, name, node);
        }
    }
    builder.build()
}

fn text(node: &Json, key: &str) -> Option<String> {
    match node.get(key)? {
        Json::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    }
}

fn literal_text(value: &Json) -> String {
    match value {
        Json::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn add(builder: &mut DynamicTreeBuilder, parent: Option<BuilderNode>, name: &str, node: &Json) {
    let kind = node
        .get("type")
        .and_then(Json::as_str)
        .and_then(NodeKind::parse)
        .unwrap_or(NodeKind::Branch);
    let mut spec = match (kind, node.get("datatype").and_then(Json::as_str)) {
        (NodeKind::Branch, _) => NodeSpec::branch(name),
        (kind, Some(datatype)) => NodeSpec::leaf(name, kind, datatype),
        (kind, None) => NodeSpec::leaf(name, kind, "string"),
    };
    spec.description = text(node, "description");
    spec.comment = text(node, "comment");
    spec.unit = text(node, "unit");
    spec.deprecation = text(node, "deprecation");
    spec.min = node.get("min").and_then(Json::as_f64);
    spec.max = node.get("max").and_then(Json::as_f64);
    spec.validate = node
        .get("validate")
        .filter(|tag| !tag.is_null())
        .map(|tag| {
            tag.as_str()
                .and_then(Validate::parse)
                .unwrap_or_else(|| panic!("{name}: bad validate tag {tag}"))
        });
    if let Some(allowed) = node.get("allowed").and_then(Json::as_array) {
        spec.allowed = allowed
            .iter()
            .map(|item| literal_text(item).into())
            .collect();
    }
    spec.default = node.get("default").map(|default| match default {
        Json::Array(items) => Literal::Array(
            items
                .iter()
                .map(|item| literal_text(item).into())
                .collect::<Vec<_>>()
                .into(),
        ),
        other => Literal::Scalar(literal_text(other).into()),
    });
    let Ok(handle) = builder.push(parent, spec) else {
        return;
    };
    if let Some(children) = node.get("children").and_then(Json::as_object) {
        for (child_name, child) in children {
            add(builder, Some(handle), child_name, child);
        }
    }
}
