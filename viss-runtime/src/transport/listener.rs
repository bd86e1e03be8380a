//! Binds the listeners, starts the transports, the timer task and the simulator, and
//! stops them all on shutdown.

// A build whose only transport is MQTT (it connects out) binds no listener: the listener
// half of this module is then compiled but unused.
#![cfg_attr(
    not(any(feature = "ws", feature = "http", feature = "grpc")),
    allow(dead_code, unused_variables, unused_imports)
)]

use std::future::Future;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum_server::Handle;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::accept::CappedAcceptor;
use super::config::{Limits, ServerConfig, TlsConfig, TlsFiles};
use super::{ServerError, run_timers, simulator};
use crate::{Engine, VissTree};

/// A TLS acceptor configuration; uninhabited without the `tls` feature.
#[cfg(feature = "tls")]
type TlsSetup = axum_server::tls_rustls::RustlsConfig;
#[cfg(not(feature = "tls"))]
#[derive(Debug, Clone)]
enum TlsSetup {}

/// Time given to open HTTP requests on shutdown.
const DRAIN: Duration = Duration::from_secs(5);
/// Time given to the database to commit the last queued writes on shutdown.
#[cfg(feature = "storage")]
const STORAGE_CLOSE: Duration = Duration::from_secs(10);

/// A running server: where it listens, and how to stop it.
#[derive(Debug)]
pub struct Listening {
    /// `wss://` (or `ws://` with `insecure`) address, when the WebSocket transport is on.
    pub ws: Option<SocketAddr>,
    /// `https://` (or `http://`) address, when the HTTP transport is on.
    pub http: Option<SocketAddr>,
    /// gRPC address (TLS, or h2c with `insecure`), when the gRPC transport is on.
    pub grpc: Option<SocketAddr>,
    /// The MQTT broker connection and its topics, when the MQTT transport is on.
    #[cfg(feature = "mqtt")]
    pub mqtt: Option<super::mqtt::MqttEndpoint>,
    /// The file-transfer data channel (`wss://`, or `ws://` with `insecure`), when served.
    pub filetransfer: Option<SocketAddr>,
    /// The signal explorer page is served below `/explorer/` on the HTTP address.
    pub explorer: bool,
    /// The certificate in use; `None` with `insecure`.
    pub tls: Option<TlsFiles>,
    /// The database every write is recorded in, when one is configured.
    #[cfg(feature = "storage")]
    pub storage: Option<crate::storage::Storage>,
    stop: watch::Sender<bool>,
    handles: Vec<Handle<SocketAddr>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Listening {
    /// `wss` or `ws`.
    pub fn ws_scheme(&self) -> &'static str {
        if self.tls.is_some() { "wss" } else { "ws" }
    }

    /// `https` or `http`.
    pub fn http_scheme(&self) -> &'static str {
        if self.tls.is_some() { "https" } else { "http" }
    }

    /// Closes every WebSocket (close frame 1001), lets HTTP requests finish and stops the
    /// background tasks.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for handle in &self.handles {
            handle.graceful_shutdown(Some(DRAIN));
        }
        for task in self.tasks {
            let _ = tokio::time::timeout(DRAIN * 2, task).await;
        }
        // Last: what the transports wrote while draining is committed too.
        #[cfg(feature = "storage")]
        if let Some(storage) = self.storage {
            // Bounded: a database that stopped answering must not keep the process alive.
            let closed = tokio::task::spawn_blocking(move || storage.close());
            if tokio::time::timeout(STORAGE_CLOSE, closed).await.is_err() {
                tracing::error!(
                    "storage: the database did not take the last writes within {} s; \
                     stopping without them",
                    STORAGE_CLOSE.as_secs()
                );
            }
        }
        tracing::info!("server stopped");
    }
}

/// Writes the port a protocol really bound into the `Server` tree (when the engine serves
/// one: [`super::serving_forest`]), so `Server.Config.Protocol.*.PortNum` is right also for
/// port 0.
fn publish_port<T: VissTree>(engine: &Engine<T>, protocol: &str, port: u16) {
    if let Some(path) = crate::capabilities::port_path(protocol) {
        // No `Server` tree (an engine built without one): nothing to publish.
        let _ = engine.update_path(
            path,
            crate::Value::UInt(port.into()),
            jiff::Timestamp::now(),
        );
    }
}

