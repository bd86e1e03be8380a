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

    /// Every sample in microseconds, ascending (for distribution plots).
    pub fn sorted_micros(&self) -> Vec<f64> {
        let mut sorted = self.nanos.clone();
        sorted.sort_unstable();
        sorted
            .into_iter()
            .map(|nanos| nanos as f64 / 1000.0)
            .collect()
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

/// The anonymous part of process `pid`'s resident set in KiB (`RssAnon`: heap, stacks,
/// relocated data; what it holds that neither another process shares nor the kernel can
/// drop and read back from a file), 0 if unknown.
pub fn private_kib_of(pid: u32) -> u64 {
    status_kib(&format!("/proc/{pid}/status"), "RssAnon:")
}

/// CPU time process `pid` has run so far (user and system, every live thread), in
/// nanoseconds: the sum of `/proc/PID/task/*/schedstat`, which counts in nanoseconds where
/// `/proc/PID/stat` counts in 10 ms ticks (too coarse for a run of a few hundred ms).
pub fn cpu_ns_of(pid: u32) -> Option<u64> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut total = 0u64;
    for task in tasks.flatten() {
        let Ok(schedstat) = std::fs::read_to_string(task.path().join("schedstat")) else {
            continue; // the thread ended meanwhile
        };
        let on_cpu: u64 = schedstat.split_whitespace().next()?.parse().ok()?;
        total = total.saturating_add(on_cpu);
    }
    Some(total)
}

fn rss_kib_from(status: &str) -> u64 {
    status_kib(status, "VmRSS:")
}

/// The KiB figure of `field` in a `/proc/PID/status` file, 0 if unknown.
fn status_kib(status: &str, field: &str) -> u64 {
    std::fs::read_to_string(status)
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(field))
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

    /// This thread's CPU time in clock ticks (user and system, `/proc/thread-self/stat`):
    /// a reference independent of the schedstat files `cpu_ns_of` reads.
    fn thread_cpu_ticks() -> u64 {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").expect("the thread's stat");
        // the fields after the command's name, which is in parentheses, from field 3 on;
        // utime and stime are fields 14 and 15
        let (_, fields) = stat.rsplit_once(')').expect("a stat line");
        let fields: Vec<&str> = fields.split_whitespace().collect();
        let tick = |field: usize| -> u64 { fields[field - 3].parse().expect("a tick count") };
        tick(14) + tick(15)
    }

    #[test]
    fn this_process_has_spent_cpu_time() {
        let pid = std::process::id();
        let before = cpu_ns_of(pid).expect("schedstat is readable on Linux");
        // at least 20 ms of this thread's own CPU time (three ticks of 10 ms), however long a
        // loaded machine takes to give it (10 s at most)
        let spun_from = thread_cpu_ticks();
        let started = std::time::Instant::now();
        let mut spin = 0u64;
        while thread_cpu_ticks() < spun_from + 3 {
            for _ in 0..10_000 {
                spin = std::hint::black_box(spin.wrapping_add(1));
            }
            assert!(started.elapsed() < Duration::from_secs(10), "no CPU time");
        }
        let after = cpu_ns_of(pid).expect("schedstat is readable on Linux");
        // other test threads that end meanwhile leave the sum; they run for far less
        assert!(
            after >= before + 10_000_000,
            "{before} -> {after} after 20 ms or more of this thread's CPU time"
        );
    }
}
