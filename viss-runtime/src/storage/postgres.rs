//! The shared backend: a PostgreSQL database that several servers write to, each vehicle's
//! rows apart by the `vehicle` column.
//!
//! The storage writer thread is this backend's only user, so it holds one connection and a
//! current-thread runtime of its own to drive it (no pool: there is nothing to share it
//! with). Start-up reads run on a thread of their own for the same reason
//! ([`super::attach`] is called from async code, where a runtime cannot block).
//!
//! TLS (rustls, the listeners' stack): a host that is not loopback or a Unix socket is
//! reached over TLS only, its certificate checked against `postgres_ca` or the system's
//! roots, unless `postgres_insecure` says the network between is trusted; a loopback host
//! uses TLS when the connection string asks (`sslmode=require`).

use std::collections::HashMap;

use jiff::Timestamp;
use tokio_postgres::config::SslMode;
use tokio_postgres::tls::MakeTlsConnect;
use tokio_postgres::{Client, Config, NoTls, Socket};

use super::{Backend, Kind, Row, StorageError, nanos, timestamp};
use crate::error::with_causes;

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
    runtime: OwnRuntime,
    client: Client,
    /// How to connect again (a reader's own connection); holds the password.
    config: Config,
    /// The TLS client configuration, when the connection uses TLS.
    tls: Option<rustls::ClientConfig>,
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
    StorageError::Database(with_causes(&error))
}

impl PostgresBackend {
    /// Connects with a libpq-style `connection` string (`host=127.0.0.1 port=5432
    /// user=viss dbname=viss`; the password from `password` when given) and migrates the
    /// schema. `vehicle` must not be empty: it is what keeps servers apart.
    pub fn connect(
        connection: &str,
        password: Option<&str>,
        vehicle: &str,
        security: &Security<'_>,
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
        let tls = match use_tls(&mut config, security.insecure).map_err(open_error)? {
            true => Some(tls_config(security.ca_file).map_err(open_error)?),
            false => None,
        };
        let (runtime, client) = open(&config, tls.as_ref()).map_err(open_error)?;
        let mut backend = Self {
            runtime,
            client,
            config,
            tls,
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

/// The current-thread runtime that drives one connection. Dropped without waiting: the
/// history reader's lives in the engine, whose last handle may go on an async worker, where
/// tokio forbids a runtime's blocking shutdown.
struct OwnRuntime(Option<tokio::runtime::Runtime>);

impl OwnRuntime {
    fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        match &self.0 {
            Some(runtime) => runtime.block_on(future),
            // Only `drop` takes it.
            None => unreachable!("the runtime is gone only once dropped"),
        }
    }
}

impl Drop for OwnRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// How the connection to the database is secured.
#[derive(Debug, Clone, Copy, Default)]
pub struct Security<'a> {
    /// Allow a host that is not loopback or a Unix socket without TLS.
    pub insecure: bool,
    /// The CA certificates to check the database's certificate against (PEM); the
    /// system's roots without one.
    pub ca_file: Option<&'a std::path::Path>,
}

/// Whether the connection uses TLS: always to a host that is not loopback or a Unix socket
/// (`sslmode=require` is then set), unless `insecure`; to a local one when the connection
/// string asks (`sslmode=require`). `sslmode=disable` to a remote host is refused.
fn use_tls(config: &mut Config, insecure: bool) -> Result<bool, String> {
    if config.get_ssl_mode() == SslMode::Require {
        return Ok(true);
    }
    if only_local_hosts(config) || insecure {
        return Ok(false);
    }
    if config.get_ssl_mode() == SslMode::Disable {
        return Err(
            "sslmode=disable to a host that is not loopback or a Unix socket: use TLS, \
             or set storage.postgres_insecure = true for a trusted network"
                .into(),
        );
    }
    config.ssl_mode(SslMode::Require);
    Ok(true)
}

/// The rustls client configuration for the database.
fn tls_config(ca_file: Option<&std::path::Path>) -> Result<rustls::ClientConfig, String> {
    let roots = crate::client_tls::roots(ca_file, "storage.postgres_ca")?;
    Ok(crate::client_tls::builder(roots)?.with_no_client_auth())
}

/// A connection, driven by a current-thread runtime of its own (each `block_on`), over TLS
/// with `tls`.
fn open(
    config: &Config,
    tls: Option<&rustls::ClientConfig>,
) -> Result<(OwnRuntime, Client), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| error.to_string())?;
    let client = match tls {
        Some(tls) => {
            let connector = tokio_postgres_rustls::MakeRustlsConnect::new(tls.clone());
            runtime.block_on(connect(config, connector))
        }
        None => runtime.block_on(connect(config, NoTls)),
    }?;
    Ok((OwnRuntime(Some(runtime)), client))
}

/// Connects through `tls` and drives the connection on the current runtime.
async fn connect<T>(config: &Config, tls: T) -> Result<Client, String>
where
    T: MakeTlsConnect<Socket>,
    T::Stream: Send + 'static,
{
    let (client, connection) =
        tokio::time::timeout(std::time::Duration::from_secs(10), config.connect(tls))
            .await
            .map_err(|_| "no answer within 10 s".to_owned())?
            .map_err(|error| with_causes(&error))?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::error!(%error, "storage: the PostgreSQL connection ended");
        }
    });
    Ok(client)
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

    fn write(
        &mut self,
        latest: &[Row<'_>],
        history: &[Row<'_>],
        unavailable: &[&str],
    ) -> Result<(), StorageError> {
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
            if !unavailable.is_empty() {
                transaction
                    .execute(
                        "DELETE FROM latest WHERE vehicle = $1 AND path = ANY($2::text[])
                         AND kind = $3",
                        &[vehicle, &unavailable, &(Kind::Current.code() as i16)],
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
        let (runtime, client) =
            open(&self.config, self.tls.as_ref()).map_err(|reason| StorageError::Open {
                path: self.target.clone().into(),
                reason: format!("opening a reader: {reason}"),
            })?;
        Ok(Box::new(Self {
            runtime,
            client,
            config: self.config.clone(),
            tls: self.tls.clone(),
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
        let mut remote: Config = "host=db.fleet.example user=viss".parse().unwrap();
        assert_eq!(use_tls(&mut remote, false), Ok(true));
        assert_eq!(
            remote.get_ssl_mode(),
            SslMode::Require,
            "a remote host needs TLS"
        );
        let mut plain: Config = "host=db.fleet.example sslmode=disable".parse().unwrap();
        assert!(
            use_tls(&mut plain, false)
                .unwrap_err()
                .contains("postgres_insecure")
        );
        assert_eq!(
            use_tls(&mut plain, true),
            Ok(false),
            "unless the network is trusted"
        );
        let mut local: Config = "host=127.0.0.1 user=viss".parse().unwrap();
        assert_eq!(use_tls(&mut local, false), Ok(false));
        let mut asked: Config = "host=127.0.0.1 sslmode=require".parse().unwrap();
        assert_eq!(
            use_tls(&mut asked, false),
            Ok(true),
            "asked for: TLS on loopback too"
        );
    }

    #[test]
    fn a_shared_database_needs_a_vehicle_id_and_messages_never_show_the_password() {
        let error = PostgresBackend::connect(
            "host=127.0.0.1 user=viss password=hunter2",
            None,
            "",
            &Security::default(),
        )
        .unwrap_err();
        let message = error.to_string();
        assert!(message.contains("vehicle id"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
    }
}
