//! One node object of a vss-tools JSON export → kind, [`NodeData`] and children.
//!
//! Known keys become typed attributes; every other key is an extended attribute (that is how
//! vss-tools exports them, and consumers such as KUKSA add their own). `validate` (VISS
//! access control) is both: read typed into [`NodeData::validate`] and kept as written among
//! the extended attributes, as the `.vspec` front end does. Old exports carried a `uuid`,
//! which is accepted and dropped.

use indexmap::IndexMap;
use serde_json::{Map, Number};
use vss_vocab::attribute::{VALIDATE, VALIDATE_VALUES};

use crate::datatype::{Datatype, ElementType, split_array_suffix};
use crate::model::{NodeData, NodeKind, Validate, Value};

/// A node object read into the IR's terms, before it is placed in the tree.
#[derive(Debug)]
pub struct ParsedNode {
    pub kind: NodeKind,
    pub data: NodeData,
    /// The `children` object, in file order.
    pub children: Map<String, Value>,
}

/// Something wrong with one attribute (or the node as a whole when `attribute` is `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeError {
    pub code: &'static str,
    pub attribute: Option<&'static str>,
    pub message: String,
}

impl AttributeError {
    fn new(code: &'static str, attribute: Option<&'static str>, message: String) -> Self {
        AttributeError {
            code,
            attribute,
            message,
        }
    }

    fn invalid(attribute: &'static str, expected: &str) -> Self {
        Self::new(
            "json::invalid-attribute",
            Some(attribute),
            format!("'{attribute}' must be {expected}"),
        )
    }
}

/// Keys vss-tools uses internally and never exports; if a hand-written file has them they
/// carry no meaning for the IR.
const IGNORED_KEYS: [&str; 5] = ["uuid", "delete", "instantiate", "is_instance", "fqn"];

// Attributes only data entries (sensor, actuator, attribute, property) may carry.
use vss_vocab::attribute::DATA as DATA_ENTRY_KEYS;

/// Reads one node object. Collects every problem of the node rather than stopping at the
/// first.
pub fn parse_node(object: Map<String, Value>) -> Result<ParsedNode, Vec<AttributeError>> {
    let mut errors = Vec::new();
    let mut data = NodeData::default();
    let mut kind = None;
    let mut children = Map::new();
    for (key, value) in object {
        match key.as_str() {
            "type" => kind = read_kind(value, &mut errors),
            "children" => match value {
                Value::Object(map) => children = map,
                _ => errors.push(AttributeError::invalid("children", "an object")),
            },
            _ => read_attribute(key, value, &mut data, &mut errors),
        }
    }
    let Some(kind) = kind else {
        if !errors.iter().any(|e| e.attribute == Some("type")) {
            errors.push(AttributeError::new(
                "json::missing-type",
                None,
                "node has no 'type'".to_owned(),
            ));
        }
        return Err(errors);
    };
    check_placement(kind, &data, &children, &mut errors);
    if errors.is_empty() {
        Ok(ParsedNode {
            kind,
            data,
            children,
        })
    } else {
        Err(errors)
    }
}

fn read_kind(value: Value, errors: &mut Vec<AttributeError>) -> Option<NodeKind> {
    let kind = value.as_str().and_then(NodeKind::from_name);
    if kind.is_none() {
        errors.push(AttributeError::new(
            "json::unknown-type",
            Some("type"),
            format!(
                "unknown node type {value}; expected one of branch, sensor, actuator, \
                 attribute, struct, property"
            ),
        ));
    }
    kind
}

/// Stores one non-structural key in `data`.
fn read_attribute(
    key: String,
    value: Value,
    data: &mut NodeData,
    errors: &mut Vec<AttributeError>,
) {
    let mut check = |result: Result<(), AttributeError>| {
        if let Err(error) = result {
            errors.push(error);
        }
    };
    match key.as_str() {
        "description" => check(string(value, "description").map(|s| data.description = Some(s))),
        "comment" => check(string(value, "comment").map(|s| data.comment = Some(s))),
        "deprecation" => check(string(value, "deprecation").map(|s| data.deprecation = Some(s))),
        "constUID" => check(string(value, "constUID").map(|s| data.const_uid = Some(s))),
        "unit" => check(string(value, "unit").map(|s| data.unit = Some(s))),
        "pattern" => check(string(value, "pattern").map(|s| data.pattern = Some(s))),
        "datatype" => check(string(value, "datatype").map(|s| data.datatype = Some(datatype(&s)))),
        "fka" => check(string_list(value, "fka").map(|l| data.fka = l)),
        "min" => check(number(value, "min").map(|n| data.min = Some(n))),
        "max" => check(number(value, "max").map(|n| data.max = Some(n))),
        "allowed" => check(list(value, "allowed").map(|l| data.allowed = Some(l))),
        "enum" => check(enumeration(value).map(|e| data.enumeration = Some(e))),
        "arraysize" => check(arraysize(value).map(|n| data.arraysize = Some(n))),
        "aggregate" => check(boolean(value, "aggregate").map(|b| data.aggregate = Some(b))),
        "instances_relation" => check(relation(value).map(|s| data.instances_relation_sibling = s)),
        "default" => data.default = Some(value),
        "instances" => data.instances = Some(value),
        VALIDATE => {
            check(validate(&value).map(|tag| data.validate = tag));
            // Kept as written too: for vss-tools it is an extended attribute.
            data.extended.insert(key, value);
        }
        ignored if IGNORED_KEYS.contains(&ignored) => {}
        _ => {
            data.extended.insert(key, value);
        }
    }
}

