//! IR → the JSON `vspec export json` (vss-tools 6.1.0, `exporters/json.py`) writes.
//!
//! Each node is an object of its exported attributes plus `children` (only when it has
//! some). Never exported, as in vss-tools: `arraysize`, `aggregate`, `instances_relation`
//! and internal flags. Null values and empty lists are dropped.
//!
//! Extended attributes follow vss-tools' `get_data`, which filters extras on the roots only:
//! inner nodes keep every extra (null or `[]` dropped); the signal root keeps the `-e` names
//! (even null) and, with `--extend-all-attributes`, every other non-empty extra; a types
//! root keeps extras only with `--extend-all-attributes`.
//! Key order does not matter here: [`pyjson`](super::pyjson) sorts when writing.

use serde_json::{Map, Value};
use vss_model::{Node, NodeId, VssTree};
use vss_vocab::attribute::{Presence, kept_on_export};

use super::pyjson;

/// The key under which types trees are embedded when they are not written separately.
pub const COMPLEX_DATA_TYPES: &str = "ComplexDataTypes";

/// `vspec export json` options that change the output.
#[derive(Debug, Clone, Default)]
pub struct JsonExportOptions {
    /// `--pretty`: indent by 2.
    pub pretty: bool,
    /// `--types-output` given: types trees go to their own document.
    pub split_types: bool,
    /// `-e` names: the extended attributes the signal root keeps.
    pub extended_attributes: Vec<String>,
    /// `--extend-all-attributes`: roots keep every extended attribute.
    pub extend_all_attributes: bool,
}

/// The exported documents.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonExport {
    /// The main document: the signal root, plus `ComplexDataTypes` unless split.
    pub signals: Value,
    /// The types document, when split and the tree has types roots.
    pub types: Option<Value>,
}

impl JsonExport {
    /// The main document as vss-tools writes it.
    pub fn signals_text(&self, options: &JsonExportOptions) -> String {
        pyjson::to_string(&self.signals, indent(options))
    }

    /// The types document as vss-tools writes it.
    pub fn types_text(&self, options: &JsonExportOptions) -> Option<String> {
        self.types
            .as_ref()
            .map(|types| pyjson::to_string(types, indent(options)))
    }
}

fn indent(options: &JsonExportOptions) -> Option<usize> {
    options.pretty.then_some(2)
}

/// Exports `tree`: `roots()[0]` is the signal tree, further roots are types trees.
pub fn export(tree: &VssTree, options: &JsonExportOptions) -> JsonExport {
    let exporter = Exporter { tree, options };
    let mut signals = Map::new();
    if let Some(root) = tree.signal_root() {
        let value = exporter.node(root, Position::SignalRoot);
        signals.insert(tree.get(root).name.clone(), value);
    }
    let mut types = Map::new();
    for root in tree.roots().iter().skip(1) {
        let value = exporter.node(*root, Position::TypesRoot);
        types.insert(tree.get(*root).name.clone(), value);
    }
    let types = (!types.is_empty()).then_some(Value::Object(types));
    match types {
        Some(types) if !options.split_types => {
            signals.insert(COMPLEX_DATA_TYPES.to_owned(), types);
            JsonExport {
                signals: Value::Object(signals),
                types: None,
            }
        }
        types => JsonExport {
            signals: Value::Object(signals),
            types,
        },
    }
}

/// Where a node sits, which decides the extended attributes it keeps (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Position {
    SignalRoot,
    TypesRoot,
    Inner,
}

struct Exporter<'a> {
    tree: &'a VssTree,
    options: &'a JsonExportOptions,
}

