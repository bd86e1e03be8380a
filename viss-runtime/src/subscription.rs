//! Sessions (one per connection), subscriptions and the bounded per-connection event queue.
//!
//! # Slow consumers
//! Every session owns one [`EventQueue`] with a fixed capacity
//! ([`crate::EngineConfig::queue_capacity`]). Feeders and timers only ever hold a queue's
//! short internal lock while encoding one event; they never wait for the consumer. When the
//! queue is full, the **oldest** pending event is discarded to make room for the new one
//! and [`EventQueue::dropped`] counts it: a slow client loses its stalest events, never
//! blocks a feeder or other clients, and the transport can read the counter to warn or
//! disconnect. Event buffers are recycled between producer and consumer, so a warm queue
//! does not allocate.
//!
//! Subscription ids are decimal strings, unique per session (a counter from 1).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use jiff::Timestamp;
use parking_lot::Mutex;

use crate::dc::{Dc, PathIndex};
use crate::filter::curvelog::CurveBuffer;
use crate::filter::paths::PathScratch;
use crate::filter::{ChangeFilter, CurvelogFilter, RangeFilter};
use crate::protocol::Version;
use crate::tree::NodeId;
use crate::value::Value;

type Notifier = Arc<dyn Fn() + Send + Sync>;

/// A bounded queue of encoded events for one connection.
pub struct EventQueue {
    inner: Mutex<QueueInner>,
    capacity: usize,
    dropped: AtomicU64,
    notifier: Mutex<Option<Notifier>>,
}

impl std::fmt::Debug for EventQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventQueue")
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .field("dropped", &self.dropped())
            .finish()
    }
}

#[derive(Debug)]
struct QueueInner {
    /// Encoded events, oldest first, each marked true when it is an error event.
    pending: VecDeque<(Vec<u8>, bool)>,
    spare: Vec<Vec<u8>>,
}

/// Events a queue has room for before it first grows.
const INITIAL_ROOM: usize = 8;

impl EventQueue {
    /// A queue holding at most `capacity` (≥ 1) events.
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        // Room for a few events up front, grown (to `capacity` at most) only by a connection
        // that has that many waiting: reserving the whole bound (1,024 by default, 56 KiB)
        // for every connection doubled a subscribed connection's memory.
        let initial = capacity.min(INITIAL_ROOM);
        Self {
            inner: Mutex::new(QueueInner {
                pending: VecDeque::with_capacity(initial),
                spare: Vec::with_capacity(initial + 2),
            }),
            capacity,
            dropped: AtomicU64::new(0),
            notifier: Mutex::new(None),
        }
    }

    /// Registers a callback run after each push (e.g. to wake the connection's writer).
    pub fn set_notifier(&self, notifier: impl Fn() + Send + Sync + 'static) {
        *self.notifier.lock() = Some(Arc::new(notifier));
    }

    /// Encodes one event with `encode` into a recycled buffer and queues it, discarding the
    /// oldest event when full.
    pub fn push_with(&self, encode: impl FnOnce(&mut Vec<u8>)) {
        self.push(encode, false);
    }

    /// Queues an error event: it ends its subscription, so it is never the one discarded
    /// when the queue is full (the oldest plain event goes instead; a queue holding only
    /// error events grows past its capacity, by at most one per subscription).
    pub fn push_error_with(&self, encode: impl FnOnce(&mut Vec<u8>)) {
        self.push(encode, true);
    }

    fn push(&self, encode: impl FnOnce(&mut Vec<u8>), is_error: bool) {
        {
            let mut inner = self.inner.lock();
            let discarded = if inner.pending.len() >= self.capacity {
                let oldest_plain = inner.pending.iter().position(|(_, error)| !error);
                oldest_plain.and_then(|position| inner.pending.remove(position))
            } else {
                None
            };
            let mut buffer = match discarded {
                Some((buffer, _)) => {
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                    buffer
                }
                None => inner.spare.pop().unwrap_or_default(),
            };
            buffer.clear();
            encode(&mut buffer);
            inner.pending.push_back((buffer, is_error));
        }
        let notifier = self.notifier.lock().clone();
        if let Some(notify) = notifier {
            notify();
        }
    }

    /// Moves the oldest event into `out` (its previous contents are recycled). Returns
    /// false when the queue is empty.
    pub fn pop_into(&self, out: &mut Vec<u8>) -> bool {
        let mut inner = self.inner.lock();
        let Some((mut event, _)) = inner.pending.pop_front() else {
            return false;
        };
        std::mem::swap(out, &mut event);
        event.clear();
        // Every buffer a full queue needs is kept for reuse (the list grows to that once).
        if inner.spare.len() < self.capacity + 2 {
            inner.spare.push(event);
        }
        true
    }

    /// Number of queued events.
    pub fn len(&self) -> usize {
        self.inner.lock().pending.len()
    }

    /// True when no event is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Events discarded because the consumer was too slow.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// What makes a subscription send an event.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Trigger {
    Timebased {
        period_ms: u64,
    },
    Range(RangeFilter),
    Change(ChangeFilter),
    Curvelog(CurvelogFilter),
    /// VISSv2 subscribe without filter: every new value of any addressed signal.
    EveryUpdate,
}

