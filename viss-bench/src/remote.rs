//! `viss-bench remote`: any VISS WebSocket server by URL (ours, KUKSA Databroker, VISSR,
//! a WebSocket echo as the floor), several side by side in one run with the same client,
//! the same paths and the same request counts. The server's CPU time per request and its
//! memory come from `/proc` when its PID is given. `viss-bench echo` is the floor as a
//! process of its own, so a script can pin it exactly as it pins the servers (`--bare`: the
//! socket path's floor, see [`servers::bare_ws_echo_on`]).

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::client::{BenchError, Client, Dial};
use crate::feed::{self, FeedSpec, FeedTarget};
use crate::load::{self, Load};
use crate::stats::{self, Samples};
use crate::{dial_url, plot, servers};

#[derive(Debug, Clone, Args)]
pub struct RemoteArgs {
    /// A server to measure: `NAME=URL`, optionally followed by `,pid=PID` (its CPU time and
    /// memory are read from /proc), `,subprotocol=VISSv3|VISSv2|none` and `,path=VSS.PATH`.
    /// Repeat it to measure several servers in one run (one table, one chart).
    #[arg(
        long = "target",
        value_name = "NAME=URL[,pid=PID][,subprotocol=S][,path=P]",
        required = true
    )]
    targets: Vec<String>,
    /// The signal every get reads, where a target names none
    #[arg(long, default_value = "Vehicle.Cabin.DoorCount")]
    path: String,
    /// The sub-protocol offered where a target names none: VISSv3, VISSv2 or none
    #[arg(long, default_value = "VISSv3")]
    subprotocol: String,
    /// The certificate trusted for wss:// targets
    #[arg(long, default_value = "viss-tls/cert.pem")]
    cacert: PathBuf,
    /// Connection counts of the runs (each sequential, then pipelined)
    #[arg(long, value_delimiter = ',', default_value = "1,8,32")]
    connections: Vec<usize>,
    /// Requests in flight per connection in the pipelined runs (0: no pipelined runs)
    #[arg(long, default_value_t = 16)]
    depth: usize,
    /// Requests per run (over all its connections)
    #[arg(long, default_value_t = 20_000)]
    requests: usize,
    /// Longest time per run, seconds
    #[arg(long, default_value_t = 3)]
    seconds: u64,
    /// Connections opened and held, each with a subscription, for the server's memory per
    /// connection (0: not measured; needs the target's pid)
    #[arg(long, default_value_t = 0)]
    hold: usize,
    /// The target the others are compared with (default: the first)
    #[arg(long)]
    baseline: Option<String>,
    /// Write the 1-connection get RTT distribution of every target here (SVG, CDF, log x)
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<PathBuf>,
    /// Also write the summary table here, as Markdown
    #[arg(long, value_name = "FILE.md")]
    markdown: Option<PathBuf>,
    /// Worker threads of the client runtime
    #[arg(long, default_value_t = 1)]
    client_threads: usize,
    /// Rounds of the load runs (every connection count, sequential and pipelined), the
    /// targets taking turns: the table's latency, throughput and server CPU are medians
    /// over the rounds (on a shared VM one run moves by ±20%, its p99 by half itself)
    #[arg(long, default_value_t = 1)]
    rounds: usize,
    /// The signal fed and subscribed to for feeder-to-event latency (targets with `feed=`)
    #[arg(long, default_value = "Vehicle.ADAS.CruiseControl.SpeedSet")]
    feed_path: String,
    /// Updates fed per target, each timed until its event arrives
    #[arg(long, default_value_t = 2_000)]
    updates: usize,
    /// KUKSA's `proto/` folder (from its checkout), for targets fed by `feed=kuksa-v2=URL`
    #[arg(long, value_name = "DIR")]
    kuksa_proto: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct EchoArgs {
    /// The port on 127.0.0.1 (0: any free port, printed)
    #[arg(long, default_value_t = 8099)]
    port: u16,
    /// Worker threads of the echo server's runtime
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// The bare echo instead, frames echoed without a WebSocket crate: `threads` (the
    /// default) a blocking thread per connection, the socket path's floor (two syscalls per
    /// request); `tokio` the same frames on the runtime (its readiness wait added)
    #[arg(long, value_enum, num_args = 0..=1, default_missing_value = "threads")]
    bare: Option<Bare>,
}