impl Exporter<'_> {
    /// A node and its subtree.
    fn node(&self, id: NodeId, position: Position) -> Value {
        let node = self.tree.get(id);
        let mut object = self.core_attributes(node);
        for (key, value) in &node.data.extended {
            if self.keeps_extra(position, key, value) {
                object.insert(key.clone(), value.clone());
            }
        }
        self.add_children(node, &mut object);
        Value::Object(object)
    }

    fn keeps_extra(&self, position: Position, key: &str, value: &Value) -> bool {
        let non_empty = !is_null_or_empty_list(value);
        match position {
            Position::Inner => non_empty,
            Position::SignalRoot if self.is_whitelisted(key) => true,
            Position::SignalRoot | Position::TypesRoot => {
                self.options.extend_all_attributes && non_empty
            }
        }
    }

    fn add_children(&self, node: &Node, object: &mut Map<String, Value>) {
        if node.children.is_empty() {
            return;
        }
        let children = node
            .children
            .iter()
            .map(|child| {
                let name = self.tree.get(*child).name.clone();
                (name, self.node(*child, Position::Inner))
            })
            .collect();
        object.insert("children".to_owned(), Value::Object(children));
    }

    fn is_whitelisted(&self, key: &str) -> bool {
        self.options.extended_attributes.iter().any(|e| e == key)
    }

    /// Every exported core attribute of `node`, null and empty lists dropped.
    fn core_attributes(&self, node: &Node) -> Map<String, Value> {
        let data = &node.data;
        let mut object = Map::new();
        let mut put = |key: &str, value: Option<Value>| {
            if let Some(value) = value.filter(|v| !is_null_or_empty_list(v)) {
                object.insert(key.to_owned(), value);
            }
        };
        let text = |s: &Option<String>| s.clone().map(Value::String);
        put("type", Some(Value::String(node.kind.name().to_owned())));
        put("description", text(&data.description));
        put("comment", text(&data.comment));
        put("deprecation", text(&data.deprecation));
        put(
            "fka",
            Some(data.fka.iter().cloned().map(Value::String).collect()),
        );
        put("constUID", text(&data.const_uid));
        put(
            "datatype",
            data.datatype.as_ref().map(|d| Value::String(d.to_string())),
        );
        put("unit", text(&data.unit));
        put("min", data.min.clone().map(Value::Number));
        put("max", data.max.clone().map(Value::Number));
        put("allowed", data.allowed.clone().map(Value::Array));
        put("default", data.default.clone());
        put(
            "enum",
            data.enumeration
                .as_ref()
                .map(|e| Value::Object(e.clone().into_iter().collect())),
        );
        put("pattern", text(&data.pattern));
        put("instances", data.instances.clone());
        object
    }
}

