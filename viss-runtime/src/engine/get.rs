//! `get`: current values, `paths`, `history` and `metadata` reads.

use jiff::{SignedDuration, Timestamp};

use super::Engine;
use crate::access::{Access, Guard};
use crate::dc::{self, Dc};
use crate::error::VissError;
use crate::filter::{self, Condition, Filter};
use crate::protocol::Version;
use crate::request::{self, Action, Request};
use crate::response::{
    begin, begin_data_object, finish, key, write_data_objects, write_dp, write_json_array,
    write_json_str,
};
use crate::store::Sample;
use crate::subscription::Session;
use crate::tree::{NodeId, VissTree};
use crate::value::Value;

impl<T: VissTree> Engine<T> {
    pub(super) fn get(
        &self,
        session: &mut Session,
        request: &Request<'_>,
        now: Timestamp,
        out: &mut Vec<u8>,
    ) -> Result<(), VissError> {
        let node = self.request_node(request)?;
        let version = session.version;
        let filter = match request.filter {
            Some(raw) => filter::parse(raw, Action::Get, session.filter_version())?,
            None => Filter::default(),
        };
        let dc = self.requested_dc(request, version)?;
        match filter.condition {
            Some(Condition::Metadata(generations)) => self.write_metadata(
                session,
                request,
                node,
                &filter,
                (generations, &[]),
                now,
                out,
            ),
            Some(Condition::StaticMetadata(ref keys)) => {
                self.write_metadata(session, request, node, &filter, (0, keys), now, out)
            }
            Some(Condition::Capabilities) => self.write_capabilities(request, now, out),
            Some(Condition::History(period)) => {
                self.addressed(session, node, &filter)?;
                let nodes = &session.scratch.nodes;
                self.clear(&mut session.tokens, request, Access::Read, nodes, now)?;
                self.write_history(&session.scratch.nodes, request, period, now, out)?;
                self.compress(out, dc, session.scratch.nodes.len() == 1);
                Ok(())
            }
            _ => {
                self.addressed(session, node, &filter)?;
                let nodes = &session.scratch.nodes;
                let cleared = self.clear(&mut session.tokens, request, Access::Read, nodes, now)?;
                // A get of the upload sensor itself (not of a branch or a `paths` filter
                // that comes down to it) starts an upload.
                if let [only] = session.scratch.nodes[..]
                    && only == node
                    && filter.paths.is_none()
                    && let Some(upload) = self.files.get().and_then(|files| files.upload(node))
                {
                    return self.write_one(request, node, &upload?, now, out);
                }
                // No in-line errors in an access-controlled answer (CORE §8.4.4).
                let inline = version == Version::V3
                    && self.config.inline_errors
                    && cleared.token_expires.is_none();
                self.write_values(&session.scratch.nodes, request, inline, now, out)?;
                self.compress(out, dc, session.scratch.nodes.len() == 1);
                Ok(())
            }
        }
    }

    /// The request's `dc`, when it asks for compression (VISSv2 has none: ignored there).
    pub(super) fn requested_dc(
        &self,
        request: &Request<'_>,
        version: Version,
    ) -> Result<Option<Dc>, VissError> {
        match (&request.dc, version) {
            (Some(text), Version::V3) => dc::parse(text),
            _ => Ok(None),
        }
    }

    /// Applies `dc` to a finished `get` response (one response: paths of several signals
    /// stay whole).
    fn compress(&self, out: &mut Vec<u8>, dc: Option<Dc>, single_path: bool) {
        if let Some(dc) = dc {
            dc::compress(out, dc, single_path, None);
        }
    }

