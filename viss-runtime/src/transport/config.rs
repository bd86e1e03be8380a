//! Server configuration: one TOML file, every field optional with a documented default.
//! The binary layers environment variables and flags over it (file < env < flags).

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// Everything a VISS server needs to listen; `ServerConfig::default()` is a local wss + https
/// server with a generated self-signed certificate.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub listen: ListenConfig,
    pub tls: TlsConfig,
    pub limits: Limits,
    pub protocol: ProtocolConfig,
    pub log: LogConfig,
    pub simulator: SimulatorConfig,
    pub mqtt: MqttConfig,
    pub access_control: crate::access::AccessControlConfig,
    /// Durable state (`[storage]`, feature `storage`): off until `data_dir` is set.
    #[cfg(feature = "storage")]
    pub storage: crate::storage::StorageConfig,
    /// File transfer (`[filetransfer]`, feature `filetransfer`): off until `dir` is set.
    #[cfg(feature = "filetransfer")]
    pub filetransfer: crate::filetransfer::FileTransferConfig,
}

/// Protocol choices where VISS leaves room (`docs/conformance.md`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProtocolConfig {
    /// Report missing values of multi-signal reads and events in-line
    /// (`viss-inline:Data-not-available`, TRANSPORT §4.1.1) instead of failing the read or
    /// leaving the signal out of the event.
    pub inline_errors: bool,
    /// Refuse WebSocket clients that offer no sub-protocol, instead of serving them as
    /// VISSv2 clients (v3 clients must name `VISSv3`).
    pub require_subprotocol: bool,
}

impl Default for ProtocolConfig {
    fn default() -> Self {
        Self {
            inline_errors: true,
            require_subprotocol: false,
        }
    }
}

/// Where to listen.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ListenConfig {
    /// Address both listeners bind (127.0.0.1 by default: nothing is exposed by accident).
    pub address: IpAddr,
    /// Secure WebSocket port (TRANSPORT §5.1 default 6443); 0 picks a free port.
    pub ws_port: u16,
    /// HTTPS port (the spec's 443 needs privileges, so 8443 by default); 0 picks a free port.
    pub http_port: u16,
    /// gRPC port (viss-core §7.4 default 5443); 0 picks a free port.
    pub grpc_port: u16,
    /// Serve the WebSocket transport.
    pub ws: bool,
    /// Serve the HTTPS transport.
    pub http: bool,
    /// Serve the gRPC transport (when built with the `grpc` feature).
    pub grpc: bool,
    /// Serve the signal explorer page at `/explorer/` beside the HTTP transport.
    pub explorer: bool,
}

impl Default for ListenConfig {
    fn default() -> Self {
        Self {
            address: IpAddr::from([127, 0, 0, 1]),
            ws_port: 6443,
            http_port: 8443,
            grpc_port: 5443,
            ws: true,
            http: true,
            grpc: true,
            explorer: true,
        }
    }
}

/// Certificates. With neither `cert` nor `key`, a self-signed certificate for `localhost`
/// and `127.0.0.1` is generated into `self_signed_dir`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// PEM certificate chain.
    pub cert: Option<PathBuf>,
    /// PEM private key.
    pub key: Option<PathBuf>,
    /// Where a generated self-signed certificate (`cert.pem`, `key.pem`) is written.
    pub self_signed_dir: PathBuf,
    /// Plain ws:// and http:// without TLS. Local development only; the spec forbids it.
    /// Required (and the only choice) when the runtime is built without the `tls` feature.
    pub insecure: bool,
}

impl Default for TlsConfig {
    fn default() -> Self {
        Self {
            cert: None,
            key: None,
            self_signed_dir: PathBuf::from("viss-tls"),
            insecure: false,
        }
    }
}

/// The certificate and key files a TLS listener uses (feature `tls`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// True when the files were generated as a self-signed pair (clients must trust
    /// `cert` explicitly, e.g. `curl --cacert`).
    pub self_signed: bool,
}