/// A datatype as written: a primitive (with optional `[]`) or else a struct path, which the
/// tree builder checks once every types tree is known.
fn datatype(text: &str) -> Datatype {
    Datatype::parse_primitive(text).unwrap_or_else(|| {
        let (base, is_array) = split_array_suffix(text);
        Datatype {
            element: ElementType::Struct(base.to_owned()),
            is_array,
        }
    })
}

fn string(value: Value, attribute: &'static str) -> Result<String, AttributeError> {
    match value {
        Value::String(s) => Ok(s),
        _ => Err(AttributeError::invalid(attribute, "a string")),
    }
}

/// `validate` (VISS access control): one of the four tags, or null for none.
fn validate(value: &Value) -> Result<Option<Validate>, AttributeError> {
    match value {
        Value::Null => Ok(None),
        Value::String(text) => Validate::parse(text).map(Some).ok_or(()),
        _ => Err(()),
    }
    .map_err(|()| {
        let expected = VALIDATE_VALUES
            .map(|value| format!("\"{value}\""))
            .join(", ");
        AttributeError::new(
            "json::invalid-attribute",
            Some(VALIDATE),
            format!("'{VALIDATE}' must be one of {expected}, not {value}"),
        )
    })
}

fn number(value: Value, attribute: &'static str) -> Result<Number, AttributeError> {
    match value {
        Value::Number(n) => Ok(n),
        _ => Err(AttributeError::invalid(attribute, "a number")),
    }
}

fn boolean(value: Value, attribute: &'static str) -> Result<bool, AttributeError> {
    value
        .as_bool()
        .ok_or_else(|| AttributeError::invalid(attribute, "true or false"))
}

fn list(value: Value, attribute: &'static str) -> Result<Vec<Value>, AttributeError> {
    match value {
        Value::Array(items) => Ok(items),
        _ => Err(AttributeError::invalid(attribute, "a list")),
    }
}

fn string_list(value: Value, attribute: &'static str) -> Result<Vec<String>, AttributeError> {
    list(value, attribute)?
        .into_iter()
        .map(|item| string(item, attribute))
        .collect::<Result<_, _>>()
        .map_err(|_| AttributeError::invalid(attribute, "a list of strings"))
}

fn enumeration(value: Value) -> Result<IndexMap<String, Value>, AttributeError> {
    match value {
        Value::Object(map) => Ok(map.into_iter().collect()),
        _ => Err(AttributeError::invalid(
            "enum",
            "an object of NAME: integer",
        )),
    }
}

fn arraysize(value: Value) -> Result<u64, AttributeError> {
    value
        .as_u64()
        .ok_or_else(|| AttributeError::invalid("arraysize", "a non-negative integer"))
}

fn relation(value: Value) -> Result<bool, AttributeError> {
    match value.as_str() {
        Some("sibling") => Ok(true),
        Some("child") => Ok(false),
        _ => Err(AttributeError::invalid(
            "instances_relation",
            "\"child\" or \"sibling\"",
        )),
    }
}

/// vss-tools rejects core attributes on the wrong node type ("Forbidden extra attribute");
/// so does this reader, and a leaf must say what it holds.
fn check_placement(
    kind: NodeKind,
    data: &NodeData,
    children: &Map<String, Value>,
    errors: &mut Vec<AttributeError>,
) {
    let misplaced = |attribute: &'static str| {
        AttributeError::new(
            "json::misplaced-attribute",
            Some(attribute),
            format!("'{attribute}' is not allowed on a {}", kind.name()),
        )
    };
    if kind.has_datatype() {
        if data.datatype.is_none() {
            errors.push(AttributeError::new(
                "json::missing-datatype",
                None,
                format!("a {} needs a 'datatype'", kind.name()),
            ));
        }
        if data.instances.is_some() {
            errors.push(misplaced("instances"));
        }
        if !children.is_empty() {
            errors.push(misplaced("children"));
        }
    } else {
        for attribute in DATA_ENTRY_KEYS {
            if has_data_entry_attribute(data, attribute) {
                errors.push(misplaced(attribute));
            }
        }
        if kind == NodeKind::Struct && data.instances.is_some() {
            errors.push(misplaced("instances"));
        }
    }
}

