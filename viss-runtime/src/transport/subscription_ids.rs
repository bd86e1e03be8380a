//! Subscription ids for transports where one client's request can name any subscription
//! of the server (gRPC's unary unsubscribe, MQTT's unsubscribe from any topic): a keyed
//! hash of a count, so a client cannot end another client's subscription by counting.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher as _;

/// The largest id: 2^53 - 1, exact in every JSON number reader.
const MAX_ID: u64 = (1 << 53) - 1;

#[derive(Debug, Default)]
pub(crate) struct SubscriptionIds {
    /// Random per server start.
    keys: RandomState,
    count: u64,
}

impl SubscriptionIds {
    /// A fresh id: never 0 and never one `in_use` says is taken.
    pub(crate) fn next(&mut self, in_use: impl Fn(u64) -> bool) -> u64 {
        loop {
            self.count += 1;
            let id = self.keys.hash_one(self.count) & MAX_ID;
            if id != 0 && !in_use(id) {
                return id;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_neither_a_count_nor_repeated() {
        let mut ids = SubscriptionIds::default();
        let drawn: Vec<u64> = (0..1000).map(|_| ids.next(|_| false)).collect();
        assert!(drawn.iter().all(|id| *id != 0 && *id <= MAX_ID));
        let distinct: std::collections::HashSet<_> = drawn.iter().collect();
        assert_eq!(distinct.len(), drawn.len());
        assert!(
            drawn
                .windows(2)
                .filter(|pair| pair[1] == pair[0] + 1)
                .count()
                < 5
        );
        let first = SubscriptionIds::default().next(|_| false);
        let taken = SubscriptionIds::default().next(|id| id == first);
        assert_ne!(first, taken, "a taken id is skipped (or the keys differ)");
    }
}
