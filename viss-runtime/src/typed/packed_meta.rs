//! The cold metadata table of a derived tree, kept without pointers until it is first read.
//!
//! A `static` table of [`NodeMeta`] holds a pointer per text (description, unit, ...). In a
//! position-independent executable the loader rewrites every such pointer at start, which
//! copies each page of the table into private memory: for the standard tree, 444 KB of a
//! table that only metadata requests, exports and `enum`/`pattern` checks read. So the
//! derive stores the cold table packed instead, in three statics built by const passes
//! over the same [`Tables`]:
//!
//! - the texts back to back, one `&'static str` ([`meta_text_len`], [`meta_text_bytes`]);
//! - a [`PackedMeta`] per node: where each of its texts sits in that string, as numbers
//!   ([`packed_meta`]);
//! - the few nodes' `enum`/`fka`/extended lists, which keep their pointers ([`meta_lists`]).
//!
//! The first read of the cold table unpacks it once ([`unpack_meta`]) into a heap table
//! whose texts borrow from the one string.
//!
//! A tree built at run time ([`crate::DynamicTree`]) keeps its cold table the same way, in
//! heap blocks ([`PackedTable`]): packed, the standard tree's is 0.33 MB instead of 0.71 MB
//! (the table of [`NodeMeta`] and a block per text), until a request reads it.

use std::borrow::Cow;
use std::mem::{self, ManuallyDrop};

use super::build::Tables;
use crate::tree::{EnumEntry, Extended, NodeMeta, Text};

/// Where one text sits in the metadata string; [`TextSpan::NONE`] for an absent one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextSpan {
    start: u32,
    len: u32,
}

impl TextSpan {
    /// No text.
    pub const NONE: Self = Self {
        start: u32::MAX,
        len: 0,
    };
}

/// One node's cold metadata as spans of the metadata string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackedMeta {
    texts: [TextSpan; TEXTS],
    /// Index into the list table, `u32::MAX` when the node has no list.
    lists: u32,
}

/// A node's `enum`, `fka` and extended attributes, for the nodes that have any.
#[derive(Debug, Clone, PartialEq)]
pub struct MetaLists {
    enumeration: Cow<'static, [EnumEntry]>,
    fka: Cow<'static, [Text]>,
    extended: Cow<'static, [Extended]>,
}

/// The optional texts of [`NodeMeta`], in this order.
const TEXTS: usize = 8;

const fn texts(meta: &NodeMeta) -> [&Option<Text>; TEXTS] {
    [
        &meta.unit,
        &meta.description,
        &meta.comment,
        &meta.deprecation,
        &meta.min_text,
        &meta.max_text,
        &meta.pattern,
        &meta.const_uid,
    ]
}

const fn text_bytes(text: &Option<Text>) -> Option<&[u8]> {
    match text {
        Some(Cow::Borrowed(text)) => Some(text.as_bytes()),
        Some(Cow::Owned(text)) => Some(text.as_bytes()),
        None => None,
    }
}

const fn has_lists(meta: &NodeMeta) -> bool {
    !is_empty(&meta.enumeration) || !is_empty(&meta.fka) || !is_empty(&meta.extended)
}

/// `Cow::is_empty` in a const fn (deref is not const).
#[allow(clippy::ptr_arg)]
const fn is_empty<T: Clone>(list: &Cow<'static, [T]>) -> bool {
    match list {
        Cow::Borrowed(list) => list.is_empty(),
        Cow::Owned(list) => list.is_empty(),
    }
}

/// The cold table out of `tables`; the caller forgets it when done (generated tables hold
/// only borrowed data, and a const fn cannot run destructors).
const fn cold<const N: usize>(tables: Tables<N>) -> [NodeMeta; N] {
    let (_nodes, meta) = tables.into_parts();
    ManuallyDrop::into_inner(meta)
}

/// The one pass behind [`meta_text_len`], [`meta_text_bytes`] and [`packed_meta`]: lays
/// out every node's texts back to back in [`NodeMeta`] field order, copying them into
/// `bytes` and recording spans and list indices in `packed` when those are not empty.
/// Returns the bytes laid out.
const fn lay_out(meta: &[NodeMeta], bytes: &mut [u8], packed: &mut [PackedMeta]) -> usize {
    let (mut node, mut len, mut lists) = (0, 0, 0);
    while node < meta.len() {
        let texts = texts(&meta[node]);
        let mut text = 0;
        while text < TEXTS {
            if let Some(source) = text_bytes(texts[text]) {
                if !packed.is_empty() {
                    packed[node].texts[text] = TextSpan {
                        start: len as u32,
                        len: source.len() as u32,
                    };
                }
                let mut offset = 0;
                while offset < source.len() && !bytes.is_empty() {
                    bytes[len + offset] = source[offset];
                    offset += 1;
                }
                len += source.len();
            }
            text += 1;
        }
        if has_lists(&meta[node]) && !packed.is_empty() {
            packed[node].lists = lists;
            lists += 1;
        }
        node += 1;
    }
    len
}

