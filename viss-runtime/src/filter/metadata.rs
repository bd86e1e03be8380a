//! `metadata`: signal discovery (CORE §7.7).
//!
//! The parameter is a generation depth: `"0"` = the whole subtree, `"1"` = only the node,
//! `"2"` = node and children, and so on. The response member `metadata` holds one member per
//! addressed node, keyed by node name (by full path when several nodes are addressed through
//! `paths`, so equal names cannot collide); each value is a nested object with every
//! metadata item the tree has (`type`, `datatype`, `unit`, `min`, `max`, `allowed`,
//! `default`, `enum` (name → value), `pattern`, `description`, `comment`, `deprecation`,
//! `validate` (the node's own access-control tag, CORE §8.8: `"read-write"`; untagged
//! nodes inherit theirs)) and, for branches within the depth,
//! `children` as an object keyed by child name (the reference server's layout, §18-Q16).
//! All scalar metadata values are strings, as every value in VISS.

use serde_json::value::RawValue;

use crate::error::VissError;
use crate::response::{key, write_json_array, write_json_str};
use crate::tree::{Forest, Lit, Literal, NodeId, VissTree};

/// Parses the depth parameter: a non-negative integer in a string.
pub fn parse_parameter(raw: &RawValue) -> Result<u32, VissError> {
    let text = crate::request::string_of(raw).ok_or(VissError::InvalidFilter)?;
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(VissError::InvalidFilter);
    }
    text.parse().map_err(|_| VissError::InvalidFilter)
}

/// Parses VISSv2's `static-metadata` parameter: `""` (every key), one key, or a list of
/// keys.
pub fn parse_keys(raw: &RawValue) -> Result<Vec<String>, VissError> {
    if let Some(key) = crate::request::string_of(raw) {
        return Ok(if key.is_empty() {
            Vec::new()
        } else {
            vec![key.into_owned()]
        });
    }
    serde_json::from_str(raw.get()).map_err(|_| VissError::InvalidFilter)
}

