//! Closed-loop load: N connections, each sending one request (or a pipelined batch) and
//! waiting for the answers, bounded by a request count and a deadline.

use std::time::{Duration, Instant};

use crate::client::{BenchError, Client, Dial};
use crate::stats::Samples;

/// One load run.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub connections: usize,
    /// Requests in flight per connection (1 = sequential).
    pub depth: usize,
    /// Total requests over all connections.
    pub requests: usize,
    pub max_time: Duration,
}

/// Warm-up round trips per connection before measuring.
const WARM_UP: usize = 200;

pub async fn run(dial: &Dial, load: Load, payload: &str) -> Result<Samples, BenchError> {
    let clients = connect_warm(dial, load.connections, payload).await?;
    drive_all(clients, load, payload).await
}

/// `connections` connections offering `VISSv3`, each warmed up with [`WARM_UP`] round trips.
pub async fn connect_warm(
    dial: &Dial,
    connections: usize,
    payload: &str,
) -> Result<Vec<Client>, BenchError> {
    connect_warm_offering(dial, Some("VISSv3"), connections, payload).await
}

/// As [`connect_warm`], offering `subprotocol` (none: a VISSv2-era client).
pub async fn connect_warm_offering(
    dial: &Dial,
    subprotocol: Option<&'static str>,
    connections: usize,
    payload: &str,
) -> Result<Vec<Client>, BenchError> {
    let mut clients = Vec::with_capacity(connections);
    for _ in 0..connections {
        let mut client = Client::connect_offering(dial, subprotocol).await?;
        for _ in 0..WARM_UP {
            client.round_trip(payload).await?;
        }
        clients.push(client);
    }
    Ok(clients)
}

/// The measured part of a run: every connection drives its share of `load` at once.
pub async fn drive_all(
    clients: Vec<Client>,
    load: Load,
    payload: &str,
) -> Result<Samples, BenchError> {
    let per_connection = (load.requests / load.connections.max(1)).max(load.depth);
    let deadline = Instant::now() + load.max_time;
    let started = Instant::now();
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|client| {
            let payload = payload.to_owned();
            tokio::spawn(drive(client, payload, per_connection, load.depth, deadline))
        })
        .collect();
    let mut total = Samples::with_capacity(load.requests);
    for task in tasks {
        total.merge(task.await??);
    }
    total.elapsed = started.elapsed();
    Ok(total)
}

async fn drive(
    mut client: Client,
    payload: String,
    requests: usize,
    depth: usize,
    deadline: Instant,
) -> Result<Samples, BenchError> {
    let depth = depth.max(1);
    let mut samples = Samples::with_capacity(requests / depth + 1);
    let mut done = 0;
    while done < requests && Instant::now() < deadline {
        let sent = Instant::now();
        for _ in 0..depth {
            client.feed(&payload).await?;
        }
        client.flush().await?;
        for _ in 0..depth {
            client.receive(payload.len()).await?;
        }
        samples.push(sent.elapsed());
        done += depth;
        samples.operations += depth as u64;
    }
    Ok(samples)
}
