//! Writes any [`VissTree`] as VSS JSON in vss-tools' layout (`vspec export json`): one
//! object per root, keyed by name; per node its metadata and `children` keyed by name; keys
//! sorted by code point at every level (vss-tools writes with `sort_keys=True`); compact.
//!
//! Values keep their JSON types: `min`/`max` as numbers in the text the source wrote
//! ([`NodeMeta::min_text`], so `0` and `0.0` stay apart), `allowed`/`default` items as
//! [`Lit`]s, `enum` as an object of name → value, extended attributes as their JSON text.
//! A node's `validate` tag ([`NodeInfo::validate`], the node's own) is written as
//! `"validate"` where vss-tools writes it, among the extended attributes (it is one for
//! vss-tools); an extended attribute of that name is never written beside it.
//! A served tree can so export itself; for a tree generated from VSS sources the output
//! equals vss-tools' export of the signal tree.

use crate::json::{write_json_array, write_json_str};
use crate::tree::{Lit, NodeId, NodeInfo, NodeMeta, VissTree};
use vss_vocab::attribute;

/// The tree as VSS JSON text.
pub fn to_string<T: VissTree + ?Sized>(tree: &T) -> String {
    let mut out = Vec::new();
    write(tree, &mut out);
    // Every piece written is valid UTF-8 (tree text and ASCII syntax).
    String::from_utf8(out).unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into())
}

/// Appends the tree as VSS JSON to `out`.
pub fn write<T: VissTree + ?Sized>(tree: &T, out: &mut Vec<u8>) {
    let nodes = tree.nodes();
    let mut roots = Vec::new();
    let mut next = 0u32;
    while let Some(node) = nodes.get(next as usize) {
        roots.push(NodeId(next));
        next = node.end.max(next + 1);
    }
    write_members(tree, out, roots);
}

/// `{"name": node, ...}` for `ids`, sorted by name.
fn write_members<T: VissTree + ?Sized>(tree: &T, out: &mut Vec<u8>, mut ids: Vec<NodeId>) {
    ids.sort_by(|left, right| tree.node(*left).name.cmp(&tree.node(*right).name));
    out.push(b'{');
    for (position, id) in ids.into_iter().enumerate() {
        if position > 0 {
            out.push(b',');
        }
        write_json_str(out, &tree.node(id).name);
        out.push(b':');
        write_node(tree, out, id);
    }
    out.push(b'}');
}

fn write_node<T: VissTree + ?Sized>(tree: &T, out: &mut Vec<u8>, id: NodeId) {
    let mut members = attributes(tree.node(id), tree.meta(id));
    let children: Vec<NodeId> = tree.children(id).collect();
    if !children.is_empty() {
        let mut text = Vec::new();
        write_members(tree, &mut text, children);
        members.push(("children".into(), text));
    }
    members.sort_by(|left, right| left.0.cmp(&right.0));
    out.push(b'{');
    for (position, (name, value)) in members.iter().enumerate() {
        if position > 0 {
            out.push(b',');
        }
        write_json_str(out, name);
        out.push(b':');
        out.extend_from_slice(value);
    }
    out.push(b'}');
}

/// The vocabulary's drop rule for a list attribute of `len` items (absent ones are `None`).
fn exported_list(len: usize) -> bool {
    attribute::kept_on_export(attribute::Presence::of_list(len))
}

