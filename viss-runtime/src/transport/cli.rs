//! The server half of a VISS server's command line, shared by `viss-server` and every
//! generated `main.rs`: the flags (each also a `VISS_*` variable) layered over the TOML file,
//! logging, and [`main`], the whole life of a server over a typed tree.

use std::io::Write as _;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, CommandFactory as _, FromArgMatches as _, Parser};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use super::{Listening, LogConfig, ServerConfig, serving_forest, shutdown_signal, start};
use jiff::SignedDuration;

use crate::access::{AccessControlConfig, KeyConfig};
use crate::tree::ForestError;
use crate::{Engine, EngineConfig, HistoryConfig, SetHook, VissTree};

/// Server options; each overrides the TOML file.
#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// TOML configuration file (see viss-server/config.example.toml)
    #[arg(short = 'c', long, value_name = "FILE", env = "VISS_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to bind [default: 127.0.0.1]
    #[arg(long, value_name = "IP", env = "VISS_ADDRESS")]
    pub address: Option<IpAddr>,
    /// Secure WebSocket port, 0 = any free port [default: 6443]
    #[arg(long, value_name = "PORT", env = "VISS_WS_PORT")]
    pub ws_port: Option<u16>,
    /// HTTPS port, 0 = any free port [default: 8443]
    #[arg(long, value_name = "PORT", env = "VISS_HTTP_PORT")]
    pub http_port: Option<u16>,
    /// gRPC port, 0 = any free port [default: 5443]
    #[arg(long, value_name = "PORT", env = "VISS_GRPC_PORT")]
    pub grpc_port: Option<u16>,
    /// Do not serve the WebSocket transport
    #[arg(long)]
    pub no_ws: bool,
    /// Do not serve the HTTPS transport
    #[arg(long)]
    pub no_http: bool,
    /// Do not serve the gRPC transport
    #[arg(long)]
    pub no_grpc: bool,
    /// Do not serve the signal explorer page (https://<host>:<http port>/explorer/)
    #[arg(long)]
    pub no_explorer: bool,
    /// PEM certificate chain (with --key); without both a self-signed one is generated
    #[arg(long, value_name = "FILE", env = "VISS_TLS_CERT", requires = "key")]
    pub cert: Option<PathBuf>,
    /// PEM private key (with --cert)
    #[arg(long, value_name = "FILE", env = "VISS_TLS_KEY", requires = "cert")]
    pub key: Option<PathBuf>,
    /// Where the self-signed certificate is written (and reused) [default: viss-tls]
    #[arg(long, value_name = "DIR", env = "VISS_SELF_SIGNED_DIR")]
    pub self_signed_dir: Option<PathBuf>,
    /// Serve plain ws:// and http:// without TLS (local development only; the spec forbids it)
    #[arg(long, env = "VISS_INSECURE")]
    pub insecure: bool,
    /// Largest WebSocket message / HTTP body in bytes [default: 65536]
    #[arg(long, value_name = "BYTES", env = "VISS_MAX_MESSAGE_BYTES")]
    pub max_message_bytes: Option<usize>,
    /// Close a WebSocket that sent no request for this many milliseconds while holding no
    /// subscription (subscribed connections are never idle) [default: 300000]
    #[arg(long, value_name = "MS", env = "VISS_IDLE_TIMEOUT_MS")]
    pub idle_timeout_ms: Option<u64>,
    /// Close a connection that has not finished its TLS handshake and first HTTP request
    /// (or WebSocket upgrade) within this many milliseconds [default: 10000]
    #[arg(long, value_name = "MS", env = "VISS_HANDSHAKE_TIMEOUT_MS")]
    pub handshake_timeout_ms: Option<u64>,
    /// Most WebSocket connections served at once [default: 10000]
    #[arg(long, value_name = "N", env = "VISS_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// TCP connections one listener holds open, counting those still in their handshake;
    /// more are closed at once [default: --max-connections + 1000]
    #[arg(long, value_name = "N", env = "VISS_MAX_OPEN_CONNECTIONS")]
    pub max_open_connections: Option<usize>,
    /// Events buffered per connection; beyond, the oldest plain event is dropped (error
    /// events never are) [default: 1024]
    #[arg(long, value_name = "N", env = "VISS_EVENT_QUEUE")]
    pub event_queue: Option<usize>,
    /// Subscriptions one connection may hold (429 beyond) [default: 10000]
    #[arg(long, value_name = "N", env = "VISS_MAX_SUBSCRIPTIONS")]
    pub max_subscriptions_per_connection: Option<usize>,
    /// End subscriptions with a 408 request_timeout error event after this many
    /// milliseconds; 0 = no limit [default: 0]
    #[arg(long, value_name = "MS", env = "VISS_MAX_SUBSCRIPTION_DURATION_MS")]
    pub max_subscription_duration_ms: Option<u64>,
    /// gRPC streams (calls and subscriptions) one HTTP/2 connection may hold open at once;
    /// a client queues further calls until one ends [default: 256]
    #[arg(long, value_name = "N", env = "VISS_MAX_CONCURRENT_STREAMS")]
    pub max_concurrent_streams: Option<u32>,
    /// Largest curvelog bufsize accepted [default: 10000]
    #[arg(long, value_name = "N", env = "VISS_MAX_CURVELOG_BUFFER")]
    pub max_curvelog_buffer: Option<usize>,
    /// Samples kept per signal for the history filter; 0 = no history [default: 100]
    #[arg(long, value_name = "N", env = "VISS_HISTORY_SAMPLES")]
    pub history_samples: Option<usize>,
    /// Seconds a sample stays in the history [default: 86400]
    #[arg(long, value_name = "SECS", env = "VISS_HISTORY_RETENTION_SECS")]
    pub history_retention_secs: Option<u64>,
    /// Report missing values of multi-signal reads and events in-line
    /// (viss-inline:Data-not-available) [default: true]
    #[arg(long, value_name = "BOOL", env = "VISS_INLINE_ERRORS")]
    pub inline_errors: Option<bool>,
    /// Refuse WebSocket clients that offer no sub-protocol (by default they are served as
    /// VISSv2 clients)
    #[arg(long, env = "VISS_REQUIRE_SUBPROTOCOL")]
    pub require_subprotocol: bool,
    /// Log filter: error, warn, info, debug, trace, or `[target=]level` directives such as
    /// `warn,viss_runtime=debug` [default: info]
    #[arg(long, value_name = "FILTER", env = "VISS_LOG")]
    pub log_level: Option<String>,
    /// Log one JSON object per line
    #[arg(long, env = "VISS_LOG_JSON")]
    pub log_json: bool,
    /// Serve VISS over MQTT through this broker: mqtts://host[:port] (TLS, the default) or
    /// mqtt://host[:port] (plain, with --mqtt-insecure)
    #[arg(long, value_name = "URL", env = "VISS_MQTT_BROKER")]
    pub mqtt_broker: Option<String>,
    /// The vehicle id of the MQTT topics: requests on <VID>/Vehicle
    #[arg(long, value_name = "VID", env = "VISS_MQTT_VID")]
    pub mqtt_vid: Option<String>,
    /// MQTT client id [default: viss-<VID>]
    #[arg(long, value_name = "ID", env = "VISS_MQTT_CLIENT_ID")]
    pub mqtt_client_id: Option<String>,
    /// MQTT user name (the password comes from --mqtt-password-file or VISS_MQTT_PASSWORD)
    #[arg(long, value_name = "USER", env = "VISS_MQTT_USERNAME")]
    pub mqtt_username: Option<String>,
    /// File whose first line is the MQTT password
    #[arg(long, value_name = "FILE", env = "VISS_MQTT_PASSWORD_FILE")]
    pub mqtt_password_file: Option<PathBuf>,
    /// PEM CA certificates to check the broker against [default: the system's]
    #[arg(long, value_name = "FILE", env = "VISS_MQTT_CA")]
    pub mqtt_ca: Option<PathBuf>,
    /// PEM client certificate chain for brokers that authenticate vehicles by certificate
    /// (with --mqtt-client-key)
    #[arg(
        long,
        value_name = "FILE",
        env = "VISS_MQTT_CLIENT_CERT",
        requires = "mqtt_client_key"
    )]
    pub mqtt_client_cert: Option<PathBuf>,
    /// PEM private key of --mqtt-client-cert
    #[arg(
        long,
        value_name = "FILE",
        env = "VISS_MQTT_CLIENT_KEY",
        requires = "mqtt_client_cert"
    )]
    pub mqtt_client_key: Option<PathBuf>,
    /// Ask the broker to keep the vehicle's MQTT session while it is offline: requests
    /// published meanwhile are answered when it is back
    #[arg(long, env = "VISS_MQTT_PERSISTENT_SESSION")]
    pub mqtt_persistent_session: bool,
    /// Plain mqtt:// to the broker, without TLS (local development only)
    #[arg(long, env = "VISS_MQTT_INSECURE")]
    pub mqtt_insecure: bool,
    /// MQTT QoS of requests, answers and events: 0 or 1 [default: 1]
    #[arg(long, value_name = "QOS", env = "VISS_MQTT_QOS")]
    pub mqtt_qos: Option<u8>,
    /// Longest wait between two reconnect attempts, in milliseconds [default: 30000]
    #[arg(long, value_name = "MS", env = "VISS_MQTT_RECONNECT_MAX_MS")]
    pub mqtt_reconnect_max_ms: Option<u64>,
    /// A key access tokens are signed with, as ALG:FILE (repeatable): ES256/ES384/RS256/
    /// PS256/EdDSA with a PEM public key, or HS256 with a file of the secret shared with
    /// the ATS. The algorithm is pinned to the key.
    #[arg(
        long,
        value_name = "ALG:FILE",
        env = "VISS_TOKEN_KEY",
        value_delimiter = ','
    )]
    pub token_key: Vec<String>,
    /// Accepted token audience (repeatable) [default: covesa.global/VISSv3]
    #[arg(
        long,
        value_name = "AUD",
        env = "VISS_TOKEN_AUDIENCE",
        value_delimiter = ','
    )]
    pub token_audience: Vec<String>,
    /// Clock skew tolerated on token times, in seconds [default: 30]
    #[arg(long, value_name = "SECS", env = "VISS_TOKEN_LEEWAY_SECS")]
    pub token_leeway_secs: Option<u64>,
    /// The ecosystem's purpose list (JSON, CORE §8.7.1) for tokens whose scope is a purpose
    #[arg(long, value_name = "FILE", env = "VISS_PURPOSES")]
    pub purposes: Option<PathBuf>,
    /// The ecosystem's scope list (JSON, CORE §8.7.2): nodes never served to given client
    /// contexts, whatever their token says
    #[arg(long, value_name = "FILE", env = "VISS_SCOPE_LIST")]
    pub scope_list: Option<PathBuf>,
    /// This vehicle's identity, compared with a token's `vin` claim [default: the tree's
    /// Vehicle.VehicleIdentification.VIN]
    #[arg(long, value_name = "VIN", env = "VISS_VIN")]
    pub vin: Option<String>,
    /// Serve nodes the tree protects with `validate` tags without tokens (development
    /// only; logged as a warning and listed in Server.Config.Deviations)
    #[arg(long, env = "VISS_NO_ACCESS_CONTROL")]
    pub no_access_control: bool,
    /// Keep the latest values, actuator targets and recorded history in a SQLite database
    /// in this directory, restored at start [default: in memory only]
    #[cfg(feature = "storage")]
    #[arg(long, value_name = "DIR", env = "VISS_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Record every sample of these signals in the database (VISS paths, `*` for one
    /// level, a branch for all below it; repeat or separate with commas)
    #[cfg(feature = "storage")]
    #[arg(
        long,
        value_name = "GLOB",
        env = "VISS_RECORD_HISTORY",
        value_delimiter = ','
    )]
    pub record_history: Vec<String>,
    /// Keep the state in this shared PostgreSQL database instead ("host=127.0.0.1
    /// port=5432 user=viss dbname=viss"; password from VISS_POSTGRES_PASSWORD); needs
    /// --storage-vehicle
    #[cfg(feature = "storage")]
    #[arg(long, value_name = "CONNECTION", env = "VISS_POSTGRES")]
    pub postgres: Option<String>,
    /// The CA certificates (PEM) to check the PostgreSQL server's certificate against
    /// [default: the system's]
    #[cfg(feature = "storage")]
    #[arg(long, value_name = "FILE", env = "VISS_POSTGRES_CA")]
    pub postgres_ca: Option<PathBuf>,
    /// This server's vehicle id in a shared database (rows are kept apart by it)
    #[cfg(feature = "storage")]
    #[arg(long, value_name = "ID", env = "VISS_STORAGE_VEHICLE")]
    pub storage_vehicle: Option<String>,
    /// Serve file transfer (CORE App. C): received files go to <DIR>/<VSS path>/<name>
    #[cfg(feature = "filetransfer")]
    #[arg(long, value_name = "DIR", env = "VISS_FILETRANSFER_DIR")]
    pub filetransfer_dir: Option<PathBuf>,
    /// Port of the file-transfer data channel [default: 6445]
    #[cfg(feature = "filetransfer")]
    #[arg(long, value_name = "PORT", env = "VISS_FILETRANSFER_PORT")]
    pub filetransfer_port: Option<u16>,
    /// Largest file a download may bring, in bytes [default: 1 GiB]
    #[cfg(feature = "filetransfer")]
    #[arg(long, value_name = "BYTES", env = "VISS_FILETRANSFER_MAX_BYTES")]
    pub filetransfer_max_bytes: Option<u64>,
    /// Chunk size of uploads, in bytes [default: 65536]
    #[cfg(feature = "filetransfer")]
    #[arg(long, value_name = "BYTES", env = "VISS_FILETRANSFER_CHUNK_BYTES")]
    pub filetransfer_chunk_bytes: Option<u32>,
    /// An upload sensor and the file it serves (repeat for more)
    #[cfg(feature = "filetransfer")]
    #[arg(long, value_name = "VSSPATH=FILE", value_parser = parse_upload)]
    pub upload: Vec<(String, PathBuf)>,
    /// Feed every sensor with simulated values that move within their limits and enum
    /// values; actuators move to the target a client sets
    #[arg(long, env = "VISS_SIMULATE")]
    pub simulate: bool,
    /// Milliseconds between two simulator rounds [default: 100]
    #[arg(long, value_name = "MS", env = "VISS_SIMULATE_PERIOD_MS")]
    pub simulate_period_ms: Option<u64>,
}

