//! `subscribe` and `unsubscribe`: triggers from filters, registration, termination.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use parking_lot::Mutex;

use super::Engine;
use crate::access::Access;
use crate::error::VissError;
use crate::filter::curvelog::CurveBuffer;
use crate::filter::{self, Condition, Filter};
use crate::protocol::Version;
use crate::request::{Action, Request};
use crate::response::{begin, finish, key, write_json_str};
use crate::subscription::{Session, Subscription, SubscriptionState, Trigger};
use crate::tree::{NodeId, NodeKind, VissTree};
use crate::value::Value;

impl<T: VissTree> Engine<T> {
    pub(super) fn subscribe(
        &self,
        session: &mut Session,
        request: &Request<'_>,
        now: Timestamp,
        out: &mut Vec<u8>,
    ) -> Result<(), VissError> {
        let node = self.request_node(request)?;
        let version = session.version;
        let filter = match (request.filter, version) {
            (Some(raw), _) => filter::parse(raw, Action::Subscribe, session.filter_version())?,
            // VISSv2: no filter = an event on every new value (A1).
            (None, Version::V2) => Filter::default(),
            (None, Version::V3) => return Err(VissError::InvalidFilter),
        };
        let dc = self.requested_dc(request, version)?;
        // Subscriptions ended by the engine (duration limit) no longer count.
        session
            .subscriptions
            .retain(|_, subscription| subscription.is_active());
        if session.subscriptions.len() >= self.config.max_subscriptions_per_session {
            return Err(VissError::Default(crate::error::ErrorKind::TooManyRequests));
        }
        self.addressed(session, node, &filter)?;
        let cleared = self.clear(
            &mut session.tokens,
            request,
            Access::Read,
            &session.scratch.nodes,
            now,
        )?;
        let nodes: Box<[NodeId]> = session.scratch.nodes.as_slice().into();
        let trigger = self.trigger_for(&filter, node, &nodes)?;
        let id = session.next_id;
        session.next_id += 1;
        let subscription = Arc::new(Subscription {
            id,
            nodes,
            trigger,
            queue: Arc::clone(&session.queue),
            active: true.into(),
            ended: Arc::clone(&self.ended),
            state: Mutex::new(SubscriptionState::default()),
            version,
            dc,
            path_index: Mutex::default(),
        });
        self.start(&subscription, now);
        if let Some(limit) = self.config.max_subscription_duration {
            let deadline = now.checked_add(limit).unwrap_or(Timestamp::MAX);
            let error = VissError::Default(crate::error::ErrorKind::RequestTimeout);
            self.limited
                .lock()
                .push((deadline, Arc::clone(&subscription), error));
        }
        if let Some(expires) = cleared.token_expires {
            // The token's end is the subscription's (TRANSPORT's example: a 401 event).
            self.limited
                .lock()
                .push((expires, Arc::clone(&subscription), VissError::TokenExpired));
        }
        if self.config.max_subscription_duration.is_some() || cleared.token_expires.is_some() {
            self.wake_timers();
        }
        begin(out, Some("subscribe"), request.request_id.as_deref());
        key(out, "subscriptionId");
        write_json_str(out, itoa::Buffer::new().format(id));
        finish(out, now);
        if subscription.trigger == Trigger::EveryUpdate {
            // The current values, so a v2 client sees its stream is live (compat §10.3).
            self.push_event(&subscription, now);
        }
        session.subscriptions.insert(id, subscription);
        Ok(())
    }