/// Mutable per-subscription state, behind the subscription's own lock.
#[derive(Debug, Default)]
pub(crate) struct SubscriptionState {
    /// `change`: the previous sample of the trigger signal.
    pub previous: Option<Value>,
    /// `timebased`: when the next event is due.
    pub next_due: Option<Timestamp>,
    /// `curvelog`: one buffer per signal or dimension group.
    pub curves: Vec<CurveBuffer>,
}

/// One active subscription.
#[derive(Debug)]
pub(crate) struct Subscription {
    pub id: u64,
    /// The addressed leaves; the first one is the trigger signal.
    pub nodes: Box<[NodeId]>,
    pub trigger: Trigger,
    pub queue: Arc<EventQueue>,
    pub active: AtomicBool,
    /// The engine's "a subscription ended" mark, set with `active` cleared: the engine's
    /// tick sweeps ended subscriptions out of the watcher lists only when it is set.
    pub ended: Arc<AtomicBool>,
    pub state: Mutex<SubscriptionState>,
    /// The version of the session that subscribed (how its events are written).
    pub version: Version,
    /// Data compression its events get.
    pub dc: Option<Dc>,
    /// `dc` request-local paths: the first event's sorted paths (a lock of its own: curvelog
    /// events are written while `state` is held).
    pub path_index: Mutex<PathIndex>,
}

impl Subscription {
    pub fn is_active(&self) -> bool {
        self.active.load(Ordering::Acquire)
    }

    pub fn deactivate(&self) {
        self.active.store(false, Ordering::Release);
        self.ended.store(true, Ordering::Release);
    }
}

/// Per-connection state: subscriptions, the event queue and scratch memory.
///
/// Dropping a session ends its subscriptions (the engine forgets them lazily).
#[derive(Debug)]
pub struct Session {
    pub(crate) subscriptions: HashMap<u64, Arc<Subscription>>,
    pub(crate) next_id: u64,
    pub(crate) queue: Arc<EventQueue>,
    pub(crate) scratch: PathScratch,
    pub(crate) version: Version,
    /// Filters may use VISSv2's forms too (`type`, `boundary-op`, the metadata types):
    /// transports that carry no version marker (HTTP).
    pub(crate) v2_filters: bool,
    /// Tokens this session validated, and their handles (access control).
    pub(crate) tokens: crate::access::TokenCache,
}

impl Session {
    pub(crate) fn new(queue_capacity: usize, version: Version) -> Self {
        Self {
            subscriptions: HashMap::new(),
            next_id: 1,
            queue: Arc::new(EventQueue::new(queue_capacity)),
            scratch: PathScratch::default(),
            version,
            v2_filters: version == Version::V2,
            tokens: crate::access::TokenCache::default(),
        }
    }

    /// A session that keeps no validated token and gives out no token handle: one that
    /// lives for a single request, or that answers many clients (CORE §8.3.5 handles are
    /// bound to the one client that received them).
    #[cfg_attr(
        not(any(feature = "http", feature = "grpc", feature = "mqtt")),
        allow(dead_code)
    )]
    pub(crate) fn without_token_cache(mut self) -> Self {
        self.tokens = crate::access::TokenCache::disabled();
        self
    }

    /// A session whose requests may write filters in VISSv2's forms as well, answered in
    /// `version`'s (for HTTP, which carries no version marker).
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub(crate) fn accepting_v2_filters(mut self) -> Self {
        self.v2_filters = true;
        self
    }

    /// Numbers this session's subscriptions from `first` instead of 1: a transport that
    /// opens one session per subscription (gRPC streams) draws `first` from a server-wide
    /// count, so every id names one subscription across all its sessions.
    pub fn numbering_subscriptions_from(mut self, first: u64) -> Self {
        self.next_id = first;
        self
    }

    /// The version whose filter forms this session's requests may use.
    pub(crate) fn filter_version(&self) -> Version {
        if self.v2_filters {
            Version::V2
        } else {
            self.version
        }
    }

    /// The VISS version this session speaks.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The session's event queue (share it with the task that writes to the connection).
    pub fn events(&self) -> &Arc<EventQueue> {
        &self.queue
    }

    /// Moves the next pending event into `out`; false when there is none.
    pub fn next_event(&self, out: &mut Vec<u8>) -> bool {
        self.queue.pop_into(out)
    }

    /// Number of subscriptions the session holds (including any the engine has ended on
    /// its own, e.g. at the duration limit, until their ids are unsubscribed).
    pub fn subscription_count(&self) -> usize {
        self.subscriptions.len()
    }

    /// Number of subscriptions still delivering events.
    pub fn active_subscription_count(&self) -> usize {
        self.subscriptions
            .values()
            .filter(|subscription| subscription.is_active())
            .count()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        for subscription in self.subscriptions.values() {
            subscription.deactivate();
        }
    }
}
