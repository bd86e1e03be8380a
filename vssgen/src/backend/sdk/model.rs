//! The language-neutral view of a tree's client SDK, planned once from the Rust backend's
//! type plan (one class per branch *concept*, the same enums and struct types), so every
//! SDK and the server agree on what a type is; the language modules only spell it.
//!
//! Instance sets become classes too: `Door` used as `Row1..2 × DriverSide|PassengerSide`
//! gets a class per instance level (`DoorInstances` with `Row1`/`Row2`, `DoorInstances2`
//! with `DriverSide`/`PassengerSide`), so `vehicle.cabin.door.row1.driverSide.isOpen` is
//! typed all the way down, the path the server answers to.

use std::collections::{BTreeMap, BTreeSet};

use vss_model::{NodeId, NodeKind, Primitive, Value};

use crate::backend::rust::GenerateError;
use crate::backend::rust::naming::{type_ident, unique};
use crate::backend::rust::types::{Plan, Shape, TypeId};

/// What an SDK holds for one tree.
#[derive(Debug)]
pub struct SdkModel {
    /// The root's VSS name (`Vehicle`), also its class name.
    pub root_name: String,
    /// The class of the root.
    pub root_class: String,
    /// Every class, the root first, then depth-first by first use.
    pub classes: Vec<Class>,
    /// One per `allowed` list of strings (the server's enums).
    pub enums: Vec<EnumDecl>,
    /// VSS struct types, every one after the structs it holds.
    pub structs: Vec<StructDecl>,
}

impl SdkModel {
    /// The first leaf met depth-first (the documentation's example): the VSS names on the
    /// way down from the root, and the leaf.
    pub fn first_leaf(&self) -> Option<(Vec<&str>, &Leaf)> {
        let mut class = self.classes.first();
        let mut names = Vec::new();
        while let Some(member) = class.and_then(|class| class.members.first()) {
            names.push(member.vss_name.as_str());
            match &member.kind {
                MemberKind::Object(name) => {
                    class = self.classes.iter().find(|class| &class.name == name);
                }
                MemberKind::Leaf(leaf) => return Some((names, leaf)),
            }
        }
        None
    }
}

/// A class: a branch concept or one level of an instance set.
#[derive(Debug)]
pub struct Class {
    pub name: String,
    /// The description of the branch (empty for instance levels).
    pub description: String,
    /// A VSS path the class is used at (its first use), for documentation.
    pub example_path: String,
    pub members: Vec<Member>,
}

/// One member of a class: a leaf handle or a child object.
#[derive(Debug)]
pub struct Member {
    /// The VSS name: the path segment the member adds.
    pub vss_name: String,
    pub description: String,
    pub kind: MemberKind,
}

#[derive(Debug)]
pub enum MemberKind {
    /// A child branch or instance level: an object of this class.
    Object(String),
    Leaf(Leaf),
}

/// A sensor, actuator or attribute.
#[derive(Debug)]
pub struct Leaf {
    pub kind: NodeKind,
    pub value: ValueType,
    /// `sensor, float, km/h, 0..250`: what the documentation says about it.
    pub facts: String,
}

/// The type of a value, with the limits its codec checks.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueType {
    Primitive {
        primitive: Primitive,
        min: Option<serde_json::Number>,
        max: Option<serde_json::Number>,
    },
    /// One of the tree's enums (its name).
    Enum(String),
    /// A numeric `allowed` list: the values as written.
    NumberSet {
        primitive: Primitive,
        values: Vec<serde_json::Number>,
    },
    /// A string `allowed` list no enum could spell (kept as literals).
    StringSet(Vec<String>),
    /// A VSS struct type (its declaration's name).
    Struct(String),
    Array(Box<ValueType>),
}

/// An enum of an `allowed` list of strings; `aliases` are further names for it.
#[derive(Debug)]
pub struct EnumDecl {
    pub name: String,
    pub values: Vec<String>,
    pub aliases: Vec<String>,
}

/// A VSS struct type: its members by VSS property name.
#[derive(Debug)]
pub struct StructDecl {
    pub name: String,
    pub vss_name: String,
    pub description: String,
    pub members: Vec<(String, ValueType, String)>,
}

