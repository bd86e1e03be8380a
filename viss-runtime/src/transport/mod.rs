//! Network transports for the engine: WebSocket (`ws`), HTTP (`http`), TLS (`tls`), the
//! server configuration, the timer task and the simulator feeder.
//!
//! Each transport builds on its own. With `tls` they serve wss:// and https://; without it
//! they can only serve plain ws:// and http://, and only when the configuration says so
//! explicitly (`tls.insecure = true`, `--insecure`): the spec requires TLS, so a server
//! never falls back to plain text silently.
//!
//! A generated `main.rs` calls [`main`] (feature `server`); a server binary of its own needs
//! three lines:
//!
//! ```no_run
//! # async fn demo(engine: std::sync::Arc<viss_runtime::Engine<viss_runtime::DynamicTree>>) {
//! use viss_runtime::server::{self, ServerConfig};
//! let config = ServerConfig::default();
//! server::run(engine, config, server::shutdown_signal()).await.ok();
//! # }
//! ```

#[cfg(feature = "server")]
pub mod cli;
pub mod config;
#[cfg(feature = "http")]
mod explorer;
#[cfg(feature = "grpc")]
pub mod grpc;
#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "mqtt")]
pub mod mqtt;
pub mod simulator;
#[cfg(feature = "tls")]
pub mod tls;
#[cfg(feature = "ws")]
pub mod ws;

mod accept;
mod listener;
#[cfg(any(feature = "grpc", feature = "mqtt"))]
mod subscription_ids;

use std::future::Future;
use std::sync::Arc;

use jiff::Timestamp;

pub use config::{
    ConfigError, Limits, ListenConfig, LogConfig, MqttConfig, ProtocolConfig, ServerConfig,
    SimulatorConfig, TlsConfig, TlsFiles,
};
pub use listener::{Listening, run, start};

#[cfg(feature = "server")]
pub use cli::{
    MountedTree, ServerArgs, engine_config, init_logging, main, main_with_trees, run_until_signal,
    serve,
};

use crate::capabilities::{Capabilities, Protocol};
use crate::response::{begin, finish, key, write_json_str};
use crate::{Engine, EngineConfig, Forest, ForestError, VissTree};

/// The sub-protocols the WebSocket transport serves, in order of preference: JSON v3,
/// protobuf (feature `protobuf`), then the VISSv2-era clients.
#[cfg(feature = "protobuf")]
pub const SUBPROTOCOLS: &[&str] = &["VISSv3", crate::codec::protobuf::SUBPROTOCOL, "VISSv2"];
/// The sub-protocols the WebSocket transport serves, in order of preference.
#[cfg(not(feature = "protobuf"))]
pub const SUBPROTOCOLS: &[&str] = &["VISSv3", "VISSv2"];

