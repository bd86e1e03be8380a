//! Binds the listeners, starts the transports, the timer task and the simulator, and
//! stops them all on shutdown.

use std::future::Future;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum_server::Handle;
use axum_server::accept::NoDelayAcceptor;
use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;

use super::config::ServerConfig;
use super::tls::{self, TlsFiles};
use super::{ServerError, http, run_timers, simulator, ws};
use crate::{Engine, VissTree};

/// Time given to open HTTP requests on shutdown.
const DRAIN: Duration = Duration::from_secs(5);

/// A running server: where it listens, and how to stop it.
#[derive(Debug)]
pub struct Listening {
    /// `wss://` (or `ws://` with `insecure`) address, when the WebSocket transport is on.
    pub ws: Option<SocketAddr>,
    /// `https://` (or `http://`) address, when the HTTP transport is on.
    pub http: Option<SocketAddr>,
    /// The certificate in use; `None` with `insecure`.
    pub tls: Option<TlsFiles>,
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
        tracing::info!("server stopped");
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

/// Binds, starts every transport and background task, and returns at once.
pub async fn start<T: VissTree + 'static>(
    engine: Arc<Engine<T>>,
    config: &ServerConfig,
) -> Result<Listening, ServerError> {
    let tls = if config.tls.insecure {
        tracing::warn!(
            "!!! INSECURE MODE: serving plain ws:// and http:// without TLS. The VISS spec \
             requires wss/https; use this for local development only !!!"
        );
        None
    } else {
        Some(tls::resolve_files(&config.tls)?)
    };
    let rustls = match &tls {
        Some(files) => Some(tls::rustls_config(files).await?),
        None => None,
    };
    let (stop, stopped) = watch::channel(false);
    let mut listening = Listening {
        ws: None,
        http: None,
        tls,
        stop,
        handles: Vec::new(),
        tasks: Vec::new(),
    };
    let address = config.listen.address;
    if config.listen.ws {
        let state = Arc::new(ws::WsState {
            engine: Arc::clone(&engine),
            limits: config.limits.clone(),
            connections: Arc::new(Semaphore::new(config.limits.max_connections.max(1))),
            shutdown: stopped.clone(),
        });
        let bound = bind(SocketAddr::new(address, config.listen.ws_port))?;
        listening.ws = Some(local_address(&bound)?);
        listening.spawn_server(bound, ws::router(state), rustls.clone())?;
    }
    if config.listen.http {
        let state = Arc::new(http::HttpState {
            engine: Arc::clone(&engine),
        });
        let bound = bind(SocketAddr::new(address, config.listen.http_port))?;
        listening.http = Some(local_address(&bound)?);
        let router = http::router(state, config.limits.max_message_bytes);
        listening.spawn_server(bound, router, rustls)?;
    }
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

impl Listening {
    fn spawn_server(
        &mut self,
        listener: TcpListener,
        router: Router,
        rustls: Option<RustlsConfig>,
    ) -> Result<(), ServerError> {
        let handle = Handle::new();
        let server = axum_server::from_tcp(listener).map_err(ServerError::Io)?;
        let service = router.into_make_service();
        let task = match rustls {
            Some(config) => {
                let acceptor = RustlsAcceptor::new(config).acceptor(NoDelayAcceptor::new());
                let server = server.acceptor(acceptor).handle(handle.clone());
                tokio::spawn(async move { log_exit(server.serve(service).await) })
            }
            None => {
                let server = server
                    .acceptor(NoDelayAcceptor::new())
                    .handle(handle.clone());
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
                "VISS v3 WebSocket on {}://{address} (sub-protocol VISSv3)",
                self.ws_scheme()
            );
        }
        if let Some(address) = self.http {
            tracing::info!("VISS v3 HTTP on {}://{address}", self.http_scheme());
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