/// Bytes of all metadata texts together (the length of [`meta_text_bytes`]).
pub const fn meta_text_len<const N: usize>(tables: Tables<N>) -> usize {
    let meta = cold(tables);
    let len = lay_out(&meta, &mut [], &mut []);
    mem::forget(meta);
    len
}

/// All metadata texts back to back, node by node in [`NodeMeta`] field order (`LEN` is
/// [`meta_text_len`]).
pub const fn meta_text_bytes<const N: usize, const LEN: usize>(tables: Tables<N>) -> [u8; LEN] {
    let meta = cold(tables);
    let mut bytes = [0u8; LEN];
    lay_out(&meta, &mut bytes, &mut []);
    mem::forget(meta);
    bytes
}

/// Each node's spans into [`meta_text_bytes`] and its index into [`meta_lists`].
pub const fn packed_meta<const N: usize>(tables: Tables<N>) -> [PackedMeta; N] {
    let meta = cold(tables);
    let mut packed = [NOTHING_PACKED; N];
    lay_out(&meta, &mut [], &mut packed);
    mem::forget(meta);
    packed
}

/// How many nodes have an `enum`, `fka` or extended attributes (the length of
/// [`meta_lists`]).
pub const fn meta_list_count<const N: usize>(tables: Tables<N>) -> usize {
    let meta = cold(tables);
    let (mut node, mut count) = (0, 0);
    while node < N {
        count += has_lists(&meta[node]) as usize;
        node += 1;
    }
    mem::forget(meta);
    count
}

const NO_LISTS: MetaLists = MetaLists {
    enumeration: Cow::Borrowed(&[]),
    fka: Cow::Borrowed(&[]),
    extended: Cow::Borrowed(&[]),
};

/// The lists of the nodes that have any, in node order (`L` is [`meta_list_count`]).
pub const fn meta_lists<const N: usize, const L: usize>(tables: Tables<N>) -> [MetaLists; L] {
    let mut meta = cold(tables);
    let mut lists = [NO_LISTS; L];
    let (mut node, mut next) = (0, 0);
    while node < N {
        if has_lists(&meta[node]) {
            let entry = MetaLists {
                enumeration: mem::replace(&mut meta[node].enumeration, Cow::Borrowed(&[])),
                fka: mem::replace(&mut meta[node].fka, Cow::Borrowed(&[])),
                extended: mem::replace(&mut meta[node].extended, Cow::Borrowed(&[])),
            };
            mem::forget(mem::replace(&mut lists[next], entry));
            next += 1;
        }
        node += 1;
    }
    mem::forget(meta);
    lists
}

/// The cold table, unpacked: texts borrow from `text` (the string of
/// [`meta_text_bytes`]), lists are copies of borrowed slices. Nothing but the table itself
/// is allocated.
pub fn unpack_meta(
    packed: &[PackedMeta],
    text: &'static str,
    lists: &[MetaLists],
) -> Box<[NodeMeta]> {
    unpack(packed, text, lists, Cow::Borrowed)
}

/// The cold table, unpacked, each text made by `to_text` from its span of `text`.
fn unpack<'text>(
    packed: &[PackedMeta],
    text: &'text str,
    lists: &[MetaLists],
    to_text: impl Fn(&'text str) -> Text,
) -> Box<[NodeMeta]> {
    packed
        .iter()
        .map(|node| {
            let span = |index: usize| -> Option<Text> {
                let span = node.texts[index];
                let start = usize::try_from(span.start).ok()?;
                let end = start.checked_add(usize::try_from(span.len).ok()?)?;
                text.get(start..end).map(&to_text)
            };
            let lists = usize::try_from(node.lists)
                .ok()
                .and_then(|index| lists.get(index))
                .unwrap_or(&NO_LISTS);
            NodeMeta {
                unit: span(0),
                description: span(1),
                comment: span(2),
                deprecation: span(3),
                min_text: span(4),
                max_text: span(5),
                pattern: span(6),
                const_uid: span(7),
                enumeration: lists.enumeration.clone(),
                fka: lists.fka.clone(),
                extended: lists.extended.clone(),
            }
        })
        .collect()
}

/// A cold table built at run time, packed as a derived tree's is, in heap blocks: the texts
/// back to back in one string, their spans per node, and the lists of the few nodes that
/// have any.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PackedTable {
    text: Box<str>,
    packed: Box<[PackedMeta]>,
    lists: Box<[MetaLists]>,
}

