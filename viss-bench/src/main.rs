//! `viss-bench`: a load generator for VISS v3 servers, with the physical floor beside the
//! figures. `bench` (default) serves a tree in-process and measures get RTT, throughput and
//! subscription latency over ws and wss next to a raw TCP echo server and WebSocket echo
//! servers answered by the same client code on the same runtime threads. `connections` and
//! `abuse` run against an external `viss-server`. Loopback only; every run is bounded in
//! count and time.

mod abuse;
mod access;
mod bench;
mod client;
mod connections;
mod feed;
mod files;
mod grpc;
mod load;
mod mqtt;
mod plot;
mod remote;
mod sdk;
mod servers;
mod stats;
mod subscription;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "viss-bench", version, about)]
struct Cli {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Debug, Subcommand)]
enum Mode {
    /// get RTT, throughput (1/8/32 connections, sequential and pipelined), subscription
    /// latency and RSS of an in-process server, beside TCP and WebSocket echo floors
    Bench(bench::BenchArgs),
    /// Many WebSocket connections each holding a subscription against a running viss-server
    /// started with --simulate; reports delivery and the server's memory per connection
    Connections(connections::ConnectionsArgs),
    /// Bad traffic against a running viss-server while one client measures get latency
    Abuse(abuse::AbuseArgs),
    /// gRPC get RTT (1 stream) and throughput (N streams on one connection) of an
    /// in-process server beside a tonic echo service of the same VISS service
    Grpc(grpc::GrpcArgs),
    /// VISS over MQTT through mosquitto (started here): get RTT beside a broker echo floor,
    /// events/s of 100 subscriptions, and 1,000 vehicles on one broker
    Mqtt(mqtt::MqttArgs),
    /// Access control: get RTT over wss of a protected leaf by token handle and by token,
    /// beside the same get on a server without access control
    Access(access::AccessArgs),
    /// File transfer over wss: download and upload MB/s through the data channel beside a
    /// plain WebSocket echo of the same bytes in the same chunks
    Files(files::FilesArgs),
    /// Any VISS WebSocket server by URL (ours, KUKSA Databroker, VISSR …), several side by
    /// side in one run: get RTT and throughput, the server's CPU time per request and its
    /// memory (idle, per subscribed connection), one table and one latency chart (SVG)
    Remote(remote::RemoteArgs),
    /// The Rust SDK (viss_runtime::client): typed get RTT over wss beside the same request
    /// raw on the same connection and a bare WebSocket client, one in-process demo car
    Sdk(sdk::SdkArgs),
    /// A plain WebSocket echo server on 127.0.0.1 (the floor `remote` runs beside the
    /// servers, as a process of its own with the same pinning; `--bare`: the socket path's
    /// floor, a blocking thread per connection); runs until killed
    Echo(remote::EchoArgs),
}

/// Where an external server listens.
#[derive(Debug, Clone, Args)]
pub struct Target {
    /// The server's WebSocket URL (ws:// or wss://, loopback)
    #[arg(long, default_value = "wss://localhost:6443")]
    pub url: String,
    /// The certificate to trust for wss:// (viss-server prints its path)
    #[arg(long, default_value = "viss-tls/cert.pem")]
    pub cacert: PathBuf,
    /// The server's PID, to read its RSS from /proc
    #[arg(long)]
    pub server_pid: Option<u32>,
}

impl Target {
    /// The dial for this target; loopback addresses only.
    pub fn dial(&self) -> Result<client::Dial, client::BenchError> {
        dial_url(&self.url, &self.cacert)
    }

    /// The server's RSS in KiB, when its PID is known.
    pub fn server_rss_kib(&self) -> Option<u64> {
        let rss = stats::rss_kib_of(self.server_pid?);
        (rss > 0).then_some(rss)
    }
}

/// The dial for a `ws://` or `wss://` URL on loopback (`cacert`: the certificate trusted for
/// `wss://`).
pub fn dial_url(url: &str, cacert: &std::path::Path) -> Result<client::Dial, client::BenchError> {
    let (secure, rest) = match url.split_once("://") {
        Some(("wss", rest)) => (true, rest),
        Some(("ws", rest)) => (false, rest),
        _ => return Err(format!("not a ws:// or wss:// URL: {url}").into()),
    };
    let host_port = rest.trim_end_matches('/');
    let (host, port) = host_port
        .rsplit_once(':')
        .ok_or_else(|| format!("the URL needs a port: {url}"))?;
    let port: u16 = port
        .parse()
        .map_err(|_| format!("not a port number in {url}"))?;
    if !matches!(host, "localhost" | "127.0.0.1") {
        return Err("viss-bench only measures loopback servers (localhost / 127.0.0.1)".into());
    }
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    Ok(if secure {
        client::Dial::Wss(address, client::tls_client(cacert)?)
    } else {
        client::Dial::Ws(address)
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.mode {
        Mode::Bench(args) => bench::main(args),
        Mode::Connections(args) => connections::main(args),
        Mode::Abuse(args) => abuse::main(args),
        Mode::Grpc(args) => grpc::main(args),
        Mode::Mqtt(args) => mqtt::main(args),
        Mode::Access(args) => access::main(args),
        Mode::Files(args) => files::main(args),
        Mode::Remote(args) => remote::main(args),
        Mode::Echo(args) => remote::echo(args),
        Mode::Sdk(args) => sdk::main(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("viss-bench: {error}");
            ExitCode::FAILURE
        }
    }
}
