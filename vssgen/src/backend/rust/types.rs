//! One Rust type per *concept*, not per node.
//!
//! Every branch gets a structural key: its children's names, kinds and attributes, and the
//! types of its child branches. Branches with equal keys share one struct, so the four
//! instances of `Vehicle.Cabin.Door` become one `Door` struct used as `[[Door; 2]; 2]`. An
//! instance branch becomes an array field (an instance set) when the instances form a full
//! grid (every instance of a level has the same instance names below it) and every innermost
//! instance has the same type. When an instance-specific overlay makes instances differ,
//! the branch falls back to one field (and, where needed, one type) per instance, and the
//! struct's documentation says so.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use vss_model::{Node, NodeData, NodeId, NodeKind, VssTree};

use super::GenerateError;
use super::enums::{self, EnumPlan};
use super::naming::{field_idents, type_ident, unique};

/// Index of a branch type in [`Plan::branches`].
pub type TypeId = usize;

/// The Rust types of one tree.
#[derive(Debug)]
pub struct Plan<'t> {
    pub tree: &'t VssTree,
    /// The type of the signal root.
    pub root: TypeId,
    /// The root node.
    pub root_node: NodeId,
    /// Every branch type, indexed by [`TypeId`].
    pub branches: Vec<BranchType>,
    /// The order the branch types are written in: the root, then depth-first by first use.
    pub order: Vec<TypeId>,
    /// VSS struct types (from types trees), in tree order.
    pub structs: Vec<StructType>,
    /// Fully qualified VSS struct name → Rust identifier.
    pub struct_idents: BTreeMap<String, String>,
    /// The enums of the tree's `allowed` lists and the enum type of each such leaf.
    pub enums: EnumPlan,
    /// The module holding this tree's `tree` and `provider` modules: none for the crate's
    /// first tree (`crate::tree`), the module of a further tree (`crate::trailer::tree`).
    pub module: Option<String>,
}

impl Plan<'_> {
    /// The path of this tree's `tree` module (`crate::tree`, `crate::trailer::tree`).
    pub fn tree_module(&self) -> proc_macro2::TokenStream {
        match &self.module {
            None => quote::quote!(crate::tree),
            Some(module) => {
                let module = super::naming::to_ident(module);
                quote::quote!(crate::#module::tree)
            }
        }
    }
}

/// One Rust struct for a branch concept.
#[derive(Debug)]
pub struct BranchType {
    pub ident: String,
    /// The first node of this type in tree order (for the documentation).
    pub example: NodeId,
    /// How many branch nodes have this type.
    pub uses: usize,
    pub fields: Vec<Field>,
    /// Why instances of this branch are not one array (instance-specific overlays).
    pub note: Option<String>,
    nodes: BTreeSet<NodeId>,
}

/// One field of a branch struct.
#[derive(Debug)]
pub struct Field {
    pub ident: String,
    /// The VSS name when the derive's default (the identifier in UpperCamelCase) differs.
    pub vss_name: Option<String>,
    /// The child node (its attributes go into `#[viss(..)]`).
    pub node: NodeId,
    pub shape: Shape,
    /// An instance branch whose instances differ: a plain branch of per-instance fields.
    pub fallback: bool,
}

/// What a field holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// A sensor, actuator or attribute handle.
    Leaf,
    /// A nested branch struct.
    Branch(TypeId),
    /// An instance set: nested arrays of the element type, one level per dimension.
    Instances {
        element: TypeId,
        dimensions: Vec<Vec<String>>,
    },
}

/// A VSS struct type (`type: struct` in a types tree).
#[derive(Debug)]
pub struct StructType {
    pub ident: String,
    /// Fully qualified VSS name, e.g. `Types.Position`.
    pub vss_name: String,
    pub node: NodeId,
    /// `(field identifier, property node)` in VSS order.
    pub properties: Vec<(String, NodeId)>,
}

/// Plans the types of `tree`.
pub fn plan(tree: &VssTree) -> Result<Plan<'_>, GenerateError> {
    let root_node = tree.signal_root().ok_or(GenerateError::NoSignalTree)?;
    let mut builder = Builder {
        tree,
        keys: BTreeMap::new(),
        branches: Vec::new(),
    };
    let root = builder.branch_type(root_node)?;
    let mut branches = builder.branches;
    for branch in &mut branches {
        branch.uses = branch.nodes.len();
    }
    let mut used = BTreeSet::new();
    let root_name = tree.get(root_node).name.clone();
    let order = name_branches(tree, &mut branches, root, &root_name, &mut used);
    let (structs, struct_idents) = plan_structs(tree, root_node, &mut used);
    let branch_of: BTreeMap<NodeId, TypeId> = branches
        .iter()
        .enumerate()
        .flat_map(|(ty, branch)| branch.nodes.iter().map(move |node| (*node, ty)))
        .collect();
    let enums = enums::plan(tree, root_node, &branches, &branch_of, &mut used);
    Ok(Plan {
        tree,
        root,
        root_node,
        branches,
        order,
        structs,
        struct_idents,
        enums,
        module: None,
    })
}