impl ServerArgs {
    /// Defaults < TOML file < environment < flags (clap reads the `VISS_*` variables); a
    /// flag that cannot be read is an error.
    pub fn load_config(&self) -> Result<ServerConfig, String> {
        let mut config = match &self.config {
            Some(path) => ServerConfig::from_file(path).map_err(|error| error.to_string())?,
            None => ServerConfig::default(),
        };
        self.apply(&mut config);
        self.apply_access_control(&mut config.access_control)?;
        Ok(config)
    }

    /// Lays the access-control flags over `access`.
    fn apply_access_control(&self, access: &mut AccessControlConfig) -> Result<(), String> {
        if !self.token_key.is_empty() {
            access.keys = self
                .token_key
                .iter()
                .map(|flag| KeyConfig::parse_flag(flag))
                .collect::<Result<_, _>>()?;
        }
        if !self.token_audience.is_empty() {
            access.audiences.clone_from(&self.token_audience);
        }
        set(&mut access.leeway_secs, self.token_leeway_secs);
        set(&mut access.purposes, self.purposes.clone().map(Some));
        set(&mut access.scope_list, self.scope_list.clone().map(Some));
        set(&mut access.vin, self.vin.clone().map(Some));
        access.enabled &= !self.no_access_control;
        Ok(())
    }