    /// Checks the filter against the addressed signals' datatypes.
    pub(super) fn trigger_for(
        &self,
        filter: &Filter<'_>,
        node: NodeId,
        nodes: &[NodeId],
    ) -> Result<Trigger, VissError> {
        let first = nodes.first().copied().ok_or(VissError::DataUnknown)?;
        let trigger_datatype = self.forest.node(first).datatype.as_ref();
        let is_numeric = |leaf: &NodeId| {
            self.forest
                .node(*leaf)
                .datatype
                .as_ref()
                .and_then(|datatype| datatype.numeric_scalar())
                .is_some()
        };
        let branch_trigger =
            filter.paths.is_none() && self.forest.node(node).kind == NodeKind::Branch;
        match &filter.condition {
            Some(Condition::Timebased { period_ms }) => Ok(Trigger::Timebased {
                period_ms: *period_ms,
            }),
            Some(Condition::Range(_) | Condition::Change(_)) if branch_trigger => {
                Err(VissError::BranchAction)
            }
            Some(Condition::Range(range)) if is_numeric(&first) => Ok(Trigger::Range(*range)),
            Some(Condition::Range(_)) => Err(VissError::IncorrectDataType),
            Some(Condition::Change(change)) => change
                .check_datatype(trigger_datatype)
                .map(|()| Trigger::Change(*change)),
            Some(Condition::Curvelog(curvelog))
                if curvelog.buffer_size > self.config.max_curvelog_buffer =>
            {
                Err(VissError::InvalidFilter)
            }
            Some(Condition::Curvelog(curvelog)) if nodes.iter().all(is_numeric) => {
                Ok(Trigger::Curvelog(*curvelog))
            }
            Some(Condition::Curvelog(_)) => Err(VissError::IncorrectDataType),
            Some(
                Condition::History(_)
                | Condition::Metadata(_)
                | Condition::StaticMetadata(_)
                | Condition::Capabilities,
            ) => Err(VissError::IncorrectFilter),
            // Only VISSv2 gets here without a condition (the v3 parser requires one).
            None => Ok(Trigger::EveryUpdate),
        }
    }

    /// Initial state and registration of a new subscription.
    pub(super) fn start(&self, subscription: &Arc<Subscription>, now: Timestamp) {
        let mut state = subscription.state.lock();
        let watched: &[NodeId] = match &subscription.trigger {
            Trigger::Timebased { period_ms } => {
                state.next_due = now
                    .checked_add(SignedDuration::from_millis(*period_ms as i64))
                    .ok();
                self.timed.lock().push(Arc::clone(subscription));
                &[]
            }
            Trigger::Change(_) => {
                state.previous = subscription
                    .nodes
                    .first()
                    .and_then(|node| self.store.current(*node))
                    .map(|sample| sample.value);
                &subscription.nodes[..1]
            }
            Trigger::Range(_) => &subscription.nodes[..1],
            Trigger::EveryUpdate => &subscription.nodes,
            Trigger::Curvelog(curvelog) => {
                state.curves = self.curve_buffers(&subscription.nodes, curvelog.buffer_size);
                for curve in &mut state.curves {
                    if let Some((ts, row)) = self.group_row(&curve.members, None) {
                        curve.push(ts, row, true);
                    }
                }
                &subscription.nodes
            }
        };
        drop(state);
        if matches!(subscription.trigger, Trigger::Timebased { .. }) {
            // After the subscription's lock is released: a waker only signals, but it need
            // not run under a lock either.
            self.wake_timers();
        }
        for node in watched {
            if let Some(watchers) = self.watchers.get_or_create(node.index()) {
                watchers.write().push(Arc::clone(subscription));
            }
        }
        if matches!(subscription.trigger, Trigger::Curvelog(_)) {
            // The curve's first point: the values current at subscribe time.
            self.push_event(subscription, now);
        }
    }

    /// The configured curvelog dimension groups whose paths exist (≥ 2 members each).
    pub(super) fn curvelog_groups(&self) -> &[Vec<NodeId>] {
        self.groups.get_or_init(|| {
            let groups = self.config.curvelog_groups.iter().map(|group| {
                let members = group.iter().filter_map(|path| self.forest.lookup(path));
                members.collect::<Vec<_>>()
            });
            groups.filter(|group| group.len() >= 2).collect()
        })
    }

    /// One buffer per configured dimension group fully or partly addressed (≥ 2 members),
    /// one per remaining signal.
    pub(super) fn curve_buffers(&self, nodes: &[NodeId], buffer_size: usize) -> Vec<CurveBuffer> {
        let mut grouped = vec![false; nodes.len()];
        let mut curves = Vec::new();
        for group in self.curvelog_groups() {
            let members: Vec<NodeId> = group
                .iter()
                .copied()
                .filter(|member| nodes.contains(member))
                .collect();
            if members.len() < 2 {
                continue;
            }
            for (position, node) in nodes.iter().enumerate() {
                grouped[position] |= members.contains(node);
            }
            curves.push(CurveBuffer::new(members, buffer_size));
        }
        for (position, node) in nodes.iter().enumerate() {
            if !grouped[position] {
                curves.push(CurveBuffer::new(vec![*node], buffer_size));
            }
        }
        curves
    }

