//! Command line: the tree to serve (same flags as `vssgen export json`) and the server
//! options every VISS server shares (`viss_runtime::server::ServerArgs`: they override the
//! TOML file, and each can also come from a `VISS_*` variable).

use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser};
use viss_runtime::server::ServerArgs;

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

#[cfg(test)]
mod tests {
    use super::*;
    use viss_runtime::server::ServerConfig;

    /// The layering itself is tested with `ServerArgs` in viss-runtime; here: the tree flags
    /// and the flattened server flags parse together.
    #[test]
    fn tree_and_server_flags_parse_together() {
        let cli = Cli::try_parse_from([
            "viss-server",
            "--json",
            "x.json",
            "--ws-port",
            "7001",
            "--simulate",
        ])
        .unwrap();
        assert_eq!(
            cli.tree.json.as_deref(),
            Some(std::path::Path::new("x.json"))
        );
        let mut config = ServerConfig::default();
        cli.server.apply(&mut config);
        assert_eq!(config.listen.ws_port, 7001);
        assert!(config.simulator.enabled);
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