/// Per-connection limits.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest WebSocket message, HTTP body or gRPC message accepted, in bytes.
    pub max_message_bytes: usize,
    /// A WebSocket that has sent no request for this long while holding no subscription
    /// is closed (close frame 1000, reason `idle timeout`), in milliseconds. A connection
    /// with a live subscription is never idle: it is waiting for events.
    pub idle_timeout_ms: u64,
    /// How often the server pings an open WebSocket; a peer silent (not even a pong) for
    /// two intervals is dead and closed.
    pub ping_interval_secs: u64,
    /// A send blocked this long (a client that does not read) closes the connection.
    pub send_timeout_secs: u64,
    /// A new connection must finish its TLS handshake and send its first complete HTTP
    /// request (the WebSocket upgrade, or a GET/POST) within this time, in milliseconds:
    /// half-open connections are closed rather than held.
    pub handshake_timeout_ms: u64,
    /// WebSocket connections served at once; more are answered 503.
    pub max_connections: usize,
    /// TCP connections one listener holds open at once, counting those still in their
    /// TLS handshake or first request; more are closed as soon as they are accepted.
    /// Unset: `max_connections` + 1,000 (room to answer the 503s and HTTP requests).
    pub max_open_connections: Option<usize>,
    /// gRPC calls (subscription streams included) one HTTP/2 connection may have open at
    /// once.
    pub max_concurrent_streams: u32,
    /// Events buffered per connection before the oldest is dropped.
    pub event_queue: usize,
    /// Subscriptions one connection may hold.
    pub max_subscriptions_per_connection: usize,
    /// Subscriptions end with a `408 request_timeout` error event after this many
    /// milliseconds; 0 = no limit.
    pub max_subscription_duration_ms: u64,
    /// Largest curvelog `bufsize` accepted.
    pub max_curvelog_buffer: usize,
    /// Samples kept per signal for the `history` filter; 0 = no history (`history` is then
    /// `404 "Unsupported feature"`).
    pub history_samples: usize,
    /// Samples older than this (relative to the newest) leave the history, in seconds.
    pub history_retention_secs: u64,
    /// How often timers (`timebased` subscriptions) run, in milliseconds.
    pub tick_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_bytes: 64 * 1024,
            idle_timeout_ms: 300_000,
            ping_interval_secs: 30,
            send_timeout_secs: 10,
            handshake_timeout_ms: 10_000,
            max_connections: 10_000,
            max_open_connections: None,
            max_concurrent_streams: 256,
            event_queue: 1024,
            max_subscriptions_per_connection: 10_000,
            max_subscription_duration_ms: 0,
            max_curvelog_buffer: 10_000,
            history_samples: 100,
            history_retention_secs: 24 * 3600,
            tick_ms: 10,
        }
    }
}

impl Limits {
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_millis(self.idle_timeout_ms.max(1))
    }

    pub fn ping_interval(&self) -> Duration {
        Duration::from_secs(self.ping_interval_secs.max(1))
    }

    /// A peer that sent nothing at all (requests, pongs) for this long is dead.
    pub fn dead_peer_timeout(&self) -> Duration {
        self.ping_interval() * 2
    }

    /// [`Limits::max_open_connections`], or its default.
    pub fn open_connection_cap(&self) -> usize {
        self.max_open_connections
            .unwrap_or_else(|| self.max_connections.saturating_add(1_000))
    }

    pub fn handshake_timeout(&self) -> Duration {
        Duration::from_millis(self.handshake_timeout_ms.max(1))
    }

    pub fn send_timeout(&self) -> Duration {
        Duration::from_secs(self.send_timeout_secs.max(1))
    }

    pub fn tick(&self) -> Duration {
        Duration::from_millis(self.tick_ms.max(1))
    }
}

/// Logging (applied by the binary's tracing subscriber).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// A `tracing` filter: `info`, `debug`, `viss_runtime=debug,info`, ...
    pub level: String,
    /// One JSON object per line instead of text.
    pub json: bool,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: "info".into(),
            json: false,
        }
    }
}

/// The built-in simulator feeder.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SimulatorConfig {
    pub enabled: bool,
    /// Time between two rounds of updates.
    pub period_ms: u64,
    /// Sensors updated per round (a rolling window over all sensors; 0 = all).
    pub signals_per_round: usize,
}

impl Default for SimulatorConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            period_ms: 100,
            signals_per_round: 0,
        }
    }
}

/// VISS over MQTT (TRANSPORT §5.3; feature `mqtt`): the server connects out to a broker as
/// an MQTT client and serves requests published to `<vid>/Vehicle` (JSON) and
/// `<vid>/Vehicle/protobuf`. Off until `broker` is set.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MqttConfig {
    /// `mqtts://host[:8883]` (TLS) or `mqtt://host[:1883]` (plain text: refused unless
    /// `insecure`, or `tls.insecure`, says so).
    pub broker: Option<String>,
    /// The vehicle identifier of the topics (`<vid>/Vehicle`): one per vehicle on a shared
    /// broker. Required with `broker`.
    pub vid: Option<String>,
    /// The MQTT client id; `viss-<vid>` when unset. Two clients with one id throw each
    /// other off the broker, so every vehicle needs its own.
    pub client_id: Option<String>,
    /// Broker user name.
    pub username: Option<String>,
    /// A file holding the broker password (its first line). The variable
    /// `VISS_MQTT_PASSWORD` is read when no file is set; a password is never a flag.
    pub password_file: Option<PathBuf>,
    /// PEM CA certificates the broker's certificate must chain to; the system's trust
    /// store when unset.
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate chain and key, for brokers that authenticate clients by
    /// certificate (both or neither).
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    /// Plain `mqtt://` to the broker. The broker sees all traffic in clear anyway
    /// (TRANSPORT §5.3 "Security Aspects"); without TLS so does everyone on the way.
    pub insecure: bool,
    /// Seconds between MQTT keep-alive pings (the broker drops us after 1.5 × this).
    pub keep_alive_secs: u16,
    /// QoS of the request topics' subscription and of every answer and event: 0 (at most
    /// once) or 1 (at least once; repeated `set`s are answered, not applied, twice).
    pub qos: u8,
    /// Serve `<vid>/Vehicle/protobuf` too (PAYLOAD ENCODING, MQTT realization).
    pub protobuf: bool,
    /// Ask the broker to keep our session (subscription and undelivered requests) while
    /// we are away. Off by default: a request that arrived while the vehicle was offline
    /// may be stale, and a message the server cannot read would come back on every
    /// reconnect.
    pub persistent_session: bool,
    /// Answers and events waiting for the broker (e.g. while it is unreachable); beyond,
    /// the oldest is dropped and counted.
    pub queue: usize,
    /// The same queue's bound in payload bytes.
    pub queue_bytes: usize,
    /// Subscriptions all MQTT clients together may hold; more are answered 429.
    pub max_subscriptions: usize,
    /// Largest MQTT packet read from the broker. Larger ones make the client library drop
    /// the connection, so keep the broker's own limit (mosquitto `max_packet_size`) at or
    /// below it; requests between `limits.max_message_bytes` and this are answered 400.
    pub max_packet_bytes: usize,
    /// Reconnect backoff: the first wait, doubled per failed attempt up to the cap, each
    /// wait drawn at random from its upper half (jitter, so a fleet does not reconnect in
    /// step after a broker restart).
    pub reconnect_min_ms: u64,
    pub reconnect_max_ms: u64,
}