/// Starts the server and runs it until `shutdown` resolves (e.g. [`super::shutdown_signal`]).
pub async fn run<T: VissTree + 'static>(
    engine: Arc<Engine<T>>,
    config: ServerConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServerError> {
    let listening = start(engine, &config).await?;
    shutdown.await;
    listening.shutdown().await;
    Ok(())
}

/// Secure by default: a tree with `validate` tags is served with token validation, or not
/// at all (unless access control is switched off explicitly, which is logged loudly).
fn install_access_control<T: VissTree>(
    engine: &Engine<T>,
    config: &crate::access::AccessControlConfig,
) -> Result<(), ServerError> {
    if engine.enforces_access_control() {
        return Ok(()); // installed by the embedding application
    }
    match crate::access::install(engine, config).map_err(ServerError::Config)? {
        crate::access::Installed::NoTags => {}
        crate::access::Installed::Enforced { protected } => tracing::info!(
            protected_nodes = protected,
            keys = config.keys.len(),
            "access control: tokens are checked for the nodes the tree's `validate` tags protect"
        ),
        crate::access::Installed::Disabled { protected } => tracing::warn!(
            protected_nodes = protected,
            "ACCESS CONTROL IS OFF (--no-access-control): nodes the tree protects with \
             `validate` tags are served to anybody without a token; development only"
        ),
    }
    Ok(())
}

/// Opens the configured database and restores the store from it (nothing configured:
/// in memory only). A database that cannot be used stops the start: a server that
/// silently started empty would answer with nothing it knew.
#[cfg(feature = "storage")]
fn attach_storage<T: VissTree>(
    engine: &Engine<T>,
    config: &crate::storage::StorageConfig,
) -> Result<Option<crate::storage::Storage>, ServerError> {
    let storage_error =
        |error: crate::storage::StorageError| ServerError::Storage(error.to_string());
    let started = std::time::Instant::now();
    // Opening and restoring block (a database client may run a runtime of its own, which
    // cannot start on this async thread): a plain thread does it while this one waits.
    let opened = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let Some(backend) = crate::storage::open_configured(config)? else {
                    return Ok(None);
                };
                crate::storage::attach(engine, backend, config).map(Some)
            })
            .join()
    });
    let storage = match opened {
        Ok(result) => result.map_err(storage_error)?,
        Err(_) => return Err(ServerError::Storage("opening the database panicked".into())),
    };
    let Some(storage) = storage else {
        return Ok(None);
    };
    tracing::info!(
        data_dir = ?config.data_dir,
        postgres = config.postgres.is_some(),
        restored_values = storage.restored.0,
        restored_history = storage.restored.1,
        recorded_globs = config.history.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "storage: state restored"
    );
    Ok(Some(storage))
}

