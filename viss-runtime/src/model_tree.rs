//! Converts the vss-model IR ([`vss_model::VssTree`]) into a [`DynamicTree`] the engine
//! serves (feature `vss-model`). Servers that load a tree at start use this; generated
//! servers have a static tree instead.

use vss_model::model::{Node, NodeKind as ModelKind};

use crate::tree::{
    BuilderNode, DataType, DynamicTree, EnumEntry, Extended, Lit, LitKind, Literal, NodeKind,
    NodeSpec, Protects, StructMember, StructType, TreeBuildError, Validate,
};

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
    for struct_type in struct_types(model) {
        builder.struct_type(struct_type);
    }
    Ok(builder.build())
}

/// The types tree's `struct` nodes as struct types, their `property` children as members.
fn struct_types(model: &vss_model::VssTree) -> Vec<StructType> {
    let nodes = model.nodes();
    let structs = nodes.iter().filter(|node| node.kind == ModelKind::Struct);
    structs
        .map(|node| {
            let properties = node.children.iter().map(|child| model.get(*child));
            let members = properties
                .filter(|property| property.kind == ModelKind::Property)
                .filter_map(|property| {
                    let data = &property.data;
                    Some(StructMember {
                        name: property.name.clone().into(),
                        datatype: DataType::parse(&data.datatype.as_ref()?.to_string()),
                        min: data.min.as_ref().and_then(serde_json::Number::as_f64),
                        max: data.max.as_ref().and_then(serde_json::Number::as_f64),
                        allowed: data.allowed.iter().flatten().map(lit).collect(),
                    })
                });
            StructType {
                name: node.path.clone().into(),
                members: members.collect(),
            }
        })
        .collect()
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
    spec.min_text = data.min.as_ref().map(ToString::to_string);
    spec.max_text = data.max.as_ref().map(ToString::to_string);
    spec.allowed = data.allowed.iter().flatten().map(lit).collect();
    spec.default = data.default.as_ref().map(default_literal);
    spec.enumeration = data
        .enumeration
        .iter()
        .flatten()
        .map(|(name, value)| EnumEntry {
            name: name.clone().into(),
            value: lit(value),
        })
        .collect();
    spec.pattern = data.pattern.clone();
    spec.fka = data.fka.clone();
    spec.const_uid = data.const_uid.clone();
    // The typed tag goes to the hot table; the IR also keeps it, as written, among the
    // extended attributes (vss-tools exports it as one), which must not repeat it.
    spec.validate = data.validate.map(validate);
    spec.extended = data
        .untyped_extended()
        .filter(|(_, value)| !is_null_or_empty_list(value))
        .map(|(name, value)| Extended {
            name: name.clone().into(),
            json: value.to_string().into(),
        })
        .collect();
    Some(spec)
}

/// The IR's `validate` tag as the runtime's.
fn validate(tag: vss_model::Validate) -> Validate {
    let protects = match tag.protects {
        vss_model::Protects::Writes => Protects::Writes,
        vss_model::Protects::ReadsAndWrites => Protects::ReadsAndWrites,
    };
    Validate::new(protects, tag.consent)
}

