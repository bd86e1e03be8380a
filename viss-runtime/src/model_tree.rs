//! Converts the vss-model IR ([`vss_model::VssTree`]) into a [`DynamicTree`] the engine
//! serves (feature `vss-model`). Servers that load a tree at start use this; generated
//! servers have a static tree instead.

use vss_model::model::{Node, NodeKind as ModelKind};

use crate::tree::{BuilderNode, DynamicTree, Literal, NodeKind, NodeSpec, TreeBuildError};

/// Builds a [`DynamicTree`] from every branch, sensor, actuator and attribute of `model`
/// (struct and property nodes of a types tree are not signals and are skipped).
pub fn dynamic_tree_from_model(model: &vss_model::VssTree) -> Result<DynamicTree, TreeBuildError> {
    let mut builder = DynamicTree::builder();
    let mut handles: Vec<Option<BuilderNode>> = vec![None; model.nodes().len()];
    // Nodes are stored parents first, so each parent's handle exists before its children.
    for (index, node) in model.nodes().iter().enumerate() {
        let Some(spec) = node_spec(node) else {
            continue;
        };
        let parent = match node.parent {
            Some(parent) => match handles.get(parent.index()).copied().flatten() {
                Some(handle) => Some(handle),
                None => continue,
            },
            None => None,
        };
        handles[index] = Some(builder.push(parent, spec)?);
    }
    Ok(builder.build())
}

/// The runtime metadata of one IR node; `None` for nodes that are not signal-tree nodes.
fn node_spec(node: &Node) -> Option<NodeSpec> {
    let kind = match node.kind {
        ModelKind::Branch => NodeKind::Branch,
        ModelKind::Sensor => NodeKind::Sensor,
        ModelKind::Actuator => NodeKind::Actuator,
        ModelKind::Attribute => NodeKind::Attribute,
        _ => return None,
    };
    let data = &node.data;
    let mut spec = match (kind, &data.datatype) {
        (NodeKind::Branch, _) => NodeSpec::branch(node.name.clone()),
        (_, Some(datatype)) => NodeSpec::leaf(node.name.clone(), kind, &datatype.to_string()),
        // A leaf without a datatype cannot be served; the loader reports it.
        (_, None) => return None,
    };
    spec.description = data.description.clone();
    spec.comment = data.comment.clone();
    spec.deprecation = data.deprecation.clone();
    spec.unit = data.unit.clone();
    spec.min = data.min.as_ref().and_then(serde_json::Number::as_f64);
    spec.max = data.max.as_ref().and_then(serde_json::Number::as_f64);
    spec.allowed = data.allowed.iter().flatten().map(literal_text).collect();
    spec.default = data.default.as_ref().map(default_literal);
    Some(spec)
}

/// A JSON literal as the text the runtime keeps (strings unquoted).
fn literal_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn default_literal(value: &serde_json::Value) -> Literal {
    match value {
        serde_json::Value::Array(items) => Literal::Array(
            items
                .iter()
                .map(|item| literal_text(item).into())
                .collect::<Vec<_>>()
                .into(),
        ),
        other => Literal::Scalar(literal_text(other).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::VissTree;
    use vss_model::model::NodeData;

    #[test]
    fn converts_branches_leaves_and_limits() {
        let mut model = vss_model::VssTree::new();
        let root = model
            .add_node(None, "Vehicle", ModelKind::Branch, NodeData::default())
            .unwrap();
        let speed = NodeData {
            datatype: vss_model::Datatype::parse_primitive("float"),
            min: serde_json::Number::from_f64(0.0),
            max: serde_json::Number::from_f64(250.0),
            unit: Some("km/h".into()),
            ..NodeData::default()
        };
        model
            .add_node(Some(root), "Speed", ModelKind::Sensor, speed)
            .unwrap();
        let tree = dynamic_tree_from_model(&model).unwrap();
        let id = tree.lookup("Vehicle/Speed").unwrap();
        let info = &tree.nodes()[id.index()];
        assert_eq!(info.kind, NodeKind::Sensor);
        assert_eq!(info.max, Some(250.0));
        assert_eq!(info.unit.as_deref(), Some("km/h"));
    }
}
