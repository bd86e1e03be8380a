//! What durable state costs (docs/storage.md), each beside its in-memory baseline in the
//! same run:
//! - `get` and `set` through the engine with no storage, with SQLite, and with SQLite
//!   recording the signal's history (a `set` waits for its commit: `durable_sets`);
//! - feeding: the engine's side of one fed sample (queued, never waiting), and samples per
//!   second recorded end to end (fed in chunks the queue holds, then flushed);
//! - restart: restoring a database of 1,000,000 history rows (1,000 signals × 1,000
//!   samples) into a fresh engine.
//!
//! PostgreSQL joins the feeding, `set` and restart rows when `VISS_BENCH_POSTGRES` holds a
//! connection string to a scratch database (its tables are emptied for this vehicle).
//! Run: `cargo bench -p viss-runtime --features sqlite,postgres --bench storage`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use jiff::Timestamp;
use viss_runtime::storage::sqlite::SqliteBackend;
use viss_runtime::storage::{self, Backend, Kind, Row, Storage, StorageConfig};
use viss_runtime::{DynamicTree, Engine, EngineConfig, NodeKind, NodeSpec, Value};

const SIGNALS: usize = 1000;

fn tree() -> DynamicTree {
    let mut tree = DynamicTree::builder();
    for index in 0..SIGNALS {
        tree.insert_path(
            &format!("Vehicle.Signals.S{index}"),
            NodeSpec::leaf(format!("S{index}"), NodeKind::Sensor, "float"),
        )
        .expect("node");
    }
    tree.insert_path(
        "Vehicle.Volume",
        NodeSpec::leaf("Volume", NodeKind::Actuator, "uint8"),
    )
    .expect("node");
    tree.build()
}

fn engine() -> Engine<DynamicTree> {
    let engine = Engine::new(tree(), EngineConfig::default());
    engine
        .update_path("Vehicle.Signals.S0", Value::Float(1.5), Timestamp::now())
        .expect("leaf");
    engine
}

fn config(history: bool) -> StorageConfig {
    StorageConfig {
        history: if history {
            vec!["Vehicle".into()]
        } else {
            Vec::new()
        },
        vehicle: "BENCH".into(),
        ..StorageConfig::default()
    }
}

/// The backends of this run: SQLite in a scratch folder, and PostgreSQL when configured.
fn backends(dir: &std::path::Path, tag: &str) -> Vec<(&'static str, Box<dyn Backend>)> {
    let file = dir.join(format!("{tag}.sqlite"));
    let mut found: Vec<(&'static str, Box<dyn Backend>)> = vec![(
        "sqlite",
        Box::new(SqliteBackend::open(&file, "BENCH").expect("sqlite")),
    )];
    if let Ok(connection) = std::env::var("VISS_BENCH_POSTGRES") {
        let backend = storage::postgres::PostgresBackend::connect(
            &connection,
            None,
            &format!("BENCH-{tag}"),
            &storage::postgres::Security::default(),
        )
        .expect("postgres");
        found.push(("postgres", Box::new(backend)));
    }
    found
}

fn attached(backend: Box<dyn Backend>, history: bool) -> (Engine<DynamicTree>, Storage) {
    let engine = engine();
    let storage = storage::attach(&engine, backend, &config(history)).expect("attach");
    (engine, storage)
}

const GET: &[u8] = br#"{"action":"get","path":"Vehicle.Signals.S0","requestId":"1"}"#;
const SET: &[u8] = br#"{"action":"set","path":"Vehicle.Volume","value":"42","requestId":"1"}"#;

fn requests(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("dir");
    let mut out = Vec::with_capacity(1024);
    let memory = engine();
    let mut session = memory.open_session();
    c.bench_function("get, in memory (baseline)", |b| {
        b.iter(|| {
            memory.handle(&mut session, black_box(GET), &mut out);
            black_box(out.len())
        })
    });
    c.bench_function("set, in memory (baseline)", |b| {
        b.iter(|| {
            memory.handle(&mut session, black_box(SET), &mut out);
            black_box(out.len())
        })
    });
    for (name, backend) in backends(dir.path(), "requests") {
        let (engine, storage) = attached(backend, true);
        let mut session = engine.open_session();
        c.bench_function(&format!("get, {name} recording history"), |b| {
            b.iter(|| {
                engine.handle(&mut session, black_box(GET), &mut out);
                black_box(out.len())
            })
        });
        c.bench_function(&format!("set, {name} recording history (durable)"), |b| {
            b.iter(|| {
                engine.handle(&mut session, black_box(SET), &mut out);
                black_box(out.len())
            })
        });
        storage.close();
    }
}