struct Builder<'t> {
    tree: &'t VssTree,
    /// Structural key → type (a `BTreeMap`: nothing here is iterated into output).
    keys: BTreeMap<String, TypeId>,
    branches: Vec<BranchType>,
}

impl Builder<'_> {
    /// The type of branch `node`, shared with every structurally equal branch.
    fn branch_type(&mut self, node: NodeId) -> Result<TypeId, GenerateError> {
        let tree = self.tree;
        let children = &tree.get(node).children;
        let idents = field_idents(children.iter().map(|child| tree.get(*child).name.as_str()));
        let mut fields = Vec::with_capacity(children.len());
        let mut key = String::new();
        let mut note = None;
        for (&child, (ident, vss_name)) in children.iter().zip(idents) {
            let child_node = tree.get(child);
            let mut fallback = false;
            let shape = match child_node.kind {
                kind if kind.has_datatype() => Shape::Leaf,
                NodeKind::Branch => {
                    let shape;
                    (shape, fallback) = self.branch_shape(child)?;
                    if fallback {
                        note = Some(format!(
                            "The instances of `{}` differ (an instance-specific overlay), so \
                             they are separate fields with their own types instead of an array.",
                            child_node.name
                        ));
                    }
                    shape
                }
                _ => return Err(GenerateError::StructInSignalTree(child_node.path.clone())),
            };
            let _ = writeln!(
                key,
                "{ident}|{vss_name:?}|{:?}|{}|{:?}",
                child_node.kind,
                shape_key(&shape),
                child_node.data
            );
            fields.push(Field {
                ident,
                vss_name,
                node: child,
                shape,
                fallback,
            });
        }
        Ok(self.intern(key, node, fields, note))
    }

    fn intern(
        &mut self,
        key: String,
        node: NodeId,
        fields: Vec<Field>,
        note: Option<String>,
    ) -> TypeId {
        if let Some(&id) = self.keys.get(&key) {
            let branch = &mut self.branches[id];
            branch.nodes.insert(node);
            branch.example = branch.example.min(node);
            return id;
        }
        let id = self.branches.len();
        self.branches.push(BranchType {
            ident: String::new(),
            example: node,
            uses: 0,
            fields,
            note,
            nodes: BTreeSet::from([node]),
        });
        self.keys.insert(key, id);
        id
    }

    /// A child branch as an instance set when its instances allow it, else as a plain
    /// branch; `true` when instances exist but had to fall back to one type each.
    fn branch_shape(&mut self, child: NodeId) -> Result<(Shape, bool), GenerateError> {
        if let Some((dimensions, innermost)) = instance_grid(self.tree, child) {
            let mut elements = BTreeSet::new();
            for instance in &innermost {
                elements.insert(self.branch_type(*instance)?);
            }
            if let (1, Some(&element)) = (elements.len(), elements.first()) {
                return Ok((
                    Shape::Instances {
                        element,
                        dimensions,
                    },
                    false,
                ));
            }
            return Ok((Shape::Branch(self.branch_type(child)?), true));
        }
        Ok((Shape::Branch(self.branch_type(child)?), false))
    }
}

fn shape_key(shape: &Shape) -> String {
    match shape {
        Shape::Leaf => "L".to_owned(),
        Shape::Branch(id) => format!("B{id}"),
        Shape::Instances {
            element,
            dimensions,
        } => format!("I{element}{dimensions:?}"),
    }
}

/// The instance names per level below `set` and the innermost instance branches, when the
/// branch's children are instances only, form a full grid, and carry the set's own
/// description, comment, deprecation and `validate` tag and nothing else (what the derive
/// gives them).
fn instance_grid(tree: &VssTree, set: NodeId) -> Option<(Vec<Vec<String>>, Vec<NodeId>)> {
    let mut dimensions = Vec::new();
    let mut level = vec![set];
    let expected = instance_data(&tree.get(set).data);
    loop {
        let first = tree.get(*level.first()?);
        let names: Vec<String> = first
            .children
            .iter()
            .map(|child| tree.get(*child).name.clone())
            .collect();
        let is_level = !names.is_empty()
            && first
                .children
                .iter()
                .all(|child| is_instance_child(first, tree.get(*child)));
        if !is_level {
            break;
        }
        let mut next = Vec::with_capacity(level.len() * names.len());
        for node in &level {
            let node = tree.get(*node);
            let same_names = node.children.len() == names.len()
                && node.children.iter().zip(&names).all(|(child, name)| {
                    let child = tree.get(*child);
                    child.name == *name && is_instance_child(node, child) && child.data == expected
                });
            if !same_names {
                return None;
            }
            next.extend(node.children.iter().copied());
        }
        dimensions.push(names);
        level = next;
    }
    (!dimensions.is_empty()).then_some((dimensions, level))
}

/// The attributes an instance branch of `set` has: the set's description, comment,
/// deprecation and `validate` tag (typed, and as written among the extended attributes,
/// where expansion copies it).
fn instance_data(set: &NodeData) -> NodeData {
    let validate = vss_vocab::attribute::VALIDATE;
    NodeData {
        description: set.description.clone(),
        comment: set.comment.clone(),
        deprecation: set.deprecation.clone(),
        validate: set.validate,
        extended: set
            .extended
            .get(validate)
            .map(|written| (validate.to_owned(), written.clone()))
            .into_iter()
            .collect(),
        ..NodeData::default()
    }
}

