//! Support for the code `#[derive(VissTree)]` emits (re-exported as the hidden
//! `viss_runtime::__private`; not a stable API).
//!
//! A derived root type builds its node table as a `static` in three const passes over the
//! same generated traversal:
//!
//! 1. a counting [`PathWriter`] measures the bytes of all full paths;
//! 2. a writing [`PathWriter`] fills a `[u8; LEN]` with every full path back to back
//!    (a child's path is its parent's bytes, `.`, its name);
//! 3. a [`NodeWriter`] fills the hot `[NodeInfo; N]` and the cold `[NodeMeta; N]` (one
//!    [`Tables`] const; the hot table becomes a static by [`hot_table`], the cold one is
//!    packed without pointers by [`super::packed_meta`]) from
//!    per-node templates (const items holding the metadata), slicing each node's
//!    `&'static str` path out of the bytes of pass 2.
//!
//! Paths cannot be known when a nested branch type is derived (the same type can sit at
//! several places, e.g. under every instance), which is why the root assembles them.
//!
//! Two small statics are taken from the same [`Tables`] for start-up, so a starting server
//! reads them instead of the node tables: the attributes with a `default`
//! ([`defaults_table`]) and the nodes with a `pattern` ([`pattern_table`]).
//!
//! The root's lookup probes a static open-addressing index built at compile time from the
//! finished table ([`build_index`], [`lookup_indexed`]). Below a branch, each derived type
//! has a generated `match` on the first path segment that delegates the rest to the child
//! type ([`lookup_branch`], [`lookup_instances`]).

use std::borrow::Cow;
use std::mem::{self, ManuallyDrop};

use crate::tree::{AttributeDefault, MetaFlags, NodeId, NodeInfo, NodeKind, NodeMeta};
use crate::typed::VissBranch;

/// A node with no metadata: the filler of a table before the writer runs, and the base of
/// generated templates (`NodeInfo { name: .., ..PLACEHOLDER }`; cold metadata templates
/// start from [`NodeMeta::EMPTY`]).
pub const PLACEHOLDER: NodeInfo = NodeInfo {
    name: Cow::Borrowed(""),
    path: Cow::Borrowed(""),
    kind: NodeKind::Branch,
    datatype: None,
    min: None,
    max: None,
    allowed: Cow::Borrowed(&[]),
    default: None,
    meta_flags: MetaFlags::NONE,
    parent: None,
    end: 0,
    validate: None,
};

/// The hot and the cold table of a derived tree, filled together by one [`NodeWriter`]
/// pass in a `const`, then taken apart into statics ([`hot_table`],
/// [`super::packed_meta`]). The tables are `ManuallyDrop` so a `const fn` can move one out
/// and leave the other (a generated table is only borrowed data: nothing to drop).
#[derive(Debug)]
pub struct Tables<const N: usize> {
    nodes: ManuallyDrop<[NodeInfo; N]>,
    meta: ManuallyDrop<[NodeMeta; N]>,
}

impl<const N: usize> Tables<N> {
    /// The tables a [`NodeWriter`] filled.
    pub const fn new(nodes: [NodeInfo; N], meta: [NodeMeta; N]) -> Self {
        Self {
            nodes: ManuallyDrop::new(nodes),
            meta: ManuallyDrop::new(meta),
        }
    }

    /// Both tables, still to be dropped or forgotten by the caller.
    pub(crate) const fn into_parts(
        self,
    ) -> (ManuallyDrop<[NodeInfo; N]>, ManuallyDrop<[NodeMeta; N]>) {
        (self.nodes, self.meta)
    }
}

/// The hot table of `tables`.
pub const fn hot_table<const N: usize>(tables: Tables<N>) -> [NodeInfo; N] {
    ManuallyDrop::into_inner(tables.nodes)
}

/// The length of [`defaults_table`] and of [`pattern_table`] (const fns cannot call
/// through a function pointer, hence both counts in one pass).
pub const fn start_counts<const N: usize>(tables: Tables<N>) -> (usize, usize) {
    let nodes = ManuallyDrop::into_inner(tables.nodes);
    let (mut index, mut defaults, mut patterns) = (0, 0, 0);
    while index < N {
        defaults += nodes[index].is_attribute_with_default() as usize;
        patterns += nodes[index].has_pattern() as usize;
        index += 1;
    }
    mem::forget(nodes);
    (defaults, patterns)
}

const NO_DEFAULT: AttributeDefault = AttributeDefault {
    id: NodeId(0),
    node: PLACEHOLDER,
    enumeration: Cow::Borrowed(&[]),
};