    /// Lays the flags (and their environment variables) over `config`.
    pub fn apply(&self, config: &mut ServerConfig) {
        let listen = &mut config.listen;
        set(&mut listen.address, self.address);
        set(&mut listen.ws_port, self.ws_port);
        set(&mut listen.http_port, self.http_port);
        set(&mut listen.grpc_port, self.grpc_port);
        listen.ws &= !self.no_ws;
        listen.http &= !self.no_http;
        listen.grpc &= !self.no_grpc;
        listen.explorer &= !self.no_explorer;
        let tls = &mut config.tls;
        if self.cert.is_some() {
            tls.cert.clone_from(&self.cert);
            tls.key.clone_from(&self.key);
        }
        set(&mut tls.self_signed_dir, self.self_signed_dir.clone());
        tls.insecure |= self.insecure;
        let limits = &mut config.limits;
        set(&mut limits.max_message_bytes, self.max_message_bytes);
        set(&mut limits.idle_timeout_ms, self.idle_timeout_ms);
        set(&mut limits.handshake_timeout_ms, self.handshake_timeout_ms);
        set(&mut limits.max_connections, self.max_connections);
        set(
            &mut limits.max_open_connections,
            self.max_open_connections.map(Some),
        );
        set(&mut limits.event_queue, self.event_queue);
        set(
            &mut limits.max_subscriptions_per_connection,
            self.max_subscriptions_per_connection,
        );
        set(
            &mut limits.max_subscription_duration_ms,
            self.max_subscription_duration_ms,
        );
        set(&mut limits.max_curvelog_buffer, self.max_curvelog_buffer);
        set(
            &mut limits.max_concurrent_streams,
            self.max_concurrent_streams,
        );
        set(&mut limits.history_samples, self.history_samples);
        set(
            &mut limits.history_retention_secs,
            self.history_retention_secs,
        );
        set(&mut config.protocol.inline_errors, self.inline_errors);
        #[cfg(feature = "storage")]
        {
            set(
                &mut config.storage.data_dir,
                self.data_dir.clone().map(Some),
            );
            set(
                &mut config.storage.postgres,
                self.postgres.clone().map(Some),
            );
            set(
                &mut config.storage.postgres_ca,
                self.postgres_ca.clone().map(Some),
            );
            set(&mut config.storage.vehicle, self.storage_vehicle.clone());
            if !self.record_history.is_empty() {
                config.storage.history.clone_from(&self.record_history);
            }
        }
        #[cfg(feature = "filetransfer")]
        {
            let files = &mut config.filetransfer;
            set(&mut files.dir, self.filetransfer_dir.clone().map(Some));
            set(&mut files.port, self.filetransfer_port);
            set(&mut files.max_file_bytes, self.filetransfer_max_bytes);
            set(&mut files.chunk_bytes, self.filetransfer_chunk_bytes);
            files.uploads.extend(self.upload.iter().cloned());
        }
        config.protocol.require_subprotocol |= self.require_subprotocol;
        set(&mut config.log.level, self.log_level.clone());
        config.log.json |= self.log_json;
        let mqtt = &mut config.mqtt;
        set(&mut mqtt.broker, self.mqtt_broker.clone().map(Some));
        set(&mut mqtt.vid, self.mqtt_vid.clone().map(Some));
        set(&mut mqtt.client_id, self.mqtt_client_id.clone().map(Some));
        set(&mut mqtt.username, self.mqtt_username.clone().map(Some));
        set(
            &mut mqtt.password_file,
            self.mqtt_password_file.clone().map(Some),
        );
        set(&mut mqtt.ca_file, self.mqtt_ca.clone().map(Some));
        set(
            &mut mqtt.client_cert,
            self.mqtt_client_cert.clone().map(Some),
        );
        set(&mut mqtt.client_key, self.mqtt_client_key.clone().map(Some));
        mqtt.insecure |= self.mqtt_insecure;
        mqtt.persistent_session |= self.mqtt_persistent_session;
        set(&mut mqtt.qos, self.mqtt_qos);
        set(&mut mqtt.reconnect_max_ms, self.mqtt_reconnect_max_ms);
        config.simulator.enabled |= self.simulate;
        set(&mut config.simulator.period_ms, self.simulate_period_ms);
    }
}

fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *slot = value;
    }
}

/// Installs the global `tracing` subscriber (text or JSON lines on stderr); an invalid
/// filter falls back to `info` rather than keeping the server from starting.
///
/// The filter is a list of `[target=]level` directives (`warn,viss_runtime=debug`), read
/// by tracing-subscriber's [`Targets`]: the same syntax as `RUST_LOG` without span and
/// field filters, which need the regex engine that `EnvFilter` would add to every server.
pub fn init_logging(log: &LogConfig) {
    let filter = log_filter(&log.level);
    let builder = tracing_subscriber::fmt().with_writer(std::io::stderr);
    if log.json {
        builder.json().finish().with(filter).init();
    } else {
        builder.finish().with(filter).init();
    }
}

/// `level` as a [`Targets`] filter; anything unreadable is `info`.
fn log_filter(level: &str) -> Targets {
    level
        .parse()
        .unwrap_or_else(|_| Targets::new().with_default(tracing::Level::INFO))
}

/// The engine options the server configuration sets.
pub fn engine_config(config: &ServerConfig) -> EngineConfig {
    let limits = &config.limits;
    let history = (limits.history_samples > 0).then(|| HistoryConfig {
        retention: SignedDuration::from_secs(
            i64::try_from(limits.history_retention_secs).unwrap_or(i64::MAX),
        ),
        max_samples: limits.history_samples,
    });
    let duration = i64::try_from(limits.max_subscription_duration_ms).unwrap_or(i64::MAX);
    EngineConfig {
        queue_capacity: limits.event_queue,
        max_subscriptions_per_session: limits.max_subscriptions_per_connection,
        max_curvelog_buffer: limits.max_curvelog_buffer,
        history,
        inline_errors: config.protocol.inline_errors,
        max_subscription_duration: (duration > 0).then(|| SignedDuration::from_millis(duration)),
        // The simulator moves actuators towards their targets itself.
        state_storage: !config.simulator.enabled,
        ..EngineConfig::default()
    }
}