/// How the bare echo waits for a connection's next frame.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Bare {
    Threads,
    Tokio,
}

/// `viss-bench echo`: a WebSocket echo server until the process is killed.
pub fn echo(args: EchoArgs) -> Result<(), BenchError> {
    if let Some(Bare::Threads) = args.bare {
        return servers::bare_ws_echo_on(args.port).map(|never| match never {});
    }
    let runtime = crate::bench::runtime(args.threads)?;
    runtime.block_on(async {
        let address = match args.bare {
            Some(Bare::Tokio) => servers::bare_ws_echo_on_tokio(args.port).await?,
            _ => servers::ws_echo_on(args.port, None).await?,
        };
        // A line a script or test can wait for (port 0: the OS chose it).
        println!("WebSocket: ws://{address}");
        std::future::pending::<()>().await;
        Ok(())
    })
}

/// One server as given on the command line.
#[derive(Debug)]
struct Target {
    name: String,
    url: String,
    pid: Option<u32>,
    subprotocol: Option<&'static str>,
    path: String,
    feed: Option<FeedSpec>,
}

fn parse_subprotocol(name: &str) -> Result<Option<&'static str>, BenchError> {
    match name {
        "VISSv3" => Ok(Some("VISSv3")),
        "VISSv2" => Ok(Some("VISSv2")),
        "none" => Ok(None),
        other => Err(format!("sub-protocol `{other}`: expected VISSv3, VISSv2 or none").into()),
    }
}

fn parse_target(spec: &str, args: &RemoteArgs) -> Result<Target, BenchError> {
    let mut parts = spec.split(',');
    let head = parts.next().unwrap_or_default();
    let (name, url) = head
        .split_once('=')
        .ok_or_else(|| format!("--target {spec}: expected NAME=URL first"))?;
    let mut target = Target {
        name: name.to_owned(),
        url: url.to_owned(),
        pid: None,
        subprotocol: parse_subprotocol(&args.subprotocol)?,
        path: args.path.clone(),
        feed: None,
    };
    for part in parts {
        match part.split_once('=') {
            Some(("pid", pid)) => {
                target.pid = Some(pid.parse().map_err(|_| format!("pid `{pid}`"))?);
            }
            Some(("subprotocol", name)) => target.subprotocol = parse_subprotocol(name)?,
            Some(("path", path)) => target.path = path.to_owned(),
            Some(("feed", feed)) => target.feed = Some(FeedSpec::parse(feed)?),
            _ => return Err(format!("--target {spec}: unknown option `{part}`").into()),
        }
    }
    Ok(target)
}

/// One run's figures.
#[derive(Debug)]
struct Run {
    connections: usize,
    depth: usize,
    samples: Samples,
    /// Server CPU time over the measured part of the run, when the PID is known.
    server_cpu_ns: Option<u64>,
}

impl Run {
    fn cpu_us_per_request(&self) -> Option<f64> {
        let ops = self.samples.operations.max(1) as f64;
        self.server_cpu_ns.map(|ns| ns as f64 / 1000.0 / ops)
    }
}

/// Everything measured of one target.
#[derive(Debug)]
struct Measured {
    name: String,
    /// The load runs of every round (each round: every connection count and depth), the
    /// first round first.
    rounds: Vec<Vec<Run>>,
    idle_rss_kib: Option<u64>,
    /// The anonymous part of it (`RssAnon`).
    idle_private_kib: Option<u64>,
    kib_per_connection: Option<f64>,
    /// Feeder-to-event latencies, when the target says how it is fed.
    feed: Option<Samples>,
}

/// The median of `values` (the mean of the middle two for an even count).
fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    match values.len() {
        0 => None,
        count if count % 2 == 1 => Some(values[middle]),
        _ => Some((values[middle - 1] + values[middle]) / 2.0),
    }
}

impl Measured {
    /// The first round's run with `connections` and `depth`.
    fn first_run(&self, connections: usize, depth: usize) -> Option<&Run> {
        let runs = self.rounds.first()?;
        runs.iter()
            .find(|run| run.connections == connections && run.depth == depth)
    }

