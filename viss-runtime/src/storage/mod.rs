//! Durable state: the latest value of every signal and actuator target, and the history of
//! the signals configured to record it, kept in a database so that a restarted server
//! answers `get` with what it knew (and its original timestamp) and `history` with what it
//! recorded before.
//!
//! The engine never waits for the database. [`SignalStore`](crate::store::SignalStore)
//! hands each write to a [`Journal`]: a bounded queue (`try_send`; a full queue drops the
//! write and counts it) drained by one writer thread, which commits what it finds in one
//! transaction per batch. A fed sample is on disk one batch commit after the engine took it
//! (tens of microseconds when the server is idle, at most `batch` writes later when busy);
//! a crash in that window loses it. A `set` is different: a client that was told "done"
//! must find the target after a crash, so with `durable_sets` (the default) its answer
//! waits for the commit of its own batch (`docs/storage.md`).
//!
//! Backends implement [`Backend`]: SQLite (feature `sqlite`, [`sqlite`]) is the embedded one,
//! PostgreSQL (feature `postgres`, [`postgres`]) the one servers share. Without a configured
//! data directory or database nothing is stored (the in-memory store alone).

mod journal;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "sqlite")]
pub mod sqlite;

use std::path::PathBuf;
use std::sync::Arc;

use jiff::Timestamp;
use serde::Deserialize;

pub use journal::{Journal, Stats, Storage};

use crate::engine::Engine;
use crate::filter::paths::{PathScratch, resolve};
use crate::store::Sample;
use crate::tree::{NodeId, NodeKind, VissTree};

/// `[storage]` in the server's TOML file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// Where the embedded database lives (`<data_dir>/viss.sqlite`); nothing is stored when
    /// unset.
    pub data_dir: Option<PathBuf>,
    /// A PostgreSQL database shared with other servers instead (libpq-style:
    /// `host=127.0.0.1 port=5432 user=viss dbname=viss`); the password comes from
    /// `VISS_POSTGRES_PASSWORD`, never from this string in a file or a flag. Needs `vehicle`.
    pub postgres: Option<String>,
    /// Allow a PostgreSQL host that is not loopback or a Unix socket without TLS: only on
    /// a network you trust. Otherwise such a host is reached over TLS only.
    pub postgres_insecure: bool,
    /// The CA certificates (PEM) the database's certificate is checked against; the
    /// system's roots without one.
    pub postgres_ca: Option<PathBuf>,
    /// Signals whose every sample is recorded in the database, as VISS paths with `*` for
    /// one level (a branch records every leaf below it), e.g. `Vehicle.Speed`,
    /// `Vehicle.Cabin.Door.*.*.IsOpen`, `Vehicle.Powertrain`.
    pub history: Vec<String>,
    /// Recording rules with limits of their own (`[[storage.record]]`), applied after
    /// `history`: a signal several globs name follows the last rule naming it.
    pub record: Vec<RecordRule>,
    /// Recorded samples older than this are deleted (a rule may say otherwise).
    pub history_retention_secs: u64,
    /// At most this many recorded samples are kept (the oldest go first).
    pub history_max_rows: u64,
    /// Recorded samples one `history` read takes from the database at most, over all the
    /// signals it names (the newest of each signal's period, signal after signal), beyond
    /// what the in-memory rings hold: a bound on what one request can make the server hold.
    pub history_read_limit: usize,
    /// Writes waiting for the writer thread; beyond, a write is dropped and counted.
    pub queue: usize,
    /// Writes committed in one transaction at most.
    pub batch: usize,
    /// A `set` is answered once its target is committed (a crash after the answer loses
    /// nothing); off, sets are stored like fed samples, a batch later.
    pub durable_sets: bool,
    /// The vehicle the rows belong to (a database shared by several servers keeps them
    /// apart by it); empty for a database of one's own.
    pub vehicle: String,
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            data_dir: None,
            postgres: None,
            postgres_insecure: false,
            postgres_ca: None,
            history: Vec::new(),
            record: Vec::new(),
            history_retention_secs: 7 * 24 * 3600,
            history_max_rows: 10_000_000,
            history_read_limit: 10_000,
            queue: 65_536,
            batch: 4096,
            durable_sets: true,
            vehicle: String::new(),
        }
    }
}

/// Signals recorded with their own limits: `[[storage.record]]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct RecordRule {
    /// VISS paths with `*` for one level, as in `history`.
    pub glob: String,
    /// At most one recorded sample per signal in this many milliseconds (a sample sooner
    /// after the last recorded one is kept as the latest value, not in the history);
    /// 0 records every sample.
    pub min_interval_ms: u64,
    /// Recorded samples of these signals older than this are deleted [default:
    /// `history_retention_secs`].
    pub retention_secs: Option<u64>,
}

