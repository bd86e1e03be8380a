//! The signal store: one typed slot per leaf.
//!
//! Each slot has its own small lock, so readers of one signal never wait for writers of
//! another and there is no store-wide lock on the read path. A slot is empty ("not
//! available yet") until a feeder writes it; attributes start with their tree `default`.
//! Actuators keep the last accepted `set` (the target) apart from the current value, which
//! only the provider/feeder writes (CORE §5.1.1: get returns the current value).
//!
//! With [`HistoryConfig`] every write is also recorded per signal in a bounded ring (age
//! and count limits) that the `history` filter reads.

use std::collections::VecDeque;

use jiff::{SignedDuration, Timestamp};
use parking_lot::{Mutex, RwLock};

use crate::slots::NodeSlots;
use crate::tree::{AttributeDefault, DataType, Forest, Literal, NodeId, VissTree};
use crate::value::{Value, parse_scalar};

/// A value with its capture time.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub value: Value,
    pub ts: Timestamp,
}

/// Limits of the in-memory history recorder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryConfig {
    /// Samples older than this (relative to the newest) are discarded.
    pub retention: SignedDuration,
    /// At most this many samples per signal are kept.
    pub max_samples: usize,
}

/// One signal's sample (current or target), behind its own lock.
type SampleSlot = RwLock<Option<Sample>>;

/// Typed slots for every leaf of a tree, indexed by [`NodeId`]. Slots are allocated a chunk
/// of neighbouring nodes at a time on their first write ([`NodeSlots`]), so an idle server
/// holds memory only for the attributes it starts with.
#[derive(Debug)]
pub struct SignalStore {
    current: NodeSlots<SampleSlot>,
    /// Actuators' targets: apart from `current`, as only a few nodes are ever `set`.
    targets: NodeSlots<SampleSlot>,
    /// Per-signal history rings, when recording is configured.
    history: Option<(HistoryConfig, NodeSlots<Mutex<VecDeque<Sample>>>)>,
    /// Where every write is also sent to be stored (`storage::attach`); one atomic load
    /// on each write when there is none.
    #[cfg(feature = "storage")]
    journal: std::sync::OnceLock<crate::storage::Journal>,
    /// The recorded history behind the rings (`storage::attach`).
    #[cfg(feature = "storage")]
    archive: std::sync::OnceLock<crate::storage::Archive>,
}

impl SignalStore {
    /// Empty slots for every node; attributes get their default value at `now`.
    pub fn new<T: VissTree>(
        forest: &Forest<T>,
        history: Option<HistoryConfig>,
        now: Timestamp,
    ) -> Self {
        let len = forest.node_count();
        let store = Self {
            current: NodeSlots::new(len),
            targets: NodeSlots::new(len),
            history: history.map(|config| (config, NodeSlots::new(len))),
            #[cfg(feature = "storage")]
            journal: std::sync::OnceLock::new(),
            #[cfg(feature = "storage")]
            archive: std::sync::OnceLock::new(),
        };
        forest.visit_attribute_defaults(|id, attribute| {
            if let Some(sample) = attribute_default(attribute, now) {
                store.write(id, sample);
            }
        });
        store
    }

    /// Runs `read` on the current sample of `node` (`None`: not available yet).
    pub fn read<R>(&self, node: NodeId, read: impl FnOnce(Option<&Sample>) -> R) -> R {
        match self.current.get(node.index()) {
            Some(slot) => read(slot.read().as_ref()),
            None => read(None),
        }
    }

    /// A copy of the current sample.
    pub fn current(&self, node: NodeId) -> Option<Sample> {
        self.read(node, |sample| sample.cloned())
    }

    /// Stores a new current sample and records it in the history.
    pub fn write(&self, node: NodeId, sample: Sample) {
        let Some(slot) = self.current.get_or_create(node.index()) else {
            return;
        };
        if let Some((config, rings)) = &self.history
            && let Some(ring) = rings.get_or_create(node.index())
        {
            record(&mut ring.lock(), &sample, *config);
        }
        #[cfg(feature = "storage")]
        if let Some(journal) = self.journal.get() {
            journal.record(node, crate::storage::Kind::Current, &sample);
        }
        *slot.write() = Some(sample);
    }

    /// Marks `node` as not available (e.g. the feeder lost the signal).
    pub fn clear(&self, node: NodeId) {
        if let Some(slot) = self.current.get(node.index()) {
            *slot.write() = None;
        }
        #[cfg(feature = "storage")]
        if let Some(journal) = self.journal.get() {
            journal.record_unavailable(node);
        }
    }

    /// Stores the target of an accepted `set`.
    pub fn write_target(&self, node: NodeId, sample: Sample) {
        #[cfg(feature = "storage")]
        if let Some(journal) = self.journal.get() {
            journal.record(node, crate::storage::Kind::Target, &sample);
        }
        if let Some(slot) = self.targets.get_or_create(node.index()) {
            *slot.write() = Some(sample);
        }
    }

    /// The last accepted target of an actuator.
    pub fn target(&self, node: NodeId) -> Option<Sample> {
        self.read_target(node, |sample| sample.cloned())
    }

    /// Runs `read` on the target sample of `node` (`None`: never set), without copying it.
    pub fn read_target<R>(&self, node: NodeId, read: impl FnOnce(Option<&Sample>) -> R) -> R {
        match self.targets.get(node.index()) {
            Some(slot) => read(slot.read().as_ref()),
            None => read(None),
        }
    }