/// What a server with `config` serves, for its `Server` tree: the engine's features, and
/// the transports compiled in **and** enabled, with their configured ports (the bound ones
/// replace them at start), TLS and limits.
pub fn capabilities(config: &ServerConfig, engine: &EngineConfig) -> Capabilities {
    let mut capabilities = Capabilities::of_engine(engine);
    let listen = &config.listen;
    if cfg!(feature = "ws") && listen.ws {
        capabilities.protocols.push(Protocol {
            name: "ws",
            port: listen.ws_port,
        });
        capabilities.subprotocols = SUBPROTOCOLS.to_vec();
        #[cfg(feature = "protobuf")]
        {
            capabilities.encodings.push("protobuf");
            capabilities.protobuf_subprotocol = Some(crate::codec::protobuf::SUBPROTOCOL);
        }
        if !config.protocol.require_subprotocol {
            capabilities
                .deviations
                .push("WebSocket clients naming no sub-protocol are served as VISSv2".into());
        }
    }
    if cfg!(feature = "http") && listen.http {
        capabilities.protocols.push(Protocol {
            name: "http",
            port: listen.http_port,
        });
    }
    if cfg!(feature = "grpc") && listen.grpc {
        capabilities.protocols.push(Protocol {
            name: "grpc",
            port: listen.grpc_port,
        });
        if !capabilities.encodings.contains(&"protobuf") {
            capabilities.encodings.push("protobuf");
        }
    }
    if cfg!(feature = "mqtt")
        && let Some(broker) = &config.mqtt.broker
    {
        let port = mqtt_broker_port(broker);
        capabilities.protocols.push(Protocol { name: "mqtt", port });
        capabilities.mqtt_topic = config.mqtt.request_topic();
        if cfg!(feature = "protobuf") {
            capabilities.mqtt_protobuf_topic = config.mqtt.protobuf_topic();
            if capabilities.mqtt_protobuf_topic.is_some()
                && !capabilities.encodings.contains(&"protobuf")
            {
                capabilities.encodings.push("protobuf");
            }
        }
        if broker.starts_with("mqtt://") {
            capabilities
                .deviations
                .push("plain mqtt:// to the broker without TLS (insecure)".into());
        }
    }
    let access = &config.access_control;
    if cfg!(feature = "auth") && access.enabled && !access.keys.is_empty() {
        // Tokens are checked, and `+consent` nodes need the owner's consent in them.
        capabilities.security.extend(["accesscontrol", "consent"]);
    }
    if !access.enabled {
        capabilities
            .deviations
            .push("access control off: `validate` tags are not enforced (insecure)".into());
    }
    capabilities.tls = !config.tls.insecure;
    if config.tls.insecure {
        capabilities
            .deviations
            .push("plain ws:// and http:// without TLS (insecure)".into());
    }
    capabilities.limits.max_message_bytes = config.limits.max_message_bytes as u64;
    capabilities
}

/// The broker port a `mqtt(s)://host[:port]` URL names (the scheme's default without one);
/// 0 when the URL cannot be read (the transport refuses it at start).
fn mqtt_broker_port(url: &str) -> u16 {
    #[cfg(feature = "mqtt")]
    if let Ok((_, _, port)) = mqtt::parse_broker_url(url) {
        return port;
    }
    let _ = url;
    0
}

/// `tree` with the `Server` capabilities tree of `config` beside it: what every server
/// serves (CORE App. B).
pub fn serving_forest<T: VissTree>(
    tree: T,
    config: &ServerConfig,
    engine: &EngineConfig,
) -> Result<Forest<T>, ForestError> {
    let mut capabilities = capabilities(config, engine);
    #[cfg(feature = "filetransfer")]
    if config.filetransfer.enabled() {
        capabilities.file_transfer = file_transfer_capabilities(&tree, &config.filetransfer);
    }
    if !tree.nodes().iter().any(|node| node.validate.is_some()) {
        // Nothing to protect: no token is ever checked, whatever keys are configured.
        capabilities
            .security
            .retain(|feature| !matches!(*feature, "accesscontrol" | "consent"));
    }
    Forest::new(tree).with(capabilities.tree())
}

/// The file transfer `tree` and `config` serve: downloads when the tree has file
/// actuators, uploads when sensors are mapped to files; `None` when neither.
#[cfg(feature = "filetransfer")]
fn file_transfer_capabilities<T: VissTree>(
    tree: &T,
    config: &crate::filetransfer::FileTransferConfig,
) -> Option<crate::capabilities::FileTransfer> {
    use crate::filetransfer::descriptor::is_file_type;
    let downloads = tree.nodes().iter().any(|node| {
        node.kind == crate::tree::NodeKind::Actuator && is_file_type(node.datatype.as_ref())
    });
    let mut directions = Vec::new();
    if downloads {
        directions.push("download");
    }
    if !config.uploads.is_empty() {
        directions.push("upload");
    }
    (!directions.is_empty()).then(|| crate::capabilities::FileTransfer {
        directions,
        port: config.port,
        chunk_bytes: config.chunk_bytes.into(),
        max_file_bytes: config.max_file_bytes,
    })
}

/// Why the server could not start or stopped with an error.
#[derive(Debug)]
pub enum ServerError {
    /// The configuration cannot be served (e.g. no transport left to serve).
    Config(String),
    Bind(std::net::SocketAddr, std::io::Error),
    Tls(String),
    Io(std::io::Error),
    /// The configured database cannot be used (feature `storage`).
    Storage(String),
}