/// Every metadata member of a node (`info` and `meta`) but `children`, as (key, JSON text).
fn attributes(info: &NodeInfo, meta: &NodeMeta) -> Vec<(String, Vec<u8>)> {
    let mut members: Vec<(String, Vec<u8>)> = Vec::new();
    let mut put = |name: &str, write: &dyn Fn(&mut Vec<u8>)| {
        let mut text = Vec::new();
        write(&mut text);
        members.push((name.to_owned(), text));
    };
    put("type", &|out| write_json_str(out, info.kind.as_str()));
    if let Some(datatype) = &info.datatype {
        put("datatype", &|out| write_json_str(out, &datatype.name()));
    }
    for (name, text) in [
        ("description", &meta.description),
        ("comment", &meta.comment),
        ("deprecation", &meta.deprecation),
        ("unit", &meta.unit),
        ("constUID", &meta.const_uid),
        ("pattern", &meta.pattern),
    ] {
        if let Some(text) = text {
            put(name, &|out| write_json_str(out, text));
        }
    }
    for (name, bound, text) in [
        ("min", info.min, &meta.min_text),
        ("max", info.max, &meta.max_text),
    ] {
        match (text, bound) {
            (Some(text), _) => put(name, &|out| out.extend_from_slice(text.as_bytes())),
            // Set without its text (`NodeSpec::min`): the shortest float text, `250.0`.
            (None, Some(bound)) => {
                if let Some(number) = serde_json::Number::from_f64(bound) {
                    put(name, &|out| {
                        out.extend_from_slice(number.to_string().as_bytes())
                    });
                }
            }
            (None, None) => {}
        }
    }
    if exported_list(meta.fka.len()) {
        put("fka", &|out| {
            write_json_array(out, meta.fka.iter(), |out, text| write_json_str(out, text));
        });
    }
    if exported_list(info.allowed.len()) {
        put("allowed", &|out| {
            write_json_array(out, info.allowed.iter(), |out, lit: &Lit| {
                lit.write_json(out)
            });
        });
    }
    if let Some(default) = &info.default {
        put("default", &|out| default.write_json(out));
    }
    if exported_list(meta.enumeration.len()) {
        put("enum", &|out| {
            let mut entries: Vec<_> = meta.enumeration.iter().collect();
            entries.sort_by(|left, right| left.name.cmp(&right.name));
            out.push(b'{');
            for (position, entry) in entries.into_iter().enumerate() {
                if position > 0 {
                    out.push(b',');
                }
                write_json_str(out, &entry.name);
                out.push(b':');
                entry.value.write_json(out);
            }
            out.push(b'}');
        });
    }
    if let Some(tag) = info.validate {
        put(attribute::VALIDATE, &|out| {
            write_json_str(out, tag.as_str())
        });
    }
    let typed = |name: &str| info.validate.is_some() && name == attribute::VALIDATE;
    for extended in meta.extended.iter().filter(|e| !typed(&e.name)) {
        put(&extended.name, &|out| {
            out.extend_from_slice(extended.json.as_bytes())
        });
    }
    members
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::{DynamicTree, Literal, NodeKind, NodeSpec};

    #[test]
    fn writes_typed_values_sorted_like_vss_tools() {
        let mut builder = DynamicTree::builder();
        let mut speed = NodeSpec::leaf("Speed", NodeKind::Sensor, "float")
            .min(0.0)
            .max(250.0)
            .unit("km/h");
        speed.min_text = Some("0".into());
        builder.insert_path("Vehicle.Speed", speed).unwrap();
        let precipitation = NodeSpec::leaf("Precipitation", NodeKind::Sensor, "uint8")
            .enumeration([("RAIN", 2), ("NONE", 1)]);
        builder
            .insert_path("Vehicle.Precipitation", precipitation)
            .unwrap();
        let mut vin = NodeSpec::leaf("VIN", NodeKind::Attribute, "string").pattern("^[A-Z]{3}$");
        vin.extended.push(crate::tree::Extended {
            name: "dbc".into(),
            json: "\"Vin\"".into(),
        });
        vin.default = Some(Literal::Scalar(Lit::owned(crate::LitKind::String, "1")));
        builder.insert_path("Vehicle.VIN", vin).unwrap();
        let mut door = NodeSpec::leaf("Door", NodeKind::Actuator, "boolean");
        door.validate = crate::tree::Validate::parse("read-write+consent");
        // A hand-made extended attribute of the same name does not repeat the tag.
        door.extended.push(crate::tree::Extended {
            name: "validate".into(),
            json: "\"write-only\"".into(),
        });
        builder.insert_path("Vehicle.Door", door).unwrap();
        let tree = builder.build();
        assert_eq!(
            to_string(&tree),
            concat!(
                r#"{"Vehicle":{"children":{"#,
                r#""Door":{"datatype":"boolean","type":"actuator","validate":"read-write+consent"},"#,
                r#""Precipitation":{"datatype":"uint8","enum":{"NONE":1,"RAIN":2},"type":"sensor"},"#,
                r#""Speed":{"datatype":"float","max":250.0,"min":0,"type":"sensor","unit":"km/h"},"#,
                r#""VIN":{"datatype":"string","dbc":"Vin","default":"1","pattern":"^[A-Z]{3}$","type":"attribute"}"#,
                r#"},"type":"branch"}}"#
            )
        );
    }
}