    /// The median over the rounds of `figure` of the run that `which` picks.
    fn median_over_rounds(
        &self,
        which: impl Fn(&Run) -> bool,
        figure: impl Fn(&Run) -> Option<f64>,
    ) -> Option<f64> {
        let runs = self
            .rounds
            .iter()
            .filter_map(|runs| runs.iter().find(|run| which(run)));
        // a run that got no answer has no quantile (NaN): it does not count
        let figures = runs.filter_map(figure).filter(|value| value.is_finite());
        median(figures.collect())
    }

    /// Server CPU per request over every run of a round; the median over the rounds.
    fn cpu_us_per_request(&self) -> Option<f64> {
        let rounds = self.rounds.iter();
        median(
            rounds
                .filter_map(|runs| cpu_us_per_request_over(runs))
                .collect(),
        )
    }
}

/// Server CPU per request over `runs`.
fn cpu_us_per_request_over(runs: &[Run]) -> Option<f64> {
    let mut ns = 0u64;
    let mut ops = 0u64;
    for run in runs {
        ns += run.server_cpu_ns?;
        ops += run.samples.operations;
    }
    (ops > 0).then(|| ns as f64 / 1000.0 / ops as f64)
}

pub fn main(args: RemoteArgs) -> Result<(), BenchError> {
    let targets = args
        .targets
        .iter()
        .map(|spec| parse_target(spec, &args))
        .collect::<Result<Vec<_>, _>>()?;
    let runtime = crate::bench::runtime(args.client_threads)?;
    let mut measured = Vec::with_capacity(targets.len());
    for target in &targets {
        measured.push(runtime.block_on(first_round(&args, target))?);
    }
    for round in 2..=args.rounds {
        for (target, figures) in targets.iter().zip(&mut measured) {
            println!("\n## round {round}: {}", target.name);
            let (dial, request) = endpoint(&args, target)?;
            let runs = runtime.block_on(load_runs(&args, target, &dial, &request))?;
            figures.rounds.push(runs);
        }
    }
    // Feeding and holding connections come after every round, so that each round meets the
    // server in the same state.
    for (target, figures) in targets.iter().zip(&mut measured) {
        runtime.block_on(feed_and_hold(&args, target, figures))?;
    }
    let table = summary(&args, &measured);
    println!("\n{table}");
    if let Some(path) = &args.markdown {
        std::fs::write(path, &table)?;
    }
    if let Some(path) = &args.plot {
        let series: Vec<(String, Vec<f64>)> = measured
            .iter()
            .filter_map(|target| {
                let run = target.first_run(1, 1)?;
                Some((target.name.clone(), run.samples.sorted_micros()))
            })
            .collect();
        let title = "get round trip, 1 connection, sequential (round 1)";
        plot::latency_cdf(path, title, &series)?;
        println!("plot: {}", path.display());
    }
    Ok(())
}

