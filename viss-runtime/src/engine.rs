//! The transport-independent VISS v3 engine.
//!
//! A transport calls [`Engine::handle`] with the request bytes, the connection's
//! [`Session`] and a reused output buffer, and sends what the engine wrote. Events are
//! pushed into the session's bounded queue by feeders ([`Engine::update`]) and timers
//! ([`Engine::tick`]); the transport drains them with [`Session::next_event`].
//!
//! The engine is `Send + Sync`: every method takes `&self`, per-signal state sits behind
//! per-slot locks, per-subscription state behind per-subscription locks.

use std::sync::{Arc, OnceLock};

use jiff::{SignedDuration, Timestamp};
use parking_lot::{Mutex, RwLock};

use crate::error::VissError;
use crate::filter::curvelog::{CurveBuffer, Selected};
use crate::filter::{self, Condition, Filter};
use crate::request::{self, Action, Request};
use crate::response::{
    self, begin, error_response, finish, key, write_data_objects, write_dp, write_json_str,
};
use crate::slots::NodeSlots;
use crate::store::{HistoryConfig, Sample, SignalStore};
use crate::subscription::{EventQueue, Session, Subscription, SubscriptionState, Trigger};
use crate::tree::{NodeId, NodeKind, VissTree};
use crate::value::{Value, parse_wire};

/// Source of "now" for `ts` members and timers (injectable for tests).
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that only moves when told to (tests, simulations).
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<Timestamp>,
}

impl ManualClock {
    pub fn new(start: Timestamp) -> Self {
        Self {
            now: Mutex::new(start),
        }
    }

    pub fn set(&self, now: Timestamp) {
        *self.now.lock() = now;
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: SignedDuration) {
        let mut now = self.now.lock();
        *now = now.checked_add(by).unwrap_or(*now);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.now.lock()
    }
}

/// Sees every accepted `set` (the provider forwards it to the vehicle).
pub trait SetHook: Send + Sync {
    fn on_set(&self, node: NodeId, path: &str, value: &Value);
}

/// Limits and options. No limit is fixed in code; all are here.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineConfig {
    /// Events buffered per connection before the oldest is discarded.
    pub queue_capacity: usize,
    /// Subscriptions one connection may hold (`429` beyond).
    pub max_subscriptions_per_session: usize,
    /// Largest curvelog `bufsize` accepted.
    pub max_curvelog_buffer: usize,
    /// History recorder; `None` answers `history` with `404 "Unsupported feature"`.
    pub history: Option<HistoryConfig>,
    /// Report missing values of multi-signal reads in-line (TRANSPORT §4.1.1) instead of
    /// failing the request. Must be off when access control applies.
    pub inline_errors: bool,
    /// Subscriptions older than this end with a `408 request_timeout` error event
    /// (checked by [`Engine::tick`]); `None` = no limit.
    pub max_subscription_duration: Option<SignedDuration>,
    /// Signals curve-logged together as one N-dimensional point (full paths).
    pub curvelog_groups: Vec<Vec<String>>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            queue_capacity: 1024,
            max_subscriptions_per_session: 10_000,
            max_curvelog_buffer: 10_000,
            // 100 samples of ~48 bytes per signal: under 9 MB for a fully fed 1,720-node tree.
            history: Some(HistoryConfig {
                retention: SignedDuration::from_hours(24),
                max_samples: 100,
            }),
            inline_errors: true,
            max_subscription_duration: None,
            curvelog_groups: vec![
                vec![
                    "Vehicle.CurrentLocation.Latitude".into(),
                    "Vehicle.CurrentLocation.Longitude".into(),
                ],
                vec![
                    "Vehicle.Acceleration.Lateral".into(),
                    "Vehicle.Acceleration.Longitudinal".into(),
                    "Vehicle.Acceleration.Vertical".into(),
                ],
            ],
        }
    }
}