/// The attributes with a `default`, each with a copy of its node and `enum`, in tree order
/// (`K` is the first of [`start_counts`]).
pub const fn defaults_table<const N: usize, const K: usize>(
    tables: Tables<N>,
) -> [AttributeDefault; K] {
    let mut nodes = ManuallyDrop::into_inner(tables.nodes);
    let mut meta = ManuallyDrop::into_inner(tables.meta);
    let mut defaults = [NO_DEFAULT; K];
    let (mut index, mut next) = (0, 0);
    while index < N {
        if nodes[index].is_attribute_with_default() {
            let entry = AttributeDefault {
                id: NodeId(index as u32),
                node: mem::replace(&mut nodes[index], PLACEHOLDER),
                enumeration: mem::replace(&mut meta[index].enumeration, Cow::Borrowed(&[])),
            };
            // Nothing to drop: generated tables hold only borrowed data.
            mem::forget(mem::replace(&mut defaults[next], entry));
            next += 1;
        }
        index += 1;
    }
    mem::forget(nodes);
    mem::forget(meta);
    defaults
}

/// The nodes with a `pattern`, in tree order (`P` is the second of [`start_counts`]).
pub const fn pattern_table<const N: usize, const P: usize>(tables: Tables<N>) -> [NodeId; P] {
    let nodes = ManuallyDrop::into_inner(tables.nodes);
    let mut patterned = [NodeId(0); P];
    let (mut index, mut next) = (0, 0);
    while index < N {
        if nodes[index].has_pattern() {
            patterned[next] = NodeId(index as u32);
            next += 1;
        }
        index += 1;
    }
    mem::forget(nodes);
    patterned
}

/// Where a node's full path sits in the path bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathSpan {
    pub start: usize,
    pub len: usize,
}

/// Writes full paths back to back (or only counts their bytes).
#[derive(Debug)]
pub struct PathWriter<'a> {
    bytes: &'a mut [u8],
    len: usize,
    counting: bool,
}

impl<'a> PathWriter<'a> {
    /// A writer that only counts bytes.
    pub const fn counting() -> PathWriter<'static> {
        PathWriter {
            bytes: &mut [],
            len: 0,
            counting: true,
        }
    }

    /// A writer into `bytes`, which must be exactly as long as the counting pass said.
    pub const fn writing(bytes: &'a mut [u8]) -> Self {
        Self {
            bytes,
            len: 0,
            counting: false,
        }
    }

    /// Bytes written (or counted) so far.
    pub const fn len(&self) -> usize {
        self.len
    }

    /// True before the first path.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends `parent` path + `.` + `name` (just `name` without a parent).
    pub const fn push(&mut self, parent: Option<PathSpan>, name: &str) -> PathSpan {
        let start = self.len;
        if let Some(parent) = parent {
            self.copy_within(parent.start, parent.len);
            self.push_bytes(b".");
        }
        self.push_bytes(name.as_bytes());
        PathSpan {
            start,
            len: self.len - start,
        }
    }

    const fn copy_within(&mut self, from: usize, count: usize) {
        let mut offset = 0;
        while offset < count {
            if !self.counting {
                self.bytes[self.len] = self.bytes[from + offset];
            }
            self.len += 1;
            offset += 1;
        }
    }

    const fn push_bytes(&mut self, text: &[u8]) {
        let mut offset = 0;
        while offset < text.len() {
            if !self.counting {
                self.bytes[self.len] = text[offset];
            }
            self.len += 1;
            offset += 1;
        }
    }
}

/// Turns the path bytes into the `&'static str` every node path borrows from.
pub const fn paths_text(bytes: &'static [u8]) -> &'static str {
    match std::str::from_utf8(bytes) {
        Ok(text) => text,
        // Every path is made of `&str` names joined by `.`.
        Err(_) => "",
    }
}

/// A written node, as the parent of the nodes that follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parent {
    pub id: NodeId,
    pub path_len: usize,
}

/// Fills the hot and the cold node table in tree order.
#[derive(Debug)]
pub struct NodeWriter<'a> {
    nodes: &'a mut [NodeInfo],
    meta: &'a mut [NodeMeta],
    next: usize,
    paths: &'static str,
    path_position: usize,
}

impl<'a> NodeWriter<'a> {
    /// A writer into `nodes` and the parallel `meta` (as long), slicing paths from `paths`
    /// (written by the same traversal).
    pub const fn new(
        nodes: &'a mut [NodeInfo],
        meta: &'a mut [NodeMeta],
        paths: &'static str,
    ) -> Self {
        Self {
            nodes,
            meta,
            next: 0,
            paths,
            path_position: 0,
        }
    }