/// Binds, starts every transport and background task, and returns at once.
pub async fn start<T: VissTree + 'static>(
    engine: Arc<Engine<T>>,
    config: &ServerConfig,
) -> Result<Listening, ServerError> {
    let serve_ws = config.listen.ws && built_in("ws", cfg!(feature = "ws"));
    let serve_http = config.listen.http && built_in("http", cfg!(feature = "http"));
    // gRPC is optional in every build, so a build without it serves the others quietly.
    let serve_grpc = config.listen.grpc && cfg!(feature = "grpc");
    let serve_mqtt = config.mqtt.broker.is_some() && built_in("mqtt", cfg!(feature = "mqtt"));
    if !serve_ws && !serve_http && !serve_grpc && !serve_mqtt {
        return Err(ServerError::Config(
            "no transport to serve: enable listen.ws, listen.http, listen.grpc or mqtt.broker \
             (and its cargo feature)"
                .into(),
        ));
    }
    install_access_control(&engine, &config.access_control)?;
    // Restored before the first client is served.
    #[cfg(feature = "storage")]
    let storage = attach_storage(&engine, &config.storage)?;
    // Certificates are for listeners; a server that only connects out (MQTT) needs none.
    let (tls, rustls) = if serve_ws || serve_http || serve_grpc {
        tls_setup(&config.tls).await?
    } else {
        (None, None)
    };
    let (stop, stopped) = watch::channel(false);
    let mut listening = Listening {
        ws: None,
        http: None,
        grpc: None,
        #[cfg(feature = "mqtt")]
        mqtt: None,
        filetransfer: None,
        explorer: false,
        tls,
        #[cfg(feature = "storage")]
        storage,
        stop,
        handles: Vec::new(),
        tasks: Vec::new(),
    };
    let address = config.listen.address;
    #[cfg(feature = "ws")]
    if serve_ws {
        let state = Arc::new(super::ws::WsState {
            engine: Arc::clone(&engine),
            limits: config.limits.clone(),
            connections: connection_cap(&config.limits),
            require_subprotocol: config.protocol.require_subprotocol,
            shutdown: stopped.clone(),
        });
        let router = super::ws::router(state);
        let at = SocketAddr::new(address, config.listen.ws_port);
        listening.ws =
            Some(listening.serve(&engine, "ws", at, router, rustls.clone(), &config.limits)?);
    }
    #[cfg(feature = "http")]
    if serve_http {
        let state = Arc::new(super::http::HttpState {
            engine: Arc::clone(&engine),
        });
        let mut router = super::http::router(state, config.limits.max_message_bytes);
        if config.listen.explorer {
            // The WebSocket listener is up by now: the page is told its real port.
            let endpoints = super::explorer::Endpoints {
                ws: listening.ws,
                tls: rustls.is_some(),
                roots: engine
                    .forest()
                    .root_names()
                    .into_iter()
                    .map(str::to_owned)
                    .collect(),
            };
            router = router.merge(super::explorer::router(endpoints));
            listening.explorer = true;
        }
        let at = SocketAddr::new(address, config.listen.http_port);
        listening.http =
            Some(listening.serve(&engine, "http", at, router, rustls.clone(), &config.limits)?);
    }
    #[cfg(feature = "filetransfer")]
    if config.filetransfer.enabled() {
        let files =
            crate::filetransfer::FileTransfer::new(engine.forest(), config.filetransfer.clone())
                .map(Arc::new)
                .map_err(ServerError::Config)?;
        // An engine holds one file-transfer service: one the embedding application
        // installed serves its own data channel.
        if !engine.install_file_resources(Arc::clone(&files) as Arc<dyn crate::FileResources>) {
            return Err(ServerError::Config(
                "file transfer is configured, but the engine has a file-transfer service \
                 installed already"
                    .into(),
            ));
        }
        let state = Arc::new(crate::filetransfer::channel::ChannelState {
            engine: Arc::clone(&engine),
            files,
            connections: connection_cap(&config.limits),
            send_timeout: config.limits.send_timeout(),
            shutdown: stopped.clone(),
        });
        let router = crate::filetransfer::channel::router(state);
        let at = SocketAddr::new(address, config.filetransfer.port);
        listening.filetransfer = Some(listening.serve(
            &engine,
            "filetransfer",
            at,
            router,
            rustls.clone(),
            &config.limits,
        )?);
    }
    #[cfg(feature = "grpc")]
    if serve_grpc {
        let state = super::grpc::GrpcState {
            engine: Arc::clone(&engine),
            limits: config.limits.clone(),
            streams: connection_cap(&config.limits),
            shutdown: stopped.clone(),
        };
        let router = super::grpc::router(state);
        let at = SocketAddr::new(address, config.listen.grpc_port);
        listening.grpc =
            Some(listening.serve(&engine, "grpc", at, router, rustls, &config.limits)?);
    }
    #[cfg(not(feature = "grpc"))]
    let _ = (serve_grpc, rustls);
    #[cfg(feature = "mqtt")]
    if serve_mqtt {
        let (endpoint, tasks) = super::mqtt::start(Arc::clone(&engine), config, stopped.clone())?;
        listening.mqtt = Some(endpoint);
        listening.tasks.extend(tasks);
    }
    #[cfg(not(feature = "mqtt"))]
    let _ = serve_mqtt;
    let timers = run_timers(
        Arc::clone(&engine),
        config.limits.tick(),
        stopped_future(&stopped),
    );
    listening.tasks.push(tokio::spawn(timers));
    if config.simulator.enabled {
        let feeder = simulator::run_simulator(
            Arc::clone(&engine),
            config.simulator.clone(),
            stopped_future(&stopped),
        );
        listening.tasks.push(tokio::spawn(feeder));
    }
    listening.log_addresses();
    Ok(listening)
}