fn get_request(path: &str) -> String {
    format!(r#"{{"action":"get","path":"{path}","requestId":"1"}}"#)
}

/// Where `target` is dialled, and the get it is sent.
fn endpoint(args: &RemoteArgs, target: &Target) -> Result<(Dial, String), BenchError> {
    Ok((
        dial_url(&target.url, &args.cacert)?,
        get_request(&target.path),
    ))
}

/// The idle memory of `target`, a check of its answer, then the first round of load runs.
async fn first_round(args: &RemoteArgs, target: &Target) -> Result<Measured, BenchError> {
    let (dial, request) = endpoint(args, target)?;
    let idle_rss_kib = target.pid.map(stats::rss_kib_of).filter(|&kib| kib > 0);
    let idle_private_kib = target.pid.map(stats::private_kib_of).filter(|&kib| kib > 0);
    check_answer(&dial, target, &request).await?;
    println!(
        "\n## {} ({}, sub-protocol {}, get {})",
        target.name,
        target.url,
        target.subprotocol.unwrap_or("none"),
        target.path
    );
    let runs = load_runs(args, target, &dial, &request).await?;
    Ok(Measured {
        name: target.name.clone(),
        rounds: vec![runs],
        idle_rss_kib,
        idle_private_kib,
        kib_per_connection: None,
        feed: None,
    })
}

/// Feeder-to-event latency and memory per subscribed connection, where `target` allows.
async fn feed_and_hold(
    args: &RemoteArgs,
    target: &Target,
    figures: &mut Measured,
) -> Result<(), BenchError> {
    let (dial, _) = endpoint(args, target)?;
    if let Some(spec) = &target.feed {
        println!("\n## {}: feed", target.name);
        figures.feed = Some(feed_run(args, target, &dial, spec).await?);
    }
    if let (Some(pid), hold) = (target.pid, args.hold)
        && hold > 0
    {
        println!("\n## {}: {hold} subscribed connections", target.name);
        figures.kib_per_connection = Some(hold_connections(&dial, target, pid, hold).await?);
    }
    Ok(())
}

/// One round of load runs against `target`: every connection count, sequential, then
/// pipelined; each with the server CPU it cost when the target's PID is known.
async fn load_runs(
    args: &RemoteArgs,
    target: &Target,
    dial: &Dial,
    request: &str,
) -> Result<Vec<Run>, BenchError> {
    let max_time = Duration::from_secs(args.seconds.max(1));
    let mut runs = Vec::new();
    let depths = std::iter::once(1).chain((args.depth > 1).then_some(args.depth));
    for depth in depths {
        for &connections in &args.connections {
            let load = Load {
                connections: connections.max(1),
                depth,
                requests: args.requests,
                max_time,
            };
            let run = load_run(dial, target, request, load).await?;
            let mode = if depth == 1 {
                "seq".to_owned()
            } else {
                format!("pipe{depth}")
            };
            let cpu = run
                .cpu_us_per_request()
                .map_or_else(String::new, |us| format!("  server CPU {us:.1} µs/req"));
            println!(
                "{:>2} conn {mode:<7} {}{cpu}",
                run.connections,
                run.samples.line()
            );
            runs.push(run);
        }
    }
    Ok(runs)
}

/// One load run, with the server CPU time it cost.
async fn load_run(
    dial: &Dial,
    target: &Target,
    request: &str,
    load: Load,
) -> Result<Run, BenchError> {
    let clients =
        load::connect_warm_offering(dial, target.subprotocol, load.connections, request).await?;
    let cpu_before = target.pid.and_then(stats::cpu_ns_of);
    let samples = load::drive_all(clients, load, request).await?;
    let cpu_after = target.pid.and_then(stats::cpu_ns_of);
    Ok(Run {
        connections: load.connections,
        depth: load.depth,
        samples,
        server_cpu_ns: cpu_before
            .zip(cpu_after)
            .map(|(before, after)| after.saturating_sub(before)),
    })
}

/// Feeder-to-event latency of `target` on `--feed-path`.
async fn feed_run(
    args: &RemoteArgs,
    target: &Target,
    dial: &Dial,
    spec: &FeedSpec,
) -> Result<Samples, BenchError> {
    let mut probe = Client::connect_offering(dial, target.subprotocol).await?;
    let subscribe = first_accepted_subscribe(&mut probe, &target.name, &args.feed_path).await?;
    drop(probe);
    let feed_target = FeedTarget {
        name: &target.name,
        dial,
        subprotocol: target.subprotocol,
        spec,
        subscribe,
    };
    let max_time = Duration::from_secs(args.seconds.max(1) * 4);
    let samples = feed::feed_to_event(
        feed_target,
        &args.feed_path,
        args.updates,
        max_time,
        args.kuksa_proto.as_deref(),
    )
    .await?;
    println!(
        "feed -> event ({}, {}): {}",
        spec.describe(),
        args.feed_path,
        samples.line()
    );
    Ok(samples)
}

/// One get before measuring: a server that answers with an error (a path it does not
/// have, a sub-protocol it does not speak) would otherwise be timed on its error path.
async fn check_answer(dial: &Dial, target: &Target, request: &str) -> Result<(), BenchError> {
    let mut client = Client::connect_offering(dial, target.subprotocol)
        .await
        .map_err(|error| format!("{}: cannot connect to {}: {error}", target.name, target.url))?;
    let answer = client.round_trip(request).await?;
    let echoed = answer == request;
    let has_data = answer.contains("\"data\"") && !answer.contains("\"error\"");
    if echoed || has_data {
        Ok(())
    } else {
        Err(format!(
            "{}: the get of {} was answered with {answer}",
            target.name, target.path
        )
        .into())
    }
}

/// Opens `count` connections, each subscribed to the target's path, and returns the
/// server's memory growth per connection in KiB. It runs after the load runs, so memory
/// their (at most 32) connections freed may be reused by the first of these: the figure
/// can be low by up to 32/`count` of itself, alike for every server measured.
async fn hold_connections(
    dial: &Dial,
    target: &Target,
    pid: u32,
    count: usize,
) -> Result<f64, BenchError> {
    let before = stats::rss_kib_of(pid);
    let mut held = Vec::with_capacity(count);
    let mut accepted: Option<String> = None;
    for index in 0..count {
        let mut client = Client::connect_offering(dial, target.subprotocol)
            .await
            .map_err(|error| format!("{}: connection {index}: {error}", target.name))?;
        let subscribe = match &accepted {
            Some(subscribe) => {
                let answer = client.round_trip(subscribe).await?;
                if !subscribed(&answer, subscribe) {
                    return Err(format!("{}: subscribe refused: {answer}", target.name).into());
                }
                subscribe.clone()
            }
            None => first_accepted_subscribe(&mut client, &target.name, &target.path).await?,
        };
        accepted = Some(subscribe);
        held.push(client);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = stats::rss_kib_of(pid);
    let per = after.saturating_sub(before) as f64 / count as f64;
    println!(
        "memory: {before} KiB before, {after} KiB holding {count} subscribed connections: {per:.1} KiB per connection"
    );
    drop(held);
    Ok(per)
}

fn subscribed(answer: &str, request: &str) -> bool {
    answer.contains("subscriptionId") || answer == request
}

/// The first subscribe the server accepts, tried in this order: no filter (VISSv2 servers
/// such as KUKSA), a VISS v3 `change` filter, a VISSv2 `change` filter.
async fn first_accepted_subscribe(
    client: &mut Client,
    name: &str,
    path: &str,
) -> Result<String, BenchError> {
    let candidates = [
        format!(r#"{{"action":"subscribe","path":"{path}","requestId":"s"}}"#),
        format!(
            r#"{{"action":"subscribe","path":"{path}","filter":{{"variant":"change","parameter":{{"logic-op":"ne","diff":"0"}}}},"requestId":"s"}}"#
        ),
        format!(
            r#"{{"action":"subscribe","path":"{path}","filter":{{"type":"change","parameter":{{"logic-op":"ne","diff":"0"}}}},"requestId":"s"}}"#
        ),
    ];
    let mut last = String::new();
    for subscribe in candidates {
        last = client.round_trip(&subscribe).await?;
        if subscribed(&last, &subscribe) {
            return Ok(subscribe);
        }
    }
    Err(format!("{name}: every subscribe refused; the last answer: {last}").into())
}

fn opt(value: Option<f64>, digits: usize) -> String {
    value.map_or_else(|| "–".to_owned(), |value| format!("{value:.digits$}"))
}

fn ratio(value: Option<f64>, baseline: Option<f64>) -> String {
    match (value, baseline) {
        (Some(value), Some(baseline)) if baseline > 0.0 => format!("{:.2}×", value / baseline),
        _ => "–".to_owned(),
    }
}

/// The figures of one target the table shows.
struct Row {
    p50: Option<f64>,
    p99: Option<f64>,
    conn8: Option<f64>,
    conn32: Option<f64>,
    /// Server CPU per request: every run, then 1 connection sequential, then 8
    /// connections pipelined.
    cpu: Option<f64>,
    cpu_single: Option<f64>,
    cpu_pipelined: Option<f64>,
    rss: Option<f64>,
    private: Option<f64>,
    per_connection: Option<f64>,
    feed_p50: Option<f64>,
    feed_p99: Option<f64>,
}

impl Row {
    fn of(target: &Measured) -> Row {
        let sequential =
            |connections| move |run: &Run| run.connections == connections && run.depth == 1;
        let quantile = |fraction| move |run: &Run| Some(run.samples.quantile_us(fraction));
        let per_second = |run: &Run| Some(run.samples.per_second());
        Row {
            p50: target.median_over_rounds(sequential(1), quantile(0.5)),
            p99: target.median_over_rounds(sequential(1), quantile(0.99)),
            conn8: target.median_over_rounds(sequential(8), per_second),
            conn32: target.median_over_rounds(sequential(32), per_second),
            cpu: target.cpu_us_per_request(),
            cpu_single: target.median_over_rounds(sequential(1), Run::cpu_us_per_request),
            cpu_pipelined: target.median_over_rounds(
                |run| run.connections == 8 && run.depth > 1,
                Run::cpu_us_per_request,
            ),
            rss: target.idle_rss_kib.map(|kib| kib as f64 / 1024.0),
            private: target.idle_private_kib.map(|kib| kib as f64 / 1024.0),
            per_connection: target.kib_per_connection,
            feed_p50: target.feed.as_ref().map(|samples| samples.quantile_us(0.5)),
            feed_p99: target
                .feed
                .as_ref()
                .map(|samples| samples.quantile_us(0.99)),
        }
    }
}

/// The side-by-side table, then every target against the baseline.
fn summary(args: &RemoteArgs, measured: &[Measured]) -> String {
    let mut table = if args.rounds > 1 {
        format!(
            "Get latency, throughput and server CPU per request: medians of {} rounds.\n\n",
            args.rounds
        )
    } else {
        String::new()
    };
    table.push_str(
        "| target | get p50 / p99, 1 conn (µs) | 8 conns (req/s) | 32 conns (req/s) | server CPU per request: all runs; 1 conn; 8 conns pipelined (µs) | idle RSS (anonymous part) (MB) | KiB per subscribed connection | feed → event p50 / p99 (µs) |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for target in measured {
        let row = Row::of(target);
        table += &format!(
            "| {} | {} / {} | {} | {} | {}; {}; {} | {} ({}) | {} | {} / {} |\n",
            target.name,
            opt(row.p50, 1),
            opt(row.p99, 1),
            opt(row.conn8, 0),
            opt(row.conn32, 0),
            opt(row.cpu, 2),
            opt(row.cpu_single, 2),
            opt(row.cpu_pipelined, 2),
            opt(row.rss, 1),
            opt(row.private, 1),
            opt(row.per_connection, 1),
            opt(row.feed_p50, 1),
            opt(row.feed_p99, 1),
        );
    }
    let baseline = args
        .baseline
        .as_deref()
        .and_then(|name| measured.iter().find(|target| target.name == name))
        .or(measured.first());
    let Some(baseline) = baseline else {
        return table;
    };
    let base = Row::of(baseline);
    table += &format!(
        "\n| against {} | get p50 | get p99 | 8-conn throughput | server CPU per request: all; 1 conn; 8 pipelined | idle RSS (anonymous part) | KiB per connection | feed → event p50 |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n",
        baseline.name
    );
    for target in measured
        .iter()
        .filter(|target| target.name != baseline.name)
    {
        let row = Row::of(target);
        table += &format!(
            "| {} | {} | {} | {} | {}; {}; {} | {} ({}) | {} | {} |\n",
            target.name,
            ratio(row.p50, base.p50),
            ratio(row.p99, base.p99),
            ratio(row.conn8, base.conn8),
            ratio(row.cpu, base.cpu),
            ratio(row.cpu_single, base.cpu_single),
            ratio(row.cpu_pipelined, base.cpu_pipelined),
            ratio(row.rss, base.rss),
            ratio(row.private, base.private),
            ratio(row.per_connection, base.per_connection),
            ratio(row.feed_p50, base.feed_p50),
        );
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: RemoteArgs,
    }

    fn args(extra: &[&str]) -> RemoteArgs {
        let mut argv = vec!["remote", "--target", "x=ws://127.0.0.1:1"];
        argv.extend_from_slice(extra);
        Cli::parse_from(argv).args
    }

    #[test]
    fn a_target_takes_its_options_and_falls_back_to_the_defaults() {
        let args = args(&["--path", "Vehicle.Speed"]);
        let target = parse_target(
            "kuksa=ws://127.0.0.1:8090,pid=42,subprotocol=none,feed=kuksa-v2=http://127.0.0.1:8091",
            &args,
        )
        .expect("valid spec");
        assert_eq!(target.name, "kuksa");
        assert_eq!(target.url, "ws://127.0.0.1:8090");
        assert_eq!(target.pid, Some(42));
        assert_eq!(target.subprotocol, None);
        assert_eq!(target.path, "Vehicle.Speed");
        assert_eq!(
            target.feed,
            Some(FeedSpec::KuksaV2 {
                url: "http://127.0.0.1:8091".to_owned()
            })
        );
        let plain = parse_target("ours=wss://localhost:6443", &args).expect("valid spec");
        assert_eq!(plain.subprotocol, Some("VISSv3"));
        assert_eq!(plain.pid, None);
    }

    #[test]
    fn bad_target_specs_are_refused_with_the_reason() {
        let args = args(&[]);
        for (spec, reason) in [
            ("ws://127.0.0.1:1", "NAME=URL"),
            ("x=ws://127.0.0.1:1,pid=abc", "pid"),
            ("x=ws://127.0.0.1:1,subprotocol=VISSv9", "VISSv9"),
            ("x=ws://127.0.0.1:1,color=red", "color=red"),
            ("x=ws://127.0.0.1:1,feed=mqtt", "feed `mqtt`"),
        ] {
            let error = parse_target(spec, &args).expect_err(spec).to_string();
            assert!(error.contains(reason), "{spec}: {error}");
        }
    }

    #[test]
    fn rounds_are_summed_up_by_their_median() {
        assert_eq!(median(Vec::new()), None);
        assert_eq!(median(vec![30.0, 10.0, 20.0]), Some(20.0));
        assert_eq!(median(vec![40.0, 10.0, 20.0, 30.0]), Some(25.0));
    }

    /// A run of `connections` sequential connections: `operations` requests in one second,
    /// each taking `micros`, costing the server `cpu_us` per request.
    fn run(connections: usize, operations: u64, micros: u64, cpu_us: u64) -> Run {
        let mut samples = Samples::with_capacity(operations as usize);
        for _ in 0..operations {
            samples.push(Duration::from_micros(micros));
        }
        samples.operations = operations;
        samples.elapsed = Duration::from_secs(1);
        Run {
            connections,
            depth: 1,
            samples,
            server_cpu_ns: Some(cpu_us * 1000 * operations),
        }
    }

    #[test]
    fn every_load_figure_is_the_median_of_the_rounds() {
        let measured = Measured {
            name: "x".into(),
            rounds: vec![
                vec![run(1, 100, 20, 9), run(8, 800, 40, 4)],
                vec![run(1, 100, 10, 7), run(8, 900, 40, 3)],
                vec![run(1, 100, 90, 8), run(8, 100, 40, 5)],
            ],
            idle_rss_kib: None,
            idle_private_kib: None,
            kib_per_connection: None,
            feed: None,
        };
        let row = Row::of(&measured);
        assert_eq!(row.p50, Some(20.0));
        assert_eq!(row.conn8, Some(800.0));
        assert_eq!(row.cpu_single, Some(8.0));
        // all runs of a round: (100 × 9 + 800 × 4) / 900, (100 × 7 + 900 × 3) / 1000,
        // (100 × 8 + 100 × 5) / 200
        let cpu = row.cpu.unwrap_or_default();
        assert!((cpu - 4100.0 / 900.0).abs() < 1e-9, "{cpu}");
        // the chart shows the first round
        let first = measured
            .first_run(1, 1)
            .map(|run| run.samples.quantile_us(0.5));
        assert_eq!(first, Some(20.0));
    }

    #[test]
    fn only_loopback_urls_are_measured() {
        let cacert = std::path::Path::new("none.pem");
        assert!(dial_url("ws://127.0.0.1:8090", cacert).is_ok());
        for url in [
            "ws://10.0.0.1:8090",
            "http://127.0.0.1:80",
            "ws://127.0.0.1",
        ] {
            assert!(dial_url(url, cacert).is_err(), "{url}");
        }
    }
}
