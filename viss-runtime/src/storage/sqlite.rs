//! The embedded backend: one SQLite file in WAL mode, written by the storage writer thread
//! alone.
//!
//! `synchronous = NORMAL` in WAL mode: a commit is in the write-ahead log (the OS has it)
//! when it returns, so a killed server loses nothing it committed; a power cut may lose the
//! last commits, never the file's consistency. The schema is versioned by
//! `PRAGMA user_version` and migrated forward in one transaction at open ([`MIGRATIONS`]).

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use rusqlite::{Connection, OpenFlags, OptionalExtension as _, params};

use super::{Backend, Kind, Row, StorageError, nanos, timestamp};

/// Schema versions: entry `n` takes a database from version `n` to `n + 1`. Append only.
const MIGRATIONS: &[&str] = &[
    // 1: latest samples (current values and actuator targets) and recorded history.
    "CREATE TABLE latest (
         vehicle TEXT NOT NULL,
         path TEXT NOT NULL,
         kind INTEGER NOT NULL,
         ts INTEGER NOT NULL,
         value TEXT NOT NULL,
         PRIMARY KEY (vehicle, path, kind)
     ) WITHOUT ROWID;
     CREATE TABLE history (
         vehicle TEXT NOT NULL,
         path TEXT NOT NULL,
         ts INTEGER NOT NULL,
         value TEXT NOT NULL
     );
     CREATE INDEX history_by_path ON history (vehicle, path, ts);",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// A SQLite database of one or more vehicles' state.
#[derive(Debug)]
pub struct SqliteBackend {
    connection: Connection,
    vehicle: String,
}

impl SqliteBackend {
    /// Opens (or creates) the database at `path` and migrates it to [`SCHEMA_VERSION`].
    /// A file that is not a database of ours, or a newer one, is an error and left as it is.
    pub fn open(path: &Path, vehicle: &str) -> Result<Self, StorageError> {
        let failed = |error: rusqlite::Error| StorageError::Open {
            path: path.to_owned(),
            reason: error.to_string(),
        };
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|error| StorageError::Open {
                path: path.to_owned(),
                reason: format!("cannot create {}: {error}", dir.display()),
            })?;
        }
        let connection = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(failed)?;
        // Reading the version reads the header: a file that is no database fails here,
        // before anything is written to it.
        let version: i64 = connection
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(failed)?;
        if version > SCHEMA_VERSION {
            return Err(StorageError::TooNew {
                path: path.to_owned(),
                found: version,
                known: SCHEMA_VERSION,
            });
        }
        check_integrity(&connection, path)?;
        connection
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(failed)?;
        connection
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(failed)?;
        let mut backend = Self {
            connection,
            vehicle: vehicle.to_owned(),
        };
        backend.migrate(version, path)?;
        Ok(backend)
    }

    /// Runs the migrations after `from`, each with its version bump, in one transaction.
    fn migrate(&mut self, from: i64, path: &Path) -> Result<(), StorageError> {
        let failed = |error: rusqlite::Error| StorageError::Open {
            path: path.to_owned(),
            reason: format!("migrating the schema from version {from}: {error}"),
        };
        let start = usize::try_from(from).unwrap_or(0);
        if start >= MIGRATIONS.len() {
            return Ok(());
        }
        let transaction = self.connection.transaction().map_err(failed)?;
        for (index, migration) in MIGRATIONS.iter().enumerate().skip(start) {
            transaction.execute_batch(migration).map_err(failed)?;
            transaction
                .pragma_update(None, "user_version", index as i64 + 1)
                .map_err(failed)?;
        }
        transaction.commit().map_err(failed)?;
        tracing::info!(
            path = %path.display(),
            from,
            to = SCHEMA_VERSION,
            "storage: schema migrated"
        );
        Ok(())
    }

    /// Path of the database file, for messages.
    fn path(&self) -> PathBuf {
        self.connection
            .path()
            .map(PathBuf::from)
            .unwrap_or_default()
    }
}

/// `PRAGMA quick_check` (structure, not index contents): a damaged file is refused at
/// start instead of half read.
fn check_integrity(connection: &Connection, path: &Path) -> Result<(), StorageError> {
    let verdict: Option<String> = connection
        .query_row("PRAGMA quick_check(1)", [], |row| row.get(0))
        .optional()
        .map_err(|error| StorageError::Open {
            path: path.to_owned(),
            reason: error.to_string(),
        })?;
    match verdict.as_deref() {
        Some("ok") | None => Ok(()),
        Some(problem) => Err(StorageError::Open {
            path: path.to_owned(),
            reason: format!("the file is damaged ({problem})"),
        }),
    }
}

fn database(error: rusqlite::Error) -> StorageError {
    StorageError::Database(error.to_string())
}

