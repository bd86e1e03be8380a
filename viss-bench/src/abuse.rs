//! Bad traffic against a running `viss-server` (started with --simulate): invalid JSON,
//! 10 MB frames, binary frames, half-open connections and a client that never reads its
//! events. One well-behaved client measures get latency before, during and after the abuse,
//! from its own thread and runtime (so the abusers' client-side work, e.g. masking 10 MB
//! frames, does not delay it inside this process); `--only` runs a subset of abusers.

use std::time::{Duration, Instant};

use clap::Args;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::Target;
use crate::client::{BenchError, Client, Dial};
use crate::stats::Samples;

#[derive(Debug, Clone, Args)]
pub struct AbuseArgs {
    #[command(flatten)]
    target: Target,
    /// Seconds of measurement before and during the abuse
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Half-open connections to hold
    #[arg(long, default_value_t = 200)]
    half_open: usize,
    /// Messages per second of each flooding abuser (invalid JSON, binary frames); 0 = as
    /// fast as possible (then the floods compete with the probe for the 2 CPUs)
    #[arg(long, default_value_t = 2000)]
    rate: u64,
    /// Abusers to run (comma-separated): invalid-json, huge-frames, binary, never-reads,
    /// half-open, and (not by default) pipelined: unpaced bursts of 256 invalid requests
    /// sent without waiting for the answers
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "invalid-json,huge-frames,binary,never-reads,half-open"
    )]
    only: Vec<Abuser>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Abuser {
    InvalidJson,
    HugeFrames,
    Binary,
    NeverReads,
    HalfOpen,
    Pipelined,
}

/// Paces a flood at `rate` messages per second (0 = unpaced).
struct Pace(Option<tokio::time::Interval>);

impl Pace {
    fn new(rate: u64) -> Self {
        Self((rate > 0).then(|| {
            let mut interval = tokio::time::interval(Duration::from_nanos(1_000_000_000 / rate));
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            interval
        }))
    }

    async fn wait(&mut self) {
        if let Some(interval) = &mut self.0 {
            interval.tick().await;
        }
    }
}

const GET: &str = r#"{"action":"get","path":"Vehicle.Speed","requestId":"1"}"#;

pub fn main(args: AbuseArgs) -> Result<(), BenchError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(args))
}

/// What the probe thread is asked to do: measure one window, or stop.
enum ProbeCommand {
    Measure(Duration),
    Stop,
}

/// The probe: one connection on its own thread and current-thread runtime, measuring a
/// window each time it is asked.
struct Probe {
    commands: std::sync::mpsc::SyncSender<ProbeCommand>,
    results: std::sync::mpsc::Receiver<Result<Samples, String>>,
}

impl Probe {
    fn spawn(dial: Dial) -> Result<Self, BenchError> {
        let (commands, command_rx) = std::sync::mpsc::sync_channel::<ProbeCommand>(1);
        let (result_tx, results) = std::sync::mpsc::sync_channel(1);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        std::thread::Builder::new()
            .name("probe".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let mut probe = match Client::connect(&dial).await {
                        Ok(probe) => probe,
                        Err(error) => {
                            let _ = result_tx.send(Err(error.to_string()));
                            return;
                        }
                    };
                    while let Ok(ProbeCommand::Measure(window)) = command_rx.recv() {
                        let samples = measure(&mut probe, window)
                            .await
                            .map_err(|error| error.to_string());
                        if result_tx.send(samples).is_err() {
                            return;
                        }
                    }
                });
            })?;
        Ok(Self { commands, results })
    }

    /// Measures one window (blocks this worker thread meanwhile).
    fn measure(&self, window: Duration) -> Result<Samples, BenchError> {
        tokio::task::block_in_place(|| {
            self.commands.send(ProbeCommand::Measure(window))?;
            Ok(self.results.recv()??)
        })
    }
}