/// The VISS v3 engine over a tree `T`.
pub struct Engine<T: VissTree> {
    tree: T,
    store: SignalStore,
    config: EngineConfig,
    clock: Arc<dyn Clock>,
    provider: Option<Arc<dyn SetHook>>,
    /// Per node: subscriptions triggered by samples of that node.
    /// The subscriptions watching each node; a chunk exists once one of its nodes is watched.
    watchers: NodeSlots<RwLock<Vec<Arc<Subscription>>>>,
    timed: Mutex<Vec<Arc<Subscription>>>,
    /// Subscriptions with a duration limit, checked by `tick`.
    limited: Mutex<Vec<(Timestamp, Arc<Subscription>)>>,
    /// [`EngineConfig::curvelog_groups`] as node ids, resolved by the first curvelog
    /// subscription (resolving reads the path index and node table, which a starting
    /// server otherwise leaves alone).
    groups: OnceLock<Vec<Vec<NodeId>>>,
    /// The nodes with a `pattern`, in node order, each compiled on its first `set`: most
    /// patterns sit on attributes no client sets, and an idle server then never touches
    /// the regex compiler (its code and heap would add to the idle footprint).
    patterns: Vec<(NodeId, OnceLock<Option<regex::Regex>>)>,
}

impl<T: VissTree> std::fmt::Debug for Engine<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("nodes", &self.tree.nodes().len())
            .field("config", &self.config)
            .finish()
    }
}

impl<T: VissTree> Engine<T> {
    /// An engine over `tree` with the system clock and no provider.
    pub fn new(tree: T, config: EngineConfig) -> Self {
        Self::with_clock(tree, config, Arc::new(SystemClock))
    }

    /// An engine with an injected clock.
    pub fn with_clock(tree: T, config: EngineConfig, clock: Arc<dyn Clock>) -> Self {
        let store = SignalStore::new(&tree, config.history, clock.now());
        let watchers = NodeSlots::new(tree.nodes().len());
        let patterns = pattern_nodes(&tree);
        Self {
            tree,
            store,
            config,
            clock,
            provider: None,
            watchers,
            timed: Mutex::new(Vec::new()),
            limited: Mutex::new(Vec::new()),
            groups: OnceLock::new(),
            patterns,
        }
    }

    /// Installs the hook that sees accepted `set`s.
    pub fn set_provider(&mut self, provider: Arc<dyn SetHook>) {
        self.provider = Some(provider);
    }

    pub fn tree(&self) -> &T {
        &self.tree
    }

    pub fn store(&self) -> &SignalStore {
        &self.store
    }

    /// A new per-connection session.
    pub fn open_session(&self) -> Session {
        Session::new(self.config.queue_capacity)
    }

    /// Ends every subscription of `session` now (dropping the session does it lazily).
    pub fn close_session(&self, session: &mut Session) {
        let subscriptions: Vec<_> = session
            .subscriptions
            .drain()
            .map(|(_, subscription)| subscription)
            .collect();
        for subscription in subscriptions {
            self.forget(&subscription);
        }
    }

    /// Ends subscription `id` of `session` with an error event (CORE §5.2: an error event
    /// terminates the subscription), e.g. when the transport sees its token expire.
    /// Returns false when the session has no such subscription.
    pub fn terminate(&self, session: &mut Session, id: u64, error: VissError) -> bool {
        let Some(subscription) = session.subscriptions.remove(&id) else {
            return false;
        };
        self.forget(&subscription);
        let now = self.clock.now();
        subscription.queue.push_with(|out| {
            response::error_event(out, itoa::Buffer::new().format(id), error, now)
        });
        true
    }

    /// Answers one request: clears `out` and writes the response into it.
    pub fn handle(&self, session: &mut Session, bytes: &[u8], out: &mut Vec<u8>) {
        out.clear();
        let now = self.clock.now();
        let request = match request::parse(bytes) {
            Ok(request) => request,
            Err(rejected) => {
                let action = rejected.action.as_deref();
                return error_response(
                    out,
                    action,
                    rejected.request_id.as_deref(),
                    rejected.error,
                    now,
                );
            }
        };
        let result = match request.action {
            Action::Get => self.get(session, &request, now, out),
            Action::Set => self.set(&request, now, out),
            Action::Subscribe => self.subscribe(session, &request, now, out),
            Action::Unsubscribe => self.unsubscribe(session, &request, now, out),
        };
        if let Err(error) = result {
            error_response(
                out,
                Some(request.action.as_str()),
                request.request_id.as_deref(),
                error,
                now,
            );
        }
    }