impl Backend for SqliteBackend {
    fn load_latest(&mut self, visit: &mut dyn FnMut(Row<'_>)) -> Result<usize, StorageError> {
        let mut statement = self
            .connection
            .prepare("SELECT path, kind, ts, value FROM latest WHERE vehicle = ?1")
            .map_err(database)?;
        let mut rows = statement.query([&self.vehicle]).map_err(database)?;
        let mut count = 0;
        while let Some(row) = rows.next().map_err(database)? {
            let path: String = row.get(0).map_err(database)?;
            let (Some(kind), Some(ts)) = (
                Kind::from_code(row.get(1).map_err(database)?),
                timestamp(row.get(2).map_err(database)?),
            ) else {
                continue;
            };
            let value: String = row.get(3).map_err(database)?;
            visit(Row {
                path: &path,
                kind,
                ts,
                value: &value,
            });
            count += 1;
        }
        Ok(count)
    }

    fn load_history(
        &mut self,
        paths: &[&str],
        range: std::ops::Range<Timestamp>,
        per_path: usize,
        visit: &mut dyn FnMut(Row<'_>),
    ) -> Result<usize, StorageError> {
        // The newest `per_path` by the (vehicle, path, ts) index, read newest first and
        // handed on oldest first.
        let mut statement = self
            .connection
            .prepare(
                "SELECT ts, value FROM history
                 WHERE vehicle = ?1 AND path = ?2 AND ts >= ?3 AND ts < ?5
                 ORDER BY ts DESC LIMIT ?4",
            )
            .map_err(database)?;
        let limit = i64::try_from(per_path).unwrap_or(i64::MAX);
        let mut count = 0;
        let mut samples: Vec<(i64, String)> = Vec::new();
        for path in paths {
            samples.clear();
            let mut rows = statement
                .query(params![
                    self.vehicle,
                    path,
                    nanos(range.start),
                    limit,
                    nanos(range.end)
                ])
                .map_err(database)?;
            while let Some(row) = rows.next().map_err(database)? {
                samples.push((row.get(0).map_err(database)?, row.get(1).map_err(database)?));
            }
            for (ts, value) in samples.iter().rev() {
                let Some(ts) = timestamp(*ts) else {
                    continue;
                };
                visit(Row {
                    path,
                    kind: Kind::Current,
                    ts,
                    value,
                });
                count += 1;
            }
        }
        Ok(count)
    }

    fn write(
        &mut self,
        latest: &[Row<'_>],
        history: &[Row<'_>],
        unavailable: &[&str],
    ) -> Result<(), StorageError> {
        let transaction = self.connection.transaction().map_err(database)?;
        {
            let mut upsert = transaction
                .prepare_cached(
                    "INSERT INTO latest (vehicle, path, kind, ts, value)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (vehicle, path, kind)
                     DO UPDATE SET ts = excluded.ts, value = excluded.value",
                )
                .map_err(database)?;
            for row in latest {
                upsert
                    .execute(params![
                        self.vehicle,
                        row.path,
                        row.kind.code(),
                        nanos(row.ts),
                        row.value
                    ])
                    .map_err(database)?;
            }
            let mut append = transaction
                .prepare_cached(
                    "INSERT INTO history (vehicle, path, ts, value) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(database)?;
            for row in history {
                append
                    .execute(params![self.vehicle, row.path, nanos(row.ts), row.value])
                    .map_err(database)?;
            }
            let mut withdraw = transaction
                .prepare_cached("DELETE FROM latest WHERE vehicle = ?1 AND path = ?2 AND kind = ?3")
                .map_err(database)?;
            for path in unavailable {
                withdraw
                    .execute(params![self.vehicle, path, Kind::Current.code()])
                    .map_err(database)?;
            }
        }
        transaction.commit().map_err(database)
    }

    fn prune(&mut self, before: Timestamp, max_rows: u64) -> Result<u64, StorageError> {
        let by_age = self
            .connection
            .execute(
                "DELETE FROM history WHERE vehicle = ?1 AND ts < ?2",
                params![self.vehicle, nanos(before)],
            )
            .map_err(database)?;
        let keep = i64::try_from(max_rows).unwrap_or(i64::MAX);
        // Counting reads the index only; the ordered delete sorts the table, so it runs
        // only when there is something to delete.
        let rows: i64 = self
            .connection
            .query_row(
                "SELECT count(*) FROM history WHERE vehicle = ?1",
                params![self.vehicle],
                |row| row.get(0),
            )
            .map_err(database)?;
        if rows <= keep {
            return Ok(by_age as u64);
        }
        let by_size = self
            .connection
            .execute(
                "DELETE FROM history WHERE rowid IN (
                     SELECT rowid FROM history WHERE vehicle = ?1
                     ORDER BY ts DESC LIMIT -1 OFFSET ?2
                 )",
                params![self.vehicle, keep],
            )
            .map_err(database)?;
        let deleted = (by_age + by_size) as u64;
        if deleted > 0 {
            tracing::debug!(path = %self.path().display(), deleted, "history pruned");
        }
        Ok(deleted)
    }

    fn reader(&self) -> Result<Box<dyn Backend>, StorageError> {
        let path = self.path();
        let connection = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|error| StorageError::Open {
            path: path.clone(),
            reason: format!("opening a reader: {error}"),
        })?;
        Ok(Box::new(Self {
            connection,
            vehicle: self.vehicle.clone(),
        }))
    }

    fn prune_paths(&mut self, paths: &[&str], before: Timestamp) -> Result<u64, StorageError> {
        // One index range per path, in one transaction.
        let transaction = self.connection.transaction().map_err(database)?;
        let mut deleted = 0;
        {
            let mut statement = transaction
                .prepare_cached("DELETE FROM history WHERE vehicle = ?1 AND path = ?2 AND ts < ?3")
                .map_err(database)?;
            for path in paths {
                deleted += statement
                    .execute(params![self.vehicle, path, nanos(before)])
                    .map_err(database)?;
            }
        }
        transaction.commit().map_err(database)?;
        Ok(deleted as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row<'a>(path: &'a str, kind: Kind, second: i64, value: &'a str) -> Row<'a> {
        Row {
            path,
            kind,
            ts: Timestamp::from_second(second).unwrap(),
            value,
        }
    }

    fn latest(backend: &mut SqliteBackend) -> Vec<(String, Kind, i64, String)> {
        let mut seen = Vec::new();
        backend
            .load_latest(&mut |row| {
                seen.push((
                    row.path.to_owned(),
                    row.kind,
                    row.ts.as_second(),
                    row.value.to_owned(),
                ));
            })
            .unwrap();
        seen.sort_by(|a, b| (&a.0, a.1.code()).cmp(&(&b.0, b.1.code())));
        seen
    }

    #[test]
    fn the_newest_write_wins_and_vehicles_stay_apart() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("state/viss.sqlite");
        let mut one = SqliteBackend::open(&file, "VIN1").unwrap();
        one.write(
            &[
                row("Vehicle.Speed", Kind::Current, 10, "\"1\""),
                row("Vehicle.Speed", Kind::Current, 11, "\"2\""),
                row("Vehicle.Door", Kind::Target, 12, "\"true\""),
            ],
            &[],
            &[],
        )
        .unwrap();
        let mut two = SqliteBackend::open(&file, "VIN2").unwrap();
        two.write(
            &[row("Vehicle.Speed", Kind::Current, 13, "\"9\"")],
            &[],
            &[],
        )
        .unwrap();
        assert_eq!(
            latest(&mut one),
            vec![
                ("Vehicle.Door".into(), Kind::Target, 12, "\"true\"".into()),
                ("Vehicle.Speed".into(), Kind::Current, 11, "\"2\"".into()),
            ]
        );
        assert_eq!(latest(&mut two).len(), 1);
    }

    #[test]
    fn history_keeps_the_newest_per_path_and_prunes_by_age_and_size() {
        let dir = tempfile::tempdir().unwrap();
        let mut backend = SqliteBackend::open(&dir.path().join("viss.sqlite"), "").unwrap();
        let values: Vec<String> = (0..10).map(|n| format!("\"{n}\"")).collect();
        let history: Vec<Row<'_>> = (0..10)
            .map(|n| row("Vehicle.Speed", Kind::Current, 100 + n, &values[n as usize]))
            .collect();
        backend.write(&[], &history, &[]).unwrap();
        let mut seen = Vec::new();
        let since = Timestamp::from_second(102).unwrap();
        backend
            .load_history(
                &["Vehicle.Speed", "Vehicle.Other"],
                since..Timestamp::MAX,
                3,
                &mut |row| seen.push(row.ts.as_second()),
            )
            .unwrap();
        assert_eq!(
            seen,
            [107, 108, 109],
            "the newest three since 102, oldest first"
        );
        let deleted = backend
            .prune(Timestamp::from_second(103).unwrap(), 5)
            .unwrap();
        assert_eq!(deleted, 3 + 2, "100..=102 by age, then 103 and 104 by size");
        let mut left = Vec::new();
        backend
            .load_history(
                &["Vehicle.Speed"],
                Timestamp::MIN..Timestamp::MAX,
                100,
                &mut |row| left.push(row.ts.as_second()),
            )
            .unwrap();
        assert_eq!(left, [105, 106, 107, 108, 109]);
    }

    #[test]
    fn a_file_that_is_no_database_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("viss.sqlite");
        let garbage = b"this is not a database, but somebody's notes\n".repeat(200);
        std::fs::write(&file, &garbage).unwrap();
        let error = SqliteBackend::open(&file, "").unwrap_err();
        assert!(
            matches!(error, StorageError::Open { .. }),
            "{error}: an open error"
        );
        assert!(error.to_string().contains("viss.sqlite"), "{error}");
        assert_eq!(std::fs::read(&file).unwrap(), garbage, "not overwritten");
    }

    #[test]
    fn a_newer_schema_is_refused_and_an_old_one_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("viss.sqlite");
        {
            let connection = Connection::open(&file).unwrap();
            connection
                .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
                .unwrap();
        }
        let error = SqliteBackend::open(&file, "").unwrap_err();
        assert!(matches!(error, StorageError::TooNew { .. }), "{error}");
        // A version-0 (empty) database is migrated to the current schema.
        let fresh = dir.path().join("old.sqlite");
        drop(Connection::open(&fresh).unwrap());
        let backend = SqliteBackend::open(&fresh, "").unwrap();
        let version: i64 = backend
            .connection
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
    }
}
