//! Feeder-to-event latency: a client subscribes to a signal, the bench writes the signal
//! through the engine (as a feeder does) and times until the client holds the event.

use std::sync::Arc;
use std::time::{Duration, Instant};

use viss_runtime::{Engine, Value, VissTree};

use crate::client::{BenchError, Client, Dial};
use crate::stats::Samples;

pub const SIGNAL: &str = "Vehicle.Speed";

pub async fn run(
    dial: &Dial,
    engine: &Arc<Engine<impl VissTree + 'static>>,
    updates: usize,
    max_time: Duration,
) -> Result<Samples, BenchError> {
    let node = engine
        .tree()
        .lookup(SIGNAL)
        .ok_or("the tree has no Vehicle.Speed")?;
    let mut client = Client::connect(dial).await?;
    let subscribe = format!(
        r#"{{"action":"subscribe","path":"{SIGNAL}","filter":{{"variant":"change","parameter":{{"logic-op":"ne","diff":"0"}}}},"requestId":"sub"}}"#
    );
    let answer = client.round_trip(&subscribe).await?;
    if !answer.contains("subscriptionId") {
        return Err(format!("subscribe refused: {answer}").into());
    }
    let mut samples = Samples::with_capacity(updates);
    let deadline = Instant::now() + max_time;
    let started = Instant::now();
    for index in 0..updates {
        if Instant::now() >= deadline {
            break;
        }
        // Alternating values so every write is a change.
        let value = Value::Float(if index % 2 == 0 { 10.0 } else { 20.0 });
        let written = Instant::now();
        engine.update(node, value, jiff::Timestamp::now())?;
        let event = tokio::time::timeout(Duration::from_secs(1), client.receive(0)).await??;
        if !event.contains("\"subscription\"") {
            return Err(format!("expected an event, got {event}").into());
        }
        let elapsed = written.elapsed();
        if index >= 100 {
            samples.push(elapsed);
            samples.operations += 1;
        }
    }
    samples.elapsed = started.elapsed();
    Ok(samples)
}
