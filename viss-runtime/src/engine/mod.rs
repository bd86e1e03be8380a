//! The transport-independent VISS v3 engine.
//!
//! A transport calls [`Engine::handle`] with the request bytes, the connection's
//! [`Session`] and a reused output buffer, and sends what the engine wrote. Events are
//! pushed into the session's bounded queue by feeders ([`Engine::update`]) and timers
//! ([`Engine::tick`]); the transport drains them with [`Session::next_event`].
//!
//! The engine is `Send + Sync`: every method takes `&self`, per-signal state sits behind
//! per-slot locks, per-subscription state behind per-subscription locks.

mod access;
mod events;
mod get;
mod set;
mod subscribe;

use std::sync::{Arc, OnceLock};

use jiff::{SignedDuration, Timestamp};
use parking_lot::{Mutex, RwLock};

use crate::error::VissError;
use crate::protocol::Version;
use crate::request::{self, Action};
use crate::response::ErrorContext;
use crate::response::{self, error_response};
use crate::slots::NodeSlots;
use crate::store::{HistoryConfig, Sample, SignalStore};
use crate::subscription::{EventQueue, Session, Subscription, Trigger};
use crate::tree::{Forest, NodeId, VissTree};
use crate::value::Value;
use set::pattern_nodes;

/// A timer loop's wake-up ([`Engine::add_timer_waker`]).
type TimerWaker = Arc<dyn Fn() + Send + Sync>;

/// The registered timer wake-ups, each under the number its [`TimerWakerGuard`] removes it by.
#[derive(Default)]
struct TimerWakers {
    next: u64,
    wakers: Vec<(u64, TimerWaker)>,
}

/// Keeps a wake-up from [`Engine::add_timer_waker`] registered; dropping it unregisters the
/// wake-up, so a timer loop that ends (a server stopped and started again on the same
/// engine) leaves nothing behind to be called.
#[must_use = "the wake-up is unregistered when this guard is dropped"]
pub struct TimerWakerGuard {
    wakers: std::sync::Weak<Mutex<TimerWakers>>,
    id: u64,
}

impl Drop for TimerWakerGuard {
    fn drop(&mut self) {
        if let Some(wakers) = self.wakers.upgrade() {
            wakers.lock().wakers.retain(|(id, _)| *id != self.id);
        }
    }
}

impl std::fmt::Debug for TimerWakerGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimerWakerGuard")
            .field("id", &self.id)
            .finish()
    }
}

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
    /// `node` is the id the hook's own tree knows the actuator by (the primary tree's ids are
    /// the engine's; a mounted tree's are its own: [`Engine::set_tree_provider`]).
    fn on_set(&self, node: NodeId, path: &str, value: &Value);

    /// True (the default) when an accepted target becomes the actuator's current value at
    /// once (state storage, what a server without a vehicle behind it needs). A provider
    /// that drives hardware returns false and feeds the current value when the vehicle
    /// reaches it.
    fn echoes_target(&self) -> bool {
        true
    }
}

/// File resources (CORE App. C): leaves whose value is a `Types.Resources.FileDescriptor`.
/// The file-transfer service ([`crate::filetransfer`]) installs itself with
/// [`Engine::install_file_resources`]; the engine asks it about `set`s and single-leaf
/// `get`s, after the tree's own checks and access control.
pub trait FileResources: Send + Sync {
    /// A checked `set` of `node`: `None` when `node` is no download target, else whether the
    /// download the descriptor announces was registered.
    fn download(&self, node: NodeId, value: &Value) -> Option<Result<(), VissError>>;

    /// A `get` of `node` alone: `None` when `node` is no upload source, else the
    /// descriptor of a new upload (answered to this client only, never stored).
    fn upload(&self, node: NodeId) -> Option<Result<Value, VissError>>;
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
    /// State storage: an accepted `set` makes the target the actuator's current value at
    /// once (unless the provider drives hardware: [`SetHook::echoes_target`]). Off when
    /// something else moves actuators (the simulator moves them gradually).
    pub state_storage: bool,
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
            state_storage: true,
        }
    }
}

