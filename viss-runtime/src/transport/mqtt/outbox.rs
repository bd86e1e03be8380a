//! The bounded queue between the server and the broker connection: the engine never waits
//! for the broker. When it is full (the broker is gone or slower than the events), the
//! oldest message is dropped and counted, like a WebSocket's event queue.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::sync::Notify;

/// One message for the broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outgoing {
    pub topic: Arc<str>,
    pub payload: Vec<u8>,
}

/// A bounded drop-oldest queue with one waiting consumer.
#[derive(Debug)]
pub(crate) struct Outbox {
    queue: Mutex<VecDeque<Outgoing>>,
    capacity: usize,
    ready: Notify,
    dropped: AtomicU64,
    /// When a drop was last logged (drops are logged at most every [`LOG_EVERY`]).
    last_logged: Mutex<Option<Instant>>,
}

const LOG_EVERY: Duration = Duration::from_secs(10);

impl Outbox {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            queue: Mutex::new(VecDeque::new()),
            capacity: capacity.max(1),
            ready: Notify::new(),
            dropped: AtomicU64::new(0),
            last_logged: Mutex::new(None),
        }
    }

    /// Queues `message`; when full, drops the oldest (counted, logged at most every 10 s).
    pub(crate) fn push(&self, message: Outgoing) {
        let dropped = {
            let mut queue = self.queue.lock();
            let dropped = if queue.len() >= self.capacity {
                queue.pop_front()
            } else {
                None
            };
            queue.push_back(message);
            dropped
        };
        if let Some(dropped) = dropped {
            let total = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            self.log_drop(&dropped.topic, total);
        }
        self.ready.notify_one();
    }

    fn log_drop(&self, topic: &str, total: u64) {
        let mut last = self.last_logged.lock();
        if last.is_none_or(|at| at.elapsed() >= LOG_EVERY) {
            *last = Some(Instant::now());
            tracing::warn!(
                dropped_total = total,
                capacity = self.capacity,
                topic,
                "MQTT outgoing queue full (broker unreachable or slow): dropping the oldest \
                 messages"
            );
        }
    }

    /// The oldest message, waiting for one.
    pub(crate) async fn pop(&self) -> Outgoing {
        loop {
            if let Some(message) = self.queue.lock().pop_front() {
                return message;
            }
            self.ready.notified().await;
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.queue.lock().len()
    }

    /// Messages dropped since start.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(n: u8) -> Outgoing {
        Outgoing {
            topic: Arc::from("t"),
            payload: vec![n],
        }
    }

    #[tokio::test]
    async fn a_full_outbox_drops_the_oldest_and_counts() {
        let outbox = Outbox::new(3);
        for n in 0..5 {
            outbox.push(message(n));
        }
        assert_eq!((outbox.len(), outbox.dropped()), (3, 2));
        for n in 2..5 {
            assert_eq!(outbox.pop().await, message(n));
        }
    }

    #[tokio::test]
    async fn pop_waits_for_a_push() {
        let outbox = Arc::new(Outbox::new(2));
        let waiter = tokio::spawn({
            let outbox = Arc::clone(&outbox);
            async move { outbox.pop().await }
        });
        tokio::task::yield_now().await;
        outbox.push(message(7));
        let popped = tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("woken")
            .expect("joined");
        assert_eq!(popped, message(7));
    }
}