/// The vocabulary's drop rule (vss-tools' `VSSRaw.as_dict`: no `None`, no `[]`).
fn is_null_or_empty_list(value: &Value) -> bool {
    let presence = match value {
        Value::Null => Presence::Absent,
        Value::Array(items) => Presence::of_list(items.len()),
        _ => Presence::Present,
    };
    !kept_on_export(presence)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use vss_model::{Datatype, NodeData, NodeKind, Primitive};

    fn tree() -> VssTree {
        let mut tree = VssTree::new();
        let mut root_data = NodeData {
            description: Some("root".into()),
            ..NodeData::default()
        };
        let extras = [
            ("note", json!("n")),
            ("keep", json!(1)),
            ("nothing", Value::Null),
        ];
        root_data
            .extended
            .extend(extras.map(|(k, v)| (k.to_owned(), v)));
        let root = tree
            .add_node(None, "V", NodeKind::Branch, root_data)
            .unwrap();
        let mut speed = NodeData {
            datatype: Some(Datatype::primitive(Primitive::Float)),
            unit: Some("km/h".into()),
            min: Some(serde_json::Number::from(0)),
            max: serde_json::Number::from_f64(250.0),
            default: Some(json!([])),
            arraysize: Some(3),
            aggregate: Some(true),
            ..NodeData::default()
        };
        let extras = [
            ("dbc", json!({"b": 1, "a": [2]})),
            ("empty", json!([])),
            ("nothing", Value::Null),
        ];
        speed
            .extended
            .extend(extras.map(|(k, v)| (k.to_owned(), v)));
        tree.add_node(Some(root), "Speed", NodeKind::Sensor, speed)
            .unwrap();
        tree.add_node(Some(root), "Empty", NodeKind::Branch, NodeData::default())
            .unwrap();
        let mut types_root = NodeData::default();
        types_root.extended.insert("tx".into(), json!(2));
        let types = tree
            .add_node(None, "T", NodeKind::Branch, types_root)
            .unwrap();
        let mut types_data = NodeData::default();
        types_data.extended.insert("x".into(), json!(1));
        tree.add_node(Some(types), "S", NodeKind::Struct, types_data)
            .unwrap();
        tree
    }

    #[test]
    fn exports_like_vss_tools() {
        let options = JsonExportOptions {
            extended_attributes: vec!["keep".into(), "nothing".into()],
            ..JsonExportOptions::default()
        };
        let export = export(&tree(), &options);
        assert_eq!(export.types, None);
        assert_eq!(
            export.signals_text(&options),
            concat!(
                r#"{"ComplexDataTypes": {"T": {"children": {"S": {"type": "struct", "x": 1}}, "type": "branch"}}, "#,
                r#""V": {"children": {"Empty": {"type": "branch"}, "Speed": {"datatype": "float", "#,
                r#""dbc": {"a": [2], "b": 1}, "max": 250.0, "min": 0, "type": "sensor", "unit": "km/h"}}, "#,
                r#""description": "root", "keep": 1, "nothing": null, "type": "branch"}}"#
            )
        );
    }

    #[test]
    fn extend_all_attributes_keeps_the_roots_extras() {
        let options = JsonExportOptions {
            extend_all_attributes: true,
            ..JsonExportOptions::default()
        };
        let export = export(&tree(), &options);
        let root = &export.signals["V"];
        assert_eq!((&root["note"], &root["keep"]), (&json!("n"), &json!(1)));
        assert!(root.get("nothing").is_none());
        assert_eq!(export.signals[COMPLEX_DATA_TYPES]["T"]["tx"], json!(2));
    }

    /// `validate` is an extended attribute for vss-tools: written on inner nodes (typed
    /// tag or not, exactly once), on the signal root only with `-e validate` (or
    /// `--extend-all-attributes`), and `null` only where an `-e` root keeps nulls.
    #[test]
    fn validate_is_exported_where_vss_tools_writes_extended_attributes() {
        let text = "A:\n  type: branch\n  description: a\n  validate: write-only\n\
                    A.B:\n  type: branch\n  description: b\n  validate: read-write+consent\n\
                    A.B.S:\n  type: sensor\n  datatype: boolean\n  description: s\n  validate: read-write\n\
                    A.B.T:\n  type: sensor\n  datatype: boolean\n  description: t\n  validate: null\n";
        let loaded = vss_model::vspec::load_from_str(
            "inline.vspec",
            text,
            &vss_model::VspecOptions::default(),
        );
        let tree = loaded.tree.unwrap();
        let plain = JsonExportOptions::default();
        assert_eq!(
            export(&tree, &plain).signals_text(&plain),
            concat!(
                r#"{"A": {"children": {"B": {"children": {"#,
                r#""S": {"datatype": "boolean", "description": "s", "type": "sensor", "validate": "read-write"}, "#,
                r#""T": {"datatype": "boolean", "description": "t", "type": "sensor"}}, "#,
                r#""description": "b", "type": "branch", "validate": "read-write+consent"}}, "#,
                r#""description": "a", "type": "branch"}}"#
            )
        );
        let whitelisted = JsonExportOptions {
            extended_attributes: vec!["validate".into()],
            ..JsonExportOptions::default()
        };
        let signals = export(&tree, &whitelisted).signals;
        assert_eq!(signals["A"]["validate"], json!("write-only"));
        let all = JsonExportOptions {
            extend_all_attributes: true,
            ..JsonExportOptions::default()
        };
        assert_eq!(
            export(&tree, &all).signals["A"]["validate"],
            json!("write-only")
        );
    }

    #[test]
    fn splits_types_when_asked() {
        let options = JsonExportOptions {
            pretty: true,
            split_types: true,
            ..JsonExportOptions::default()
        };
        let export = export(&tree(), &options);
        assert!(export.signals.get(COMPLEX_DATA_TYPES).is_none());
        assert_eq!(
            export.types_text(&options).unwrap(),
            "{\n  \"T\": {\n    \"children\": {\n      \"S\": {\n        \"type\": \"struct\",\n        \"x\": 1\n      }\n    },\n    \"type\": \"branch\"\n  }\n}"
        );
    }
}