    /// Feeds a new sample of `node` (coerced to the node's datatype) and runs the
    /// subscriptions it triggers.
    pub fn update(&self, node: NodeId, value: Value, ts: Timestamp) -> Result<(), VissError> {
        let info = self
            .tree
            .nodes()
            .get(node.index())
            .ok_or(VissError::DataUnknown)?;
        let datatype = info.datatype.as_ref().ok_or(VissError::BranchAction)?;
        let value = value
            .coerce_to(datatype)
            .ok_or(VissError::IncorrectDataType)?;
        let sample = Sample { value, ts };
        let has_watchers = self
            .watchers
            .get(node.index())
            .is_some_and(|watchers| !watchers.read().is_empty());
        if !has_watchers {
            self.store.write(node, sample);
            return Ok(());
        }
        self.store.write(node, sample.clone());
        self.notify(node, &sample);
        Ok(())
    }

    /// [`Engine::update`] by path.
    pub fn update_path(&self, path: &str, value: Value, ts: Timestamp) -> Result<(), VissError> {
        let node = self.tree.lookup(path).ok_or(VissError::DataUnknown)?;
        self.update(node, value, ts)
    }

    /// Marks a signal as not available.
    pub fn mark_unavailable(&self, node: NodeId) {
        self.store.clear(node);
    }

    /// Runs the timers due at `now` (`timebased` events) and forgets ended subscriptions.
    pub fn tick(&self, now: Timestamp) {
        let mut timed = self.timed.lock();
        timed.retain(|subscription| subscription.is_active());
        for subscription in timed.iter() {
            let Trigger::Timebased { period_ms } = subscription.trigger else {
                continue;
            };
            let period = SignedDuration::from_millis(period_ms as i64);
            let mut state = subscription.state.lock();
            let Some(due) = state.next_due else { continue };
            if due > now {
                continue;
            }
            let next = due.checked_add(period).unwrap_or(now);
            state.next_due = Some(if next <= now {
                now.checked_add(period).unwrap_or(now)
            } else {
                next
            });
            drop(state);
            self.push_event(subscription, now);
        }
        drop(timed);
        self.end_expired(now);
        for (_, watchers) in self.watchers.iter() {
            let stale = watchers
                .read()
                .iter()
                .any(|subscription| !subscription.is_active());
            if stale {
                watchers
                    .write()
                    .retain(|subscription| subscription.is_active());
            }
        }
    }

    /// Ends subscriptions past their duration limit with a `408` error event.
    fn end_expired(&self, now: Timestamp) {
        let expired: Vec<Arc<Subscription>> = {
            let mut limited = self.limited.lock();
            if limited.is_empty() {
                return;
            }
            let (expired, running) = std::mem::take(&mut *limited)
                .into_iter()
                .filter(|(_, subscription)| subscription.is_active())
                .partition::<Vec<_>, _>(|(deadline, _)| *deadline <= now);
            *limited = running;
            expired
                .into_iter()
                .map(|(_, subscription)| subscription)
                .collect()
        };
        for subscription in expired {
            self.forget(&subscription);
            let error = VissError::Default(crate::error::ErrorKind::RequestTimeout);
            let mut id = itoa::Buffer::new();
            let id = id.format(subscription.id);
            subscription
                .queue
                .push_with(|out| response::error_event(out, id, error, now));
        }
    }

    // ---- get -------------------------------------------------------------------------

    fn get(
        &self,
        session: &mut Session,
        request: &Request<'_>,
        now: Timestamp,
        out: &mut Vec<u8>,
    ) -> Result<(), VissError> {
        let node = self.request_node(request)?;
        let filter = match request.filter {
            Some(raw) => filter::parse(raw, Action::Get)?,
            None => Filter::default(),
        };
        if request.dc.is_some() {
            return Err(VissError::UnsupportedFeature);
        }
        match filter.condition {
            Some(Condition::Metadata(generations)) => {
                self.write_metadata(session, request, node, &filter, generations, now, out)
            }
            Some(Condition::History(period)) => {
                self.addressed(session, node, &filter)?;
                self.write_history(&session.scratch.nodes, request, period, now, out)
            }
            _ => {
                self.addressed(session, node, &filter)?;
                self.write_values(&session.scratch.nodes, request, now, out)
            }
        }
    }

    fn request_node(&self, request: &Request<'_>) -> Result<NodeId, VissError> {
        let path = request.path.as_deref().ok_or(VissError::InvalidPath)?;
        request::check_path(path)?;
        self.tree.lookup(path).ok_or(VissError::DataUnknown)
    }

