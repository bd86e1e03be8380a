//! Storage seen from the engine (feature `sqlite`): feeding never waits for the database
//! (a full queue drops and counts), a restart restores values with their timestamps, and a
//! stored value today's tree no longer accepts is skipped, not served.

#![allow(clippy::unwrap_used)]

mod support;

use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use support::fixture_tree;
use viss_runtime::storage::sqlite::SqliteBackend;
use viss_runtime::storage::{self, Backend, Kind, Row, StorageConfig, StorageError};
use viss_runtime::{Engine, EngineConfig, Value};

/// A database that takes writes only once the test lets it: the queue in front of it fills.
struct GatedBackend {
    gate: Arc<Barrier>,
    opened: bool,
    written: Arc<Mutex<usize>>,
}

impl Backend for GatedBackend {
    fn load_latest(&mut self, _: &mut dyn FnMut(Row<'_>)) -> Result<usize, StorageError> {
        Ok(0)
    }

    fn load_history(
        &mut self,
        _: &[&str],
        _: std::ops::Range<Timestamp>,
        _: usize,
        _: &mut dyn FnMut(Row<'_>),
    ) -> Result<usize, StorageError> {
        Ok(0)
    }

    fn write(&mut self, latest: &[Row<'_>], _: &[Row<'_>], _: &[&str]) -> Result<(), StorageError> {
        if !self.opened {
            self.gate.wait();
            self.opened = true;
        }
        *self.written.lock().unwrap() += latest.len();
        Ok(())
    }

    fn prune(&mut self, _: Timestamp, _: u64) -> Result<u64, StorageError> {
        Ok(0)
    }

    fn prune_paths(&mut self, _: &[&str], _: Timestamp) -> Result<u64, StorageError> {
        Ok(0)
    }

    fn reader(&self) -> Result<Box<dyn Backend>, StorageError> {
        Err(StorageError::Database(
            "no reads from this test database".into(),
        ))
    }
}

#[test]
fn a_stalled_database_never_stalls_feeding_and_every_write_is_counted() {
    let engine = Engine::new(fixture_tree(), EngineConfig::default());
    let gate = Arc::new(Barrier::new(2));
    let written = Arc::new(Mutex::new(0));
    let backend = GatedBackend {
        gate: Arc::clone(&gate),
        opened: false,
        written: Arc::clone(&written),
    };
    let config = StorageConfig {
        queue: 16,
        batch: 4,
        ..StorageConfig::default()
    };
    let storage = storage::attach(&engine, Box::new(backend), &config).unwrap();
    const FEEDS: usize = 10_000;
    let started = Instant::now();
    for step in 0..FEEDS {
        let speed = Value::Float((step % 300) as f32);
        engine
            .update_path("Vehicle.Speed", speed, Timestamp::now())
            .unwrap();
    }
    let feeding = started.elapsed();
    assert!(
        feeding < Duration::from_secs(5),
        "feeding waited for the database: {feeding:?}"
    );
    let dropped = storage
        .stats()
        .dropped
        .load(std::sync::atomic::Ordering::Relaxed) as usize;
    assert!(
        dropped >= FEEDS - 16 - 4,
        "a queue of 16 in front of a stalled database drops the rest: {dropped}"
    );
    gate.wait();
    storage.flush();
    let written = *written.lock().unwrap();
    assert_eq!(written + dropped, FEEDS, "every write is stored or counted");
}

#[test]
fn a_restart_restores_values_targets_and_history_and_skips_what_no_longer_fits() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("viss.sqlite");
    let config = StorageConfig {
        history: vec!["Vehicle.Speed".into()],
        ..StorageConfig::default()
    };
    let t0 = Timestamp::from_second(1_800_000_000).unwrap();
    let at = |second: i64| {
        t0.checked_add(jiff::SignedDuration::from_secs(second))
            .unwrap()
    };
    {
        let engine = Engine::new(fixture_tree(), EngineConfig::default());
        let backend = SqliteBackend::open(&file, "").unwrap();
        let storage = storage::attach(&engine, Box::new(backend), &config).unwrap();
        for (second, speed) in [(1, 10.0), (2, 20.0), (3, 30.5)] {
            engine
                .update_path("Vehicle.Speed", Value::Float(speed), at(second))
                .unwrap();
        }
        storage.close();
    }
    {
        // Another program (or an older tree) left a value today's tree refuses: 400 km/h
        // where the maximum is 300, and a path the tree no longer has.
        let mut backend = SqliteBackend::open(&file, "").unwrap();
        backend
            .write(
                &[
                    Row {
                        path: "Vehicle.Powertrain.FuelSystem.Level",
                        kind: Kind::Current,
                        ts: at(4),
                        value: "\"400\"",
                    },
                    Row {
                        path: "Vehicle.Gone",
                        kind: Kind::Current,
                        ts: at(4),
                        value: "\"1\"",
                    },
                ],
                &[],
                &[],
            )
            .unwrap();
    }
    let engine = Engine::new(fixture_tree(), EngineConfig::default());
    let backend = SqliteBackend::open(&file, "").unwrap();
    let storage = storage::attach(&engine, Box::new(backend), &config).unwrap();
    assert_eq!(
        storage.restored,
        (3, 3),
        "3 latest rows read (1 usable), 3 history"
    );
    let speed = engine.forest().lookup("Vehicle.Speed").unwrap();
    let current = engine.store().current(speed).unwrap();
    assert_eq!((current.value, current.ts), (Value::Float(30.5), at(3)));
    let mut history = Vec::new();
    engine
        .store()
        .visit_history(speed, Timestamp::MIN, |sample| history.push(sample.ts));
    assert_eq!(
        history,
        [at(1), at(2)],
        "the samples before the current one"
    );
    let level = engine
        .forest()
        .lookup("Vehicle.Powertrain.FuelSystem.Level")
        .unwrap();
    assert_eq!(
        engine.store().current(level),
        None,
        "out of range: not served"
    );
    storage.close();
}

/// The recorded samples of `path` in the database at `file`, oldest first.
fn recorded(file: &std::path::Path, path: &str) -> Vec<Timestamp> {
    let mut backend = SqliteBackend::open(file, "").unwrap();
    let mut samples = Vec::new();
    backend
        .load_history(
            &[path],
            Timestamp::MIN..Timestamp::MAX,
            usize::MAX,
            &mut |row| samples.push(row.ts),
        )
        .unwrap();
    samples
}

#[test]
fn recording_rules_thin_samples_and_keep_their_own_retention() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("viss.sqlite");
    let config = StorageConfig {
        history: vec!["Vehicle.Speed".into()],
        record: vec![
            storage::RecordRule {
                glob: "Vehicle.Speed".into(),
                min_interval_ms: 1000,
                retention_secs: None,
            },
            storage::RecordRule {
                glob: "Vehicle.Powertrain.FuelSystem.Level".into(),
                min_interval_ms: 0,
                retention_secs: Some(5),
            },
        ],
        ..StorageConfig::default()
    };
    let start = Timestamp::now()
        .checked_sub(jiff::SignedDuration::from_secs(60))
        .unwrap();
    let at = |millis: i64| {
        start
            .checked_add(jiff::SignedDuration::from_millis(millis))
            .unwrap()
    };
    {
        let engine = Engine::new(fixture_tree(), EngineConfig::default());
        let backend = SqliteBackend::open(&file, "").unwrap();
        let storage = storage::attach(&engine, Box::new(backend), &config).unwrap();
        for millis in [0, 200, 500, 1000, 1500, 2100] {
            engine
                .update_path("Vehicle.Speed", Value::Float(1.0), at(millis))
                .unwrap();
            engine
                .update_path(
                    "Vehicle.Powertrain.FuelSystem.Level",
                    Value::UInt(50),
                    at(millis),
                )
                .unwrap();
        }
        storage.flush();
        let thinned = storage
            .stats()
            .thinned
            .load(std::sync::atomic::Ordering::Relaxed);
        assert_eq!(
            thinned, 3,
            "speed samples within 1 s of the last recorded one"
        );
        storage.close();
    }
    assert_eq!(
        recorded(&file, "Vehicle.Speed"),
        [at(0), at(1000), at(2100)],
        "one sample per second at most, the later rule winning over the plain glob"
    );
    assert_eq!(
        recorded(&file, "Vehicle.Powertrain.FuelSystem.Level").len(),
        6
    );
    // A restart prunes: the level's samples are a minute old, past its 5 s; the speed's
    // are within the default week.
    let engine = Engine::new(fixture_tree(), EngineConfig::default());
    let backend = SqliteBackend::open(&file, "").unwrap();
    let storage = storage::attach(&engine, Box::new(backend), &config).unwrap();
    storage.flush();
    assert_eq!(recorded(&file, "Vehicle.Powertrain.FuelSystem.Level"), []);
    assert_eq!(recorded(&file, "Vehicle.Speed").len(), 3);
    storage.close();
}