impl PackedTable {
    /// Packs `meta`, one entry per node.
    pub fn new(mut meta: Vec<NodeMeta>) -> Self {
        let len = lay_out(&meta, &mut [], &mut []);
        let mut bytes = vec![0; len];
        let mut packed = vec![NOTHING_PACKED; meta.len()];
        lay_out(&meta, &mut bytes, &mut packed);
        // whole texts back to back: valid UTF-8 (a lossy copy could only be a bug's)
        let text = String::from_utf8(bytes)
            .unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned());
        let lists = meta
            .iter_mut()
            .filter(|node| has_lists(node))
            .map(|node| MetaLists {
                enumeration: mem::take(&mut node.enumeration),
                fka: mem::take(&mut node.fka),
                extended: mem::take(&mut node.extended),
            })
            .collect();
        Self {
            text: text.into_boxed_str(),
            packed: packed.into_boxed_slice(),
            lists,
        }
    }

    /// The `enum` of node `index` (empty when it has none), read without unpacking: what a
    /// server reads at start (attributes' defaults, the simulator).
    pub fn enumeration(&self, index: usize) -> &[EnumEntry] {
        self.packed
            .get(index)
            .and_then(|node| usize::try_from(node.lists).ok())
            .and_then(|list| self.lists.get(list))
            .map_or(&[], |lists| &lists.enumeration)
    }

    /// The table, unpacked: texts are owned copies of their spans. The packed table stays
    /// (a tree is read through `&self`), so once a request has read the cold table the tree
    /// holds both.
    pub fn unpack(&self) -> Box<[NodeMeta]> {
        unpack(&self.packed, &self.text, &self.lists, |text| {
            Cow::Owned(text.to_owned())
        })
    }
}

const NOTHING_PACKED: PackedMeta = PackedMeta {
    texts: [TextSpan::NONE; TEXTS],
    lists: u32::MAX,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::{Lit, NodeMeta};
    use crate::typed::build::{PLACEHOLDER, paths_text};

    const FULL: NodeMeta = NodeMeta {
        unit: Some(Cow::Borrowed("km/h")),
        description: Some(Cow::Borrowed("Geschwindigkeit — ü, 速度.")),
        comment: Some(Cow::Borrowed("")),
        deprecation: Some(Cow::Borrowed("v5: moved")),
        min_text: Some(Cow::Borrowed("0.0")),
        max_text: Some(Cow::Borrowed("250")),
        pattern: Some(Cow::Borrowed("^[0-9]+$")),
        const_uid: Some(Cow::Borrowed("0x1234ABCD")),
        enumeration: Cow::Borrowed(&[EnumEntry {
            name: Cow::Borrowed("RAIN"),
            value: Lit::number("1"),
        }]),
        fka: Cow::Borrowed(&[Cow::Borrowed("Vehicle.Old")]),
        extended: Cow::Borrowed(&[Extended {
            name: Cow::Borrowed("dbc"),
            json: Cow::Borrowed("\"Speed\""),
        }]),
    };
    const ONLY_LIST: NodeMeta = NodeMeta {
        fka: Cow::Borrowed(&[Cow::Borrowed("Vehicle.Older")]),
        ..NodeMeta::EMPTY
    };
    const TABLES: Tables<4> =
        Tables::new([PLACEHOLDER; 4], [FULL, NodeMeta::EMPTY, ONLY_LIST, FULL]);
    const LEN: usize = meta_text_len(TABLES);
    const BYTES: [u8; LEN] = meta_text_bytes(TABLES);
    static TEXT: &str = paths_text(&BYTES);
    static PACKED: [PackedMeta; 4] = packed_meta(TABLES);
    const LIST_COUNT: usize = meta_list_count(TABLES);
    static LISTS: [MetaLists; LIST_COUNT] = meta_lists(TABLES);

    #[test]
    fn unpacking_gives_back_every_text_and_list_including_empty_and_absent_ones() {
        assert_eq!(LIST_COUNT, 3, "the empty node has no lists");
        let unpacked = unpack_meta(&PACKED, TEXT, &LISTS);
        assert_eq!(&*unpacked, [FULL, NodeMeta::EMPTY, ONLY_LIST, FULL]);
        assert_eq!(PACKED[1].texts, [TextSpan::NONE; TEXTS]);
    }

    #[test]
    fn a_table_packed_at_run_time_unpacks_to_itself() {
        let owned = |meta: &NodeMeta| NodeMeta {
            description: meta
                .description
                .clone()
                .map(|text| Cow::Owned(text.into_owned())),
            enumeration: Cow::Owned(meta.enumeration.to_vec()),
            ..meta.clone()
        };
        let table = [FULL, NodeMeta::EMPTY, ONLY_LIST, owned(&FULL)];
        let packed = PackedTable::new(table.iter().map(owned).collect());
        assert_eq!(&*packed.unpack(), table);
        assert_eq!(packed.enumeration(0), &*FULL.enumeration);
        assert_eq!(packed.enumeration(1), []);
        assert_eq!(packed.enumeration(2), [], "lists, but no enum");
        assert_eq!(packed.enumeration(4), [], "no such node");
        assert_eq!(packed.lists.len(), 3, "the empty node has no lists");
        assert_eq!(&*packed.text, TEXT, "laid out as a derived tree's");
        assert_eq!(&*PackedTable::new(Vec::new()).unpack(), []);
    }

    #[test]
    fn spans_out_of_the_text_read_as_absent_rather_than_panicking() {
        let bad = PackedMeta {
            texts: [TextSpan {
                start: u32::MAX - 1,
                len: 5,
            }; TEXTS],
            lists: 7,
        };
        let unpacked = unpack_meta(&[bad], TEXT, &LISTS);
        assert_eq!(unpacked[0], NodeMeta::EMPTY);
    }
}
