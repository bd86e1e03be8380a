//! Many connections, each holding a subscription, against a running `viss-server
//! --simulate`: every connection must receive an event; the server's RSS is read before
//! and after to give memory per connection.

use std::time::{Duration, Instant};

use clap::Args;

use crate::Target;
use crate::client::{BenchError, Client};

#[derive(Debug, Clone, Args)]
pub struct ConnectionsArgs {
    #[command(flatten)]
    target: Target,
    /// Connections to open
    #[arg(long, default_value_t = 1000)]
    count: usize,
    /// Sensor every connection subscribes to (the simulator moves it)
    #[arg(long, default_value = "Vehicle.Speed")]
    path: String,
    /// Longest wait for every connection's first event, seconds
    #[arg(long, default_value_t = 30)]
    seconds: u64,
}

pub fn main(args: ConnectionsArgs) -> Result<(), BenchError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(args))
}

async fn run(args: ConnectionsArgs) -> Result<(), BenchError> {
    let dial = args.target.dial()?;
    let rss_before = args.target.server_rss_kib();
    let subscribe = format!(
        r#"{{"action":"subscribe","path":"{}","filter":{{"variant":"change","parameter":{{"logic-op":"ne","diff":"0"}}}},"requestId":"s"}}"#,
        args.path
    );
    let started = Instant::now();
    let mut clients = Vec::with_capacity(args.count);
    for index in 0..args.count {
        let mut client = Client::connect(&dial)
            .await
            .map_err(|error| format!("connection {index}: {error}"))?;
        let answer = client.round_trip(&subscribe).await?;
        if !answer.contains("subscriptionId") {
            return Err(format!("connection {index}: subscribe refused: {answer}").into());
        }
        clients.push(client);
    }
    let opened = started.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_held = args.target.server_rss_kib();
    let deadline = Duration::from_secs(args.seconds.max(1));
    let waiting = Instant::now();
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|mut client| {
            tokio::spawn(async move {
                // Drain until one subscription event (or the deadline).
                let until = tokio::time::Instant::now() + deadline;
                loop {
                    match tokio::time::timeout_at(until, client.receive(0)).await {
                        Ok(Ok(message)) if message.contains("\"subscription\"") => {
                            return (true, client);
                        }
                        Ok(Ok(_)) => continue,
                        _ => return (false, client),
                    }
                }
            })
        })
        .collect();
    let mut delivered = 0;
    let mut keep = Vec::with_capacity(tasks.len());
    for task in tasks {
        let (got, client) = task.await?;
        delivered += usize::from(got);
        keep.push(client);
    }
    println!(
        "connections: {} opened and subscribed in {:.2?}",
        args.count, opened
    );
    println!(
        "events: {delivered}/{} connections received an event within {:.2?}",
        args.count,
        waiting.elapsed()
    );
    if let (Some(before), Some(held)) = (rss_before, rss_held) {
        let per = (held.saturating_sub(before)) as f64 * 1024.0 / args.count.max(1) as f64;
        println!(
            "server RSS: {before} KiB before, {held} KiB holding {} connections: {:.1} KiB per connection",
            args.count,
            per / 1024.0
        );
    }
    drop(keep);
    if delivered == args.count {
        Ok(())
    } else {
        Err("not every connection received an event".into())
    }
}