/// A recording rule as the writer applies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Rule {
    min_interval_nanos: i64,
    retention: std::time::Duration,
}

/// The rules of `config`, and each node's (an index into them; `None`: not recorded). Rule
/// 0 is the plain `history` globs'.
fn recording<T: VissTree>(
    engine: &Engine<T>,
    config: &StorageConfig,
) -> (Box<[Option<u16>]>, Vec<Rule>) {
    let default_retention = std::time::Duration::from_secs(config.history_retention_secs);
    let mut rules = vec![Rule {
        min_interval_nanos: 0,
        retention: default_retention,
    }];
    let mut recorded = vec![None; engine.forest().node_count()].into_boxed_slice();
    mark(engine, &config.history, 0, &mut recorded);
    for rule in &config.record {
        let Ok(index) = u16::try_from(rules.len()) else {
            tracing::warn!(glob = rule.glob, "storage.record: too many rules; ignored");
            continue;
        };
        rules.push(Rule {
            min_interval_nanos: i64::try_from(rule.min_interval_ms.saturating_mul(1_000_000))
                .unwrap_or(i64::MAX),
            retention: rule
                .retention_secs
                .map_or(default_retention, std::time::Duration::from_secs),
        });
        mark(
            engine,
            std::slice::from_ref(&rule.glob),
            index,
            &mut recorded,
        );
    }
    (recorded, rules)
}

/// What a stored row holds: a signal's current sample or an actuator's target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Current,
    Target,
}

impl Kind {
    /// The column value.
    pub fn code(self) -> i64 {
        match self {
            Self::Current => 0,
            Self::Target => 1,
        }
    }

    pub fn from_code(code: i64) -> Option<Self> {
        match code {
            0 => Some(Self::Current),
            1 => Some(Self::Target),
            _ => None,
        }
    }
}

/// One stored sample as the database sees it: the path, and the value in its VISS wire
/// form (`"23.5"`, `["1","2"]`, `{"x":"1"}`), so a changed tree or another program can read it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Row<'a> {
    pub path: &'a str,
    pub kind: Kind,
    pub ts: Timestamp,
    pub value: &'a str,
}

/// A timestamp as every backend's `ts` column holds it: nanoseconds since the Unix epoch
/// in a 64-bit integer (exact for 1677..2262; beyond, clamped).
#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn nanos(ts: Timestamp) -> i64 {
    i64::try_from(ts.as_nanosecond()).unwrap_or(if ts < Timestamp::UNIX_EPOCH {
        i64::MIN
    } else {
        i64::MAX
    })
}

/// A `ts` column read back; `None` for a value no timestamp has.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn timestamp(nanos: i64) -> Option<Timestamp> {
    Timestamp::from_nanosecond(i128::from(nanos)).ok()
}

/// Why storage failed.
#[derive(Debug)]
pub enum StorageError {
    /// The database cannot be opened or read as one of ours (corrupt, not a database, no
    /// permission): the server does not start, and nothing is written to it.
    Open {
        path: PathBuf,
        reason: String,
    },
    /// A newer server wrote it; this one does not downgrade it.
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    Database(String),
}

impl std::fmt::Display for StorageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Open { path, reason } => {
                write!(f, "cannot open the database {}: {reason}", path.display())
            }
            Self::TooNew { path, found, known } => write!(
                f,
                "the database {} has schema version {found}; this server knows versions up \
                 to {known} (written by a newer server: not opened, not changed)",
                path.display()
            ),
            Self::Database(reason) => write!(f, "database error: {reason}"),
        }
    }
}

impl std::error::Error for StorageError {}