/// Writes the metadata object of `node` (without its key), limited to `generations`
/// (0 = unlimited) and, when `keys` is not empty, to those metadata keys (VISSv2
/// `static-metadata`; `type` and `children` always stay). `value_hidden` says of which
/// nodes the `default` is left out: an attribute's default is its value, and access
/// control protects the values of nodes whose reads need a token.
pub fn write_node<T: VissTree>(
    out: &mut Vec<u8>,
    tree: &Forest<T>,
    node: NodeId,
    generations: u32,
    keys: &[String],
    value_hidden: &dyn Fn(NodeId) -> bool,
) {
    let wanted = |name: &str| keys.is_empty() || keys.iter().any(|key| key == name);
    let info = tree.node(node);
    let meta = tree.meta(node);
    out.push(b'{');
    key(out, "type");
    write_json_str(out, info.kind.as_str());
    if let Some(datatype) = info.datatype.as_ref().filter(|_| wanted("datatype")) {
        key(out, "datatype");
        write_json_str(out, &datatype.name());
    }
    for (name, text) in [
        ("unit", &meta.unit),
        ("description", &meta.description),
        ("comment", &meta.comment),
        ("deprecation", &meta.deprecation),
    ] {
        if let Some(text) = text.as_ref().filter(|_| wanted(name)) {
            key(out, name);
            write_json_str(out, text);
        }
    }
    for (name, bound) in [("min", info.min), ("max", info.max)] {
        if let Some(bound) = bound.filter(|_| wanted(name)) {
            key(out, name);
            crate::value::Value::Double(bound).write_json(out);
        }
    }
    if !info.allowed.is_empty() && wanted("allowed") {
        key(out, "allowed");
        write_json_array(out, info.allowed.iter().map(Lit::as_str), write_json_str);
    }
    match info
        .default
        .as_ref()
        .filter(|_| wanted("default") && !value_hidden(node))
    {
        Some(Literal::Scalar(lit)) => {
            key(out, "default");
            write_json_str(out, lit.as_str());
        }
        Some(Literal::Array(items)) => {
            key(out, "default");
            write_json_array(out, items.iter().map(Lit::as_str), write_json_str);
        }
        None => {}
    }
    if !meta.enumeration.is_empty() && wanted("enum") {
        key(out, "enum");
        out.push(b'{');
        for (position, entry) in meta.enumeration.iter().enumerate() {
            if position > 0 {
                out.push(b',');
            }
            write_json_str(out, &entry.name);
            out.push(b':');
            write_json_str(out, entry.value.as_str());
        }
        out.push(b'}');
    }
    if let Some(pattern) = meta.pattern.as_ref().filter(|_| wanted("pattern")) {
        key(out, "pattern");
        write_json_str(out, pattern);
    }
    if let Some(tag) = info.validate.filter(|_| wanted("validate")) {
        key(out, "validate");
        write_json_str(out, tag.as_str());
    }
    if generations != 1 && tree.children(node).next().is_some() {
        key(out, "children");
        out.push(b'{');
        for (position, child) in tree.children(node).enumerate() {
            if position > 0 {
                out.push(b',');
            }
            write_json_str(out, &tree.node(child).name);
            out.push(b':');
            write_node(
                out,
                tree,
                child,
                generations.saturating_sub(1),
                keys,
                value_hidden,
            );
        }
        out.push(b'}');
    }
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::{DynamicTree, Extended, NodeKind, NodeSpec, Protects, Validate};

    /// `Vehicle` (write-only) > `Cabin` (read-write, also a stray extended `validate`) >
    /// `Seat` (untagged), and `Vehicle.Speed` (read-write+consent).
    fn forest() -> Forest<DynamicTree> {
        let mut builder = DynamicTree::builder();
        let mut root = NodeSpec::branch("Vehicle");
        root.validate = Some(Validate::new(Protects::Writes, false));
        builder.insert_path("Vehicle", root).unwrap();
        let mut cabin = NodeSpec::branch("Cabin");
        cabin.validate = Some(Validate::new(Protects::ReadsAndWrites, false));
        cabin.extended.push(Extended {
            name: "validate".into(),
            json: "\"write-only\"".into(),
        });
        builder.insert_path("Vehicle.Cabin", cabin).unwrap();
        let seat = NodeSpec::leaf("Seat", NodeKind::Sensor, "uint8");
        builder.insert_path("Vehicle.Cabin.Seat", seat).unwrap();
        let mut speed = NodeSpec::leaf("Speed", NodeKind::Sensor, "float");
        speed.validate = Some(Validate::new(Protects::ReadsAndWrites, true));
        builder.insert_path("Vehicle.Speed", speed).unwrap();
        Forest::new(builder.build())
    }

    fn metadata(keys: &[String]) -> (String, serde_json::Value) {
        let forest = forest();
        let mut out = Vec::new();
        write_node(&mut out, &forest, NodeId(0), 0, keys, &|_| false);
        let text = String::from_utf8(out).unwrap();
        let value = serde_json::from_str(&text).unwrap();
        (text, value)
    }

    #[test]
    fn shows_each_nodes_own_validate_tag_once() {
        let (text, value) = metadata(&[]);
        assert_eq!(text.matches(r#""validate""#).count(), 3, "{text}");
        assert_eq!(value["validate"], "write-only");
        let cabin = &value["children"]["Cabin"];
        assert_eq!(cabin["validate"], "read-write", "{text}");
        assert!(
            cabin["children"]["Seat"].get("validate").is_none(),
            "inherited tags are not shown as the node's own"
        );
        assert_eq!(value["children"]["Speed"]["validate"], "read-write+consent");
    }

    #[test]
    fn validate_is_a_key_static_metadata_can_ask_for() {
        let (_, value) = metadata(&["validate".to_owned()]);
        assert_eq!(value["children"]["Cabin"]["validate"], "read-write");
        let (text, _) = metadata(&["unit".to_owned()]);
        assert!(!text.contains("validate"), "{text}");
    }
}