/// Plans the SDK of `plan`'s tree.
pub fn model(plan: &Plan<'_>) -> Result<SdkModel, GenerateError> {
    let mut used: BTreeSet<String> = plan
        .branches
        .iter()
        .map(|branch| branch.ident.clone())
        .chain(plan.structs.iter().map(|ty| ty.ident.clone()))
        .chain(plan.enums.enums.iter().map(|ty| ty.ident.clone()))
        .chain(
            plan.enums
                .enums
                .iter()
                .flat_map(|ty| ty.aliases.iter().map(|(alias, _)| alias.clone())),
        )
        .collect();
    let mut builder = Builder {
        plan,
        used: &mut used,
        classes: Vec::new(),
        branch_classes: BTreeMap::new(),
        level_classes: BTreeMap::new(),
    };
    let root_path = plan.tree.get(plan.root_node).path.clone();
    let root_class = builder.branch_class(plan.root, &root_path)?;
    let classes = builder.classes;
    Ok(SdkModel {
        root_name: plan.tree.get(plan.root_node).name.clone(),
        root_class,
        classes,
        enums: enums(plan),
        structs: structs(plan)?,
    })
}

struct Builder<'p, 't> {
    plan: &'p Plan<'t>,
    used: &'p mut BTreeSet<String>,
    classes: Vec<Class>,
    /// Branch type → its class (the branch type's own name).
    branch_classes: BTreeMap<TypeId, String>,
    /// (element type, remaining instance levels) → the class of that level.
    level_classes: BTreeMap<(TypeId, Vec<Vec<String>>), String>,
}

impl Builder<'_, '_> {
    /// The class of branch type `ty`, first met at `path`.
    fn branch_class(&mut self, ty: TypeId, path: &str) -> Result<String, GenerateError> {
        if let Some(name) = self.branch_classes.get(&ty) {
            return Ok(name.clone());
        }
        let plan = self.plan;
        let branch = &plan.branches[ty];
        let name = branch.ident.clone();
        self.branch_classes.insert(ty, name.clone());
        // Reserve the slot so the classes come out root first, depth-first.
        let slot = self.classes.len();
        self.classes.push(Class {
            name: name.clone(),
            description: description(plan, branch.example),
            example_path: path.to_owned(),
            members: Vec::new(),
        });
        let mut members = Vec::with_capacity(branch.fields.len());
        for field in &branch.fields {
            let node = plan.tree.get(field.node);
            let child_path = format!("{path}.{}", node.name);
            let kind = match &field.shape {
                Shape::Leaf => MemberKind::Leaf(leaf(plan, field.node)?),
                Shape::Branch(child) => MemberKind::Object(self.branch_class(*child, &child_path)?),
                Shape::Instances {
                    element,
                    dimensions,
                } => MemberKind::Object(self.level_class(*element, dimensions, &child_path)?),
            };
            members.push(Member {
                vss_name: node.name.clone(),
                description: description(plan, field.node),
                kind,
            });
        }
        self.classes[slot].members = members;
        Ok(name)
    }

    /// The class of the first of `levels` of an instance set of `element`, at `path`.
    fn level_class(
        &mut self,
        element: TypeId,
        levels: &[Vec<String>],
        path: &str,
    ) -> Result<String, GenerateError> {
        let Some((names, deeper)) = levels.split_first() else {
            return self.branch_class(element, path);
        };
        let key = (element, levels.to_vec());
        if let Some(name) = self.level_classes.get(&key) {
            return Ok(name.clone());
        }
        let element_name = type_ident(&self.plan.branches[element].ident);
        let name = unique(self.used, format!("{element_name}Instances"), "");
        self.level_classes.insert(key, name.clone());
        let slot = self.classes.len();
        self.classes.push(Class {
            name: name.clone(),
            description: String::new(),
            example_path: path.to_owned(),
            members: Vec::new(),
        });
        let mut members = Vec::with_capacity(names.len());
        for instance in names {
            let class = self.level_class(element, deeper, &format!("{path}.{instance}"))?;
            members.push(Member {
                vss_name: instance.clone(),
                description: String::new(),
                kind: MemberKind::Object(class),
            });
        }
        self.classes[slot].members = members;
        Ok(name)
    }
}

fn description(plan: &Plan<'_>, node: NodeId) -> String {
    plan.tree
        .get(node)
        .data
        .description
        .clone()
        .unwrap_or_default()
}

fn leaf(plan: &Plan<'_>, id: NodeId) -> Result<Leaf, GenerateError> {
    let node = plan.tree.get(id);
    Ok(Leaf {
        kind: node.kind,
        value: value_type(plan, id)?,
        facts: crate::backend::leaf_facts(node).join(", "),
    })
}

