//! The queue between the signal store and the database, and the writer thread that drains
//! it: bounded, never blocking the engine (a full queue drops the write and counts it), one
//! transaction per batch, old history pruned every minute.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::Duration;

use jiff::Timestamp;

use super::{Backend, Kind, Row, Rule, StorageConfig, StorageError, nanos};
use crate::store::Sample;
use crate::tree::NodeId;

/// A write on its way to the writer thread.
#[derive(Debug)]
enum Message {
    /// A sample of `node`; `None`: marked not available (its stored value goes).
    Write {
        node: NodeId,
        kind: Kind,
        sample: Option<Sample>,
    },
    /// Commit everything before this, then answer.
    Flush(SyncSender<()>),
}

/// The store's side of the queue.
#[derive(Debug)]
pub struct Journal {
    sender: SyncSender<Message>,
    stats: Arc<Stats>,
    durable_sets: bool,
}

/// Counters of the storage path, for logs and tests.
#[derive(Debug, Default)]
pub struct Stats {
    /// Writes dropped because the queue was full (or the writer had stopped).
    pub dropped: AtomicU64,
    /// Rows committed (latest and history).
    pub committed: AtomicU64,
    /// Batches the database refused (their rows are lost; logged).
    pub failed_batches: AtomicU64,
    /// Samples of recorded signals kept out of the history by their rule's minimum interval.
    pub thinned: AtomicU64,
}

impl Journal {
    /// Queues a write of `node`; never blocks. A full queue drops it and counts it.
    pub(crate) fn record(&self, node: NodeId, kind: Kind, sample: &Sample) {
        self.send(Message::Write {
            node,
            kind,
            sample: Some(sample.clone()),
        });
    }

    /// Queues the "not available" mark of `node`: its stored current value goes, so a
    /// restart does not bring back a value the feeder withdrew.
    pub(crate) fn record_unavailable(&self, node: NodeId) {
        self.send(Message::Write {
            node,
            kind: Kind::Current,
            sample: None,
        });
    }

    fn send(&self, message: Message) {
        match self.sender.try_send(message) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                let dropped = self.stats.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                if dropped.is_power_of_two() {
                    tracing::warn!(dropped, "storage queue full: writes dropped (not stored)");
                }
            }
        }
    }

    /// With `durable_sets`: returns once what was queued before is committed (or after
    /// [`DURABLE_WAIT`], or at once when the queue is full: overload answers without the
    /// guarantee rather than stalling every client).
    pub(crate) fn wait_for_set(&self) {
        if !self.durable_sets {
            return;
        }
        let (done, wait) = std::sync::mpsc::sync_channel(1);
        if self.sender.try_send(Message::Flush(done)).is_ok()
            && wait.recv_timeout(DURABLE_WAIT).is_err()
        {
            tracing::warn!("storage: a set was answered before its commit (database slow)");
        }
    }
}

/// The longest a `set` answer waits for its commit.
const DURABLE_WAIT: Duration = Duration::from_secs(1);

/// A running storage: the writer thread, and how to flush and stop it.
#[derive(Debug)]
pub struct Storage {
    flush: SyncSender<Message>,
    writer: Option<JoinHandle<()>>,
    stats: Arc<Stats>,
    /// What start-up restored: latest samples, history samples.
    pub restored: (usize, usize),
}

impl Storage {
    /// Counters of the storage path.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Returns once every write queued before the call is committed (or its batch failed).
    pub fn flush(&self) {
        let (done, wait) = std::sync::mpsc::sync_channel(1);
        if self.flush.send(Message::Flush(done)).is_ok() {
            let _ = wait.recv();
        }
    }

    /// Commits what is queued and stops the writer thread (on shutdown). Writes after
    /// this are dropped and counted.
    pub fn close(mut self) {
        self.flush();
        self.stop();
    }