impl std::fmt::Display for ServerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Config(message) | Self::Tls(message) => f.write_str(message),
            Self::Bind(address, error) => write!(f, "cannot listen on {address}: {error}"),
            Self::Io(error) => write!(f, "server I/O error: {error}"),
            Self::Storage(message) => write!(f, "storage: {message}"),
        }
    }
}

impl std::error::Error for ServerError {}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("SIGINT received, shutting down"),
        () = terminate => tracing::info!("SIGTERM received, shutting down"),
    }
}

/// The longest the timer loop sleeps while no subscription is `timebased`: it then ticks
/// only to forget ended subscriptions (their memory), so seldom.
const IDLE_TICK: std::time::Duration = std::time::Duration::from_secs(1);

/// Runs [`Engine::tick`] every `period` while a `timebased` subscription runs, and
/// otherwise sleeps until the next subscription's end (duration limit, token expiry) or
/// [`IDLE_TICK`], whichever comes first, until `stop` resolves. A subscription that starts
/// wakes it. An idle server used to wake 100 times a second for nothing.
pub async fn run_timers<T: VissTree + 'static>(
    engine: Arc<Engine<T>>,
    period: std::time::Duration,
    stop: impl Future<Output = ()>,
) {
    let wake = Arc::new(tokio::sync::Notify::new());
    let waker = Arc::clone(&wake);
    // notify_one keeps a permit when nobody waits yet, so a subscription that starts
    // between the checks below and the wait is not missed.
    // unregistered when this loop ends
    let _registered = engine.add_timer_waker(move || waker.notify_one());
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    tokio::pin!(stop);
    loop {
        if engine.needs_periodic_ticks() {
            tokio::select! {
                () = &mut stop => return,
                _ = interval.tick() => engine.tick(Timestamp::now()),
            }
            continue;
        }
        let until_deadline = engine.next_deadline().map(|deadline| {
            let left = deadline.duration_since(Timestamp::now());
            std::time::Duration::try_from(left).unwrap_or_default()
        });
        let sleep = until_deadline.map_or(IDLE_TICK, |left| left.min(IDLE_TICK));
        tokio::select! {
            () = &mut stop => return,
            () = wake.notified() => interval.reset_immediately(),
            () = tokio::time::sleep(sleep) => engine.tick(Timestamp::now()),
        }
    }
}