async fn run(args: AbuseArgs) -> Result<(), BenchError> {
    let dial = args.target.dial()?;
    let window = Duration::from_secs(args.seconds.max(1));
    let probe = Probe::spawn(dial.clone())?;
    let quiet = probe.measure(window)?;
    println!("quiet:        {}", quiet.line());
    let stop = Instant::now() + window + Duration::from_secs(2);
    let mut abusers = tokio::task::JoinSet::new();
    for abuser in &args.only {
        match abuser {
            Abuser::InvalidJson => abusers.spawn(invalid_json(dial.clone(), stop, args.rate)),
            Abuser::HugeFrames => abusers.spawn(huge_frames(dial.clone(), stop)),
            Abuser::Binary => abusers.spawn(binary_frames(dial.clone(), stop, args.rate)),
            Abuser::NeverReads => abusers.spawn(never_reads(dial.clone(), stop)),
            Abuser::HalfOpen => abusers.spawn(half_open(dial.clone(), args.half_open, stop)),
            Abuser::Pipelined => abusers.spawn(pipelined(dial.clone(), stop)),
        };
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let abused = probe.measure(window)?;
    println!("under abuse:  {}", abused.line());
    while let Some(result) = abusers.join_next().await {
        match result {
            Ok(Ok(line)) => println!("  {line}"),
            Ok(Err(error)) => println!("  abuser error: {error}"),
            Err(error) => println!("  abuser panicked: {error}"),
        }
    }
    let after = Client::connect(&dial).await?.round_trip(GET).await?;
    println!(
        "after abuse a new connection is served: {}",
        after.contains("\"data\"")
    );
    let after_abuse = probe.measure(window)?;
    println!("quiet again:  {}", after_abuse.line());
    let _ = probe.commands.send(ProbeCommand::Stop);
    let ratio = abused.quantile_us(0.5) / quiet.quantile_us(0.5);
    let ratio99 = abused.quantile_us(0.99) / quiet.quantile_us(0.99);
    println!("p50 under abuse / quiet = {ratio:.2}x, p99 = {ratio99:.2}x (target <= 2x)");
    let noise = after_abuse.quantile_us(0.5) / quiet.quantile_us(0.5);
    let noise99 = after_abuse.quantile_us(0.99) / quiet.quantile_us(0.99);
    println!("noise (quiet again / quiet): p50 {noise:.2}x, p99 {noise99:.2}x");
    if let Some(rss) = args.target.server_rss_kib() {
        println!("server RSS after abuse: {rss} KiB");
    }
    Ok(())
}

async fn measure(probe: &mut Client, window: Duration) -> Result<Samples, BenchError> {
    let mut samples = Samples::with_capacity(100_000);
    let started = Instant::now();
    while started.elapsed() < window && samples.operations < 1_000_000 {
        let sent = Instant::now();
        probe.round_trip(GET).await?;
        samples.push(sent.elapsed());
        samples.operations += 1;
    }
    samples.elapsed = started.elapsed();
    Ok(samples)
}

async fn invalid_json(dial: Dial, stop: Instant, rate: u64) -> Result<String, BenchError> {
    let mut client = Client::connect(&dial).await?;
    let mut answered = 0u64;
    let mut pace = Pace::new(rate);
    while Instant::now() < stop && answered < 10_000_000 {
        pace.wait().await;
        let answer = client.round_trip("{\"action\":\"get\",\"path\":").await?;
        if answer.contains("\"error\"") {
            answered += 1;
        }
    }
    Ok(format!(
        "invalid JSON: {answered} requests answered with errors"
    ))
}

async fn pipelined(dial: Dial, stop: Instant) -> Result<String, BenchError> {
    const BURST: usize = 256;
    let mut client = Client::connect(&dial).await?;
    let mut answered = 0u64;
    while Instant::now() < stop && answered < 100_000_000 {
        for _ in 0..BURST {
            client.feed("{\"action\":\"get\",\"path\":").await?;
        }
        client.flush().await?;
        for _ in 0..BURST {
            client.receive(0).await?;
            answered += 1;
        }
    }
    Ok(format!(
        "pipelined: {answered} invalid requests answered in bursts of {BURST}"
    ))
}

async fn huge_frames(dial: Dial, stop: Instant) -> Result<String, BenchError> {
    let frame = format!(
        "{{\"action\":\"get\",\"path\":\"{}\"}}",
        "x".repeat(10 * 1024 * 1024)
    );
    let mut closed = 0;
    let mut attempts = 0;
    while Instant::now() < stop && attempts < 20 {
        attempts += 1;
        let mut client = Client::connect(&dial).await?;
        let outcome = tokio::time::timeout(Duration::from_secs(5), client.round_trip(&frame)).await;
        if !matches!(outcome, Ok(Ok(_))) {
            closed += 1;
        }
    }
    Ok(format!(
        "10 MB frames: {closed}/{attempts} connections closed by the server"
    ))
}

async fn binary_frames(dial: Dial, stop: Instant, rate: u64) -> Result<String, BenchError> {
    let mut client = Client::connect(&dial).await?;
    let mut refused = 0u64;
    let mut pace = Pace::new(rate);
    while Instant::now() < stop && refused < 10_000_000 {
        pace.wait().await;
        let answer = client.binary_round_trip(b"\x00\x01binary").await?;
        if answer.contains("Binary frames are not supported") {
            refused += 1;
        }
    }
    Ok(format!(
        "binary frames: {refused} answered with a 400 error"
    ))
}

async fn never_reads(dial: Dial, stop: Instant) -> Result<String, BenchError> {
    let mut client = Client::connect(&dial).await?;
    let subscribe = r#"{"action":"subscribe","path":"Vehicle","filter":[{"variant":"paths","parameter":"*"},{"variant":"timebased","parameter":{"period":"100"}}],"requestId":"flood"}"#;
    let answer = client.round_trip(subscribe).await?;
    if !answer.contains("subscriptionId") {
        return Err(format!("the flood subscription was refused: {answer}").into());
    }
    // Never read: the server must drop events, then disconnect us, not grow without bound.
    tokio::time::sleep(stop.saturating_duration_since(Instant::now())).await;
    Ok("never-reading subscriber held for the whole window".to_owned())
}

async fn half_open(dial: Dial, count: usize, stop: Instant) -> Result<String, BenchError> {
    let address = match &dial {
        Dial::Tcp(address) | Dial::Ws(address) | Dial::Wss(address, _) => *address,
    };
    let mut held = Vec::with_capacity(count);
    for _ in 0..count {
        let mut stream = TcpStream::connect(address).await?;
        // Half a handshake, then silence.
        let _ = stream.write_all(b"\x16\x03\x01\x00").await;
        held.push(stream);
    }
    tokio::time::sleep(stop.saturating_duration_since(Instant::now())).await;
    Ok(format!(
        "half-open: {} connections held open and silent",
        held.len()
    ))
}
