//! `paths`: several signals relative to the request path (CORE §7.1).
//!
//! Each expression is appended to the request path; `*` matches exactly one segment (any
//! name); an end point that is a branch stands for every leaf below it. Every expression
//! must match at least one node (else `404 "Data is unknown"`). The result keeps the first
//! expression's nodes first (it is the trigger signal), then parameter order, then tree
//! order within an expression, with duplicates removed.

use std::borrow::Cow;

use serde_json::value::RawValue;

use crate::error::VissError;
use crate::request::string_of;
use crate::tree::{Forest, NodeId, NodeKind, VissTree};

/// Parses the parameter: an array of strings, or one string (§18-Q2).
pub fn parse_parameter(raw: &RawValue) -> Result<Vec<Cow<'_, str>>, VissError> {
    let text = raw.get();
    let expressions: Vec<Cow<'_, str>> = if text.starts_with('"') {
        vec![string_of(raw).ok_or(VissError::InvalidFilter)?]
    } else {
        #[derive(serde::Deserialize)]
        struct Expressions<'a>(#[serde(borrow)] Vec<Cow<'a, str>>);
        serde_json::from_str::<Expressions<'_>>(text)
            .map_err(|_| VissError::InvalidFilter)?
            .0
    };
    let well_formed = |expression: &Cow<'_, str>| {
        expression
            .split(['.', '/'])
            .all(|segment| !segment.is_empty())
    };
    if expressions.is_empty() || !expressions.iter().all(well_formed) {
        return Err(VissError::InvalidFilter);
    }
    Ok(expressions)
}

/// Reusable working memory for path resolution (kept per session so requests do not
/// allocate once it has grown).
#[derive(Debug, Default, Clone)]
pub struct PathScratch {
    /// The resolved nodes of the last call.
    pub nodes: Vec<NodeId>,
    seen: Vec<u64>,
    frontier: Vec<NodeId>,
    next: Vec<NodeId>,
}

impl PathScratch {
    fn insert(&mut self, node: NodeId) {
        let (word, bit) = (node.index() / 64, node.index() % 64);
        if let Some(bits) = self.seen.get_mut(word)
            && *bits & (1 << bit) == 0
        {
            *bits |= 1 << bit;
            self.nodes.push(node);
        }
    }

    fn reset_seen(&mut self) {
        for node in &self.nodes {
            if let Some(bits) = self.seen.get_mut(node.index() / 64) {
                *bits = 0;
            }
        }
    }
}

/// Resolves `expressions` below `base` into `scratch.nodes`. With `expand_branches`, a
/// branch end point is replaced by its leaves (data requests); without, end points are kept
/// (metadata requests).
pub fn resolve<T: VissTree>(
    tree: &Forest<T>,
    base: NodeId,
    expressions: &[Cow<'_, str>],
    expand_branches: bool,
    scratch: &mut PathScratch,
) -> Result<(), VissError> {
    scratch.nodes.clear();
    let words = tree.node_count().div_ceil(64);
    if scratch.seen.len() < words {
        scratch.seen.resize(words, 0);
    }
    let result = expressions.iter().try_for_each(|expression| {
        resolve_one(tree, base, expression, scratch)?;
        let frontier = std::mem::take(&mut scratch.frontier);
        for end in &frontier {
            if expand_branches && tree.node(*end).kind == NodeKind::Branch {
                tree.leaves_under(*end)
                    .for_each(|leaf| scratch.insert(leaf));
            } else {
                scratch.insert(*end);
            }
        }
        scratch.frontier = frontier;
        Ok(())
    });
    scratch.reset_seen();
    result
}

/// Leaves the nodes matching one expression in `scratch.frontier`.
fn resolve_one<T: VissTree>(
    tree: &Forest<T>,
    base: NodeId,
    expression: &str,
    scratch: &mut PathScratch,
) -> Result<(), VissError> {
    scratch.frontier.clear();
    scratch.frontier.push(base);
    for segment in expression.split(['.', '/']) {
        scratch.next.clear();
        for node in &scratch.frontier {
            if segment == "*" {
                scratch.next.extend(tree.children(*node));
            } else if let Some(child) = tree.child_by_name(*node, segment) {
                scratch.next.push(child);
            }
        }
        std::mem::swap(&mut scratch.frontier, &mut scratch.next);
        if scratch.frontier.is_empty() {
            return Err(VissError::DataUnknown);
        }
    }
    Ok(())
}