    fn stop(&mut self) {
        // The store keeps a sender for good, so the queue never disconnects: a flush whose
        // answer nobody waits for tells the writer to stop after committing.
        let (done, _) = std::sync::mpsc::sync_channel(1);
        let _ = self.flush.send(Message::Flush(done));
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
        tracing::info!(
            committed = self.stats.committed.load(Ordering::Relaxed),
            dropped = self.stats.dropped.load(Ordering::Relaxed),
            failed_batches = self.stats.failed_batches.load(Ordering::Relaxed),
            "storage closed"
        );
    }
}

/// Starts the writer thread over `backend`: `paths` is each node's stored path (empty: not
/// stored), `recorded` the recording rule of each node (`None`: not in the history) and
/// the rules.
pub(super) fn start(
    backend: Box<dyn Backend>,
    paths: Arc<[Box<str>]>,
    (recorded, rules): (Box<[Option<u16>]>, Vec<Rule>),
    config: &StorageConfig,
) -> Result<(Journal, Storage), StorageError> {
    let stats = Arc::new(Stats::default());
    let (sender, receiver) = std::sync::mpsc::sync_channel(config.queue.max(1));
    let last_recorded = vec![i64::MIN; recorded.len()].into_boxed_slice();
    let writer = Writer {
        backend,
        paths,
        recorded,
        rules,
        last_recorded,
        stats: Arc::clone(&stats),
        max_rows: config.history_max_rows,
        batch: config.batch.max(1),
    };
    let thread = std::thread::Builder::new()
        .name("viss-storage".into())
        .spawn(move || writer.run(receiver))
        .map_err(|error| StorageError::Database(format!("cannot start the writer: {error}")))?;
    let journal = Journal {
        sender: sender.clone(),
        durable_sets: config.durable_sets,
        stats: Arc::clone(&stats),
    };
    let storage = Storage {
        flush: sender,
        writer: Some(thread),
        stats,
        restored: (0, 0),
    };
    Ok((journal, storage))
}

/// The writer thread's state.
struct Writer {
    backend: Box<dyn Backend>,
    paths: Arc<[Box<str>]>,
    /// Each node's recording rule (an index into `rules`).
    recorded: Box<[Option<u16>]>,
    rules: Vec<Rule>,
    /// Each node's last recorded sample time (ns), for the rules' minimum interval.
    last_recorded: Box<[i64]>,
    stats: Arc<Stats>,
    max_rows: u64,
    batch: usize,
}

/// How often old history is pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