    /// VISSv2 `server_capabilities`: App. B's lists, read from the `Server` tree when the
    /// engine serves one (the one source of what is supported).
    fn write_capabilities(
        &self,
        request: &Request<'_>,
        now: Timestamp,
        out: &mut Vec<u8>,
    ) -> Result<(), VissError> {
        begin(out, Some("get"), request.request_id.as_deref());
        key(out, "metadata");
        out.push(b'{');
        for (name, path) in [
            ("filter", "Server.Support.Filter"),
            ("access_ctrl", "Server.Support.Security"),
            ("transport_protocol", "Server.Support.Protocol"),
        ] {
            if name != "filter" {
                out.push(b',');
            }
            write_json_str(out, name);
            out.push(b':');
            let value = self
                .forest
                .lookup(path)
                .and_then(|node| self.store.current(node));
            match value {
                Some(Sample {
                    value: Value::Array(items),
                    ..
                }) => {
                    let names = items.iter().map(|item| match item {
                        Value::String(text) => v2_capability_name(text),
                        _ => "",
                    });
                    // This answer is v2's dynamic metadata, so that filter is served too.
                    let dynamic = (name == "filter").then_some("dynamic_metadata");
                    write_json_array(out, names.chain(dynamic), write_json_str);
                }
                _ => out.extend_from_slice(b"[]"),
            }
        }
        out.push(b'}');
        finish(out, now);
        Ok(())
    }

    pub(super) fn request_node(&self, request: &Request<'_>) -> Result<NodeId, VissError> {
        let path = request.path.as_deref().ok_or(VissError::InvalidPath)?;
        request::check_path(path)?;
        self.forest.lookup(path).ok_or(VissError::DataUnknown)
    }

    /// Fills `session.scratch.nodes` with the leaves a request addresses.
    pub(super) fn addressed(
        &self,
        session: &mut Session,
        node: NodeId,
        filter: &Filter<'_>,
    ) -> Result<(), VissError> {
        let scratch = &mut session.scratch;
        match &filter.paths {
            Some(expressions) => {
                filter::paths::resolve(&self.forest, node, expressions, true, scratch)?
            }
            None => {
                scratch.nodes.clear();
                scratch.nodes.extend(self.forest.leaves_under(node));
            }
        }
        if scratch.nodes.is_empty() {
            return Err(VissError::DataUnknown);
        }
        Ok(())
    }

    pub(super) fn write_values(
        &self,
        nodes: &[NodeId],
        request: &Request<'_>,
        inline_errors: bool,
        now: Timestamp,
        out: &mut Vec<u8>,
    ) -> Result<(), VissError> {
        let inline = nodes.len() > 1 && inline_errors;
        if !inline
            && nodes
                .iter()
                .any(|node| !self.store.read(*node, |sample| sample.is_some()))
        {
            return Err(VissError::DataTemporarilyUnaccessible);
        }
        begin(out, Some("get"), request.request_id.as_deref());
        key(out, "data");
        self.write_data(out, nodes, now);
        // A read of many signals takes long enough for feeders to write meanwhile: its
        // execution time is when it ends, so no data point is newer than the message.
        let executed = if nodes.len() > 1 {
            self.clock.now()
        } else {
            now
        };
        finish(out, executed);
        Ok(())
    }

    /// A `get` response of one node's `value`, which is not the stored one (an upload's
    /// descriptor).
    fn write_one(
        &self,
        request: &Request<'_>,
        node: NodeId,
        value: &Value,
        now: Timestamp,
        out: &mut Vec<u8>,
    ) -> Result<(), VissError> {
        begin(out, Some("get"), request.request_id.as_deref());
        key(out, "data");
        begin_data_object(out, &self.forest.node(node).path);
        write_dp(out, Some(value), now);
        out.push(b'}');
        finish(out, now);
        Ok(())
    }

