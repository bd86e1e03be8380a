//! The shared backend: a PostgreSQL database that several servers write to, each vehicle's
//! rows apart by the `vehicle` column.
//!
//! The storage writer thread is this backend's only user, so it holds one connection and a
//! current-thread runtime of its own to drive it (no pool: there is nothing to share it
//! with). Start-up reads run on a thread of their own for the same reason
//! ([`super::attach`] is called from async code, where a runtime cannot block).
//!
//! TLS to the database is not built yet: connections go to loopback or a Unix socket only,
//! unless `postgres_insecure` says the network between is trusted.

use std::collections::HashMap;

use jiff::Timestamp;
use tokio_postgres::{Client, Config, NoTls};

use super::{Backend, Kind, Row, StorageError, nanos, timestamp};

/// Schema versions: entry `n` takes a database from version `n` to `n + 1`. Append only.
const MIGRATIONS: &[&str] = &["CREATE TABLE latest (
         vehicle TEXT NOT NULL,
         path TEXT NOT NULL,
         kind SMALLINT NOT NULL,
         ts BIGINT NOT NULL,
         value TEXT NOT NULL,
         PRIMARY KEY (vehicle, path, kind)
     );
     CREATE TABLE history (
         vehicle TEXT NOT NULL,
         path TEXT NOT NULL,
         ts BIGINT NOT NULL,
         value TEXT NOT NULL
     );
     CREATE INDEX history_by_path ON history (vehicle, path, ts);"];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Any number, the same in every server: the lock that keeps two servers starting at once
/// from migrating the same database twice.
const MIGRATION_LOCK: i64 = 0x5649_5353; // "VISS"

/// One vehicle's rows in a shared PostgreSQL database.
pub struct PostgresBackend {
    runtime: tokio::runtime::Runtime,
    client: Client,
    /// How to connect again (a reader's own connection); holds the password.
    config: Config,
    vehicle: String,
    target: String,
}

impl std::fmt::Debug for PostgresBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresBackend")
            .field("target", &self.target)
            .field("vehicle", &self.vehicle)
            .finish()
    }
}

fn database(error: tokio_postgres::Error) -> StorageError {
    StorageError::Database(error.to_string())
}

impl PostgresBackend {
    /// Connects with a libpq-style `connection` string (`host=127.0.0.1 port=5432
    /// user=viss dbname=viss`; the password from `password` when given) and migrates the
    /// schema. `vehicle` must not be empty: it is what keeps servers apart.
    pub fn connect(
        connection: &str,
        password: Option<&str>,
        vehicle: &str,
        insecure: bool,
    ) -> Result<Self, StorageError> {
        let open_error = |reason: String| StorageError::Open {
            path: connection_label(connection).into(),
            reason,
        };
        if vehicle.is_empty() {
            return Err(open_error(
                "a shared database needs this server's vehicle id (storage.vehicle, \
                 --storage-vehicle): rows are kept apart by it"
                    .into(),
            ));
        }
        let mut config: Config = connection
            .parse()
            .map_err(|error: tokio_postgres::Error| open_error(error.to_string()))?;
        if let Some(password) = password {
            config.password(password);
        }
        if !insecure && !only_local_hosts(&config) {
            return Err(open_error(
                "TLS to PostgreSQL is not built yet: connect over loopback or a Unix socket, \
                 or set storage.postgres_insecure = true for a trusted network"
                    .into(),
            ));
        }
        let (runtime, client) = open(&config).map_err(open_error)?;
        let mut backend = Self {
            runtime,
            client,
            config,
            vehicle: vehicle.to_owned(),
            target: connection_label(connection),
        };
        backend.migrate()?;
        Ok(backend)
    }

    /// Runs the migrations the database lacks, under a transaction-scoped advisory lock.
    fn migrate(&mut self) -> Result<(), StorageError> {
        let target = self.target.clone();
        let open_error = |error: tokio_postgres::Error| StorageError::Open {
            path: target.clone().into(),
            reason: format!("migrating the schema: {error}"),
        };
        self.runtime.block_on(async {
            let transaction = self.client.transaction().await.map_err(open_error)?;
            transaction
                .execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
                .await
                .map_err(open_error)?;
            transaction
                .batch_execute(
                    "CREATE TABLE IF NOT EXISTS viss_schema (version BIGINT NOT NULL);
                     INSERT INTO viss_schema SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM viss_schema);",
                )
                .await
                .map_err(open_error)?;
            let found: i64 = transaction
                .query_one("SELECT version FROM viss_schema", &[])
                .await
                .map_err(open_error)?
                .get(0);
            if found > SCHEMA_VERSION {
                return Err(StorageError::TooNew {
                    path: target.clone().into(),
                    found,
                    known: SCHEMA_VERSION,
                });
            }
            let start = usize::try_from(found).unwrap_or(0);
            for migration in MIGRATIONS.iter().skip(start) {
                transaction
                    .batch_execute(migration)
                    .await
                    .map_err(open_error)?;
            }
            transaction
                .execute("UPDATE viss_schema SET version = $1", &[&SCHEMA_VERSION])
                .await
                .map_err(open_error)?;
            transaction.commit().await.map_err(open_error)
        })
    }
}