    /// Writes the next node from `template` (its name and hot metadata) and `meta` (its
    /// cold metadata), below `parent`, with `below` nodes in its subtree (0 for leaves).
    pub const fn push(
        &mut self,
        mut template: NodeInfo,
        meta: NodeMeta,
        parent: Option<Parent>,
        below: u32,
    ) -> Parent {
        let path_len = match parent {
            Some(parent) => parent.path_len + 1 + text_len(&template.name),
            None => text_len(&template.name),
        };
        let (_, rest) = self.paths.split_at(self.path_position);
        let (path, _) = rest.split_at(path_len);
        self.path_position += path_len;
        let id = NodeId(self.next as u32);
        std::mem::forget(std::mem::replace(&mut template.path, Cow::Borrowed(path)));
        template.parent = match parent {
            Some(parent) => Some(parent.id),
            None => None,
        };
        template.end = id.0 + 1 + below;
        template.meta_flags = MetaFlags::of(&meta);
        std::mem::forget(std::mem::replace(&mut self.nodes[self.next], template));
        std::mem::forget(std::mem::replace(&mut self.meta[self.next], meta));
        self.next += 1;
        Parent { id, path_len }
    }
}

// `Deref` is not const: match the `Cow` instead of taking `&str`.
#[allow(clippy::ptr_arg)]
const fn text_len(text: &Cow<'static, str>) -> usize {
    match text {
        Cow::Borrowed(text) => text.len(),
        Cow::Owned(text) => text.len(),
    }
}

/// Splits `path` at its first `.`: the segment and the rest, if any.
#[inline]
pub fn split_first(path: &str) -> (&str, Option<&str>) {
    match path.split_once('.') {
        Some((head, rest)) => (head, Some(rest)),
        None => (path, None),
    }
}

/// A leaf matched by name: found when nothing follows.
#[inline]
pub fn lookup_leaf(rest: Option<&str>, id: u32) -> Option<NodeId> {
    match rest {
        None => Some(NodeId(id)),
        Some(_) => None,
    }
}

/// A branch of type `B` matched by name at node `id`.
#[inline]
pub fn lookup_branch<B: VissBranch>(rest: Option<&str>, id: u32) -> Option<NodeId> {
    match rest {
        None => Some(NodeId(id)),
        Some(rest) => B::lookup_relative(rest, id + 1),
    }
}

/// Nodes in one instance of an instance set whose remaining dimensions are `dimensions`
/// (each a list of instance names), around branches of type `B`.
pub const fn instance_size<B: VissBranch>(dimensions: &[&[&str]]) -> u32 {
    let mut size = 1 + B::NODE_COUNT;
    let mut level = dimensions.len();
    while level > 0 {
        level -= 1;
        size = 1 + dimensions[level].len() as u32 * size;
    }
    size
}

/// An instance set of branches of type `B` matched by name at node `id`.
pub fn lookup_instances<B: VissBranch>(
    rest: Option<&str>,
    id: u32,
    dimensions: &[&[&str]],
) -> Option<NodeId> {
    let Some(rest) = rest else {
        return Some(NodeId(id));
    };
    let Some((names, inner)) = dimensions.split_first() else {
        return B::lookup_relative(rest, id + 1);
    };
    let (head, tail) = split_first(rest);
    let index = names.iter().position(|name| *name == head)? as u32;
    let instance = id + 1 + index * instance_size::<B>(inner);
    lookup_instances::<B>(tail, instance, inner)
}

/// The dimensions below `level` (`dimensions[level..]`).
pub const fn dimensions_from<'a>(
    dimensions: &'a [&'a [&'a str]],
    level: usize,
) -> &'a [&'a [&'a str]] {
    dimensions.split_at(level).1
}

/// The node id of instance `index` at `level` below instance-set node (or instance)
/// `parent`, for branches of type `B`.
pub const fn instance_child<B: VissBranch>(
    parent: u32,
    dimensions: &[&[&str]],
    level: usize,
    index: usize,
) -> u32 {
    parent + 1 + index as u32 * instance_size::<B>(dimensions_from(dimensions, level + 1))
}

/// Exclusive prefix sums of the field sizes: each field's offset from the first child.
pub const fn offsets<const N: usize>(sizes: [u32; N]) -> [u32; N] {
    let mut offsets = [0; N];
    let mut running = 0;
    let mut index = 0;
    while index < N {
        offsets[index] = running;
        running += sizes[index];
        index += 1;
    }
    offsets
}

/// The sum of the field sizes: the nodes below a branch.
pub const fn total<const N: usize>(sizes: [u32; N]) -> u32 {
    let mut sum = 0;
    let mut index = 0;
    while index < N {
        sum += sizes[index];
        index += 1;
    }
    sum
}

