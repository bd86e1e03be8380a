//! Command line: the tree to serve (same flags as `vssgen export json`) and server options
//! that override the TOML file; every server option can also come from a `VISS_*` variable.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser};
use viss_runtime::server::ServerConfig;

/// A VISS v3 server (Secure WebSocket + HTTPS) for any VSS tree.
///
/// Loads the tree at start from .vspec sources or a vss-tools JSON export and serves it
/// over wss:// (sub-protocol VISSv3, default port 6443) and https:// (default port 8443).
/// Without --cert/--key a self-signed certificate is generated into --self-signed-dir and
/// its path is printed: give it to clients (curl --cacert, Python ssl context).
///
/// Settings are layered: built-in defaults < --config TOML file < VISS_* environment
/// variables < flags.
#[derive(Debug, Parser)]
#[command(name = "viss-server", version, after_help = EXAMPLES)]
pub struct Cli {
    #[command(flatten)]
    pub tree: TreeArgs,
    #[command(flatten)]
    pub server: ServerArgs,
}

const EXAMPLES: &str = "Examples:
  # the standard tree, live simulated data, TLS with a generated self-signed certificate
  viss-server -s ../shared/vss/spec/VehicleSignalSpecification.vspec --simulate

  # a vss-tools JSON export, plain ws:// for local development only
  viss-server --json vss.json --insecure --ws-port 8090

  # one line of client (Python websockets):
  python3 -c 'import asyncio,ssl,websockets as w
  async def m():
    c=ssl.create_default_context(cafile=\"viss-tls/cert.pem\")
    async with w.connect(\"wss://localhost:6443\",subprotocols=[\"VISSv3\"],ssl=c) as s:
      await s.send(\"{\\\"action\\\":\\\"get\\\",\\\"path\\\":\\\"Vehicle.Speed\\\",\\\"requestId\\\":\\\"1\\\"}\"); print(await s.recv())
  asyncio.run(m())'";

/// Where the tree comes from.
#[derive(Debug, Clone, Args)]
#[command(group(ArgGroup::new("input").required(true).args(["vspec", "json"])))]
pub struct TreeArgs {
    /// The root .vspec file
    #[arg(short = 's', long, value_name = "FILE", env = "VISS_VSPEC")]
    pub vspec: Option<PathBuf>,
    /// A vss-tools JSON export to serve instead of .vspec sources
    #[arg(long, value_name = "FILE", env = "VISS_JSON")]
    pub json: Option<PathBuf>,
    /// The types file of a JSON export (with --json)
    #[arg(long, value_name = "FILE", requires = "json")]
    pub json_types: Option<PathBuf>,
    /// Units file (repeatable); default: units.yaml beside the root .vspec
    #[arg(short = 'u', long = "units", value_name = "FILE")]
    pub units: Vec<PathBuf>,
    /// Quantities file (repeatable); default: quantities.yaml beside the root .vspec
    #[arg(short = 'q', long = "quantities", value_name = "FILE")]
    pub quantities: Vec<PathBuf>,
    /// Types tree .vspec (repeatable, in order)
    #[arg(short = 't', long = "types", value_name = "FILE")]
    pub types: Vec<PathBuf>,
    /// Overlay .vspec (repeatable, applied in order)
    #[arg(short = 'l', long = "overlays", value_name = "FILE")]
    pub overlays: Vec<PathBuf>,
    /// Extra directory to search for #include files (repeatable)
    #[arg(short = 'I', long = "include-dirs", value_name = "DIR")]
    pub include_dirs: Vec<PathBuf>,
    /// Extended attribute to accept (repeatable)
    #[arg(short = 'e', long = "extended-attributes", value_name = "NAME")]
    pub extended_attributes: Vec<String>,
    /// Treat warnings as errors
    #[arg(long)]
    pub strict: bool,
}

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
    /// Do not serve the WebSocket transport
    #[arg(long)]
    pub no_ws: bool,
    /// Do not serve the HTTPS transport
    #[arg(long)]
    pub no_http: bool,
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
    /// Close connections silent for this many seconds [default: 300]
    #[arg(long, value_name = "SECS", env = "VISS_IDLE_TIMEOUT")]
    pub idle_timeout: Option<u64>,
    /// Most WebSocket connections served at once [default: 10000]
    #[arg(long, value_name = "N", env = "VISS_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Log filter: error, warn, info, debug, trace, or a tracing directive [default: info]
    #[arg(long, value_name = "FILTER", env = "VISS_LOG")]
    pub log_level: Option<String>,
    /// Log one JSON object per line
    #[arg(long, env = "VISS_LOG_JSON")]
    pub log_json: bool,
    /// Feed every sensor with simulated values that move within their limits
    #[arg(long, env = "VISS_SIMULATE")]
    pub simulate: bool,
    /// Milliseconds between two simulator rounds [default: 100]
    #[arg(long, value_name = "MS", env = "VISS_SIMULATE_PERIOD_MS")]
    pub simulate_period_ms: Option<u64>,
}

impl ServerArgs {
    /// Lays the flags (and their environment variables) over `config`.
    pub fn apply(&self, config: &mut ServerConfig) {
        let listen = &mut config.listen;
        set(&mut listen.address, self.address);
        set(&mut listen.ws_port, self.ws_port);
        set(&mut listen.http_port, self.http_port);
        listen.ws &= !self.no_ws;
        listen.http &= !self.no_http;
        let tls = &mut config.tls;
        if self.cert.is_some() {
            tls.cert.clone_from(&self.cert);
            tls.key.clone_from(&self.key);
        }
        set(&mut tls.self_signed_dir, self.self_signed_dir.clone());
        tls.insecure |= self.insecure;
        let limits = &mut config.limits;
        set(&mut limits.max_message_bytes, self.max_message_bytes);
        set(&mut limits.idle_timeout_secs, self.idle_timeout);
        set(&mut limits.max_connections, self.max_connections);
        set(&mut config.log.level, self.log_level.clone());
        config.log.json |= self.log_json;
        config.simulator.enabled |= self.simulate;
        set(&mut config.simulator.period_ms, self.simulate_period_ms);
    }
}

fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *slot = value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_file() {
        let cli = Cli::try_parse_from([
            "viss-server",
            "--json",
            "x.json",
            "--ws-port",
            "7001",
            "--insecure",
            "--simulate",
        ])
        .unwrap();
        let mut config =
            ServerConfig::from_toml("[listen]\nws_port = 7000\nhttp_port = 7002\n").unwrap();
        cli.server.apply(&mut config);
        assert_eq!(config.listen.ws_port, 7001);
        assert_eq!(config.listen.http_port, 7002);
        assert!(config.tls.insecure && config.simulator.enabled);
    }

    #[test]
    fn a_tree_input_is_required() {
        assert!(Cli::try_parse_from(["viss-server"]).is_err());
    }
}

#[cfg(test)]
mod example_config {
    use viss_runtime::server::ServerConfig;

    #[test]
    fn the_example_file_is_the_defaults() {
        let text = include_str!("../config.example.toml");
        assert_eq!(
            ServerConfig::from_toml(text).unwrap(),
            ServerConfig::default()
        );
    }
}