impl Default for MqttConfig {
    fn default() -> Self {
        Self {
            broker: None,
            vid: None,
            client_id: None,
            username: None,
            password_file: None,
            ca_file: None,
            client_cert: None,
            client_key: None,
            insecure: false,
            keep_alive_secs: 30,
            qos: 1,
            protobuf: true,
            persistent_session: false,
            queue: 4096,
            queue_bytes: 16 * 1024 * 1024,
            max_subscriptions: 10_000,
            max_packet_bytes: 4 * 1024 * 1024,
            reconnect_min_ms: 250,
            reconnect_max_ms: 30_000,
        }
    }
}

impl MqttConfig {
    /// The topic JSON requests arrive on: `<vid>/Vehicle`.
    pub fn request_topic(&self) -> Option<String> {
        self.vid.as_ref().map(|vid| format!("{vid}/Vehicle"))
    }

    /// The topic protobuf requests arrive on, when served: `<vid>/Vehicle/protobuf`.
    pub fn protobuf_topic(&self) -> Option<String> {
        self.request_topic()
            .filter(|_| self.protobuf)
            .map(|topic| format!("{topic}/protobuf"))
    }
}

/// A configuration file that could not be used.
#[derive(Debug)]
pub enum ConfigError {
    Read(PathBuf, std::io::Error),
    Parse(PathBuf, Box<toml::de::Error>),
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Read(path, error) => write!(f, "cannot read {}: {error}", path.display()),
            Self::Parse(path, error) => write!(f, "{}: {error}", path.display()),
        }
    }
}

impl std::error::Error for ConfigError {}

impl ServerConfig {
    /// Reads a TOML configuration file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| ConfigError::Read(path.to_owned(), error))?;
        Self::from_toml(&text).map_err(|error| ConfigError::Parse(path.to_owned(), error))
    }

    /// Parses TOML text; unknown keys are errors (a typo must not be silently ignored).
    pub fn from_toml(text: &str) -> Result<Self, Box<toml::de::Error>> {
        toml::from_str(text).map_err(Box::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_files_keep_the_defaults() {
        let config = ServerConfig::from_toml("[listen]\nws_port = 7000\n").unwrap();
        assert_eq!(config.listen.ws_port, 7000);
        assert_eq!(config.listen.http_port, 8443);
        assert!(!config.tls.insecure);
    }

    #[test]
    fn the_idle_timeout_is_in_milliseconds() {
        let config = ServerConfig::from_toml("[limits]\nidle_timeout_ms = 300\n").unwrap();
        assert_eq!(config.limits.idle_timeout(), Duration::from_millis(300));
        assert_eq!(Limits::default().idle_timeout(), Duration::from_secs(300));
    }

    #[test]
    fn mqtt_is_off_until_a_broker_is_named() {
        let config = ServerConfig::default();
        assert_eq!(config.mqtt.broker, None);
        let config = ServerConfig::from_toml(
            "[mqtt]\nbroker = \"mqtts://broker.example:8883\"\nvid = \"VIN123\"\n",
        )
        .unwrap();
        assert_eq!(
            config.mqtt.request_topic().as_deref(),
            Some("VIN123/Vehicle")
        );
        assert_eq!(
            config.mqtt.protobuf_topic().as_deref(),
            Some("VIN123/Vehicle/protobuf")
        );
        assert_eq!(config.mqtt.qos, 1);
    }

    #[test]
    fn unknown_keys_are_errors() {
        let error = ServerConfig::from_toml("[listen]\nwsport = 7000\n").unwrap_err();
        assert!(error.to_string().contains("wsport"), "{error}");
    }
}