/// The certificate files and acceptor configuration, or neither with `tls.insecure`.
/// Without the `tls` feature, insecure is the only choice and must be made explicitly.
async fn tls_setup(
    config: &TlsConfig,
) -> Result<(Option<TlsFiles>, Option<TlsSetup>), ServerError> {
    if config.insecure {
        tracing::warn!(
            "!!! INSECURE MODE: serving plain ws:// and http:// without TLS. The VISS spec \
             requires wss/https; use this for local development only !!!"
        );
        if !cfg!(feature = "tls") {
            tracing::warn!(
                "this server is built without the `tls` cargo feature: plain ws:// and \
                 http:// are the only transports it can serve"
            );
        }
        return Ok((None, None));
    }
    #[cfg(feature = "tls")]
    {
        let files = super::tls::resolve_files(config)?;
        let rustls = super::tls::rustls_config(&files)?;
        Ok((Some(files), Some(rustls)))
    }
    #[cfg(not(feature = "tls"))]
    Err(tls_not_built())
}

/// Why a server built without the `tls` feature refuses to start unless plain transports
/// are chosen explicitly. Compiled in every build, so its test runs in every build (CI
/// runs the full one; the feature matrix checks that the `not(tls)` branch compiles).
#[cfg_attr(feature = "tls", allow(dead_code))]
fn tls_not_built() -> ServerError {
    ServerError::Tls(
        "TLS is not available: this server is built without the `tls` cargo feature of \
         viss-runtime, so it cannot serve wss:// or https://. Rebuild with `tls`, or serve \
         plain ws:// and http:// for local development by choosing it explicitly: \
         `tls.insecure = true` in the configuration file, `--insecure` or VISS_INSECURE=true"
            .into(),
    )
}

/// Whether a configured transport is compiled in; logs when it is not.
fn built_in(transport: &str, compiled: bool) -> bool {
    if !compiled {
        tracing::warn!(
            "the {transport} transport is configured but not built in (cargo feature \
             `{transport}` of viss-runtime): not serving it"
        );
    }
    compiled
}

/// The connections (or gRPC streams) one listener serves at once.
#[cfg(any(feature = "ws", feature = "grpc"))]
fn connection_cap(limits: &Limits) -> Arc<tokio::sync::Semaphore> {
    Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)))
}

impl Listening {
    /// Binds `at`, publishes the port really bound as `protocol`'s in the `Server` tree,
    /// and serves `router` there; the address bound.
    fn serve<T: VissTree>(
        &mut self,
        engine: &Engine<T>,
        protocol: &str,
        at: SocketAddr,
        router: Router,
        tls: Option<TlsSetup>,
        limits: &Limits,
    ) -> Result<SocketAddr, ServerError> {
        let bound = bind(at)?;
        let local = local_address(&bound)?;
        publish_port(engine, protocol, local.port());
        self.spawn_server(bound, router, tls, limits)?;
        Ok(local)
    }

    fn spawn_server(
        &mut self,
        listener: TcpListener,
        router: Router,
        tls: Option<TlsSetup>,
        limits: &Limits,
    ) -> Result<(), ServerError> {
        let handle = Handle::new();
        // Half-open connections (no handshake, a partial request, silence) are closed after
        // the handshake timeout instead of being held forever (axum-server's default).
        let handshake = limits.handshake_timeout();
        let mut server = axum_server::from_tcp(listener).map_err(ServerError::Io)?;
        server
            .http_builder()
            .http1()
            .header_read_timeout(Some(handshake));
        // HTTP/2 (gRPC, and HTTPS clients that negotiate h2): bounded streams per
        // connection, and pings so a vanished peer's subscription streams end.
        server
            .http_builder()
            .http2()
            .max_concurrent_streams(limits.max_concurrent_streams)
            .keep_alive_interval(limits.ping_interval())
            .keep_alive_timeout(limits.dead_peer_timeout());
        let server = server.first_request_timeout(handshake);
        let service = router.into_make_service();
        let accept = CappedAcceptor::new(limits.open_connection_cap());
        let task = match tls {
            #[cfg(feature = "tls")]
            Some(config) => {
                let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(config)
                    .handshake_timeout(handshake)
                    .acceptor(accept);
                let server = server.acceptor(acceptor).handle(handle.clone());
                tokio::spawn(async move { log_exit(server.serve(service).await) })
            }
            #[cfg(not(feature = "tls"))]
            Some(never) => match never {},
            None => {
                let server = server.acceptor(accept).handle(handle.clone());
                tokio::spawn(async move { log_exit(server.serve(service).await) })
            }
        };
        self.handles.push(handle);
        self.tasks.push(task);
        Ok(())
    }