    /// Fills `session.scratch.nodes` with the leaves a request addresses.
    fn addressed(
        &self,
        session: &mut Session,
        node: NodeId,
        filter: &Filter<'_>,
    ) -> Result<(), VissError> {
        let scratch = &mut session.scratch;
        match &filter.paths {
            Some(expressions) => {
                filter::paths::resolve(&self.tree, node, expressions, true, scratch)?
            }
            None => {
                scratch.nodes.clear();
                scratch.nodes.extend(self.tree.leaves_under(node));
            }
        }
        if scratch.nodes.is_empty() {
            return Err(VissError::DataUnknown);
        }
        Ok(())
    }

    fn write_values(
        &self,
        nodes: &[NodeId],
        request: &Request<'_>,
        now: Timestamp,
        out: &mut Vec<u8>,
    ) -> Result<(), VissError> {
        let inline = nodes.len() > 1 && self.config.inline_errors;
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
        finish(out, now);
        Ok(())
    }

    /// Writes the `data` member value: an object for one node, else an array.
    fn write_data(&self, out: &mut Vec<u8>, nodes: &[NodeId], now: Timestamp) {
        write_data_objects(
            out,
            nodes.iter(),
            |node| &self.tree.node(**node).path,
            |out, node| {
                self.store.read(*node, |sample| match sample {
                    Some(sample) => write_dp(out, Some(&sample.value), sample.ts),
                    None => write_dp(out, None, now),
                });
            },
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn write_metadata(
        &self,
        session: &mut Session,
        request: &Request<'_>,
        node: NodeId,
        filter: &Filter<'_>,
        generations: u32,
        now: Timestamp,
        out: &mut Vec<u8>,
    ) -> Result<(), VissError> {
        begin(out, Some("get"), request.request_id.as_deref());
        key(out, "metadata");
        out.push(b'{');
        match &filter.paths {
            None => {
                write_json_str(out, &self.tree.node(node).name);
                out.push(b':');
                filter::metadata::write_node(out, &self.tree, node, generations);
            }
            Some(expressions) => {
                filter::paths::resolve(&self.tree, node, expressions, false, &mut session.scratch)?;
                for (position, end) in session.scratch.nodes.iter().enumerate() {
                    if position > 0 {
                        out.push(b',');
                    }
                    write_json_str(out, &self.tree.node(*end).path);
                    out.push(b':');
                    filter::metadata::write_node(out, &self.tree, *end, generations);
                }
            }
        }
        out.push(b'}');
        finish(out, now);
        Ok(())
    }

    fn write_history(
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
        let with_history: Vec<NodeId> = nodes
            .iter()
            .copied()
            .filter(|node| self.store.visit_history(*node, since, |_| {}) > 0)
            .collect();
        if with_history.is_empty() {
            return Err(VissError::Default(crate::error::ErrorKind::UnavailableData));
        }
        begin(out, Some("get"), request.request_id.as_deref());
        key(out, "data");
        write_data_objects(
            out,
            with_history.iter(),
            |node| &self.tree.node(**node).path,
            |out, node| {
                out.push(b'[');
                let mut first = true;
                self.store.visit_history(*node, since, |sample| {
                    if !first {
                        out.push(b',');
                    }
                    first = false;
                    write_dp(out, Some(&sample.value), sample.ts);
                });
                out.push(b']');
            },
        );
        finish(out, now);
        Ok(())
    }

    // ---- set -------------------------------------------------------------------------

    fn set(
        &self,
        request: &Request<'_>,
        now: Timestamp,
        out: &mut Vec<u8>,
    ) -> Result<(), VissError> {
        let node = self.request_node(request)?;
        if request.filter.is_some() {
            return Err(VissError::IncorrectFilter);
        }
        let info = self.tree.node(node);
        match info.kind {
            NodeKind::Branch => return Err(VissError::BranchAction),
            NodeKind::Sensor | NodeKind::Attribute => return Err(VissError::SensorUpdate),
            NodeKind::Actuator => {}
        }
        let raw = request.value.ok_or(VissError::InvalidValue)?;
        let value = parse_wire(raw, info, self.tree.enumeration(node))?;
        self.check_pattern(node, &value)?;
        if let Some(provider) = &self.provider {
            provider.on_set(node, &info.path, &value);
        }
        self.store.write_target(node, Sample { value, ts: now });
        begin(out, Some("set"), request.request_id.as_deref());
        finish(out, now);
        Ok(())
    }

    /// String values of a node with a `pattern` must match it (a search, as JSON Schema's
    /// `pattern`; VSS patterns anchor themselves with `^...$`).
    fn check_pattern(&self, node: NodeId, value: &Value) -> Result<(), VissError> {
        let Ok(position) = self.patterns.binary_search_by_key(&node, |(id, _)| *id) else {
            return Ok(());
        };
        let Some(regex) = self.patterns[position].1.get_or_init(|| {
            let pattern = self
                .tree
                .node_meta()
                .get(node.index())?
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

    // ---- subscribe / unsubscribe -----------------------------------------------------

    fn subscribe(
        &self,
        session: &mut Session,
        request: &Request<'_>,
        now: Timestamp,
        out: &mut Vec<u8>,
    ) -> Result<(), VissError> {
        let node = self.request_node(request)?;
        let raw_filter = request.filter.ok_or(VissError::InvalidFilter)?;
        let filter = filter::parse(raw_filter, Action::Subscribe)?;
        if request.dc.is_some() {
            return Err(VissError::UnsupportedFeature);
        }
        // Subscriptions ended by the engine (duration limit) no longer count.
        session
            .subscriptions
            .retain(|_, subscription| subscription.is_active());
        if session.subscriptions.len() >= self.config.max_subscriptions_per_session {
            return Err(VissError::Default(crate::error::ErrorKind::TooManyRequests));
        }
        self.addressed(session, node, &filter)?;
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
            state: Mutex::new(SubscriptionState::default()),
        });
        self.start(&subscription, now);
        if let Some(limit) = self.config.max_subscription_duration {
            let deadline = now.checked_add(limit).unwrap_or(Timestamp::MAX);
            self.limited
                .lock()
                .push((deadline, Arc::clone(&subscription)));
        }
        session.subscriptions.insert(id, subscription);
        begin(out, Some("subscribe"), request.request_id.as_deref());
        key(out, "subscriptionId");
        write_json_str(out, itoa::Buffer::new().format(id));
        finish(out, now);
        Ok(())
    }

    /// Checks the filter against the addressed signals' datatypes.
    fn trigger_for(
        &self,
        filter: &Filter<'_>,
        node: NodeId,
        nodes: &[NodeId],
    ) -> Result<Trigger, VissError> {
        let first = nodes.first().copied().ok_or(VissError::DataUnknown)?;
        let trigger_datatype = self.tree.node(first).datatype.as_ref();
        let is_numeric = |leaf: &NodeId| {
            self.tree
                .node(*leaf)
                .datatype
                .as_ref()
                .and_then(|datatype| datatype.numeric_scalar())
                .is_some()
        };
        let branch_trigger =
            filter.paths.is_none() && self.tree.node(node).kind == NodeKind::Branch;
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
            Some(Condition::History(_) | Condition::Metadata(_)) => Err(VissError::IncorrectFilter),
            None => Err(VissError::InvalidFilter),
        }
    }

    /// Initial state and registration of a new subscription.
    fn start(&self, subscription: &Arc<Subscription>, now: Timestamp) {
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
    fn curvelog_groups(&self) -> &[Vec<NodeId>] {
        self.groups.get_or_init(|| {
            let groups = self.config.curvelog_groups.iter().map(|group| {
                let members = group.iter().filter_map(|path| self.tree.lookup(path));
                members.collect::<Vec<_>>()
            });
            groups.filter(|group| group.len() >= 2).collect()
        })
    }

    /// One buffer per configured dimension group fully or partly addressed (≥ 2 members),
    /// one per remaining signal.
    fn curve_buffers(&self, nodes: &[NodeId], buffer_size: usize) -> Vec<CurveBuffer> {
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
    fn group_row(
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

    fn unsubscribe(
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
        let id: u64 = id_text
            .parse()
            .map_err(|_| VissError::UnknownSubscriptionId)?;
        let subscription = session
            .subscriptions
            .remove(&id)
            .filter(|subscription| subscription.is_active())
            .ok_or(VissError::UnknownSubscriptionId)?;
        self.flush_curves(&subscription, now);
        self.forget(&subscription);
        begin(out, Some("unsubscribe"), request.request_id.as_deref());
        finish(out, now);
        Ok(())
    }

    /// Sends what curvelog buffers still hold (the curve's last point).
    fn flush_curves(&self, subscription: &Subscription, now: Timestamp) {
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

    fn forget(&self, subscription: &Arc<Subscription>) {
        subscription.deactivate();
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

    // ---- events ----------------------------------------------------------------------

    fn notify(&self, node: NodeId, sample: &Sample) {
        let Some(watchers) = self.watchers.get(node.index()) else {
            return;
        };
        let watchers = watchers.read();
        let now = self.clock.now();
        for subscription in watchers
            .iter()
            .filter(|subscription| subscription.is_active())
        {
            self.on_sample(subscription, node, sample, now);
        }
    }

    fn on_sample(
        &self,
        subscription: &Subscription,
        node: NodeId,
        sample: &Sample,
        now: Timestamp,
    ) {
        let fires = match &subscription.trigger {
            Trigger::Range(range) => sample
                .value
                .as_f64()
                .is_some_and(|value| range.matches(value)),
            Trigger::Change(change) => {
                let mut state = subscription.state.lock();
                let previous = state.previous.replace(sample.value.clone());
                previous.is_some_and(|previous| change.fires(&previous, &sample.value))
            }
            Trigger::Curvelog(curvelog) => {
                self.curve_sample(subscription, curvelog.max_error, node, now);
                false
            }
            Trigger::Timebased { .. } => false,
        };
        if fires {
            self.push_event(subscription, now);
        }
    }

    fn curve_sample(
        &self,
        subscription: &Subscription,
        max_error: f64,
        node: NodeId,
        now: Timestamp,
    ) {
        let mut state = subscription.state.lock();
        let Some(curve) = state
            .curves
            .iter_mut()
            .find(|curve| curve.members.contains(&node))
        else {
            return;
        };
        let Some((ts, row)) = self.group_row(&curve.members, curve.last_time()) else {
            return;
        };
        let first_point = curve.is_empty();
        curve.push(ts, row, false);
        if first_point {
            // No value existed at subscribe time: this sample is the curve's first point.
            let selected = curve.drain(max_error);
            self.push_curve_event(subscription, &curve.members, &selected, now);
        } else if curve.len() >= curve_capacity(subscription) {
            let selected = curve.drain(max_error);
            self.push_curve_event(subscription, &curve.members, &selected, now);
        }
    }

    /// Queues an event with the current values of all addressed signals.
    fn push_event(&self, subscription: &Subscription, now: Timestamp) {
        subscription.queue.push_with(|out| {
            begin_event(out, subscription.id);
            self.write_data(out, &subscription.nodes, now);
            finish(out, now);
        });
    }

    /// Queues a curvelog event: a `dp` array per member.
    fn push_curve_event(
        &self,
        subscription: &Subscription,
        members: &[NodeId],
        selected: &Selected,
        now: Timestamp,
    ) {
        if selected.times.is_empty() {
            return;
        }
        let width = members.len();
        subscription.queue.push_with(|out| {
            begin_event(out, subscription.id);
            write_data_objects(
                out,
                members.iter().enumerate(),
                |(_, member)| &self.tree.node(**member).path,
                |out, (column, _)| {
                    let rows = selected.times.iter().enumerate();
                    crate::response::write_json_array(out, rows, |out, (row, ts)| {
                        write_dp(out, selected.values.get(row * width + column), *ts);
                    });
                },
            );
            finish(out, now);
        });
    }
}

fn curve_capacity(subscription: &Subscription) -> usize {
    match subscription.trigger {
        Trigger::Curvelog(curvelog) => curvelog.buffer_size,
        _ => usize::MAX,
    }
}

/// `{"action":"subscription","subscriptionId":"<id>","data":`
fn begin_event(out: &mut Vec<u8>, id: u64) {
    begin(out, Some("subscription"), None);
    key(out, "subscriptionId");
    write_json_str(out, itoa::Buffer::new().format(id));
    key(out, "data");
}

/// An event queue handle type re-exported for transports.
pub type SharedEventQueue = Arc<EventQueue>;

/// Writes an error event for `subscription_id` (used by transports that end a
/// subscription on their side, e.g. on token expiry).
pub fn write_error_event(
    out: &mut Vec<u8>,
    subscription_id: &str,
    error: VissError,
    now: Timestamp,
) {
    response::error_event(out, subscription_id, error, now);
}

/// The nodes with a `pattern`, in node order, not compiled yet. A pattern the `regex` crate
/// cannot compile (VSS patterns are Python regular expressions; look-around and
/// back-references have no equivalent) is not enforced.
fn pattern_nodes<T: VissTree>(tree: &T) -> Vec<(NodeId, OnceLock<Option<regex::Regex>>)> {
    let nodes = tree.pattern_nodes();
    nodes.iter().map(|id| (*id, OnceLock::new())).collect()
}
