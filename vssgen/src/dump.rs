//! A readable, deterministic dump of the IR: one line per node in tree order, for debugging
//! and snapshot tests.
//!
//! ```text
//! Vehicle branch
//! Vehicle.Cabin.Door.Row1.DriverSide branch origin=Vehicle.Cabin.Door[Row1,DriverSide]
//! Vehicle.Speed sensor datatype=float unit=km/h
//! ```
//!
//! Fields appear only when set, always in the same order: `datatype`, `unit`, `validate`
//! (the node's own access-control tag), `instances`
//! (unexpanded trees), `origin` (the instance template and instance names of expanded
//! nodes), `implicit` (branches created for undefined parents). A blank line separates roots.

use std::fmt::Write as _;

use vss_model::{Node, VssTree};

/// The dump of every root of `tree`.
pub fn dump_ir(tree: &VssTree) -> String {
    let mut out = String::new();
    for (index, root) in tree.roots().iter().enumerate() {
        if index > 0 {
            out.push('\n');
        }
        for id in tree.subtree(*root) {
            dump_node(&mut out, tree.get(id));
        }
    }
    out
}

fn dump_node(out: &mut String, node: &Node) {
    let _ = write!(out, "{} {}", node.path, node.kind.name());
    let data = &node.data;
    if let Some(datatype) = &data.datatype {
        let _ = write!(out, " datatype={datatype}");
    }
    if let Some(unit) = &data.unit {
        let _ = write!(out, " unit={unit}");
    }
    if let Some(tag) = data.validate {
        let _ = write!(out, " validate={tag}");
    }
    if let Some(instances) = &data.instances {
        let _ = write!(out, " instances={instances}");
    }
    if let Some(origin) = &node.instance_origin {
        let _ = write!(
            out,
            " origin={}[{}]",
            origin.template,
            origin.instances.join(",")
        );
    }
    if node.implicit {
        out.push_str(" implicit");
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use vss_model::{Datatype, InstanceOrigin, NodeData, NodeKind, Primitive};

    #[test]
    fn one_line_per_node_with_only_set_fields() {
        let mut tree = VssTree::new();
        let root = tree
            .add_node(None, "V", NodeKind::Branch, NodeData::default())
            .unwrap();
        let door = tree
            .add_node(
                Some(root),
                "Door",
                NodeKind::Branch,
                NodeData {
                    instances: Some(json!(["Row[1,2]"])),
                    ..NodeData::default()
                },
            )
            .unwrap();
        let row = tree
            .add_node(Some(door), "Row1", NodeKind::Branch, NodeData::default())
            .unwrap();
        tree.node_mut(row)
            .unwrap()
            .set_instance_origin(Some(InstanceOrigin {
                template: "V.Door".into(),
                instances: vec!["Row1".into()],
            }));
        tree.node_mut(row).unwrap().set_implicit(true);
        let speed = NodeData {
            datatype: Some(Datatype::primitive(Primitive::Float)),
            unit: Some("km/h".into()),
            validate: vss_model::Validate::parse("read-write+consent"),
            ..NodeData::default()
        };
        tree.add_node(Some(root), "Speed", NodeKind::Sensor, speed)
            .unwrap();
        tree.add_node(None, "T", NodeKind::Branch, NodeData::default())
            .unwrap();
        assert_eq!(
            dump_ir(&tree),
            "V branch\nV.Door branch instances=[\"Row[1,2]\"]\n\
             V.Door.Row1 branch origin=V.Door[Row1] implicit\n\
             V.Speed sensor datatype=float unit=km/h validate=read-write+consent\n\nT branch\n"
        );
    }
}
