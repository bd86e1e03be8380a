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

/// The queue, and whether the publisher holds a message it took from it (still to be handed
/// to the client library).
#[derive(Debug, Default)]
struct Queue {
    messages: VecDeque<Outgoing>,
    /// Payload bytes of `messages`.
    bytes: usize,
    holding: bool,
}

/// A drop-oldest queue bounded in messages and in bytes, with one waiting consumer.
#[derive(Debug)]
pub(crate) struct Outbox {
    queue: Mutex<Queue>,
    capacity: usize,
    max_bytes: usize,
    ready: Notify,
    dropped: AtomicU64,
    /// When a drop was last logged (drops are logged at most every [`LOG_EVERY`]).
    last_logged: Mutex<Option<Instant>>,
}

const LOG_EVERY: Duration = Duration::from_secs(10);

impl Outbox {
    pub(crate) fn new(capacity: usize, max_bytes: usize) -> Self {
        Self {
            queue: Mutex::new(Queue::default()),
            capacity: capacity.max(1),
            max_bytes: max_bytes.max(1),
            ready: Notify::new(),
            dropped: AtomicU64::new(0),
            last_logged: Mutex::new(None),
        }
    }

    /// Queues `message`; when full, drops the oldest (counted, logged at most every 10 s).
    pub(crate) fn push(&self, message: Outgoing) {
        self.push_or_send(message, Err);
    }

    /// Hands `message` to `send` at once when nothing is queued or held before it (no task
    /// hop to the publisher: the common case), else queues it behind the others, in order.
    /// `send` must not block; it gives the message back when it cannot take it.
    pub(crate) fn push_or_send(
        &self,
        message: Outgoing,
        send: impl FnOnce(Outgoing) -> Result<(), Outgoing>,
    ) {
        let dropped = {
            let mut queue = self.queue.lock();
            let message = if queue.messages.is_empty() && !queue.holding {
                match send(message) {
                    Ok(()) => return,
                    Err(message) => message,
                }
            } else {
                message
            };
            let mut dropped = 0u64;
            let mut last_topic = None;
            while !queue.messages.is_empty()
                && (queue.messages.len() >= self.capacity
                    || queue.bytes + message.payload.len() > self.max_bytes)
            {
                if let Some(old) = queue.messages.pop_front() {
                    queue.bytes -= old.payload.len();
                    dropped += 1;
                    last_topic = Some(old.topic);
                }
            }
            queue.bytes += message.payload.len();
            queue.messages.push_back(message);
            last_topic.map(|topic| (dropped, topic))
        };
        if let Some((dropped, topic)) = dropped {
            let total = self.dropped.fetch_add(dropped, Ordering::Relaxed) + dropped;
            self.log_drop(&topic, total);
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
                max_bytes = self.max_bytes,
                topic,
                "MQTT outgoing queue full (broker unreachable or slow): dropping the oldest \
                 messages"
            );
        }
    }

    /// The oldest message, waiting for one; the caller holds it (nothing jumps ahead of it)
    /// until [`Outbox::done`].
    pub(crate) async fn pop(&self) -> Outgoing {
        loop {
            {
                let mut queue = self.queue.lock();
                if let Some(message) = queue.messages.pop_front() {
                    queue.bytes -= message.payload.len();
                    queue.holding = true;
                    return message;
                }
            }
            self.ready.notified().await;
        }
    }

    /// The message taken by [`Outbox::pop`] is with the client library.
    pub(crate) fn done(&self) {
        self.queue.lock().holding = false;
    }

    pub(crate) fn len(&self) -> usize {
        self.queue.lock().messages.len()
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
        let outbox = Outbox::new(3, 1 << 20);
        for n in 0..5 {
            outbox.push(message(n));
        }
        assert_eq!((outbox.len(), outbox.dropped()), (3, 2));
        for n in 2..5 {
            assert_eq!(outbox.pop().await, message(n));
            outbox.done();
        }
    }

    #[tokio::test]
    async fn the_byte_bound_drops_the_oldest_too() {
        let outbox = Outbox::new(100, 10);
        let big = |n: u8| Outgoing {
            topic: Arc::from("t"),
            payload: vec![n; 4],
        };
        for n in 0..4 {
            outbox.push(big(n));
        }
        // 4 bytes each, 10 at most: two fit.
        assert_eq!((outbox.len(), outbox.dropped()), (2, 2));
        assert_eq!(outbox.pop().await, big(2));
        outbox.done();
        // One message larger than the bound still goes (alone).
        outbox.push(Outgoing {
            topic: Arc::from("t"),
            payload: vec![9; 20],
        });
        assert_eq!((outbox.len(), outbox.dropped()), (1, 3));
    }

    #[tokio::test]
    async fn sends_directly_only_when_nothing_is_ahead() {
        let outbox = Outbox::new(3, 1 << 20);
        let mut sent = Vec::new();
        outbox.push_or_send(message(1), |m| {
            sent.push(m);
            Ok(())
        });
        assert_eq!((sent.len(), outbox.len()), (1, 0));
        // The library is full: queued.
        outbox.push_or_send(message(2), Err);
        // Something is queued: the next one waits behind it, not handed over.
        outbox.push_or_send(message(3), |_| panic!("overtook a queued message"));
        assert_eq!(outbox.pop().await, message(2));
        // Popped but not yet with the library: still held, still no overtaking.
        outbox.push_or_send(message(4), |_| panic!("overtook a held message"));
        outbox.done();
        assert_eq!(outbox.pop().await, message(3));
        outbox.done();
        assert_eq!(outbox.pop().await, message(4));
        outbox.done();
        outbox.push_or_send(message(5), |m| {
            sent.push(m);
            Ok(())
        });
        assert_eq!(sent, [message(1), message(5)]);
    }

    #[tokio::test]
    async fn pop_waits_for_a_push() {
        let outbox = Arc::new(Outbox::new(2, 1 << 20));
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