/// Feeds `count` samples round-robin over the signals, `chunk` at a time, each chunk
/// flushed when `storage` is there: the time until all are recorded.
fn feed(engine: &Engine<DynamicTree>, storage: Option<&Storage>, count: usize) -> Duration {
    let ids: Vec<_> = (0..SIGNALS)
        .map(|index| {
            engine
                .forest()
                .lookup(&format!("Vehicle.Signals.S{index}"))
                .expect("signal")
        })
        .collect();
    let chunk = 32_768; // half the default queue
    let started = Instant::now();
    let mut fed = 0;
    while fed < count {
        for step in fed..(fed + chunk).min(count) {
            let value = Value::Float((step % 97) as f32);
            engine
                .update(ids[step % SIGNALS], value, Timestamp::now())
                .expect("feed");
        }
        fed = (fed + chunk).min(count);
        if let Some(storage) = storage {
            storage.flush();
        }
    }
    started.elapsed()
}

fn feeding(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("dir");
    let memory = engine();
    let signal = memory
        .forest()
        .lookup("Vehicle.Signals.S1")
        .expect("signal");
    c.bench_function("feed one sample, in memory (baseline)", |b| {
        b.iter(|| memory.update(signal, Value::Float(2.5), Timestamp::now()))
    });
    const SAMPLES: usize = 200_000;
    let baseline = feed(&memory, None, SAMPLES);
    println!(
        "feeding {SAMPLES} samples: in memory {:.0} samples/s (baseline)",
        SAMPLES as f64 / baseline.as_secs_f64()
    );
    for (name, backend) in backends(dir.path(), "feeding") {
        let (engine, storage) = attached(backend, true);
        let signal = engine
            .forest()
            .lookup("Vehicle.Signals.S1")
            .expect("signal");
        c.bench_function(
            &format!("feed one sample, {name} recording (queued)"),
            |b| b.iter(|| engine.update(signal, Value::Float(2.5), Timestamp::now())),
        );
        storage.flush();
        let before = storage
            .stats()
            .dropped
            .load(std::sync::atomic::Ordering::Relaxed);
        let elapsed = feed(&engine, Some(&storage), SAMPLES);
        let dropped = storage
            .stats()
            .dropped
            .load(std::sync::atomic::Ordering::Relaxed)
            - before;
        println!(
            "feeding {SAMPLES} samples: {name} recording history {:.0} samples/s stored \
             ({:.1}x the in-memory time, {dropped} dropped)",
            SAMPLES as f64 / elapsed.as_secs_f64(),
            elapsed.as_secs_f64() / baseline.as_secs_f64()
        );
        storage.close();
    }
}

/// Opens a backend again (a restart opens the database anew).
type Open = Box<dyn Fn() -> Box<dyn Backend>>;

fn restart(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("restart.sqlite");
    let mut targets: Vec<(&str, Open)> = vec![(
        "SQLite",
        Box::new(move || Box::new(SqliteBackend::open(&file, "BENCH").expect("sqlite"))),
    )];
    if let Ok(connection) = std::env::var("VISS_BENCH_POSTGRES") {
        targets.push((
            "PostgreSQL",
            Box::new(move || {
                Box::new(
                    storage::postgres::PostgresBackend::connect(
                        &connection,
                        None,
                        "BENCH-restart",
                        &storage::postgres::Security::default(),
                    )
                    .expect("postgres"),
                )
            }),
        ));
    }
    const PER_SIGNAL: usize = 1000;
    let mut group = c.benchmark_group("restart");
    group.sample_size(10);
    for (name, open) in &targets {
        fill(open(), PER_SIGNAL);
        group.bench_function(format!("restore 1,000,000 history rows ({name})"), |b| {
            b.iter(|| {
                let engine = engine();
                let storage = storage::attach(&engine, open(), &config(true)).expect("attach");
                assert_eq!(storage.restored.1, SIGNALS * 100, "each ring's 100 newest");
                storage.close();
            })
        });
    }
    group.finish();
}

/// Replaces this vehicle's history with `per_signal` samples of every signal, one a second
/// up to now.
fn fill(mut backend: Box<dyn Backend>, per_signal: usize) {
    backend.prune(Timestamp::now(), 0).expect("empty");
    let paths: Vec<String> = (0..SIGNALS)
        .map(|index| format!("Vehicle.Signals.S{index}"))
        .collect();
    let start = Timestamp::now().as_second() - per_signal as i64;
    for sample in 0..per_signal {
        let ts = Timestamp::from_second(start + sample as i64).expect("ts");
        let rows: Vec<Row<'_>> = paths
            .iter()
            .map(|path| Row {
                path,
                kind: Kind::Current,
                ts,
                value: "\"1.5\"",
            })
            .collect();
        backend.write(&rows, &rows, &[]).expect("write");
    }
}

criterion_group!(benches, requests, feeding, restart);
criterion_main!(benches);