    /// The current values of `members` when they share one capture time newer than `after`.
    pub(super) fn group_row(
        &self,
        members: &[NodeId],
        after: Option<Timestamp>,
    ) -> Option<(Timestamp, Vec<Value>)> {
        let mut ts = None;
        let mut row = Vec::with_capacity(members.len());
        for member in members {
            let sample = self.store.current(*member)?;
            if ts.is_some_and(|ts| ts != sample.ts) {
                return None;
            }
            ts = Some(sample.ts);
            row.push(sample.value);
        }
        let ts = ts?;
        if after.is_some_and(|after| ts <= after) {
            return None;
        }
        Some((ts, row))
    }

    pub(super) fn unsubscribe(
        &self,
        session: &mut Session,
        request: &Request<'_>,
        now: Timestamp,
        out: &mut Vec<u8>,
    ) -> Result<(), VissError> {
        let id_text = request
            .subscription_id
            .as_deref()
            .ok_or(VissError::bad_request())?;
        // TRANSPORT §4.1.2 (v3): 404; VISSv2 and its reference server: 400 (A7).
        let unknown = match session.version {
            Version::V2 => VissError::InvalidSubscriptionId,
            Version::V3 => VissError::UnknownSubscriptionId,
        };
        let id: u64 = id_text.parse().map_err(|_| unknown)?;
        let subscription = session
            .subscriptions
            .remove(&id)
            .filter(|subscription| subscription.is_active())
            .ok_or(unknown)?;
        self.flush_curves(&subscription, now);
        self.forget(&subscription);
        begin(out, Some("unsubscribe"), request.request_id.as_deref());
        if session.version == Version::V2 {
            key(out, "subscriptionId");
            write_json_str(out, id_text);
        }
        finish(out, now);
        Ok(())
    }

    /// Sends what curvelog buffers still hold (the curve's last point).
    pub(super) fn flush_curves(&self, subscription: &Subscription, now: Timestamp) {
        let Trigger::Curvelog(curvelog) = subscription.trigger else {
            return;
        };
        let mut state = subscription.state.lock();
        for curve in &mut state.curves {
            if curve.len() > 1 {
                let selected = curve.drain(curvelog.max_error);
                self.push_curve_event(subscription, &curve.members, &selected, now);
            }
        }
    }

    pub(super) fn forget(&self, subscription: &Arc<Subscription>) {
        subscription.deactivate();
        self.unhook(subscription);
    }

    /// Ends `subscription` with an error event, the last message it sends: unhooked first
    /// (taking the watcher and timer locks waits out a fan-out or tick in progress, so no
    /// event can follow), then the error queued, then marked inactive. Marking it inactive
    /// first would let a transport that closes inactive subscriptions with empty queues
    /// close it before the error is queued, and lose the error.
    pub(super) fn end_with_error(
        &self,
        subscription: &Arc<Subscription>,
        error: VissError,
        now: Timestamp,
    ) {
        self.unhook(subscription);
        let mut id = itoa::Buffer::new();
        let id = id.format(subscription.id);
        let version = subscription.version;
        subscription
            .queue
            .push_error_with(|out| crate::response::error_event(out, id, error, now, version));
        subscription.deactivate();
    }

    /// Removes `subscription` from the watcher lists of its nodes and from the timers.
    fn unhook(&self, subscription: &Arc<Subscription>) {
        for node in subscription.nodes.iter() {
            if let Some(watchers) = self.watchers.get(node.index()) {
                watchers
                    .write()
                    .retain(|other| !Arc::ptr_eq(other, subscription));
            }
        }
        self.timed
            .lock()
            .retain(|other| !Arc::ptr_eq(other, subscription));
    }
}