/// vss-tools' JSON export drops extended attributes that are null or `[]` on inner nodes.
fn is_null_or_empty_list(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Null => true,
        serde_json::Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

/// A JSON scalar as a typed literal (strings unquoted; anything else as JSON text).
fn lit(value: &serde_json::Value) -> Lit {
    match value {
        serde_json::Value::String(text) => Lit::owned(LitKind::String, text.clone()),
        serde_json::Value::Bool(flag) => Lit::owned(LitKind::Bool, flag.to_string()),
        other => Lit::owned(LitKind::Number, other.to_string()),
    }
}

fn default_literal(value: &serde_json::Value) -> Literal {
    match value {
        serde_json::Value::Array(items) => {
            Literal::Array(items.iter().map(lit).collect::<Vec<_>>().into())
        }
        other => Literal::Scalar(lit(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MetaFlags, VissTree};
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
        let meta = tree.meta(id);
        assert_eq!(meta.min_text.as_deref(), Some("0.0"));
        assert_eq!(meta.unit.as_deref(), Some("km/h"));
    }

    /// vss.json → IR → `DynamicTree` → `vss_json` gives vss.json back, exactly: a tree a
    /// server loads at start exports itself like a generated one.
    #[test]
    fn the_standard_tree_exports_back_to_vss_json() {
        let path = test_support::shared_path("vss/json/vss.json");
        let loaded = vss_model::json::load(&vss_model::json::JsonOptions {
            source: path.clone(),
            types: None,
            strict: false,
        });
        let tree = dynamic_tree_from_model(&loaded.tree.unwrap()).unwrap();
        let exported: serde_json::Value =
            serde_json::from_str(&crate::vss_json::to_string(&tree)).unwrap();
        let expected: serde_json::Value =
            serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        assert!(exported == expected, "the export differs from vss.json");
    }

    #[test]
    fn every_validate_tag_maps_to_the_runtime_tag_of_the_same_spelling() {
        for tag in vss_model::Validate::ALL {
            assert_eq!(validate(tag).as_str(), tag.as_str());
            assert_eq!(Validate::parse(tag.as_str()), Some(validate(tag)));
        }
    }

    /// A VSS JSON export with `validate` on the root, a branch and a leaf (one `null`): the
    /// tags reach the hot table, not the extended attributes, and the tree exports itself
    /// back to the same JSON (each tag once; the null one dropped, as vss-tools drops null
    /// extended attributes of inner nodes).
    #[test]
    fn validate_from_vss_json_reaches_the_hot_table_and_round_trips() {
        let text = concat!(
            r#"{"Vehicle":{"children":{"#,
            r#""Cabin":{"children":{"#,
            r#""Door":{"datatype":"boolean","type":"actuator","validate":null},"#,
            r#""Temperature":{"datatype":"float","dbc":"T","type":"sensor","validate":"read-write+consent"}},"#,
            r#""type":"branch","validate":"read-write"},"#,
            r#""Speed":{"datatype":"float","type":"sensor"}},"#,
            r#""description":"Root.","type":"branch","validate":"write-only"}}"#
        );
        let loaded =
            vss_model::json::load_str(std::path::Path::new("vss.json"), text.to_owned(), None);
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        let tree = dynamic_tree_from_model(&loaded.tree.unwrap()).unwrap();
        let tag = |path: &str| tree.node(tree.lookup(path).unwrap()).validate;
        assert_eq!(tag("Vehicle"), Validate::parse("write-only"));
        assert_eq!(
            tag("Vehicle.Cabin"),
            Some(Validate::new(Protects::ReadsAndWrites, false))
        );
        assert_eq!(
            tag("Vehicle.Cabin.Temperature"),
            Some(Validate::new(Protects::ReadsAndWrites, true))
        );
        assert_eq!(tag("Vehicle.Cabin.Door"), None);
        assert_eq!(tag("Vehicle.Speed"), None);
        let temperature = tree.meta(tree.lookup("Vehicle.Cabin.Temperature").unwrap());
        let names: Vec<&str> = temperature.extended.iter().map(|e| &*e.name).collect();
        assert_eq!(names, ["dbc"], "the tag is not an extended attribute");
        let exported = crate::vss_json::to_string(&tree);
        assert_eq!(
            exported,
            text.replace(r#","validate":null"#, ""),
            "the export round-trips"
        );
        assert_eq!(exported.matches(r#""validate""#).count(), 3);
    }

    #[test]
    fn a_bad_validate_in_vss_json_is_a_load_error() {
        let text = r#"{"Vehicle":{"type":"branch","validate":"read"}}"#;
        let loaded =
            vss_model::json::load_str(std::path::Path::new("vss.json"), text.to_owned(), None);
        assert!(loaded.tree.is_none(), "no tree to convert");
        let rendered = loaded.diagnostics.render(&loaded.sources);
        assert!(
            rendered.contains("vss.json:1:40: error[json::invalid-attribute]")
                && rendered.contains("'validate' must be one of"),
            "{rendered}"
        );
    }

    #[test]
    fn keeps_enum_pattern_and_extended_attributes_typed() {
        let mut model = vss_model::VssTree::new();
        let root = model
            .add_node(None, "Vehicle", ModelKind::Branch, NodeData::default())
            .unwrap();
        let kind = NodeData {
            datatype: vss_model::Datatype::parse_primitive("uint8"),
            enumeration: Some(
                [("NONE".to_owned(), serde_json::json!(1))]
                    .into_iter()
                    .collect(),
            ),
            allowed: Some(vec![serde_json::json!(1), serde_json::json!("2")]),
            pattern: Some("^1$".into()),
            fka: vec!["Vehicle.Old".into()],
            extended: [
                ("dbc".to_owned(), serde_json::json!({"signal": "Kind"})),
                ("empty".to_owned(), serde_json::Value::Null),
            ]
            .into_iter()
            .collect(),
            ..NodeData::default()
        };
        model
            .add_node(Some(root), "Kind", ModelKind::Sensor, kind)
            .unwrap();
        let tree = dynamic_tree_from_model(&model).unwrap();
        let id = tree.lookup("Vehicle.Kind").unwrap();
        let (info, meta) = (tree.node(id), tree.meta(id));
        assert_eq!(
            info.meta_flags,
            MetaFlags::of(meta),
            "the hot flags follow the cold metadata"
        );
        assert!(info.meta_flags.contains(MetaFlags::ENUM));
        assert!(info.meta_flags.contains(MetaFlags::PATTERN));
        assert_eq!(meta.enumeration[0].name, "NONE");
        assert_eq!(meta.enumeration[0].value, Lit::owned(LitKind::Number, "1"));
        assert_eq!(
            info.allowed.as_ref(),
            [
                Lit::owned(LitKind::Number, "1"),
                Lit::owned(LitKind::String, "2")
            ]
        );
        assert_eq!(meta.pattern.as_deref(), Some("^1$"));
        assert_eq!(meta.fka.as_ref(), ["Vehicle.Old"]);
        assert_eq!(
            meta.extended.len(),
            1,
            "null extended attributes are dropped"
        );
        assert_eq!(meta.extended[0].json, r#"{"signal":"Kind"}"#);
    }
}
