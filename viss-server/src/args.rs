//! Command line: the tree to serve (same flags as `vssgen export json`) and the server
//! options every VISS server shares (`viss_runtime::server::ServerArgs`: they override the
//! TOML file, and each can also come from a `VISS_*` variable).

use clap::Parser;
use viss_runtime::server::ServerArgs;
use vss_model::cli::TreeArgs;

/// A VISS v3 server (Secure WebSocket + HTTPS + gRPC) for any VSS tree.
///
/// Loads the trees at start from .vspec sources or vss-tools JSON exports (`-s` / `--json`,
/// repeatable: each tree's root is served beside the others, with the `Server` capabilities
/// tree) and serves them over wss:// (sub-protocols VISSv3, VISS-protoenc and VISSv2,
/// default port 6443), https:// (default port 8443) and gRPC (service VISS, default port
/// 5443).
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
        assert_eq!(cli.tree.json, [std::path::PathBuf::from("x.json")]);
        let mut config = ServerConfig::default();
        cli.server.apply(&mut config);
        assert_eq!(config.listen.ws_port, 7001);
        assert!(config.simulator.enabled);
    }

    #[test]
    fn a_tree_input_is_required_and_several_are_taken() {
        assert!(Cli::try_parse_from(["viss-server"]).is_err());
        let cli = Cli::try_parse_from(["viss-server", "-s", "a.vspec", "-s", "b.json"]).unwrap();
        assert_eq!(cli.tree.inputs().len(), 2);
        assert_eq!(
            cli.tree.inputs()[1].source,
            vss_model::Source::Json("b.json".into())
        );
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