/// True when `child` is an instance branch created directly below `parent` by expansion.
fn is_instance_child(parent: &Node, child: &Node) -> bool {
    let Some(origin) = &child.instance_origin else {
        return false;
    };
    let (template, depth) = match &parent.instance_origin {
        Some(parent_origin) => (
            parent_origin.template.as_str(),
            parent_origin.instances.len(),
        ),
        None => (parent.path.as_str(), 0),
    };
    child.kind == NodeKind::Branch
        && origin.template == template
        && origin.instances.len() == depth + 1
}

/// Names the branch types and returns the order they are written in (depth-first from the
/// root). A type used as an instance-set element is named after the set (`Door`); other
/// types after their branch, instance branches with their instance names (`DoorRow1`), and
/// fallen-back instance sets get an `Instances` suffix. A name already taken gets the name
/// of the struct it was first reached from as prefix, then a number.
fn name_branches(
    tree: &VssTree,
    branches: &mut [BranchType],
    root: TypeId,
    root_name: &str,
    used: &mut BTreeSet<String>,
) -> Vec<TypeId> {
    let mut order = Vec::new();
    let mut parent_of = BTreeMap::from([(root, None)]);
    let mut element_concept = BTreeMap::new();
    let mut branch_concept = BTreeMap::from([(root, root_name.to_owned())]);
    let mut stack = vec![root];
    while let Some(id) = stack.pop() {
        order.push(id);
        for field in branches[id].fields.iter().rev() {
            let name = &tree.get(field.node).name;
            let child = match &field.shape {
                Shape::Leaf => continue,
                Shape::Instances { element, .. } => {
                    let example = tree.get(branches[*element].example);
                    let concept = example
                        .instance_origin
                        .as_ref()
                        .map_or(name.as_str(), |origin| {
                            origin.template.rsplit('.').next().unwrap_or(name)
                        });
                    element_concept
                        .entry(*element)
                        .or_insert_with(|| concept.to_owned());
                    *element
                }
                Shape::Branch(child) => {
                    let node = tree.get(field.node);
                    let concept = if field.fallback && node.instance_origin.is_none() {
                        format!("{name}Instances")
                    } else {
                        instance_concept(node)
                    };
                    branch_concept.entry(*child).or_insert(concept);
                    *child
                }
            };
            if let std::collections::btree_map::Entry::Vacant(entry) = parent_of.entry(child) {
                entry.insert(Some(id));
                stack.push(child);
            }
        }
    }
    for &id in &order {
        let concept = element_concept
            .get(&id)
            .or_else(|| branch_concept.get(&id))
            .map_or("Branch", String::as_str);
        let base = type_ident(concept);
        let parent = parent_of.get(&id).copied().flatten();
        let ident = match parent {
            Some(parent) if used.contains(&base) => {
                unique(used, format!("{}{base}", branches[parent].ident), "")
            }
            _ => unique(used, base, ""),
        };
        branches[id].ident = ident;
    }
    order
}

/// `DoorRow1` for the instance branch `Door.Row1`, the plain name otherwise.
fn instance_concept(node: &Node) -> String {
    match &node.instance_origin {
        Some(origin) if origin.instances.last() == Some(&node.name) => {
            let template = origin.template.rsplit('.').next().unwrap_or_default();
            format!("{template}{}", origin.instances.concat())
        }
        _ => node.name.clone(),
    }
}

/// Every struct node outside the signal tree, named after its last segment (prefixed with
/// its parent's name on collision).
fn plan_structs(
    tree: &VssTree,
    signal_root: NodeId,
    used: &mut BTreeSet<String>,
) -> (Vec<StructType>, BTreeMap<String, String>) {
    let mut structs = Vec::new();
    let mut idents = BTreeMap::new();
    for &root in tree.roots().iter().filter(|root| **root != signal_root) {
        for id in tree.subtree(root) {
            let node = tree.get(id);
            if node.kind != NodeKind::Struct {
                continue;
            }
            let base = type_ident(&node.name);
            let ident = if used.contains(&base) {
                let parent = node
                    .parent
                    .map_or("", |parent| tree.get(parent).name.as_str());
                unique(used, type_ident(&format!("{parent}_{}", node.name)), "")
            } else {
                unique(used, base, "")
            };
            let properties = node
                .children
                .iter()
                .filter(|child| tree.get(**child).kind == NodeKind::Property)
                .copied()
                .collect::<Vec<_>>();
            let names = field_idents(properties.iter().map(|p| tree.get(*p).name.as_str()));
            idents.insert(node.path.clone(), ident.clone());
            structs.push(StructType {
                ident,
                vss_name: node.path.clone(),
                node: id,
                properties: names
                    .into_iter()
                    .map(|(ident, _)| ident)
                    .zip(properties)
                    .collect(),
            });
        }
    }
    (structs, idents)
}