/// The VISS v3 engine over a tree `T` (and any trees mounted beside it: [`Forest`]).
pub struct Engine<T: VissTree> {
    forest: Forest<T>,
    store: SignalStore,
    config: EngineConfig,
    clock: Arc<dyn Clock>,
    /// The set hook of each tree, by [`Forest::locate`]'s tree index (0: the primary tree).
    providers: Vec<Option<Arc<dyn SetHook>>>,
    /// Per node: subscriptions triggered by samples of that node.
    /// The subscriptions watching each node; a chunk exists once one of its nodes is watched.
    watchers: NodeSlots<RwLock<Vec<Arc<Subscription>>>>,
    timed: Mutex<Vec<Arc<Subscription>>>,
    /// Set when any subscription ends (see [`Subscription::ended`]): `tick` sweeps the
    /// watcher lists of every node only then, not on every tick (every 10 ms, a read lock
    /// on each of the standard tree's 1,744 lists, in the request path's thread).
    ended: Arc<std::sync::atomic::AtomicBool>,
    /// Subscriptions with an end, checked by `tick`: when, and the error event that ends
    /// them (a duration limit's `408`, a token's expiry `401`).
    limited: Mutex<Vec<(Timestamp, Arc<Subscription>, VissError)>>,
    /// Called when `timed` or `limited` gains a subscription, so a timer loop that sleeps
    /// while nothing is timed ([`Engine::needs_periodic_ticks`]) looks again at once.
    timer_wakers: Arc<Mutex<TimerWakers>>,
    /// Access control, once installed ([`Engine::install_access_control`]).
    guard: OnceLock<crate::access::Guard>,
    /// File transfer, once installed ([`Engine::install_file_resources`]).
    files: OnceLock<Arc<dyn FileResources>>,
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
            .field("nodes", &self.forest.node_count())
            .field("config", &self.config)
            .finish()
    }
}

impl<T: VissTree> Engine<T> {
    /// An engine over `tree` with the system clock and no provider.
    pub fn new(tree: T, config: EngineConfig) -> Self {
        Self::with_clock(tree, config, Arc::new(SystemClock))
    }

    /// An engine over several trees (e.g. the vehicle and the `Server` capabilities tree).
    pub fn with_forest(forest: Forest<T>, config: EngineConfig) -> Self {
        Self::with_forest_and_clock(forest, config, Arc::new(SystemClock))
    }

    /// An engine with an injected clock.
    pub fn with_clock(tree: T, config: EngineConfig, clock: Arc<dyn Clock>) -> Self {
        Self::with_forest_and_clock(Forest::new(tree), config, clock)
    }

    /// An engine over several trees with an injected clock.
    pub fn with_forest_and_clock(
        forest: Forest<T>,
        config: EngineConfig,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let store = SignalStore::new(&forest, config.history, clock.now());
        let watchers = NodeSlots::new(forest.node_count());
        let patterns = pattern_nodes(&forest);
        Self {
            forest,
            store,
            config,
            clock,
            providers: Vec::new(),
            watchers,
            timed: Mutex::new(Vec::new()),
            ended: Arc::default(),
            limited: Mutex::new(Vec::new()),
            timer_wakers: Arc::default(),
            guard: OnceLock::new(),
            files: OnceLock::new(),
            groups: OnceLock::new(),
            patterns,
        }
    }

    /// Installs the hook that sees accepted `set`s.
    pub fn set_provider(&mut self, provider: Arc<dyn SetHook>) {
        self.install_provider(0, provider);
    }

    /// Installs the hook that sees accepted `set`s on the tree with root `root` (a tree
    /// mounted beside the primary one, or the primary one). The hook gets the node ids that
    /// tree knows, so a typed tree's handles compare as they are. `false` when no tree has
    /// that root.
    pub fn set_tree_provider(&mut self, root: &str, provider: Arc<dyn SetHook>) -> bool {
        match self.forest.tree_index(root) {
            Some(index) => {
                self.install_provider(index, provider);
                true
            }
            None => false,
        }
    }

    fn install_provider(&mut self, index: usize, provider: Arc<dyn SetHook>) {
        if self.providers.len() <= index {
            self.providers.resize(index + 1, None);
        }
        self.providers[index] = Some(provider);
    }