    fn log_addresses(&self) {
        if let Some(address) = self.ws {
            tracing::info!(
                "VISS v3 WebSocket on {}://{address} (sub-protocols {})",
                self.ws_scheme(),
                super::SUBPROTOCOLS.join(", ")
            );
        }
        if let Some(address) = self.http {
            tracing::info!("VISS v3 HTTP on {}://{address}", self.http_scheme());
        }
        if let Some(address) = self.grpc {
            let security = if self.tls.is_some() {
                "TLS"
            } else {
                "plaintext h2c"
            };
            tracing::info!(
                "VISS v3 gRPC on {address} ({security}, service grpcProtobufMessages.VISS)"
            );
        }
        #[cfg(feature = "mqtt")]
        if let Some(mqtt) = &self.mqtt {
            tracing::info!(
                "VISS v3 over MQTT through {}://{} on topics {}{}",
                if mqtt.tls { "mqtts" } else { "mqtt" },
                mqtt.broker,
                mqtt.request_topic,
                mqtt.protobuf_topic
                    .as_deref()
                    .map(|topic| format!(", {topic}"))
                    .unwrap_or_default()
            );
        }
        if let Some(address) = self.filetransfer {
            tracing::info!(
                "VISS file transfer data channel on {}://{address}",
                self.ws_scheme()
            );
        }
        if let Some(files) = &self.tls {
            tracing::info!(cert = %files.cert.display(), self_signed = files.self_signed, "TLS certificate");
        }
    }
}

fn log_exit(result: std::io::Result<()>) {
    if let Err(error) = result {
        tracing::error!(%error, "listener stopped with an error");
    }
}

fn bind(address: SocketAddr) -> Result<TcpListener, ServerError> {
    TcpListener::bind(address).map_err(|error| ServerError::Bind(address, error))
}

fn local_address(listener: &TcpListener) -> Result<SocketAddr, ServerError> {
    listener.local_addr().map_err(ServerError::Io)
}

/// Resolves once the stop flag is raised (or its sender is gone).
fn stopped_future(stopped: &watch::Receiver<bool>) -> impl Future<Output = ()> + use<> {
    let mut stopped = stopped.clone();
    async move {
        let _ = stopped.wait_for(|stop| *stop).await;
    }
}

#[cfg(test)]
mod tests {
    // Test code: a failed unwrap is a failed test.
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::{DynamicTree, EngineConfig};

    #[tokio::test]
    async fn a_configuration_with_no_transport_is_an_error() {
        let engine = Arc::new(Engine::new(
            DynamicTree::builder().build(),
            EngineConfig::default(),
        ));
        let mut config = ServerConfig::default();
        config.tls.insecure = true;
        config.listen.ws = false;
        config.listen.http = false;
        config.listen.grpc = false;
        config.mqtt.broker = None;
        let error = start(engine, &config).await.unwrap_err();
        assert!(error.to_string().contains("no transport"), "{error}");
    }

    /// Without TLS, only an explicit insecure choice serves: the refusal names the missing
    /// feature and the way out; `insecure` serves plain transports in every build.
    #[tokio::test]
    async fn without_tls_only_an_explicit_insecure_choice_serves() {
        let message = tls_not_built().to_string();
        assert!(
            message.contains("built without the `tls` cargo feature")
                && message.contains("--insecure"),
            "{message}"
        );
        #[cfg(not(feature = "tls"))]
        assert_eq!(
            tls_setup(&TlsConfig::default())
                .await
                .unwrap_err()
                .to_string(),
            message
        );
        let insecure = TlsConfig {
            insecure: true,
            ..TlsConfig::default()
        };
        assert!(matches!(tls_setup(&insecure).await, Ok((None, None))));
    }
}
