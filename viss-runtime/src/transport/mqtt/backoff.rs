//! Capped exponential reconnect backoff with jitter.

use std::time::Duration;

/// The wait before each reconnect attempt: `min`, doubled per failed attempt up to `max`,
/// each drawn at random from the upper half of its step, so a fleet of vehicles that lost
/// one broker does not come back in step.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    min: Duration,
    max: Duration,
    step: Duration,
}

impl Backoff {
    pub(crate) fn new(min: Duration, max: Duration) -> Self {
        let min = min.max(Duration::from_millis(1));
        let max = max.max(min);
        Self {
            min,
            max,
            step: min,
        }
    }

    /// The next wait; each call doubles the step (up to the cap).
    pub(crate) fn next_wait(&mut self) -> Duration {
        let step = self.step;
        self.step = (self.step * 2).min(self.max);
        let half = step / 2;
        let jitter_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
        half + Duration::from_millis(fastrand::u64(0..=jitter_ms))
    }

    /// Connected again: the next loss starts from `min`.
    pub(crate) fn reset(&mut self) {
        self.step = self.min;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_cap_within_their_upper_half_and_reset() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(1000));
        let mut steps = Vec::new();
        for _ in 0..8 {
            steps.push(backoff.next_wait());
        }
        let expected = [100, 200, 400, 800, 1000, 1000, 1000, 1000];
        for (wait, step) in steps.iter().zip(expected) {
            let step = Duration::from_millis(step);
            assert!(
                *wait >= step / 2 && *wait <= step,
                "{wait:?} for step {step:?}"
            );
        }
        backoff.reset();
        assert!(backoff.next_wait() <= Duration::from_millis(100));
    }

    #[test]
    fn draws_differ_between_vehicles() {
        let draws: std::collections::HashSet<_> = (0..50)
            .map(|_| Backoff::new(Duration::from_secs(10), Duration::from_secs(10)).next_wait())
            .collect();
        assert!(draws.len() > 1, "no jitter: {draws:?}");
    }
}