    /// Installs the file-transfer service; false when one is installed already.
    pub fn install_file_resources(&self, files: Arc<dyn FileResources>) -> bool {
        self.files.set(files).is_ok()
    }

    /// The hook of the tree holding `node`, and the id that tree knows `node` by.
    pub(super) fn provider_of(&self, node: NodeId) -> Option<(&dyn SetHook, NodeId)> {
        let (index, local) = self.forest.locate(node)?;
        let provider = self.providers.get(index)?.as_deref()?;
        Some((provider, local))
    }

    /// The primary tree (the one the engine was made with).
    pub fn tree(&self) -> &T {
        self.forest.primary()
    }

    /// Every tree served: the primary one and those mounted beside it.
    pub fn forest(&self) -> &Forest<T> {
        &self.forest
    }

    pub fn store(&self) -> &SignalStore {
        &self.store
    }

    /// A new per-connection session speaking VISS v3.0.
    pub fn open_session(&self) -> Session {
        self.open_session_for(Version::V3)
    }

    /// A new per-connection session speaking `version`.
    pub fn open_session_for(&self, version: Version) -> Session {
        Session::new(self.config.queue_capacity, version)
    }

    /// A new session speaking `version` whose event queue holds `queue_capacity` events
    /// instead of the configured count: a transport with a buffer of its own behind the
    /// session (MQTT's outbox) keeps its many one-subscription sessions small.
    pub fn open_session_with_queue(&self, version: Version, queue_capacity: usize) -> Session {
        Session::new(queue_capacity, version)
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
        self.end_with_error(&subscription, error, self.clock.now());
        true
    }

    /// Answers one request: clears `out` and writes the response into it.
    pub fn handle(&self, session: &mut Session, bytes: &[u8], out: &mut Vec<u8>) {
        self.handle_request(session, request::parse(bytes), out);
    }

    /// [`Self::handle`] for a request already known to be UTF-8 (a WebSocket text frame).
    pub fn handle_str(&self, session: &mut Session, text: &str, out: &mut Vec<u8>) {
        self.handle_request(session, request::parse_str(text), out);
    }

    fn handle_request(
        &self,
        session: &mut Session,
        parsed: Result<request::Request<'_>, request::Rejected<'_>>,
        out: &mut Vec<u8>,
    ) {
        out.clear();
        let now = self.clock.now();
        let version = session.version;
        let request = match parsed {
            Ok(request) => request,
            Err(rejected) => {
                let context = ErrorContext {
                    action: rejected.action.map(Action::as_str),
                    request_id: rejected.request_id.as_deref(),
                    subscription_id: None,
                    version,
                };
                return error_response(out, context, rejected.error, now);
            }
        };
        self.answer(session, &request, now, out);
    }

    /// Answers a request already parsed (a transport that reads a request to route it,
    /// as MQTT does for `unsubscribe`, parses it once): clears `out` and writes the
    /// response into it.
    #[cfg_attr(not(feature = "mqtt"), allow(dead_code))]
    pub(crate) fn handle_parsed(
        &self,
        session: &mut Session,
        request: &request::Request<'_>,
        out: &mut Vec<u8>,
    ) {
        out.clear();
        self.answer(session, request, self.clock.now(), out);
    }

    fn answer(
        &self,
        session: &mut Session,
        request: &request::Request<'_>,
        now: Timestamp,
        out: &mut Vec<u8>,
    ) {
        let version = session.version;
        let result = match request.action {
            Action::Get => self.get(session, request, now, out),
            Action::Set => self.set(&mut session.tokens, request, now, out),
            Action::Subscribe => self.subscribe(session, request, now, out),
            Action::Unsubscribe => self.unsubscribe(session, request, now, out),
        };
        let handle = session.tokens.take_announced();
        if let (Ok(()), Some(handle)) = (&result, handle) {
            access::announce_handle(out, &handle);
            session.tokens.delivered(&handle);
        }
        if let Err(error) = result {
            // VISSv2 echoes the subscriptionId in unsubscribe errors (A6).
            let echo_subscription = version == Version::V2 && request.action == Action::Unsubscribe;
            let context = ErrorContext {
                action: Some(request.action.as_str()),
                request_id: request.request_id.as_deref(),
                subscription_id: request
                    .subscription_id
                    .as_deref()
                    .filter(|_| echo_subscription),
                version,
            };
            error_response(out, context, error, now);
        }
    }

