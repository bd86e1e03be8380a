//! Code generation backends: each reads a `VssTree` and returns files.

pub mod proto;
pub mod rust;
pub mod sdk;
pub mod template;

/// What generated documentation says about a leaf: kind, VSS datatype, unit and range
/// (`sensor`, `float`, `km/h`, `0..250`).
pub fn leaf_facts(node: &vss_model::Node) -> Vec<String> {
    let mut facts = vec![node.kind.name().to_owned()];
    if let Some(datatype) = &node.data.datatype {
        facts.push(datatype.to_string());
    }
    if let Some(unit) = &node.data.unit {
        facts.push(unit.clone());
    }
    match (&node.data.min, &node.data.max) {
        (Some(min), Some(max)) => facts.push(format!("{min}..{max}")),
        (Some(min), None) => facts.push(format!(">= {min}")),
        (None, Some(max)) => facts.push(format!("<= {max}")),
        (None, None) => {}
    }
    facts
}