/// A connection, driven by a current-thread runtime of its own (each `block_on`).
fn open(config: &Config) -> Result<(tokio::runtime::Runtime, Client), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| error.to_string())?;
    let client = runtime.block_on(async {
        let (client, connection) =
            tokio::time::timeout(std::time::Duration::from_secs(10), config.connect(NoTls))
                .await
                .map_err(|_| "no answer within 10 s".to_owned())?
                .map_err(|error| error.to_string())?;
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::error!(%error, "storage: the PostgreSQL connection ended");
            }
        });
        Ok::<_, String>(client)
    })?;
    Ok((runtime, client))
}

/// `host:port/dbname` of a connection string, for messages (never its password).
fn connection_label(connection: &str) -> String {
    let Ok(config) = connection.parse::<Config>() else {
        return "PostgreSQL".into();
    };
    let host = config
        .get_hosts()
        .first()
        .map(|host| match host {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .unwrap_or_default();
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let dbname = config.get_dbname().unwrap_or("");
    format!("postgresql://{host}:{port}/{dbname}")
}

/// Every host is loopback or a Unix socket: nobody on a network reads the traffic.
fn only_local_hosts(config: &Config) -> bool {
    config.get_hosts().iter().all(|host| match host {
        tokio_postgres::config::Host::Tcp(name) => {
            name == "localhost"
                || name
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|address| address.is_loopback())
        }
        #[cfg(unix)]
        tokio_postgres::config::Host::Unix(_) => true,
    })
}

impl Backend for PostgresBackend {
    fn load_latest(&mut self, visit: &mut dyn FnMut(Row<'_>)) -> Result<usize, StorageError> {
        let rows = self
            .runtime
            .block_on(self.client.query(
                "SELECT path, kind, ts, value FROM latest WHERE vehicle = $1",
                &[&self.vehicle],
            ))
            .map_err(database)?;
        let mut count = 0;
        for row in &rows {
            let kind: i16 = row.get(1);
            let ts: i64 = row.get(2);
            let (Some(kind), Some(ts)) = (Kind::from_code(i64::from(kind)), timestamp(ts)) else {
                continue;
            };
            visit(Row {
                path: row.get(0),
                kind,
                ts,
                value: row.get(3),
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
        let limit = i64::try_from(per_path).unwrap_or(i64::MAX);
        // One query, an index range per path (LATERAL), not a scan of the table.
        let rows = self
            .runtime
            .block_on(self.client.query(
                "SELECT wanted.path, recent.ts, recent.value
                 FROM UNNEST($2::text[]) AS wanted (path)
                 CROSS JOIN LATERAL (
                     SELECT ts, value FROM history
                     WHERE vehicle = $1 AND path = wanted.path AND ts >= $3 AND ts < $5
                     ORDER BY ts DESC LIMIT $4
                 ) AS recent
                 ORDER BY wanted.path, recent.ts",
                &[
                    &self.vehicle,
                    &paths,
                    &nanos(range.start),
                    &limit,
                    &nanos(range.end),
                ],
            ))
            .map_err(database)?;
        let mut count = 0;
        for row in &rows {
            let ts: i64 = row.get(1);
            let Some(ts) = timestamp(ts) else {
                continue;
            };
            visit(Row {
                path: row.get(0),
                kind: Kind::Current,
                ts,
                value: row.get(2),
            });
            count += 1;
        }
        Ok(count)
    }

    fn write(&mut self, latest: &[Row<'_>], history: &[Row<'_>]) -> Result<(), StorageError> {
        // One statement per table (arrays unnested), not one per row: a batch is one round
        // trip each. An upsert may touch a key once, so the newest row per key goes.
        let mut newest: HashMap<(&str, i64), usize> = HashMap::with_capacity(latest.len());
        for (index, row) in latest.iter().enumerate() {
            newest.insert((row.path, row.kind.code()), index);
        }
        let mut keep: Vec<usize> = newest.into_values().collect();
        keep.sort_unstable();
        let paths: Vec<&str> = keep.iter().map(|&index| latest[index].path).collect();
        let kinds: Vec<i16> = keep
            .iter()
            .map(|&index| latest[index].kind.code() as i16)
            .collect();
        let stamps: Vec<i64> = keep.iter().map(|&index| nanos(latest[index].ts)).collect();
        let values: Vec<&str> = keep.iter().map(|&index| latest[index].value).collect();
        let history_paths: Vec<&str> = history.iter().map(|row| row.path).collect();
        let history_stamps: Vec<i64> = history.iter().map(|row| nanos(row.ts)).collect();
        let history_values: Vec<&str> = history.iter().map(|row| row.value).collect();
        let vehicle = &self.vehicle;
        let client = &mut self.client;
        self.runtime.block_on(async move {
            let transaction = client.transaction().await?;
            if !paths.is_empty() {
                transaction
                    .execute(
                        "INSERT INTO latest (vehicle, path, kind, ts, value)
                         SELECT $1, * FROM UNNEST($2::text[], $3::smallint[], $4::bigint[], $5::text[])
                         ON CONFLICT (vehicle, path, kind)
                         DO UPDATE SET ts = excluded.ts, value = excluded.value",
                        &[vehicle, &paths, &kinds, &stamps, &values],
                    )
                    .await?;
            }
            if !history_paths.is_empty() {
                transaction
                    .execute(
                        "INSERT INTO history (vehicle, path, ts, value)
                         SELECT $1, * FROM UNNEST($2::text[], $3::bigint[], $4::text[])",
                        &[vehicle, &history_paths, &history_stamps, &history_values],
                    )
                    .await?;
            }
            transaction.commit().await
        })
        .map_err(database)
    }

    fn prune(&mut self, before: Timestamp, max_rows: u64) -> Result<u64, StorageError> {
        let keep = i64::try_from(max_rows).unwrap_or(i64::MAX);
        let vehicle = &self.vehicle;
        let client = &self.client;
        self.runtime
            .block_on(async move {
                let by_age = client
                    .execute(
                        "DELETE FROM history WHERE vehicle = $1 AND ts < $2",
                        &[vehicle, &nanos(before)],
                    )
                    .await?;
                let rows: i64 = client
                    .query_one(
                        "SELECT count(*) FROM history WHERE vehicle = $1",
                        &[vehicle],
                    )
                    .await?
                    .get(0);
                if rows <= keep {
                    return Ok(by_age);
                }
                let by_size = client
                    .execute(
                        "DELETE FROM history WHERE ctid IN (
                             SELECT ctid FROM history WHERE vehicle = $1
                             ORDER BY ts DESC OFFSET $2
                         )",
                        &[vehicle, &keep],
                    )
                    .await?;
                Ok(by_age + by_size)
            })
            .map_err(database)
    }

    fn reader(&self) -> Result<Box<dyn Backend>, StorageError> {
        let (runtime, client) = open(&self.config).map_err(|reason| StorageError::Open {
            path: self.target.clone().into(),
            reason: format!("opening a reader: {reason}"),
        })?;
        Ok(Box::new(Self {
            runtime,
            client,
            config: self.config.clone(),
            vehicle: self.vehicle.clone(),
            target: self.target.clone(),
        }))
    }

    fn prune_paths(&mut self, paths: &[&str], before: Timestamp) -> Result<u64, StorageError> {
        self.runtime
            .block_on(self.client.execute(
                "DELETE FROM history WHERE vehicle = $1 AND path = ANY($2::text[]) AND ts < $3",
                &[&self.vehicle, &paths, &nanos(before)],
            ))
            .map_err(database)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_and_unix_sockets_go_without_tls() {
        let local: Config = "host=127.0.0.1,localhost,/run/postgresql user=viss"
            .parse()
            .unwrap();
        assert!(only_local_hosts(&local));
        let remote: Config = "host=db.fleet.example user=viss".parse().unwrap();
        assert!(!only_local_hosts(&remote));
        let error =
            PostgresBackend::connect("host=db.fleet.example user=viss", None, "VIN1", false)
                .unwrap_err();
        assert!(error.to_string().contains("TLS"), "{error}");
    }

    #[test]
    fn a_shared_database_needs_a_vehicle_id_and_messages_never_show_the_password() {
        let error =
            PostgresBackend::connect("host=127.0.0.1 user=viss password=hunter2", None, "", false)
                .unwrap_err();
        let message = error.to_string();
        assert!(message.contains("vehicle id"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
    }
}
