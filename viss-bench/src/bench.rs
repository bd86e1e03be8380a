//! The main measurement: VISS over ws and wss beside the echo floors, same client code,
//! same server runtime.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use viss_runtime::model_tree::dynamic_tree_from_model;
use viss_runtime::server::{self, Listening, ServerConfig};
use viss_runtime::{DynamicTree, Engine, EngineConfig};

use crate::client::{BenchError, Dial, tls_client};
use crate::load::{self, Load};
use crate::stats::{Samples, rss_kib};
use crate::{servers, subscription};

#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// The tree: a vss-tools JSON export
    #[arg(long, value_name = "FILE", conflicts_with = "vspec")]
    json: Option<PathBuf>,
    /// The tree: a root .vspec (units/quantities beside it)
    #[arg(short = 's', long, value_name = "FILE")]
    vspec: Option<PathBuf>,
    /// Requests per measurement (over all connections)
    #[arg(long, default_value_t = 20_000)]
    requests: usize,
    /// Longest time per measurement, seconds
    #[arg(long, default_value_t = 3)]
    seconds: u64,
    /// Requests in flight per connection in the pipelined runs
    #[arg(long, default_value_t = 16)]
    depth: usize,
    /// Feeder writes timed in the subscription-latency run
    #[arg(long, default_value_t = 3_000)]
    updates: usize,
    /// Worker threads of the server runtime (servers and echo floors share it)
    #[arg(long, default_value_t = 1)]
    server_threads: usize,
    /// Worker threads of the client runtime
    #[arg(long, default_value_t = 1)]
    client_threads: usize,
}

const GET: &str = r#"{"action":"get","path":"Vehicle.Speed","requestId":"1"}"#;

/// The targets of one run.
struct Targets {
    tcp_echo: Dial,
    ws_echo: Dial,
    wss_echo: Dial,
    viss_ws: Dial,
    viss_wss: Dial,
}

pub fn main(args: BenchArgs) -> Result<(), BenchError> {
    let rss_before = rss_kib();
    let tree = load_tree(&args)?;
    let engine = Arc::new(Engine::new(tree, EngineConfig::default()));
    engine.update_path(
        "Vehicle.Speed",
        viss_runtime::Value::Float(42.5),
        jiff::Timestamp::now(),
    )?;
    let server_runtime = runtime(args.server_threads)?;
    let client_runtime = runtime(args.client_threads)?;
    let dir = tempfile::tempdir()?;
    let (targets, _servers) =
        server_runtime.block_on(start_targets(Arc::clone(&engine), dir.path()))?;
    let rss_idle = rss_kib();
    println!(
        "# viss-bench: server threads {}, client threads {}, payload {} B",
        args.server_threads,
        args.client_threads,
        GET.len()
    );
    println!("# RSS: before tree {rss_before} KiB, idle with tree + servers {rss_idle} KiB");
    let report = client_runtime.block_on(measure_all(&args, &targets, &engine))?;
    let rss_loaded = rss_kib();
    println!("# RSS after load (bench process, server + client): {rss_loaded} KiB");
    report.print_floors();
    Ok(())
}

fn load_tree(args: &BenchArgs) -> Result<DynamicTree, BenchError> {
    let loaded = match (&args.json, &args.vspec) {
        (Some(json), _) => vss_model::json::load(&vss_model::json::JsonOptions {
            source: json.clone(),
            types: None,
            strict: false,
        }),
        (None, Some(vspec)) => vss_model::vspec::load(&vss_model::VspecOptions {
            source: vspec.clone(),
            expand: true,
            ..Default::default()
        }),
        (None, None) => return Err("give the tree with --json FILE or -s FILE".into()),
    };
    let model = loaded.tree.ok_or("the tree has errors")?;
    Ok(dynamic_tree_from_model(&model)?)
}

fn runtime(threads: usize) -> Result<tokio::runtime::Runtime, BenchError> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()?)
}

async fn start_targets(
    engine: Arc<Engine<DynamicTree>>,
    dir: &std::path::Path,
) -> Result<(Targets, Vec<Listening>), BenchError> {
    let mut config = ServerConfig::default();
    config.listen.ws_port = 0;
    config.listen.http = false;
    config.tls.self_signed_dir = dir.join("tls");
    let secure = server::start(Arc::clone(&engine), &config).await?;
    config.tls.insecure = true;
    let plain = server::start(engine, &config).await?;
    let files = secure.tls.clone().ok_or("no TLS files")?;
    let acceptor = servers::tls_acceptor(&files.cert, &files.key)?;
    let client_tls = tls_client(&files.cert)?;
    let targets = Targets {
        tcp_echo: Dial::Tcp(servers::tcp_echo().await?),
        ws_echo: Dial::Ws(servers::ws_echo(None).await?),
        wss_echo: Dial::Wss(servers::ws_echo(Some(acceptor)).await?, client_tls.clone()),
        viss_ws: Dial::Ws(plain.ws.ok_or("no ws listener")?),
        viss_wss: Dial::Wss(secure.ws.ok_or("no wss listener")?, client_tls),
    };
    Ok((targets, vec![secure, plain]))
}

