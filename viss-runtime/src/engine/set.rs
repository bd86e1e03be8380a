//! `set`: actuator targets, checked against the node before anyone sees them.

use std::sync::OnceLock;

use jiff::Timestamp;

use super::Engine;
use crate::access::{Access, TokenCache};
use crate::error::VissError;
use crate::request::Request;
use crate::response::{begin, finish};
use crate::store::Sample;
use crate::structs;
use crate::tree::{Forest, NodeId, NodeKind, VissTree};
use crate::value::{Value, parse_wire};

impl<T: VissTree> Engine<T> {
    pub(super) fn set(
        &self,
        tokens: &mut TokenCache,
        request: &Request<'_>,
        now: Timestamp,
        out: &mut Vec<u8>,
    ) -> Result<(), VissError> {
        let node = self.request_node(request)?;
        if request.filter.is_some() {
            return Err(VissError::IncorrectFilter);
        }
        self.clear(tokens, request, Access::Write, &[node], now)?;
        let info = self.forest.node(node);
        match info.kind {
            NodeKind::Branch => return Err(VissError::BranchAction),
            NodeKind::Sensor | NodeKind::Attribute => return Err(VissError::SensorUpdate),
            NodeKind::Actuator => {}
        }
        let raw = request.value.ok_or(VissError::InvalidValue)?;
        let value = self.parse_value(node, raw)?;
        self.check_pattern(node, &value)?;
        // A file resource's target is the file announced; its current value becomes the
        // descriptor once the data channel has the whole file.
        let file = match self
            .files
            .get()
            .and_then(|files| files.download(node, &value))
        {
            Some(registered) => registered.map(|()| true)?,
            None => false,
        };
        let provider_echoes = match self.provider_of(node) {
            Some((provider, local)) => {
                provider.on_set(local, &info.path, &value);
                provider.echoes_target()
            }
            None => true,
        };
        let echoes = !file && provider_echoes && self.config.state_storage;
        if echoes {
            // State storage: the target is the current value at once, so set -> get and
            // set -> subscription event work without a vehicle behind the server.
            self.store.write_target(
                node,
                Sample {
                    value: value.clone(),
                    ts: now,
                },
            );
            self.update(node, value, now)?;
        } else {
            self.store.write_target(node, Sample { value, ts: now });
        }
        #[cfg(feature = "storage")]
        self.store.wait_for_set();
        begin(out, Some("set"), request.request_id.as_deref());
        finish(out, now);
        Ok(())
    }

    /// A stored value (its wire text) read back for `node` as a `set` would read it: the
    /// tree's datatype, limits and struct types as they are today.
    #[cfg(feature = "storage")]
    pub(crate) fn parse_stored(&self, node: NodeId, wire: &str) -> Result<Value, VissError> {
        let raw: &serde_json::value::RawValue =
            serde_json::from_str(wire).map_err(|_| VissError::InvalidValue)?;
        self.parse_value(node, raw)
    }

    /// A wire value for `node`: its datatype, limits, enumeration and struct type.
    fn parse_value(
        &self,
        node: NodeId,
        raw: &serde_json::value::RawValue,
    ) -> Result<Value, VissError> {
        let info = self.forest.node(node);
        let value = parse_wire(raw, info, self.forest.enumeration(node))?;
        match &info.datatype {
            Some(datatype) => {
                structs::check(value, datatype, &|name| self.forest.struct_type(name))
            }
            None => Ok(value),
        }
    }

    /// String values of a node with a `pattern` must match it (a search, as JSON Schema's
    /// `pattern`; VSS patterns anchor themselves with `^...$`).
    pub(super) fn check_pattern(&self, node: NodeId, value: &Value) -> Result<(), VissError> {
        let Ok(position) = self.patterns.binary_search_by_key(&node, |(id, _)| *id) else {
            return Ok(());
        };
        let Some(regex) = self.patterns[position].1.get_or_init(|| {
            let pattern = self
                .forest
                .get(node)
                .map(|_| self.forest.meta(node))?
                .pattern
                .as_deref()?;
            regex::Regex::new(pattern).ok()
        }) else {
            return Ok(());
        };
        let matches = match value {
            Value::String(text) => regex.is_match(text),
            Value::Array(items) => items.iter().all(|item| match item {
                Value::String(text) => regex.is_match(text),
                _ => true,
            }),
            _ => true,
        };
        if matches {
            Ok(())
        } else {
            Err(VissError::OutsideLimit)
        }
    }
}

/// The nodes with a `pattern`, in node order, not compiled yet. A pattern the `regex` crate
/// cannot compile (VSS patterns are Python regular expressions; look-around and
/// back-references have no equivalent) is not enforced.
pub(super) fn pattern_nodes<T: VissTree>(
    forest: &Forest<T>,
) -> Vec<(NodeId, OnceLock<Option<regex::Regex>>)> {
    let nodes = forest.pattern_nodes();
    nodes.iter().map(|id| (*id, OnceLock::new())).collect()
}