/// The command line of a server whose tree is built in: only the server flags.
#[derive(Debug, Parser)]
struct BuiltInTreeCli {
    #[command(flatten)]
    server: ServerArgs,
}

/// A further built-in tree a server serves beside its primary one (its own roots), with the
/// hook that sees the `set`s on it.
pub struct MountedTree {
    pub tree: Box<dyn VissTree>,
    pub provider: Option<Arc<dyn SetHook>>,
}

impl MountedTree {
    pub fn new(tree: impl VissTree + 'static, provider: Option<Arc<dyn SetHook>>) -> Self {
        Self {
            tree: Box::new(tree),
            provider,
        }
    }
}

impl std::fmt::Debug for MountedTree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let root = self.tree.nodes().first().map(|node| node.name.to_string());
        f.debug_struct("MountedTree")
            .field("root", &root)
            .field("provider", &self.provider.is_some())
            .finish()
    }
}

/// The whole life of a server over a built-in tree (what a generated `main.rs` calls):
/// parses [`ServerArgs`] (`--help`; usage errors exit with 2), loads the configuration,
/// starts logging, installs `provider` as the engine's set hook, serves until SIGINT or
/// SIGTERM and shuts down. `name` prefixes messages; `about` heads `--help`.
pub fn main<T: VissTree + 'static>(
    name: &'static str,
    about: &'static str,
    tree: T,
    provider: Option<Arc<dyn SetHook>>,
) -> ExitCode {
    main_with_trees(name, about, tree, provider, Vec::new())
}