/// The value type of leaf or struct property `id`.
fn value_type(plan: &Plan<'_>, id: NodeId) -> Result<ValueType, GenerateError> {
    let node = plan.tree.get(id);
    let datatype = node.data.datatype.as_ref().ok_or_else(|| {
        GenerateError::Unsupported(format!("{}: leaf without a datatype", node.path))
    })?;
    let element = match (&datatype.element, plan.enums.leaf_types.get(&id)) {
        (_, Some(name)) => ValueType::Enum(name.clone()),
        (vss_model::datatype::ElementType::Struct(name), None) => {
            ValueType::Struct(plan.struct_idents.get(name).cloned().ok_or_else(|| {
                GenerateError::Unsupported(format!("{}: unknown struct type {name}", node.path))
            })?)
        }
        (vss_model::datatype::ElementType::Primitive(primitive), None) => {
            primitive_type(*primitive, &node.data, &node.path)?
        }
    };
    Ok(if datatype.is_array {
        ValueType::Array(Box::new(element))
    } else {
        element
    })
}

/// A primitive, narrowed to its `allowed` list when it has one.
fn primitive_type(
    primitive: Primitive,
    data: &vss_model::NodeData,
    path: &str,
) -> Result<ValueType, GenerateError> {
    if primitive.is_pseudo() {
        return Err(GenerateError::Unsupported(format!(
            "{path}: datatype {}",
            primitive.name()
        )));
    }
    let allowed = data.allowed.as_deref().filter(|list| !list.is_empty());
    let Some(allowed) = allowed else {
        return Ok(ValueType::Primitive {
            primitive,
            min: data.min.clone(),
            max: data.max.clone(),
        });
    };
    let numbers: Option<Vec<serde_json::Number>> = allowed
        .iter()
        .map(|value| match value {
            Value::Number(number) => Some(number.clone()),
            _ => None,
        })
        .collect();
    if let (true, Some(values)) = (primitive.is_numeric(), numbers) {
        return Ok(ValueType::NumberSet { primitive, values });
    }
    let strings: Option<Vec<String>> = allowed
        .iter()
        .map(|value| value.as_str().map(str::to_owned))
        .collect();
    Ok(match strings {
        Some(values) if primitive == Primitive::String => ValueType::StringSet(values),
        // An allowed list the server checks but no literal type can spell: the plain type.
        _ => ValueType::Primitive {
            primitive,
            min: data.min.clone(),
            max: data.max.clone(),
        },
    })
}

fn enums(plan: &Plan<'_>) -> Vec<EnumDecl> {
    plan.enums
        .enums
        .iter()
        .map(|ty| EnumDecl {
            name: ty.ident.clone(),
            values: ty
                .variants
                .iter()
                .map(|variant| variant.vss_name.clone())
                .collect(),
            aliases: ty.aliases.iter().map(|(alias, _)| alias.clone()).collect(),
        })
        .collect()
}

/// The struct types, each after every struct it holds (a depth-first post-order from tree
/// order, so the output is deterministic).
fn structs(plan: &Plan<'_>) -> Result<Vec<StructDecl>, GenerateError> {
    let by_name: BTreeMap<&str, usize> = plan
        .structs
        .iter()
        .enumerate()
        .map(|(index, ty)| (ty.ident.as_str(), index))
        .collect();
    let mut done = vec![false; plan.structs.len()];
    let mut out = Vec::with_capacity(plan.structs.len());
    for index in 0..plan.structs.len() {
        visit_struct(plan, index, &by_name, &mut done, &mut out, 0)?;
    }
    Ok(out)
}

fn visit_struct(
    plan: &Plan<'_>,
    index: usize,
    by_name: &BTreeMap<&str, usize>,
    done: &mut [bool],
    out: &mut Vec<StructDecl>,
    depth: usize,
) -> Result<(), GenerateError> {
    if done[index] {
        return Ok(());
    }
    let ty = &plan.structs[index];
    if depth > plan.structs.len() {
        return Err(GenerateError::Unsupported(format!(
            "{}: struct types hold each other in a cycle",
            ty.vss_name
        )));
    }
    let mut members = Vec::with_capacity(ty.properties.len());
    for (_, property) in &ty.properties {
        let value = value_type(plan, *property)?;
        if let Some(held) = held_struct(&value).and_then(|name| by_name.get(name)) {
            visit_struct(plan, *held, by_name, done, out, depth + 1)?;
        }
        let node = plan.tree.get(*property);
        members.push((node.name.clone(), value, description(plan, *property)));
    }
    done[index] = true;
    out.push(StructDecl {
        name: ty.ident.clone(),
        vss_name: ty.vss_name.clone(),
        description: description(plan, ty.node),
        members,
    });
    Ok(())
}

fn held_struct(value: &ValueType) -> Option<&str> {
    match value {
        ValueType::Struct(name) => Some(name),
        ValueType::Array(element) => held_struct(element),
        _ => None,
    }
}