/// A database that keeps the latest samples and the recorded history.
pub trait Backend: Send + 'static {
    /// Calls `visit` with every stored latest sample of this vehicle.
    fn load_latest(&mut self, visit: &mut dyn FnMut(Row<'_>)) -> Result<usize, StorageError>;
    /// Calls `visit` with the newest `per_path` recorded samples of each of `paths`
    /// captured within `range`, oldest first per path (an index range per path, not a scan
    /// of the whole table).
    fn load_history(
        &mut self,
        paths: &[&str],
        range: std::ops::Range<Timestamp>,
        per_path: usize,
        visit: &mut dyn FnMut(Row<'_>),
    ) -> Result<usize, StorageError>;
    /// A second connection to the same database, for `history` reads while the writer
    /// thread holds this one (it reads only).
    fn reader(&self) -> Result<Box<dyn Backend>, StorageError>;
    /// Upserts `latest`, appends `history` and deletes the current value of the paths in
    /// `unavailable` (marked not available; none of them is in `latest`), in one
    /// transaction.
    fn write(
        &mut self,
        latest: &[Row<'_>],
        history: &[Row<'_>],
        unavailable: &[&str],
    ) -> Result<(), StorageError>;
    /// Deletes recorded samples older than `before` and beyond the newest `max_rows`;
    /// returns how many went.
    fn prune(&mut self, before: Timestamp, max_rows: u64) -> Result<u64, StorageError>;
    /// Deletes recorded samples of `paths` older than `before` (a rule's own retention);
    /// returns how many went.
    fn prune_paths(&mut self, paths: &[&str], before: Timestamp) -> Result<u64, StorageError>;
}

/// The recorded history behind the in-memory rings: a `history` read whose period reaches
/// further back than a signal's ring reads the rest here, through a connection of its own.
pub struct Archive {
    reader: parking_lot::Mutex<Box<dyn Backend>>,
    recorded: Box<[bool]>,
    limit: usize,
}

impl std::fmt::Debug for Archive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Archive")
            .field("limit", &self.limit)
            .finish()
    }
}

impl Archive {
    /// Samples one `history` read takes from the database at most, over all its signals.
    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    /// Calls `visit` with the newest `limit` recorded samples of `node` (at `path`) within
    /// `range`, oldest first. A read that fails is logged and reads nothing: the ring still
    /// answers. Blocks for the database round trip (on a worker that may).
    pub(crate) fn read(
        &self,
        node: NodeId,
        path: &str,
        range: std::ops::Range<Timestamp>,
        limit: usize,
        visit: &mut dyn FnMut(Row<'_>),
    ) {
        if !self.recorded.get(node.index()).copied().unwrap_or(false)
            || range.is_empty()
            || limit == 0
        {
            return;
        }
        // On a plain thread: a backend may block on a runtime of its own (PostgreSQL),
        // which cannot run on the async worker thread a request is answered on.
        let read = crate::blocking::may_block(|| {
            std::thread::scope(|scope| {
                scope
                    .spawn(|| {
                        let mut rows = Vec::new();
                        self.reader
                            .lock()
                            .load_history(&[path], range, limit, &mut |row| {
                                rows.push((row.ts, row.value.to_owned()));
                            })
                            .map(|_| rows)
                    })
                    .join()
            })
        });
        match read {
            Ok(Ok(rows)) => {
                for (ts, value) in &rows {
                    visit(Row {
                        path,
                        kind: Kind::Current,
                        ts: *ts,
                        value,
                    });
                }
            }
            Ok(Err(error)) => tracing::warn!(%error, path, "storage: history read failed"),
            Err(_) => tracing::error!(path, "storage: history read panicked"),
        }
    }
}

/// Restores what `backend` holds into `engine`'s store, then records every later write
/// through it. Call before serving; an engine takes one storage.
pub fn attach<T: VissTree>(
    engine: &Engine<T>,
    mut backend: Box<dyn Backend>,
    config: &StorageConfig,
) -> Result<Storage, StorageError> {
    let (recorded, rules) = recording(engine, config);
    let restored_history = match engine.store().history_config() {
        Some(ring) => {
            let since = Timestamp::now()
                .checked_sub(ring.retention)
                .unwrap_or(Timestamp::MIN);
            let recorded_paths: Vec<&str> = (0..recorded.len())
                .filter(|&index| recorded[index].is_some())
                .filter_map(|index| {
                    let node = engine.forest().get(NodeId(u32::try_from(index).ok()?))?;
                    Some(&*node.path)
                })
                .collect();
            let range = since..Timestamp::MAX;
            backend.load_history(&recorded_paths, range, ring.max_samples, &mut |row| {
                if let Some((node, sample)) = restore_row(engine, &row) {
                    engine.store().restore_history(node, sample);
                }
            })?
        }
        None => 0,
    };
    let restored_latest = backend.load_latest(&mut |row| {
        if let Some((node, sample)) = restore_row(engine, &row) {
            engine.store().restore(node, row.kind, sample);
        }
    })?;
    let paths = stored_paths(engine);
    if recorded.iter().any(Option::is_some) {
        let archive = Archive {
            reader: parking_lot::Mutex::new(backend.reader()?),
            recorded: recorded.iter().map(Option::is_some).collect(),
            limit: config.history_read_limit,
        };
        let _ = engine.store().attach_archive(archive);
    }
    let (journal, mut storage) = journal::start(backend, paths, (recorded, rules), config)?;
    if !engine.store().attach_journal(journal) {
        return Err(StorageError::Database(
            "this engine already records to a storage".into(),
        ));
    }
    storage.restored = (restored_latest, restored_history);
    Ok(storage)
}

/// The path each stored node is kept under, by node index; empty for nodes never stored:
/// branches, and the `Server` tree (it describes the running server: its ports, limits and
/// build, which a restart must not bring back).
fn stored_paths<T: VissTree>(engine: &Engine<T>) -> Arc<[Box<str>]> {
    let forest = engine.forest();
    (0..forest.node_count())
        .map(|index| {
            let id = NodeId(u32::try_from(index).unwrap_or(u32::MAX));
            match forest.get(id) {
                Some(node)
                    if node.kind != NodeKind::Branch
                        && node.path.split('.').next() != Some(crate::capabilities::ROOT) =>
                {
                    Box::from(&*node.path)
                }
                _ => Box::from(""),
            }
        })
        .collect()
}

/// Marks the nodes `globs` name (a branch: every leaf below it) with `rule`. A glob that
/// names nothing is logged, not fatal: trees change under configurations.
fn mark<T: VissTree>(
    engine: &Engine<T>,
    globs: &[String],
    rule: u16,
    recorded: &mut [Option<u16>],
) {
    let forest = engine.forest();
    let mut scratch = PathScratch::default();
    for glob in globs {
        let (root, rest) = glob.split_once(['.', '/']).unwrap_or((glob, ""));
        let Some(base) = forest.lookup(root) else {
            tracing::warn!(glob, "storage: no tree has the root of this glob");
            continue;
        };
        let expressions = if rest.is_empty() {
            vec![std::borrow::Cow::Borrowed("*")]
        } else {
            vec![std::borrow::Cow::Borrowed(rest)]
        };
        match resolve(forest, base, &expressions, true, &mut scratch) {
            Ok(()) => {
                for node in &scratch.nodes {
                    recorded[node.index()] = Some(rule);
                }
            }
            Err(_) => tracing::warn!(glob, "storage: no signal matches this glob"),
        }
    }
}

/// A stored row as a sample of a node of today's tree, or `None` (logged) when the tree no
/// longer has the path or the value no longer fits it.
fn restore_row<T: VissTree>(engine: &Engine<T>, row: &Row<'_>) -> Option<(NodeId, Sample)> {
    let Some(node) = engine.forest().lookup(row.path) else {
        tracing::warn!(
            path = row.path,
            "stored value of a path the tree lacks: skipped"
        );
        return None;
    };
    match engine.parse_stored(node, row.value) {
        Ok(value) => Some((node, Sample { value, ts: row.ts })),
        Err(error) => {
            tracing::warn!(path = row.path, %error, "stored value no longer fits the tree: skipped");
            None
        }
    }
}

/// The variable the PostgreSQL password is read from.
pub const POSTGRES_PASSWORD_VARIABLE: &str = "VISS_POSTGRES_PASSWORD";

/// Opens the configured backend: PostgreSQL when `postgres` is set, else SQLite in
/// `data_dir`, else nothing (in memory only). Blocks (connects, migrates): call it where
/// blocking is allowed, not on an async runtime's thread.
pub fn open_configured(config: &StorageConfig) -> Result<Option<Box<dyn Backend>>, StorageError> {
    if let Some(connection) = &config.postgres {
        #[cfg(feature = "postgres")]
        {
            let password = std::env::var(POSTGRES_PASSWORD_VARIABLE).ok();
            let security = postgres::Security {
                insecure: config.postgres_insecure,
                ca_file: config.postgres_ca.as_deref(),
            };
            let backend = postgres::PostgresBackend::connect(
                connection,
                password.as_deref(),
                &config.vehicle,
                &security,
            )?;
            return Ok(Some(Box::new(backend)));
        }
        #[cfg(not(feature = "postgres"))]
        return Err(StorageError::Open {
            path: PathBuf::from("PostgreSQL"),
            reason: format!(
                "this server is built without the `postgres` cargo feature of viss-runtime \
                 (configured: {} bytes of connection string)",
                connection.len()
            ),
        });
    }
    let Some(dir) = &config.data_dir else {
        return Ok(None);
    };
    #[cfg(feature = "sqlite")]
    {
        let backend = sqlite::SqliteBackend::open(&dir.join("viss.sqlite"), &config.vehicle)?;
        Ok(Some(Box::new(backend)))
    }
    #[cfg(not(feature = "sqlite"))]
    Err(StorageError::Open {
        path: dir.clone(),
        reason: "this server is built without the `sqlite` cargo feature of viss-runtime".into(),
    })
}
