//! Latency samples and their summary.

use std::time::Duration;

/// Round-trip (or delivery) times of one measurement, in nanoseconds.
#[derive(Debug, Default, Clone)]
pub struct Samples {
    nanos: Vec<u64>,
    pub elapsed: Duration,
    /// Operations completed (pipelined runs count responses, not samples).
    pub operations: u64,
}

impl Samples {
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            nanos: Vec::with_capacity(capacity),
            ..Self::default()
        }
    }

    pub fn push(&mut self, sample: Duration) {
        self.nanos
            .push(u64::try_from(sample.as_nanos()).unwrap_or(u64::MAX));
    }

    pub fn merge(&mut self, other: Samples) {
        self.nanos.extend(other.nanos);
        self.operations += other.operations;
        self.elapsed = self.elapsed.max(other.elapsed);
    }

    /// The `fraction` quantile (0.5 = median) in microseconds.
    pub fn quantile_us(&self, fraction: f64) -> f64 {
        let mut sorted = self.nanos.clone();
        sorted.sort_unstable();
        if sorted.is_empty() {
            return f64::NAN;
        }
        let rank = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
        sorted[rank.min(sorted.len() - 1)] as f64 / 1000.0
    }

    pub fn per_second(&self) -> f64 {
        self.operations as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// `p50 p90 p99 max (µs), req/s` on one line.
    pub fn line(&self) -> String {
        format!(
            "p50 {:>8.1} µs  p90 {:>8.1}  p99 {:>8.1}  max {:>9.1}  {:>9.0} req/s  (n={})",
            self.quantile_us(0.5),
            self.quantile_us(0.9),
            self.quantile_us(0.99),
            self.quantile_us(1.0),
            self.per_second(),
            self.operations
        )
    }
}

/// Resident set size of this process in KiB (Linux `/proc/self/status`), 0 if unknown.
pub fn rss_kib() -> u64 {
    rss_kib_from("/proc/self/status")
}

/// Resident set size of process `pid` in KiB, 0 if unknown.
pub fn rss_kib_of(pid: u32) -> u64 {
    rss_kib_from(&format!("/proc/{pid}/status"))
}

fn rss_kib_from(status: &str) -> u64 {
    std::fs::read_to_string(status)
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_pick_the_ranked_sample() {
        let mut samples = Samples::default();
        for micros in 1..=100 {
            samples.push(Duration::from_micros(micros));
        }
        assert_eq!(samples.quantile_us(0.5), 51.0);
        assert_eq!(samples.quantile_us(1.0), 100.0);
        assert_eq!(samples.quantile_us(0.99), 99.0);
    }
}