impl Writer {
    fn run(mut self, receiver: Receiver<Message>) {
        let mut pending: Vec<(NodeId, Kind, Option<Sample>)> = Vec::with_capacity(self.batch);
        let mut text = Vec::new();
        self.prune();
        loop {
            let first = match receiver.recv_timeout(PRUNE_EVERY) {
                Ok(message) => message,
                Err(RecvTimeoutError::Timeout) => {
                    self.prune();
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => return,
            };
            let mut flushes = Vec::new();
            let mut next = Some(first);
            while let Some(message) = next.take() {
                match message {
                    Message::Write { node, kind, sample } => pending.push((node, kind, sample)),
                    Message::Flush(done) => flushes.push(done),
                }
                if pending.len() < self.batch {
                    next = receiver.try_recv().ok();
                }
            }
            self.commit(&mut pending, &mut text);
            for done in flushes {
                if done.send(()).is_err() {
                    return; // `Storage::stop`: nobody waits for this answer
                }
            }
        }
    }

    /// Writes `pending` in one transaction: the newest sample per node and kind into
    /// `latest` (or its deletion, for a node marked not available last), every sample of a
    /// recorded node into `history`.
    fn commit(&mut self, pending: &mut Vec<(NodeId, Kind, Option<Sample>)>, text: &mut Vec<u8>) {
        if pending.is_empty() {
            return;
        }
        // The wire text of every sample, then rows borrowing it.
        text.clear();
        let mut spans = Vec::with_capacity(pending.len());
        for (_, _, sample) in pending.iter() {
            let start = text.len();
            if let Some(sample) = sample {
                sample.value.write_json(text);
            }
            spans.push(start..text.len());
        }
        let Ok(text) = std::str::from_utf8(text) else {
            pending.clear(); // unreachable: write_json writes JSON text, valid UTF-8
            return;
        };
        // A handle of its own: the rows borrow paths while `records` updates the writer.
        let paths = Arc::clone(&self.paths);
        let mut latest: Vec<Row<'_>> = Vec::new();
        let mut history: Vec<Row<'_>> = Vec::new();
        let mut unavailable: Vec<&str> = Vec::new();
        for ((node, kind, sample), span) in pending.iter().zip(spans) {
            let path: &str = &paths[node.index()];
            if path.is_empty() {
                continue;
            }
            let Some(sample) = sample else {
                // Marked not available: what the batch wrote before goes, and the row.
                latest.retain(|row| row.path != path || row.kind != *kind);
                if !unavailable.contains(&path) {
                    unavailable.push(path);
                }
                continue;
            };
            if *kind == Kind::Current {
                unavailable.retain(|withdrawn| *withdrawn != path);
            }
            let row = Row {
                path,
                kind: *kind,
                ts: sample.ts,
                value: &text[span],
            };
            if *kind == Kind::Current && self.records(*node, sample.ts) {
                history.push(row);
            }
            // Later samples of a node in the same batch overwrite earlier ones (upserts in
            // order, one transaction).
            latest.push(row);
        }
        let rows = (latest.len() + history.len() + unavailable.len()) as u64;
        match self.backend.write(&latest, &history, &unavailable) {
            Ok(()) => {
                self.stats.committed.fetch_add(rows, Ordering::Relaxed);
            }
            Err(error) => {
                self.stats.failed_batches.fetch_add(1, Ordering::Relaxed);
                tracing::error!(%error, rows, "storage: a batch could not be written");
            }
        }
        pending.clear();
    }

    /// Whether a sample of `node` at `ts` goes to the history: the node is recorded, and
    /// its rule's minimum interval has passed since the last sample recorded (else the
    /// sample is counted as thinned).
    fn records(&mut self, node: NodeId, ts: Timestamp) -> bool {
        let Some(rule) = self.recorded[node.index()] else {
            return false;
        };
        let interval = self.rules[usize::from(rule)].min_interval_nanos;
        let last = &mut self.last_recorded[node.index()];
        let now = nanos(ts);
        if interval > 0 && now.saturating_sub(*last) < interval {
            self.stats.thinned.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        *last = now;
        true
    }

    /// Deletes history older than its rule's retention, and beyond `max_rows`. Rows of
    /// paths no rule records (any more) go after the longest retention.
    fn prune(&mut self) {
        let now = Timestamp::now();
        let before = |retention: Duration| {
            now.checked_sub(jiff::SignedDuration::try_from(retention).unwrap_or_default())
                .unwrap_or(Timestamp::MIN)
        };
        let longest = self
            .rules
            .iter()
            .map(|rule| rule.retention)
            .max()
            .unwrap_or_default();
        let mut deleted = self.backend.prune(before(longest), self.max_rows);
        for (index, rule) in self.rules.iter().enumerate() {
            if rule.retention >= longest {
                continue;
            }
            let paths: Vec<&str> = self
                .recorded
                .iter()
                .zip(self.paths.iter())
                .filter(|(recorded, _)| recorded.map(usize::from) == Some(index))
                .map(|(_, path)| &**path)
                .collect();
            if !paths.is_empty() {
                let by_rule = self.backend.prune_paths(&paths, before(rule.retention));
                deleted = deleted.and_then(|deleted| Ok(deleted + by_rule?));
            }
        }
        match deleted {
            Ok(0) => {}
            Ok(deleted) => tracing::debug!(deleted, "storage: old history pruned"),
            Err(error) => tracing::error!(%error, "storage: pruning failed"),
        }
    }
}
