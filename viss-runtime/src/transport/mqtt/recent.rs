//! The answers to recent `set`s, so a `set` delivered twice (QoS 1: a client that did not
//! see its acknowledgement before a broker restart publishes it again) is answered twice
//! but applied once.

use std::collections::VecDeque;
use std::hash::BuildHasher;
use std::time::{Duration, Instant};

/// How long a `set`'s answer is kept for a repeat: long enough for a QoS 1 client to
/// reconnect and publish again, short enough that a client restarted with its `requestId`
/// count reset is soon applied again (a client must not reuse a `requestId` anyway).
pub const RECENT_SET_TTL: Duration = Duration::from_secs(30);
/// How many answers are kept (the oldest goes first).
const CAPACITY: usize = 1024;

/// Where an answer goes: the reply topic and the encoding it is written in.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reply<'a> {
    pub topic: &'a str,
    pub encoding: &'a str,
}

#[derive(Debug)]
struct Answered {
    key: u64,
    at: Instant,
    answer: Vec<u8>,
}

/// Recent `set` answers keyed by reply topic (with the channel's encoding, which the
/// answer is in), `requestId` and the request's bytes (a client that reuses a `requestId`
/// for a different `set` is applied, not replayed).
#[derive(Debug)]
pub(crate) struct RecentSets {
    entries: VecDeque<Answered>,
    hasher: std::collections::hash_map::RandomState,
}

impl Default for RecentSets {
    fn default() -> Self {
        Self {
            entries: VecDeque::new(),
            hasher: std::collections::hash_map::RandomState::new(),
        }
    }
}

impl RecentSets {
    fn key(&self, reply: Reply<'_>, request_id: &str, request: &[u8]) -> u64 {
        self.hasher
            .hash_one((reply.encoding, reply.topic, request_id, request))
    }

    /// The answer given to this very `set`, if it came within the TTL.
    pub(crate) fn answered(
        &mut self,
        reply: Reply<'_>,
        request_id: &str,
        request: &[u8],
    ) -> Option<Vec<u8>> {
        self.expire(Instant::now());
        let key = self.key(reply, request_id, request);
        self.entries
            .iter()
            .rev()
            .find(|entry| entry.key == key)
            .map(|entry| entry.answer.clone())
    }

    /// Keeps `answer` for a repeat of this `set`.
    pub(crate) fn remember(
        &mut self,
        reply: Reply<'_>,
        request_id: &str,
        request: &[u8],
        answer: &[u8],
    ) {
        let now = Instant::now();
        self.expire(now);
        if self.entries.len() >= CAPACITY {
            self.entries.pop_front();
        }
        let key = self.key(reply, request_id, request);
        self.entries.push_back(Answered {
            key,
            at: now,
            answer: answer.to_vec(),
        });
    }

    fn expire(&mut self, now: Instant) {
        while self
            .entries
            .front()
            .is_some_and(|entry| now.duration_since(entry.at) > RECENT_SET_TTL)
        {
            self.entries.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSON_T: Reply<'static> = Reply {
        topic: "t",
        encoding: "json",
    };

    #[test]
    fn a_repeated_set_finds_its_answer_and_a_different_one_does_not() {
        let mut recent = RecentSets::default();
        let set = br#"{"action":"set","path":"A","value":"1","requestId":"7"}"#;
        assert_eq!(recent.answered(JSON_T, "7", set), None);
        recent.remember(JSON_T, "7", set, b"answer");
        assert_eq!(
            recent.answered(JSON_T, "7", set).as_deref(),
            Some(&b"answer"[..])
        );
        let other_topic = Reply {
            topic: "other",
            ..JSON_T
        };
        assert_eq!(recent.answered(other_topic, "7", set), None);
        let other_encoding = Reply {
            encoding: "protobuf",
            ..JSON_T
        };
        assert_eq!(recent.answered(other_encoding, "7", set), None);
        let changed = br#"{"action":"set","path":"A","value":"2","requestId":"7"}"#;
        assert_eq!(recent.answered(JSON_T, "7", changed), None);
    }

    #[test]
    fn the_cache_is_bounded() {
        let mut recent = RecentSets::default();
        for n in 0..(CAPACITY + 10) {
            recent.remember(JSON_T, &n.to_string(), b"x", b"a");
        }
        assert_eq!(recent.entries.len(), CAPACITY);
        assert_eq!(recent.answered(JSON_T, "0", b"x"), None);
        assert!(recent.answered(JSON_T, "20", b"x").is_some());
    }
}