#[cfg_attr(
    not(any(feature = "ws", feature = "http", feature = "mqtt")),
    allow(dead_code)
)]
/// A complete error message with a transport-specific description (the engine's own
/// errors use the table's texts): `{"action":..,"error":{..},"ts":..}`.
pub(crate) fn write_transport_error(
    out: &mut Vec<u8>,
    action: Option<&str>,
    number: &str,
    reason: &str,
    description: &str,
) {
    out.clear();
    begin(out, action, None);
    key(out, "error");
    out.extend_from_slice(b"{\"number\":");
    write_json_str(out, number);
    out.extend_from_slice(b",\"reason\":");
    write_json_str(out, reason);
    out.extend_from_slice(b",\"description\":");
    write_json_str(out, description);
    out.push(b'}');
    finish(out, Timestamp::now());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Waits (at most `limit`, polling) for an event of `session` containing `needle`.
    async fn event_containing(
        session: &crate::subscription::Session,
        needle: &str,
        limit: std::time::Duration,
    ) -> Option<String> {
        let until = tokio::time::Instant::now() + limit;
        let mut out = Vec::new();
        while tokio::time::Instant::now() < until {
            while session.next_event(&mut out) {
                let event = String::from_utf8_lossy(&out).into_owned();
                if event.contains(needle) {
                    return Some(event);
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        None
    }

    /// The timer loop that sleeps while nothing is timed still ends a subscription at its
    /// duration limit (it sleeps until that end, not for its idle second), and starts a
    /// `timebased` subscription made while it slept at once. Real time: `tick` reads the
    /// wall clock.
    #[tokio::test]
    async fn the_sleeping_timer_loop_wakes_for_ends_and_timebased_subscriptions() {
        use crate::tree::{DynamicTree, NodeKind, NodeSpec};
        let mut builder = DynamicTree::builder();
        let speed = NodeSpec::leaf("Speed", NodeKind::Sensor, "float");
        builder
            .insert_path("Vehicle.Speed", speed)
            .expect("valid path");
        let config = EngineConfig {
            max_subscription_duration: Some(jiff::SignedDuration::from_millis(100)),
            ..EngineConfig::default()
        };
        let engine = Arc::new(Engine::new(builder.build(), config));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let timers = tokio::spawn(run_timers(
            Arc::clone(&engine),
            std::time::Duration::from_millis(10),
            async {
                let _ = stopped.await;
            },
        ));
        let mut session = engine.open_session();
        let mut out = Vec::new();
        let change = br#"{"action":"subscribe","path":"Vehicle.Speed","filter":{"variant":"change","parameter":{"logic-op":"ne","diff":"0"}},"requestId":"1"}"#;
        engine.handle(&mut session, change, &mut out);
        let started = std::time::Instant::now();
        assert!(String::from_utf8_lossy(&out).contains("subscriptionId"));
        assert!(!engine.needs_periodic_ticks());
        assert!(engine.next_deadline().is_some());
        let ended = event_containing(&session, "\"408\"", std::time::Duration::from_secs(3)).await;
        assert!(ended.is_some(), "the duration limit ended the subscription");
        // Its end was due at 100 ms; the idle sleep is a second (so 800 ms are left for a
        // loaded machine).
        let took = started.elapsed();
        assert!(
            took < std::time::Duration::from_millis(900),
            "ended after {took:?}"
        );
        // The loop sleeps again (nothing timed, nothing to end); a timebased subscription
        // wakes it.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let timed = br#"{"action":"subscribe","path":"Vehicle.Speed","filter":{"variant":"timebased","parameter":{"period":"50"}},"requestId":"2"}"#;
        engine.handle(&mut session, timed, &mut out);
        let first = event_containing(
            &session,
            "\"subscription\"",
            std::time::Duration::from_millis(700),
        )
        .await;
        assert!(first.is_some(), "a timebased event within 700 ms");
        assert_eq!(engine.registered_timer_wakers(), 1);
        let _ = stop.send(());
        timers.await.expect("the timer loop ends");
        assert_eq!(
            engine.registered_timer_wakers(),
            0,
            "the ended loop's wake-up is unregistered"
        );
    }

    /// The `Server` tree lists what this build serves: a ws-only build (CI runs this test
    /// there too) lists `ws` alone, a build with both transports both; a transport switched
    /// off in the configuration is not listed.
    #[test]
    fn the_server_tree_lists_the_transports_built_and_enabled() {
        let config = ServerConfig::default();
        let engine = EngineConfig::default();
        let names = |capabilities: &Capabilities| -> Vec<&str> {
            capabilities
                .protocols
                .iter()
                .map(|protocol| protocol.name)
                .collect()
        };
        let built: Vec<&str> = [
            ("ws", cfg!(feature = "ws")),
            ("http", cfg!(feature = "http")),
            ("grpc", cfg!(feature = "grpc")),
        ]
        .into_iter()
        .filter_map(|(name, built)| built.then_some(name))
        .collect();
        assert_eq!(names(&capabilities(&config, &engine)), built);
        let mut ws_off = ServerConfig::default();
        ws_off.listen.ws = false;
        let without_ws: Vec<&str> = built.iter().copied().filter(|name| *name != "ws").collect();
        assert_eq!(names(&capabilities(&ws_off, &engine)), without_ws);
        let tree = capabilities(&config, &engine).tree();
        use crate::VissTree as _;
        assert_eq!(
            tree.lookup("Server.Config.Protocol.Http.Primary.PortNum")
                .is_some(),
            cfg!(feature = "http")
        );
        assert_eq!(
            tree.lookup("Server.Support.SubProtocol").is_some(),
            cfg!(feature = "ws")
        );
        assert_eq!(
            tree.lookup("Server.Config.Protocol.Grpc.Protobuf.PortNum")
                .is_some(),
            cfg!(feature = "grpc")
        );
        assert_eq!(
            tree.lookup("Server.Config.Protocol.Websocket.Protobuf.SubProtocol")
                .is_some(),
            cfg!(all(feature = "ws", feature = "protobuf"))
        );
    }
}