    /// True when history recording is configured.
    pub fn records_history(&self) -> bool {
        self.history.is_some()
    }

    /// The history recorder's limits, when recording is configured.
    pub fn history_config(&self) -> Option<HistoryConfig> {
        self.history.as_ref().map(|(config, _)| *config)
    }

    /// Puts a stored sample back as `node`'s current value or target, without recording
    /// it again (start-up, before serving).
    #[cfg(feature = "storage")]
    pub(crate) fn restore(&self, node: NodeId, kind: crate::storage::Kind, sample: Sample) {
        let slots = match kind {
            crate::storage::Kind::Current => &self.current,
            crate::storage::Kind::Target => &self.targets,
        };
        // A ring restored from the recorded history ends with the current sample, as a
        // live one does (`history` reads the samples before it): a sample a recording rule
        // thinned out is the current one but not in the database's history.
        if kind == crate::storage::Kind::Current
            && let Some((config, rings)) = &self.history
            && let Some(ring) = rings.get(node.index())
        {
            let mut ring = ring.lock();
            if ring.back().is_some_and(|last| last.ts < sample.ts) {
                record(&mut ring, &sample, *config);
            }
        }
        if let Some(slot) = slots.get_or_create(node.index()) {
            *slot.write() = Some(sample);
        }
    }

    /// Puts a stored history sample back into `node`'s ring (oldest first).
    #[cfg(feature = "storage")]
    pub(crate) fn restore_history(&self, node: NodeId, sample: Sample) {
        if let Some((config, rings)) = &self.history
            && let Some(ring) = rings.get_or_create(node.index())
        {
            record(&mut ring.lock(), &sample, *config);
        }
    }

    /// Returns once an accepted `set`'s writes are stored, when storage asks for that.
    #[cfg(feature = "storage")]
    pub(crate) fn wait_for_set(&self) {
        if let Some(journal) = self.journal.get() {
            journal.wait_for_set();
        }
    }

    /// From now on, every write is also sent to `journal`. Only the first one counts.
    #[cfg(feature = "storage")]
    pub(crate) fn attach_journal(&self, journal: crate::storage::Journal) -> bool {
        self.journal.set(journal).is_ok()
    }

    /// The recorded history behind the rings, when storage records some.
    #[cfg(feature = "storage")]
    pub(crate) fn archive(&self) -> Option<&crate::storage::Archive> {
        self.archive.get()
    }

    /// Installs the recorded history behind the rings. Only the first one counts.
    #[cfg(feature = "storage")]
    pub(crate) fn attach_archive(&self, archive: crate::storage::Archive) -> bool {
        self.archive.set(archive).is_ok()
    }

    /// The earliest time of a sample `node`'s ring holds (the current one when it holds
    /// only that; the minimum, as a feeder may write out of order), or of its current
    /// sample when it has no ring.
    #[cfg(feature = "storage")]
    pub(crate) fn history_starts(&self, node: NodeId) -> Option<Timestamp> {
        let ring = self
            .history
            .as_ref()
            .and_then(|(_, rings)| rings.get(node.index()))
            .and_then(|ring| ring.lock().iter().map(|sample| sample.ts).min());
        ring.or_else(|| self.read(node, |sample| sample.map(|sample| sample.ts)))
    }

    /// Calls `visit` for every recorded sample of `node` captured at or after `since`,
    /// oldest first, leaving out the newest recorded sample (the current value).
    /// Returns how many samples were visited.
    pub fn visit_history(
        &self,
        node: NodeId,
        since: Timestamp,
        mut visit: impl FnMut(&Sample),
    ) -> usize {
        let Some(ring) = self
            .history
            .as_ref()
            .and_then(|(_, rings)| rings.get(node.index()))
        else {
            return 0;
        };
        let history = ring.lock();
        let older = history.len().saturating_sub(1);
        let mut count = 0;
        for sample in history
            .iter()
            .take(older)
            .filter(|sample| sample.ts >= since)
        {
            visit(sample);
            count += 1;
        }
        count
    }
}

fn record(history: &mut VecDeque<Sample>, sample: &Sample, config: HistoryConfig) {
    if config.max_samples == 0 {
        return;
    }
    while history.len() >= config.max_samples {
        history.pop_front();
    }
    let oldest_kept = sample
        .ts
        .checked_sub(config.retention)
        .unwrap_or(Timestamp::MIN);
    while history.front().is_some_and(|front| front.ts < oldest_kept) {
        history.pop_front();
    }
    history.push_back(sample.clone());
}

/// Attributes are static: their `default` is their value from the start.
fn attribute_default(attribute: &AttributeDefault, now: Timestamp) -> Option<Sample> {
    let node = &attribute.node;
    let enumeration = &attribute.enumeration;
    let value = match (node.datatype.as_ref()?, node.default.as_ref()?) {
        (DataType::Scalar(scalar), Literal::Scalar(lit)) => {
            parse_scalar(lit.as_str(), *scalar, node, enumeration).ok()?
        }
        (DataType::Array(scalar), Literal::Array(items)) => Value::Array(
            items
                .iter()
                .map(|item| parse_scalar(item.as_str(), *scalar, node, enumeration))
                .collect::<Result<Vec<_>, _>>()
                .ok()?,
        ),
        _ => return None,
    };
    Some(Sample { value, ts: now })
}