    /// Feeds a new sample of `node` (coerced to the node's datatype) and runs the
    /// subscriptions it triggers. A value of another type, outside the node's limits or
    /// carrying the reserved in-line error prefix is refused with that error (and not
    /// stored); a struct value is checked member by member against its struct type.
    pub fn update(&self, node: NodeId, value: Value, ts: Timestamp) -> Result<(), VissError> {
        let info = self.forest.get(node).ok_or(VissError::DataUnknown)?;
        let datatype = info.datatype.as_ref().ok_or(VissError::BranchAction)?;
        let value = value
            .coerce_to(datatype)
            .ok_or(VissError::IncorrectDataType)?;
        crate::value::check_fed(&value, info)?;
        let value = crate::structs::check(value, datatype, &|name| self.forest.struct_type(name))?;
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
        let node = self.forest.lookup(path).ok_or(VissError::DataUnknown)?;
        self.update(node, value, ts)
    }

    /// Marks a signal as not available.
    pub fn mark_unavailable(&self, node: NodeId) {
        self.store.clear(node);
    }

    /// Whether [`Engine::tick`] must run every tick period: a `timebased` subscription is
    /// running. When none is, a timer loop sleeps until [`Engine::next_deadline`] (or a
    /// wake from [`Engine::add_timer_waker`]): an idle server then stays asleep.
    pub fn needs_periodic_ticks(&self) -> bool {
        !self.timed.lock().is_empty()
    }