fn has_data_entry_attribute(data: &NodeData, attribute: &str) -> bool {
    match attribute {
        "datatype" => data.datatype.is_some(),
        "unit" => data.unit.is_some(),
        "min" => data.min.is_some(),
        "max" => data.max.is_some(),
        "allowed" => data.allowed.is_some(),
        "default" => data.default.is_some(),
        "enum" => data.enumeration.is_some(),
        "pattern" => data.pattern.is_some(),
        "arraysize" => data.arraysize.is_some(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datatype::Primitive;

    fn object(text: &str) -> Map<String, Value> {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn reads_core_extended_and_ignored_keys() {
        let node = parse_node(object(
            r#"{"type": "sensor", "datatype": "uint8[]", "min": 0, "max": 100.0,
                "unit": "km", "uuid": "abc", "dbc": {"signal": "S"}, "fka": ["A.B"],
                "enum": {"ON": 1}}"#,
        ))
        .unwrap();
        assert_eq!(node.kind, NodeKind::Sensor);
        let dt = node.data.datatype.unwrap();
        assert_eq!(dt.primitive_element(), Some(Primitive::Uint8));
        assert!(dt.is_array);
        assert!(node.data.min.unwrap().is_u64());
        assert!(node.data.max.unwrap().is_f64());
        assert_eq!(node.data.fka, ["A.B"]);
        assert_eq!(node.data.extended.keys().collect::<Vec<_>>(), ["dbc"]);
        assert_eq!(node.data.enumeration.unwrap()["ON"], 1);
    }

    #[test]
    fn reads_validate_typed_and_keeps_it_as_written() {
        let node = parse_node(object(
            r#"{"type": "branch", "validate": "write-only+consent", "dbc": 1}"#,
        ))
        .unwrap();
        assert_eq!(
            node.data.validate,
            Some(Validate::new(crate::model::Protects::Writes, true))
        );
        assert_eq!(
            node.data.extended.get("validate"),
            Some(&Value::from("write-only+consent"))
        );
        let null = parse_node(object(r#"{"type": "branch", "validate": null}"#)).unwrap();
        assert_eq!(null.data.validate, None);
        for bad in [r#""read-only""#, "2", r#"["read-write"]"#] {
            let errors = parse_node(object(&format!(
                r#"{{"type": "sensor", "datatype": "int8", "validate": {bad}}}"#
            )))
            .unwrap_err();
            assert_eq!(errors.len(), 1, "{bad}");
            assert_eq!(errors[0].attribute, Some("validate"));
            assert!(
                errors[0].message.contains("\"read-write+consent\""),
                "{}",
                errors[0].message
            );
        }
    }

    #[test]
    fn keeps_struct_datatypes_as_paths() {
        let node =
            parse_node(object(r#"{"type": "property", "datatype": "Types.Pos[]"}"#)).unwrap();
        assert_eq!(node.data.datatype.unwrap().to_string(), "Types.Pos[]");
    }

    #[test]
    fn reports_every_problem_of_a_node() {
        let errors = parse_node(object(
            r#"{"type": "branch", "description": 3, "unit": "km", "children": []}"#,
        ))
        .unwrap_err();
        let codes: Vec<_> = errors.iter().map(|e| (e.code, e.attribute)).collect();
        assert_eq!(
            codes,
            [
                ("json::invalid-attribute", Some("description")),
                ("json::invalid-attribute", Some("children")),
                ("json::misplaced-attribute", Some("unit")),
            ]
        );
    }

    #[test]
    fn rejects_missing_and_unknown_types() {
        let missing = parse_node(object(r#"{"description": "x"}"#)).unwrap_err();
        assert_eq!(missing[0].code, "json::missing-type");
        let unknown = parse_node(object(r#"{"type": "signal"}"#)).unwrap_err();
        assert_eq!(unknown.len(), 1);
        assert_eq!(unknown[0].code, "json::unknown-type");
        assert!(unknown[0].message.contains("\"signal\""));
        let no_datatype = parse_node(object(r#"{"type": "actuator"}"#)).unwrap_err();
        assert_eq!(no_datatype[0].code, "json::missing-datatype");
    }
}