/// The hash of a path for the static path index: 8 bytes at a time, `const` so the index is
/// built at compile time with the same function the lookup uses at run time.
pub const fn path_hash(bytes: &[u8]) -> u64 {
    const MULTIPLIER: u64 = 0x517c_c1b7_2722_0a95;
    let mut hash = bytes.len() as u64;
    let mut rest = bytes;
    while let Some((chunk, tail)) = rest.split_first_chunk::<8>() {
        hash = (hash.rotate_left(5) ^ u64::from_le_bytes(*chunk)).wrapping_mul(MULTIPLIER);
        rest = tail;
    }
    let mut last = 0u64;
    let mut position = 0;
    while position < rest.len() {
        last |= (rest[position] as u64) << (8 * position);
        position += 1;
    }
    hash = (hash.rotate_left(5) ^ last).wrapping_mul(MULTIPLIER);
    hash ^ (hash >> 32)
}

/// Slots of the path index of a table of `nodes` nodes: a power of two, at most half full.
pub const fn index_capacity(nodes: usize) -> usize {
    (nodes * 2).next_power_of_two()
}

/// The static path index: an open-addressing table (linear probing) of node id + 1 per
/// slot, 0 for empty, keyed by [`path_hash`] of each node's path.
pub const fn build_index<const CAPACITY: usize>(nodes: &[NodeInfo]) -> [u32; CAPACITY] {
    let mut index = [0u32; CAPACITY];
    let mask = CAPACITY - 1;
    let mut id = 0;
    while id < nodes.len() {
        let mut slot = path_hash(text_bytes(&nodes[id].path)) as usize & mask;
        while index[slot] != 0 {
            slot = (slot + 1) & mask;
        }
        index[slot] = id as u32 + 1;
        id += 1;
    }
    index
}

/// Finds `path` through an index made by [`build_index`] over `nodes`.
#[inline]
pub fn lookup_indexed(index: &[u32], nodes: &[NodeInfo], path: &str) -> Option<NodeId> {
    let mask = index.len().checked_sub(1)?;
    let mut slot = path_hash(path.as_bytes()) as usize & mask;
    loop {
        let id = index.get(slot)?.checked_sub(1)?;
        if nodes.get(id as usize)?.path == path {
            return Some(NodeId(id));
        }
        slot = (slot + 1) & mask;
    }
}

#[allow(clippy::ptr_arg)]
const fn text_bytes<'a>(text: &'a Cow<'static, str>) -> &'a [u8] {
    match text {
        Cow::Borrowed(text) => text.as_bytes(),
        Cow::Owned(text) => text.as_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_exclusive_prefix_sums() {
        assert_eq!(offsets([1, 5, 1, 3]), [0, 1, 6, 7]);
        assert_eq!(total([1, 5, 1, 3]), 10);
        assert_eq!(total::<0>([]), 0);
    }

    #[test]
    fn path_writer_joins_parent_paths() {
        let mut counter = PathWriter::counting();
        let root = counter.push(None, "Vehicle");
        counter.push(Some(root), "Speed");
        let mut bytes = vec![0; counter.len()];
        let mut writer = PathWriter::writing(&mut bytes);
        let root = writer.push(None, "Vehicle");
        let speed = writer.push(Some(root), "Speed");
        assert_eq!(speed, PathSpan { start: 7, len: 13 });
        assert_eq!(bytes, b"VehicleVehicle.Speed");
    }

    #[test]
    fn the_index_finds_every_path_and_only_those() {
        let names = [
            "Vehicle",
            "Vehicle.Speed",
            "Vehicle.Cabin",
            "Vehicle.Cabin.Door",
        ];
        let nodes: Vec<NodeInfo> = names
            .iter()
            .map(|path| NodeInfo {
                path: Cow::Borrowed(path),
                ..PLACEHOLDER
            })
            .collect();
        let index: [u32; 8] = build_index(&nodes);
        assert_eq!(index.iter().filter(|slot| **slot != 0).count(), 4);
        for (id, path) in names.iter().enumerate() {
            assert_eq!(
                lookup_indexed(&index, &nodes, path),
                Some(NodeId(id as u32))
            );
        }
        for missing in ["", "Vehicle.", "Vehicle.Cabin.Door.Row1", "vehicle"] {
            assert_eq!(lookup_indexed(&index, &nodes, missing), None);
        }
    }

    #[test]
    fn path_hash_depends_on_every_byte() {
        let base = path_hash(b"Vehicle.Cabin.Door.Row1.IsOpen");
        assert_ne!(base, path_hash(b"Vehicle.Cabin.Door.Row2.IsOpen"));
        assert_ne!(base, path_hash(b"Vehicle.Cabin.Door.Row1.IsOpeN"));
        assert_ne!(path_hash(b"A"), path_hash(b"A\0"));
    }
}