    /// The earliest end of a subscription with one (duration limit, token expiry): when
    /// [`Engine::tick`] has something to end next.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        self.limited
            .lock()
            .iter()
            .map(|(deadline, _, _)| *deadline)
            .min()
    }

    /// Registers `wake`, called whenever a subscription starts that changes what the timer
    /// loop waits for (a `timebased` one, or one with an end). It is called with no engine
    /// lock held, but on the request's thread: it should only signal (as `run_timers`'
    /// `Notify` does), not tick. It stays registered while the returned guard lives (a wake
    /// already under way when the guard drops may still call it once).
    pub fn add_timer_waker(&self, wake: impl Fn() + Send + Sync + 'static) -> TimerWakerGuard {
        let mut registered = self.timer_wakers.lock();
        let id = registered.next;
        registered.next += 1;
        registered.wakers.push((id, Arc::new(wake)));
        TimerWakerGuard {
            wakers: Arc::downgrade(&self.timer_wakers),
            id,
        }
    }

    /// How many timer wake-ups are registered (tests: a stopped timer loop leaves none).
    #[cfg(test)]
    pub(crate) fn registered_timer_wakers(&self) -> usize {
        self.timer_wakers.lock().wakers.len()
    }

    /// Wakes every registered timer loop.
    fn wake_timers(&self) {
        // cloned out of the lock: a wake-up may take other locks
        let wakers: Vec<TimerWaker> = (self.timer_wakers.lock().wakers.iter())
            .map(|(_, wake)| Arc::clone(wake))
            .collect();
        for wake in wakers {
            wake();
        }
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
        if !self.ended.swap(false, std::sync::atomic::Ordering::AcqRel) {
            return;
        }
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

    /// Ends subscriptions past their end (duration limit, token expiry) with their error
    /// event.
    fn end_expired(&self, now: Timestamp) {
        let expired = {
            let mut limited = self.limited.lock();
            if limited.is_empty() {
                return;
            }
            let (expired, running) = std::mem::take(&mut *limited)
                .into_iter()
                .filter(|(_, subscription, _)| subscription.is_active())
                .partition::<Vec<_>, _>(|(deadline, _, _)| *deadline <= now);
            *limited = running;
            expired
        };
        for (_, subscription, error) in expired {
            // A subscription with two ends (duration limit, token expiry) ends once.
            if subscription.is_active() {
                self.end_with_error(&subscription, error, now);
            }
        }
    }
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
    response::error_event(out, subscription_id, error, now, Version::V3);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DynamicTree, NodeSpec};

    fn engine_with_speed() -> (Engine<DynamicTree>, NodeId) {
        let mut builder = DynamicTree::builder();
        let speed = NodeSpec::leaf("Speed", crate::tree::NodeKind::Sensor, "float");
        builder
            .insert_path("Vehicle.Speed", speed)
            .expect("valid path");
        let engine = Engine::new(builder.build(), EngineConfig::default());
        let node = engine.tree().lookup("Vehicle.Speed").expect("the leaf");
        (engine, node)
    }

    fn watching(engine: &Engine<DynamicTree>, node: NodeId) -> usize {
        engine
            .watchers
            .get(node.index())
            .map_or(0, |watchers| watchers.read().len())
    }

    fn subscribe(engine: &Engine<DynamicTree>, session: &mut Session) {
        let mut out = Vec::new();
        let request = br#"{"action":"subscribe","path":"Vehicle.Speed","filter":{"variant":"change","parameter":{"logic-op":"ne","diff":"0"}},"requestId":"1"}"#;
        engine.handle(session, request, &mut out);
        let answer = String::from_utf8_lossy(&out);
        assert!(answer.contains("subscriptionId"), "{answer}");
    }

    #[test]
    fn a_tick_sweeps_the_watchers_of_a_dropped_session_and_only_then() {
        let (engine, node) = engine_with_speed();
        let mut kept = engine.open_session();
        subscribe(&engine, &mut kept);
        let mut dropped = engine.open_session();
        subscribe(&engine, &mut dropped);
        engine.tick(Timestamp::now());
        assert_eq!(watching(&engine, node), 2, "no subscription ended yet");
        assert!(!engine.ended.load(std::sync::atomic::Ordering::Acquire));
        // A session dropped without `close_session` leaves its subscription in the list
        // until a tick sweeps it.
        drop(dropped);
        assert_eq!(watching(&engine, node), 2);
        engine.tick(Timestamp::now());
        assert_eq!(
            watching(&engine, node),
            1,
            "the ended subscription is swept"
        );
        assert!(!engine.ended.load(std::sync::atomic::Ordering::Acquire));
        engine.close_session(&mut kept);
        assert_eq!(watching(&engine, node), 0);
    }

    #[test]
    fn only_a_timed_subscription_wakes_the_timers_and_needs_ticks() {
        let (engine, _) = engine_with_speed();
        let woken = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = Arc::clone(&woken);
        let registered = engine.add_timer_waker(move || {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        });
        let mut session = engine.open_session();
        subscribe(&engine, &mut session);
        assert!(
            !engine.needs_periodic_ticks(),
            "a change subscription needs no ticks"
        );
        assert_eq!(engine.next_deadline(), None);
        assert_eq!(woken.load(std::sync::atomic::Ordering::SeqCst), 0);
        let mut out = Vec::new();
        let timed = br#"{"action":"subscribe","path":"Vehicle.Speed","filter":{"variant":"timebased","parameter":{"period":"100"}},"requestId":"2"}"#;
        engine.handle(&mut session, timed, &mut out);
        assert!(String::from_utf8_lossy(&out).contains("subscriptionId"));
        assert!(engine.needs_periodic_ticks());
        assert_eq!(woken.load(std::sync::atomic::Ordering::SeqCst), 1);
        engine.close_session(&mut session);
        engine.tick(Timestamp::now());
        assert!(
            !engine.needs_periodic_ticks(),
            "the ended timed subscription is forgotten"
        );
        // once its guard is dropped, the wake-up is not called again
        assert_eq!(engine.registered_timer_wakers(), 1);
        drop(registered);
        assert_eq!(engine.registered_timer_wakers(), 0);
        let mut session = engine.open_session();
        engine.handle(&mut session, timed, &mut out);
        assert!(engine.needs_periodic_ticks());
        assert_eq!(woken.load(std::sync::atomic::Ordering::SeqCst), 1);
    }
}