    /// Writes the `data` member value: an object for one node, else an array.
    pub(super) fn write_data(&self, out: &mut Vec<u8>, nodes: &[NodeId], now: Timestamp) {
        write_data_objects(
            out,
            nodes.iter(),
            |node| &self.forest.node(**node).path,
            |out, node| {
                self.store.read(*node, |sample| match sample {
                    Some(sample) => write_dp(out, Some(&sample.value), sample.ts),
                    None => write_dp(out, None, now),
                });
            },
        );
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn write_metadata(
        &self,
        session: &mut Session,
        request: &Request<'_>,
        node: NodeId,
        filter: &Filter<'_>,
        (generations, keys): (u32, &[String]),
        now: Timestamp,
        out: &mut Vec<u8>,
    ) -> Result<(), VissError> {
        // Metadata is served without a token, but not the values of nodes whose reads need
        // one: an attribute's `default` is its value.
        let value_hidden = |node: NodeId| {
            self.guard
                .get()
                .is_some_and(|guard| Guard::needs_token(guard.tag(node), Access::Read))
        };
        begin(out, Some("get"), request.request_id.as_deref());
        key(out, "metadata");
        out.push(b'{');
        match &filter.paths {
            None => {
                write_json_str(out, &self.forest.node(node).name);
                out.push(b':');
                filter::metadata::write_node(
                    out,
                    &self.forest,
                    node,
                    generations,
                    keys,
                    &value_hidden,
                );
            }
            Some(expressions) => {
                filter::paths::resolve(
                    &self.forest,
                    node,
                    expressions,
                    false,
                    &mut session.scratch,
                )?;
                for (position, end) in session.scratch.nodes.iter().enumerate() {
                    if position > 0 {
                        out.push(b',');
                    }
                    write_json_str(out, &self.forest.node(*end).path);
                    out.push(b':');
                    filter::metadata::write_node(
                        out,
                        &self.forest,
                        *end,
                        generations,
                        keys,
                        &value_hidden,
                    );
                }
            }
        }
        out.push(b'}');
        finish(out, now);
        Ok(())
    }

    pub(super) fn write_history(
        &self,
        nodes: &[NodeId],
        request: &Request<'_>,
        period: SignedDuration,
        now: Timestamp,
        out: &mut Vec<u8>,
    ) -> Result<(), VissError> {
        if !self.store.records_history() {
            return Err(VissError::UnsupportedFeature);
        }
        let since = now.checked_sub(period).unwrap_or(Timestamp::MIN);
        // Per node: what the database recorded before its ring begins, then the ring.
        let mut budget = self.archive_budget();
        let with_history: Vec<(NodeId, Vec<Sample>)> = nodes
            .iter()
            .map(|node| (*node, self.archived_history(*node, since, &mut budget)))
            .filter(|(node, archived)| {
                !archived.is_empty() || self.store.visit_history(*node, since, |_| {}) > 0
            })
            .collect();
        if with_history.is_empty() {
            return Err(VissError::Default(crate::error::ErrorKind::UnavailableData));
        }
        begin(out, Some("get"), request.request_id.as_deref());
        key(out, "data");
        write_data_objects(
            out,
            with_history.iter(),
            |(node, _)| &self.forest.node(*node).path,
            |out, (node, archived)| {
                out.push(b'[');
                let mut first = true;
                let mut write = |sample: &Sample| {
                    if !first {
                        out.push(b',');
                    }
                    first = false;
                    write_dp(out, Some(&sample.value), sample.ts);
                };
                archived.iter().for_each(&mut write);
                self.store.visit_history(*node, since, write);
                out.push(b']');
            },
        );
        finish(out, now);
        Ok(())
    }
}

impl<T: VissTree> Engine<T> {
    /// Samples one `history` read may take from the database (0 without storage).
    fn archive_budget(&self) -> usize {
        #[cfg(feature = "storage")]
        if let Some(archive) = self.store.archive() {
            return archive.limit();
        }
        0
    }

    /// The samples of `node` the database recorded from `since` until its ring begins
    /// (none without storage, or for a signal it does not record), at most `budget` (which
    /// they use up), read back as a `set` would read them.
    fn archived_history(&self, node: NodeId, since: Timestamp, budget: &mut usize) -> Vec<Sample> {
        #[cfg(feature = "storage")]
        if let Some(archive) = self.store.archive()
            && let Some(until) = self.store.history_starts(node)
        {
            let mut samples = Vec::new();
            let path = &self.forest.node(node).path;
            archive.read(node, path, since..until, *budget, &mut |row| {
                if let Ok(value) = self.parse_stored(node, row.value) {
                    samples.push(Sample { value, ts: row.ts });
                }
            });
            *budget = budget.saturating_sub(samples.len());
            return samples;
        }
        let _ = (node, since, budget);
        Vec::new()
    }
}

/// App. B's VISSv2 spelling of a v3 capability name (metadata filters use underscores).
fn v2_capability_name(v3: &str) -> &str {
    match v3 {
        "metadata" => "static_metadata",
        "ws" => "wss",
        "http" => "https",
        other => other,
    }
}
