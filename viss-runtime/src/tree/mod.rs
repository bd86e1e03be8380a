//! The tree abstraction the engine is generic over, and [`DynamicTree`], the implementation
//! built at run time.
//!
//! A tree is a node table in **tree order** (pre-order, children in declaration order), so
//! the subtree of node `n` is the contiguous range `n..nodes[n].end`. That makes "all leaves
//! below a branch" a slice scan and lets a derive emit the table as a `static` array: every
//! string is a [`Text`] (`Cow<'static, str>`), borrowed in generated code and owned here.
//!
//! * [`node`]: the node types (hot [`NodeInfo`], cold [`NodeMeta`]);
//! * [`dynamic`]: [`DynamicTree`] and its builder;
//! * [`forest`]: several roots served together ([`Forest`]).

mod dynamic;
mod forest;
mod node;

use std::borrow::Cow;

pub use dynamic::{BuilderNode, DynamicTree, DynamicTreeBuilder, NodeSpec, TreeBuildError};
pub use forest::{Forest, ForestError};
pub use node::{
    AttributeDefault, DataType, EnumEntry, Extended, Lit, LitKind, Literal, MetaFlags, NodeId,
    NodeInfo, NodeKind, NodeMeta, Protects, ScalarType, StructMember, StructType, Text, Validate,
};

/// A VSS tree the engine can serve. Implemented by generated code and by [`DynamicTree`].
pub trait VissTree: Send + Sync {
    /// The node table in tree order; [`NodeId`] indexes it.
    fn nodes(&self) -> &[NodeInfo];

    /// Finds a node by its full path with `.` delimiters (the engine normalises `/`).
    fn lookup_dotted(&self, path: &str) -> Option<NodeId>;

    /// Finds a node by its full path, dot or slash delimited.
    fn lookup(&self, path: &str) -> Option<NodeId> {
        if !path.contains('/') {
            return self.lookup_dotted(path);
        }
        let mut stack = [0u8; 256];
        match stack.get_mut(..path.len()) {
            Some(buffer) => {
                for (slot, byte) in buffer.iter_mut().zip(path.bytes()) {
                    *slot = if byte == b'/' { b'.' } else { byte };
                }
                // Replacing one ASCII byte by another keeps the text valid UTF-8.
                std::str::from_utf8(buffer)
                    .ok()
                    .and_then(|dotted| self.lookup_dotted(dotted))
            }
            None => self.lookup_dotted(&path.replace('/', ".")),
        }
    }

    /// The cold metadata table, parallel to [`VissTree::nodes`] (same length, same
    /// [`NodeId`]s). The engine reads it only for metadata requests, exports and nodes whose
    /// [`NodeInfo::meta_flags`] ask for it.
    fn node_meta(&self) -> &[NodeMeta];

    /// The node behind `id`.
    ///
    /// # Panics
    /// If `id` does not come from this tree (ids are never taken from requests).
    fn node(&self, id: NodeId) -> &NodeInfo {
        &self.nodes()[id.index()]
    }

    /// The cold metadata of `id`.
    ///
    /// # Panics
    /// If `id` does not come from this tree.
    fn meta(&self, id: NodeId) -> &NodeMeta {
        &self.node_meta()[id.index()]
    }

    /// The `enum` of `id`, empty when it has none: reads the cold table only when
    /// [`NodeInfo::meta_flags`] says there is one.
    fn enumeration(&self, id: NodeId) -> &[EnumEntry] {
        if self.node(id).meta_flags.contains(MetaFlags::ENUM) {
            &self.meta(id).enumeration
        } else {
            &[]
        }
    }

    /// The attributes with a `default` (the values a server starts with), in tree order,
    /// each with a copy of its node and `enum`. Derived trees keep these in a small static
    /// table of their own, so a starting server reads a few kilobytes rather than pulling
    /// the node tables into memory; this default scans [`VissTree::nodes`].
    fn attribute_defaults(&self) -> Cow<'_, [AttributeDefault]> {
        let defaults = self.nodes().iter().enumerate().filter_map(|(index, node)| {
            let id = NodeId(u32::try_from(index).ok()?);
            node.is_attribute_with_default().then(|| AttributeDefault {
                id,
                node: node.clone(),
                enumeration: Cow::Owned(self.enumeration(id).to_vec()),
            })
        });
        Cow::Owned(defaults.collect())
    }

    /// The nodes with a `pattern` ([`MetaFlags::PATTERN`]), in tree order: a static table
    /// in derived trees; this default scans [`VissTree::nodes`].
    fn pattern_nodes(&self) -> Cow<'_, [NodeId]> {
        let nodes = self.nodes().iter().enumerate();
        let patterned = nodes
            .filter(|(_, node)| node.has_pattern())
            .filter_map(|(index, _)| Some(NodeId(u32::try_from(index).ok()?)));
        Cow::Owned(patterned.collect())
    }

    /// The struct types the tree's leaves use, for checking struct values (empty: struct
    /// values are taken as they come, members unchecked).
    fn struct_types(&self) -> &[StructType] {
        &[]
    }

    /// The direct children of `id`, in tree order.
    fn children(&self, id: NodeId) -> Children<'_> {
        Children::of(self.nodes(), id, 0)
    }

    /// The child of `id` called `name`.
    fn child_by_name(&self, id: NodeId, name: &str) -> Option<NodeId> {
        self.children(id)
            .find(|child| self.node(*child).name == name)
    }

    /// `id` itself when it is a leaf, else every leaf of its subtree, in tree order.
    fn leaves_under(&self, id: NodeId) -> Leaves<'_> {
        Leaves::of(self.nodes(), id, 0)
    }
}

/// Iterator over a node's direct children. In a [`Forest`], the ids are offset by the
/// position of the node's tree (`base`).
#[derive(Debug, Clone)]
pub struct Children<'a> {
    nodes: &'a [NodeInfo],
    next: u32,
    end: u32,
    base: u32,
}

impl<'a> Children<'a> {
    /// The children of `id` (an index into `nodes`), reported as ids `base + index`.
    pub(crate) fn of(nodes: &'a [NodeInfo], id: NodeId, base: u32) -> Self {
        let end = nodes.get(id.index()).map_or(id.0, |node| node.end);
        Self {
            nodes,
            next: id.0 + 1,
            end,
            base,
        }
    }
}

impl Iterator for Children<'_> {
    type Item = NodeId;

    fn next(&mut self) -> Option<NodeId> {
        if self.next >= self.end {
            return None;
        }
        let current = self.next;
        self.next = self.nodes.get(current as usize)?.end;
        Some(NodeId(current + self.base))
    }
}

/// Iterator over the leaves of a subtree, in tree order (ids offset like [`Children`]).
#[derive(Debug, Clone)]
pub struct Leaves<'a> {
    nodes: &'a [NodeInfo],
    next: u32,
    end: u32,
    base: u32,
}

impl<'a> Leaves<'a> {
    /// The leaves of the subtree of `id` (an index into `nodes`), as ids `base + index`.
    pub(crate) fn of(nodes: &'a [NodeInfo], id: NodeId, base: u32) -> Self {
        let end = nodes.get(id.index()).map_or(id.0, |node| node.end);
        Self {
            nodes,
            next: id.0,
            end,
            base,
        }
    }
}

impl Iterator for Leaves<'_> {
    type Item = NodeId;

    fn next(&mut self) -> Option<NodeId> {
        while self.next < self.end {
            let current = self.next;
            self.next += 1;
            if self.nodes.get(current as usize)?.kind != NodeKind::Branch {
                return Some(NodeId(current + self.base));
            }
        }
        None
    }
}