/// The figures the floors are checked on.
#[derive(Default)]
struct Report {
    ws_echo_1: Option<Samples>,
    viss_ws_1: Option<Samples>,
    ws_echo_8: Option<Samples>,
    viss_ws_8: Option<Samples>,
    wss_echo_1: Option<Samples>,
    viss_wss_1: Option<Samples>,
    wss_echo_8: Option<Samples>,
    viss_wss_8: Option<Samples>,
    sub_ws: Option<Samples>,
    sub_wss: Option<Samples>,
}

async fn measure_all(
    args: &BenchArgs,
    targets: &Targets,
    engine: &Arc<Engine<DynamicTree>>,
) -> Result<Report, BenchError> {
    let mut report = Report::default();
    let max_time = Duration::from_secs(args.seconds.max(1));
    let runs = [
        ("tcp-echo", &targets.tcp_echo),
        ("ws-echo", &targets.ws_echo),
        ("viss-ws", &targets.viss_ws),
        ("wss-echo", &targets.wss_echo),
        ("viss-wss", &targets.viss_wss),
    ];
    println!(
        "\n## get round trips ({} requests or {}s per line)",
        args.requests, args.seconds
    );
    for (name, dial) in runs {
        for (connections, depth) in [
            (1, 1),
            (8, 1),
            (32, 1),
            (1, args.depth),
            (8, args.depth),
            (32, args.depth),
        ] {
            let load = Load {
                connections,
                depth,
                requests: args.requests,
                max_time,
            };
            let samples = load::run(dial, load, GET).await?;
            let mode = if depth == 1 {
                "seq".to_owned()
            } else {
                format!("pipe{depth}")
            };
            println!(
                "{name:<9} {connections:>2} conn {mode:<7} {}",
                samples.line()
            );
            report.keep(name, connections, depth, samples);
        }
    }
    println!(
        "\n## subscription latency: feeder write -> client holds the event ({} updates)",
        args.updates
    );
    let ws = subscription::run(&targets.viss_ws, engine, args.updates, max_time).await?;
    println!("viss-ws   event     {}", ws.line());
    let wss = subscription::run(&targets.viss_wss, engine, args.updates, max_time).await?;
    println!("viss-wss  event     {}", wss.line());
    report.sub_ws = Some(ws);
    report.sub_wss = Some(wss);
    Ok(report)
}

impl Report {
    fn keep(&mut self, name: &str, connections: usize, depth: usize, samples: Samples) {
        if depth != 1 {
            return;
        }
        let slot = match (name, connections) {
            ("ws-echo", 1) => &mut self.ws_echo_1,
            ("viss-ws", 1) => &mut self.viss_ws_1,
            ("ws-echo", 8) => &mut self.ws_echo_8,
            ("viss-ws", 8) => &mut self.viss_ws_8,
            ("wss-echo", 1) => &mut self.wss_echo_1,
            ("viss-wss", 1) => &mut self.viss_wss_1,
            ("wss-echo", 8) => &mut self.wss_echo_8,
            ("viss-wss", 8) => &mut self.viss_wss_8,
            _ => return,
        };
        *slot = Some(samples);
    }

    fn print_floors(&self) {
        println!(
            "\n## against the floors (targets: get p50 <= 1.3x echo, 8-conn throughput >= 70% of echo, event p50 <= 1.5x echo RTT)"
        );
        for (transport, echo_1, viss_1, echo_8, viss_8, sub) in [
            (
                "ws",
                &self.ws_echo_1,
                &self.viss_ws_1,
                &self.ws_echo_8,
                &self.viss_ws_8,
                &self.sub_ws,
            ),
            (
                "wss",
                &self.wss_echo_1,
                &self.viss_wss_1,
                &self.wss_echo_8,
                &self.viss_wss_8,
                &self.sub_wss,
            ),
        ] {
            let (Some(echo_1), Some(viss_1), Some(echo_8), Some(viss_8), Some(sub)) =
                (echo_1, viss_1, echo_8, viss_8, sub)
            else {
                continue;
            };
            let latency = viss_1.quantile_us(0.5) / echo_1.quantile_us(0.5);
            let throughput = viss_8.per_second() / echo_8.per_second();
            let event = sub.quantile_us(0.5) / echo_1.quantile_us(0.5);
            println!(
                "{transport:<4} get p50 {:.1}x echo ({}), 8-conn throughput {:.0}% of echo ({}), event p50 {:.2}x echo RTT ({})",
                latency,
                verdict(latency <= 1.3),
                throughput * 100.0,
                verdict(throughput >= 0.7),
                event,
                verdict(event <= 1.5)
            );
        }
    }
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "NOT met" }
}