/// [`main`] for a server of several built-in trees: `tree` and, beside it, every tree of
/// `mounted` with its own hook (what a crate generated from several trees calls).
pub fn main_with_trees<T: VissTree + 'static>(
    name: &'static str,
    about: &'static str,
    tree: T,
    provider: Option<Arc<dyn SetHook>>,
    mounted: Vec<MountedTree>,
) -> ExitCode {
    let command = BuiltInTreeCli::command().name(name).about(about);
    let cli = match BuiltInTreeCli::from_arg_matches(&command.get_matches()) {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    };
    let config = match cli.server.load_config() {
        Ok(config) => config,
        Err(message) => {
            eprintln!("{name}: {message}");
            return ExitCode::from(2);
        }
    };
    init_logging(&config.log);
    let engine_config = engine_config(&config);
    match built_in_engine(tree, provider, mounted, &config, engine_config) {
        Ok(engine) => run_until_signal(name, engine, &config),
        Err(error) => {
            eprintln!("{name}: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The engine over `tree`, the `Server` tree and the `mounted` trees, each tree's hook
/// installed.
fn built_in_engine<T: VissTree + 'static>(
    tree: T,
    provider: Option<Arc<dyn SetHook>>,
    mounted: Vec<MountedTree>,
    config: &ServerConfig,
    engine_config: EngineConfig,
) -> Result<Engine<T>, ForestError> {
    let mut forest = serving_forest(tree, config, &engine_config)?;
    let mut hooks = Vec::new();
    for MountedTree { tree, provider } in mounted {
        let root = tree.nodes().first().map(|node| node.name.to_string());
        forest.mount(tree)?;
        if let (Some(root), Some(provider)) = (root, provider) {
            hooks.push((root, provider));
        }
    }
    let mut engine = Engine::with_forest(forest, engine_config);
    if let Some(provider) = provider {
        engine.set_provider(provider);
    }
    for (root, provider) in hooks {
        // The root was just mounted, so it is found.
        engine.set_tree_provider(&root, provider);
    }
    Ok(engine)
}

/// Starts a multi-threaded tokio runtime and [`serve`]s `engine` on it.
pub fn run_until_signal<T: VissTree + 'static>(
    name: &str,
    engine: Engine<T>,
    config: &ServerConfig,
) -> ExitCode {
    // Multi-thread even on one core: a current-thread runtime was measured against it
    // (generated server pinned to one core, 5 rounds, KUKSA in the same run) and cost the
    // same CPU per request over all runs (0.79x of KUKSA's, both); 8% less on one
    // sequential connection, 22% more with pipelined requests.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("{name}: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(name, engine, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{name}: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Serves `engine`, prints where to connect, and shuts down on SIGINT/SIGTERM.
pub async fn serve<T: VissTree + 'static>(
    name: &str,
    engine: Engine<T>,
    config: &ServerConfig,
) -> Result<(), String> {
    let nodes = engine.forest().node_count();
    let roots = engine.forest().root_names().join(", ");
    let listening = start(Arc::new(engine), config)
        .await
        .map_err(|error| error.to_string())?;
    print_where_to_connect(name, &listening, nodes, &roots);
    shutdown_signal().await;
    listening.shutdown().await;
    Ok(())
}

/// `--upload VSSPATH=FILE`.
#[cfg(feature = "filetransfer")]
fn parse_upload(text: &str) -> Result<(String, PathBuf), String> {
    match text.split_once('=') {
        Some((path, file)) if !path.is_empty() && !file.is_empty() => {
            Ok((path.to_owned(), PathBuf::from(file)))
        }
        _ => Err(format!("expected VSSPATH=FILE, got {text:?}")),
    }
}

/// The lines a user (and the tests) read to connect.
fn print_where_to_connect(name: &str, listening: &Listening, nodes: usize, roots: &str) {
    use std::fmt::Write as _;
    let mut text = String::new();
    let _ = writeln!(text, "{name}: serving {nodes} nodes (trees: {roots})");
    if let Some(address) = listening.ws {
        let _ = writeln!(
            text,
            "  WebSocket: {}://{address}  (sub-protocols {})",
            listening.ws_scheme(),
            super::SUBPROTOCOLS.join(", ")
        );
    }
    if let Some(address) = listening.http {
        let _ = writeln!(
            text,
            "  HTTP:      {}://{address}/Vehicle/Speed",
            listening.http_scheme()
        );
        if listening.explorer {
            let _ = writeln!(
                text,
                "  Explorer:  {}://{address}/explorer/",
                listening.http_scheme()
            );
        }
    }
    if let Some(address) = listening.grpc {
        let security = if listening.tls.is_some() {
            "tls"
        } else {
            "h2c"
        };
        let _ = writeln!(
            text,
            "  gRPC:      {address}  ({security}, service grpcProtobufMessages.VISS)"
        );
    }
    if let Some(address) = listening.filetransfer {
        let _ = writeln!(
            text,
            "  Files:     {}://{address}  (file transfer data channel)",
            listening.ws_scheme()
        );
    }
    #[cfg(feature = "mqtt")]
    if let Some(mqtt) = &listening.mqtt {
        let scheme = if mqtt.tls { "mqtts" } else { "mqtt" };
        let protobuf = mqtt
            .protobuf_topic
            .as_deref()
            .map(|topic| format!(", {topic} (protobuf)"))
            .unwrap_or_default();
        let _ = writeln!(
            text,
            "  MQTT:      {scheme}://{}  topics {}{protobuf}",
            mqtt.broker, mqtt.request_topic
        );
    }
    if let Some(files) = &listening.tls {
        let kind = if files.self_signed {
            "self-signed"
        } else {
            "configured"
        };
        let _ = writeln!(text, "  certificate: {} ({kind})", files.cert.display());
        if files.self_signed {
            let _ = writeln!(
                text,
                "  trust it: curl --cacert {} ...; Python ssl.create_default_context(cafile=...)",
                files.cert.display()
            );
        }
    }
    // One write, ended by an empty line: whoever reads the block (a test, a script) gets it
    // whole and knows where it ends, with no wait for lines that may never come.
    text.push('\n');
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    // Test code: a failed unwrap is a failed test.
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn flags_override_the_file() {
        let cli = BuiltInTreeCli::try_parse_from([
            "server",
            "--ws-port",
            "7001",
            "--insecure",
            "--simulate",
            "--idle-timeout-ms",
            "300",
            "--handshake-timeout-ms",
            "2500",
            "--max-open-connections",
            "64",
        ])
        .unwrap();
        let mut config =
            ServerConfig::from_toml("[listen]\nws_port = 7000\nhttp_port = 7002\n").unwrap();
        cli.server.apply(&mut config);
        assert_eq!(config.listen.ws_port, 7001);
        assert_eq!(config.listen.http_port, 7002);
        assert!(config.tls.insecure && config.simulator.enabled);
        assert_eq!(config.limits.idle_timeout_ms, 300);
        assert_eq!(config.limits.handshake_timeout_ms, 2500);
        assert_eq!(config.limits.open_connection_cap(), 64);
        assert_eq!(
            super::super::Limits::default().open_connection_cap(),
            11_000
        );
    }

    #[test]
    fn log_filters_read_levels_and_target_lists_and_fall_back_to_info() {
        use tracing::Level;
        use tracing_subscriber::filter::LevelFilter;
        let filter = log_filter("warn,viss_runtime=debug");
        assert!(filter.would_enable("viss_runtime::engine", &Level::DEBUG));
        assert!(!filter.would_enable("hyper", &Level::INFO));
        assert!(filter.would_enable("hyper", &Level::WARN));
        assert_eq!(
            log_filter("error").default_level(),
            Some(LevelFilter::ERROR)
        );
        assert_eq!(
            log_filter("no such=level").default_level(),
            Some(LevelFilter::INFO)
        );
    }

    #[test]
    fn the_engine_takes_the_configured_limits() {
        let cli = BuiltInTreeCli::try_parse_from([
            "server",
            "--event-queue",
            "7",
            "--max-subscriptions-per-connection",
            "3",
            "--max-subscription-duration-ms",
            "250",
            "--history-samples",
            "0",
            "--max-curvelog-buffer",
            "40",
            "--inline-errors",
            "false",
        ])
        .unwrap();
        let mut config = ServerConfig::default();
        cli.server.apply(&mut config);
        let engine = engine_config(&config);
        assert_eq!(engine.queue_capacity, 7);
        assert_eq!(engine.max_subscriptions_per_session, 3);
        assert_eq!(
            engine.max_subscription_duration,
            Some(SignedDuration::from_millis(250))
        );
        assert_eq!(engine.history, None);
        assert_eq!(engine.max_curvelog_buffer, 40);
        assert!(!engine.inline_errors && engine.state_storage);
        let defaults = engine_config(&ServerConfig::default());
        assert_eq!(defaults.history, EngineConfig::default().history);
        assert_eq!(defaults.max_subscription_duration, None);
        assert!(defaults.inline_errors);
    }
}