#[test]
fn history_reads_reach_past_the_ring_into_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("viss.sqlite");
    let config = StorageConfig {
        history: vec!["Vehicle.Speed".into()],
        ..StorageConfig::default()
    };
    let engine_config = EngineConfig {
        history: Some(viss_runtime::HistoryConfig {
            retention: jiff::SignedDuration::from_hours(1),
            max_samples: 3,
        }),
        ..EngineConfig::default()
    };
    let engine = Engine::new(fixture_tree(), engine_config);
    let backend = SqliteBackend::open(&file, "").unwrap();
    let storage = storage::attach(&engine, Box::new(backend), &config).unwrap();
    let start = Timestamp::now()
        .checked_sub(jiff::SignedDuration::from_secs(100))
        .unwrap();
    for second in 0..10 {
        let ts = start
            .checked_add(jiff::SignedDuration::from_secs(second))
            .unwrap();
        engine
            .update_path("Vehicle.Speed", Value::Float(second as f32), ts)
            .unwrap();
    }
    storage.flush();
    let history = |period: &str| {
        let mut session = engine.open_session();
        let mut out = Vec::new();
        let request = format!(
            r#"{{"action":"get","path":"Vehicle.Speed","requestId":"1","filter":{{"variant":"history","parameter":"{period}"}}}}"#
        );
        engine.handle(&mut session, request.as_bytes(), &mut out);
        let answer: serde_json::Value = serde_json::from_slice(&out).unwrap();
        answer["data"]["dp"]
            .as_array()
            .unwrap_or_else(|| panic!("{answer}"))
            .iter()
            .map(|point| point["value"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    // The ring holds the newest 3 (the last is the current value); the database the rest.
    assert_eq!(
        history("PT1H"),
        ["0", "1", "2", "3", "4", "5", "6", "7", "8"],
        "every sample before the current one, the older ones from the database"
    );
    // A shorter period: 96 s ago is within second 4 (the test takes well under a second),
    // so seconds 5.. are in it; the database adds 5 and 6, the ring 7 and 8.
    assert_eq!(history("PT96S"), ["5", "6", "7", "8"]);
    storage.close();
}

#[test]
fn a_signal_marked_not_available_stays_so_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("viss.sqlite");
    let config = StorageConfig::default();
    let restarted = || {
        let engine = Engine::new(fixture_tree(), EngineConfig::default());
        let backend = SqliteBackend::open(&file, "").unwrap();
        let storage = storage::attach(&engine, Box::new(backend), &config).unwrap();
        (engine, storage)
    };
    let (engine, storage) = restarted();
    let speed = engine.forest().lookup("Vehicle.Speed").unwrap();
    let level = engine
        .forest()
        .lookup("Vehicle.Powertrain.FuelSystem.Level")
        .unwrap();
    // In one batch: written, withdrawn, written again (the level); written then withdrawn
    // (the speed).
    engine
        .update(level, Value::UInt(40), Timestamp::now())
        .unwrap();
    engine.mark_unavailable(level);
    engine
        .update(level, Value::UInt(41), Timestamp::now())
        .unwrap();
    engine
        .update(speed, Value::Float(88.0), Timestamp::now())
        .unwrap();
    engine.mark_unavailable(speed);
    storage.close();
    let (engine, storage) = restarted();
    assert_eq!(
        engine.store().current(speed),
        None,
        "withdrawn last: not restored"
    );
    assert_eq!(
        engine.store().current(level).map(|sample| sample.value),
        Some(Value::UInt(41))
    );
    // Withdrawn in a later batch than its write; an actuator withdrawn and then given a
    // target in the same batch (the target is another row: the mark stands).
    let gear = engine
        .forest()
        .lookup("Vehicle.Powertrain.Transmission.CurrentGear");
    let gear = gear.unwrap();
    engine
        .update(gear, Value::Int(3), Timestamp::now())
        .unwrap();
    storage.flush();
    engine.mark_unavailable(level);
    engine.mark_unavailable(gear);
    engine.store().write_target(
        gear,
        viss_runtime::Sample {
            value: Value::Int(4),
            ts: Timestamp::now(),
        },
    );
    storage.close();
    let (engine, storage) = restarted();
    assert_eq!(engine.store().current(level), None);
    assert_eq!(
        engine.store().current(gear),
        None,
        "the mark outlives the target"
    );
    assert_eq!(
        engine.store().target(gear).map(|sample| sample.value),
        Some(Value::Int(4))
    );
    storage.close();
}
