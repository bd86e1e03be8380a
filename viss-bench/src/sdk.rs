//! The Rust SDK's cost: sequential get round trips over wss of the demo car's `Vehicle.Speed`
//! through the typed client (`viss_runtime::client`, what `sdk/rust` links), beside the
//! same request sent raw on the same SDK connection, and beside a bare WebSocket client on
//! its own connection (the baseline), one in-process server, rounds interleaved.

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use demo_car::tree::Vehicle;
use viss_runtime::client::{Client as SdkClient, ClientOptions};
use viss_runtime::server::{self, ServerConfig};
use viss_runtime::{Engine, EngineConfig, TypedEngine as _};

use crate::bench::runtime;
use crate::client::{BenchError, Client, Dial, tls_client};
use crate::stats::Samples;

#[derive(Debug, Clone, Args)]
pub struct SdkArgs {
    /// Round trips per run
    #[arg(long, default_value_t = 20_000)]
    requests: usize,
    /// Interleaved rounds (each: bare client, SDK raw, SDK typed)
    #[arg(long, default_value_t = 3)]
    rounds: usize,
}

/// Warm-up round trips before each run.
const WARM_UP: usize = 500;
/// Longest a run may take.
const RUN_LIMIT: Duration = Duration::from_secs(30);
const REQUEST: &str = r#"{"action":"get","path":"Vehicle.Speed","requestId":"1"}"#;

pub fn main(args: SdkArgs) -> Result<(), BenchError> {
    let dir = tempfile::tempdir()?;
    let engine = Arc::new(Engine::new(Vehicle::TREE, EngineConfig::default()));
    engine.feed(Vehicle::TREE.speed, 87.5_f32, jiff::Timestamp::now())?;
    let server_runtime = runtime(1)?;
    let client_runtime = runtime(1)?;
    let mut config = ServerConfig::default();
    config.listen.ws_port = 0;
    config.listen.http = false;
    config.listen.grpc = false;
    config.tls.self_signed_dir = dir.path().join("tls");
    let listening = server_runtime.block_on(server::start(engine, &config))?;
    let cert = listening.tls.clone().ok_or("no TLS files")?.cert;
    let address = listening.ws.ok_or("no wss")?;
    let dial = Dial::Wss(address, tls_client(&cert)?);
    let url = format!("wss://localhost:{}", address.port());
    println!(
        "# Rust SDK over wss, 1 connection each, sequential gets of Vehicle.Speed, {} per run",
        args.requests
    );
    client_runtime.block_on(async {
        let options = ClientOptions::with_ca_file(&cert)?;
        let sdk = SdkClient::connect(&url, Vehicle::TREE, options).await?;
        for round in 1..=args.rounds.max(1) {
            let bare = bare_run(&dial, args.requests).await?;
            let raw = sdk_run(&sdk, args.requests, false).await?;
            let typed = sdk_run(&sdk, args.requests, true).await?;
            let p50 = bare.quantile_us(0.5);
            println!("round {round}: bare WebSocket client      {}", bare.line());
            println!(
                "round {round}: SDK, raw request         {}  p50 {:.2}x bare",
                raw.line(),
                raw.quantile_us(0.5) / p50
            );
            println!(
                "round {round}: SDK, typed get           {}  p50 {:.2}x bare, {:.2}x raw on the same connection",
                typed.line(),
                typed.quantile_us(0.5) / p50,
                typed.quantile_us(0.5) / raw.quantile_us(0.5)
            );
        }
        sdk.close().await;
        Ok::<_, BenchError>(())
    })?;
    server_runtime.block_on(listening.shutdown());
    Ok(())
}

/// Sequential round trips on a bare WebSocket connection of its own.
async fn bare_run(dial: &Dial, requests: usize) -> Result<Samples, BenchError> {
    let mut client = Client::connect(dial).await?;
    let first = client.round_trip(REQUEST).await?;
    if first.contains("\"error\"") {
        return Err(format!("the bench request failed: {first}").into());
    }
    timed(requests, async || {
        client.round_trip(REQUEST).await.map(drop)
    })
    .await
}

/// Sequential gets through the SDK: typed (`f32` out) or the same request raw.
async fn sdk_run(
    sdk: &SdkClient<Vehicle>,
    requests: usize,
    typed: bool,
) -> Result<Samples, BenchError> {
    let raw = r#"{"action":"get","path":"Vehicle.Speed"}"#;
    timed(requests, async || -> Result<(), BenchError> {
        if typed {
            let speed: f32 = sdk.get(Vehicle::TREE.speed).await?;
            std::hint::black_box(speed);
        } else {
            std::hint::black_box(sdk.request_raw(raw).await?);
        }
        Ok(())
    })
    .await
}

/// `requests` timed calls of `once` after the warm-up (at most [`RUN_LIMIT`] long).
async fn timed(
    requests: usize,
    mut once: impl AsyncFnMut() -> Result<(), BenchError>,
) -> Result<Samples, BenchError> {
    for _ in 0..WARM_UP {
        once().await?;
    }
    let mut samples = Samples::with_capacity(requests);
    let started = Instant::now();
    for _ in 0..requests {
        let sent = Instant::now();
        once().await?;
        samples.push(sent.elapsed());
        samples.operations += 1;
        if started.elapsed() > RUN_LIMIT {
            break;
        }
    }
    samples.elapsed = started.elapsed();
    Ok(samples)
}
