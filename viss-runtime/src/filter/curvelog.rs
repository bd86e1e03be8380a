//! `curvelog`: curve logging, i.e. Ramer–Douglas–Peucker point elimination (CORE §7.6).
//!
//! The spec leaves the algorithm to the implementation (§18-Q7); this follows the reference
//! server as described in viss-core.md §5.6:
//! * samples of each signal (or N-dimensional group, configured in
//!   [`crate::EngineConfig::curvelog_groups`]) are buffered; a group sample is taken when
//!   all members carry the same new capture time;
//! * when the buffer holds `bufsize` samples it is simplified with RDP using the
//!   **vertical** error `|v_i − line(t_i)|` (Euclidean norm over the dimensions of a group)
//!   against the straight line between the segment's end points, and the kept samples are
//!   sent in one event (a `dp` array per signal);
//! * the first and last sample of every buffer are always kept; the last one is carried
//!   over as the first sample of the next buffer (and not sent again), so windows join up;
//! * the value current at subscribe time is sent at once (the curve's first point) and, at
//!   unsubscribe, the samples still buffered are simplified and sent (the last point).

use std::borrow::Cow;

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::VissError;
use crate::tree::NodeId;
use crate::value::Value;

/// A parsed curvelog filter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CurvelogFilter {
    pub max_error: f64,
    pub buffer_size: usize,
}

#[derive(Deserialize)]
struct RawCurvelog<'a> {
    #[serde(borrow)]
    maxerr: Option<Cow<'a, str>>,
    #[serde(borrow)]
    bufsize: Option<Cow<'a, str>>,
}

impl CurvelogFilter {
    /// Parses `{"maxerr":"X","bufsize":"Y"}`: X a float ≥ 0, Y an integer ≥ 2.
    pub fn parse(raw: &RawValue) -> Result<Self, VissError> {
        let curvelog: RawCurvelog<'_> =
            serde_json::from_str(raw.get()).map_err(|_| VissError::InvalidFilter)?;
        let (Some(maxerr), Some(bufsize)) = (curvelog.maxerr, curvelog.bufsize) else {
            return Err(VissError::InvalidFilter);
        };
        let max_error: f64 = match maxerr.parse() {
            Ok(value) if crate::value::is_json_number(&maxerr) && value >= 0.0 => value,
            _ => return Err(VissError::InvalidFilter),
        };
        let buffer_size: usize = match bufsize.parse() {
            Ok(value) if value >= 2 && bufsize.bytes().all(|byte| byte.is_ascii_digit()) => value,
            _ => return Err(VissError::InvalidFilter),
        };
        Ok(Self {
            max_error,
            buffer_size,
        })
    }
}

/// Marks in `keep` the samples RDP keeps: `times[i]` in seconds, `values` row-major with
/// `dimensions` values per sample. First and last are always kept.
pub fn simplify(
    times: &[f64],
    values: &[f64],
    dimensions: usize,
    max_error: f64,
    keep: &mut Vec<bool>,
) {
    keep.clear();
    keep.resize(times.len(), false);
    let Some(last) = times.len().checked_sub(1) else {
        return;
    };
    keep[0] = true;
    keep[last] = true;
    let limit = max_error * max_error;
    let mut segments = vec![(0, last)];
    while let Some((start, end)) = segments.pop() {
        if end <= start + 1 {
            continue;
        }
        let mut worst = (start, 0.0);
        for index in start + 1..end {
            let error = squared_vertical_error(times, values, dimensions, (start, end), index);
            if error > worst.1 {
                worst = (index, error);
            }
        }
        if worst.1 > limit {
            keep[worst.0] = true;
            segments.push((start, worst.0));
            segments.push((worst.0, end));
        }
    }
}

fn squared_vertical_error(
    times: &[f64],
    values: &[f64],
    dimensions: usize,
    (start, end): (usize, usize),
    index: usize,
) -> f64 {
    let span = times[end] - times[start];
    let fraction = if span == 0.0 {
        0.0
    } else {
        (times[index] - times[start]) / span
    };
    (0..dimensions)
        .map(|dimension| {
            let at = |sample: usize| values[sample * dimensions + dimension];
            let line = at(start) + (at(end) - at(start)) * fraction;
            (at(index) - line).powi(2)
        })
        .sum()
}

/// The buffer of one signal or one dimension group of a curvelog subscription.
#[derive(Debug, Clone)]
pub struct CurveBuffer {
    /// The member signals (one for a plain signal).
    pub members: Vec<NodeId>,
    times: Vec<Timestamp>,
    /// Row-major: `members.len()` values per sample.
    values: Vec<Value>,
    /// True when sample 0 was already sent (carried over or the subscribe-time point).
    first_sent: bool,
}

/// Samples of one buffer chosen for sending: timestamps and row-major values.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Selected {
    pub times: Vec<Timestamp>,
    pub values: Vec<Value>,
}

impl CurveBuffer {
    /// An empty buffer for `members`.
    pub fn new(members: Vec<NodeId>, capacity: usize) -> Self {
        let width = members.len();
        Self {
            members,
            times: Vec::with_capacity(capacity),
            values: Vec::with_capacity(capacity * width),
            first_sent: false,
        }
    }

    /// Capture time of the newest buffered sample.
    pub fn last_time(&self) -> Option<Timestamp> {
        self.times.last().copied()
    }

    /// Number of buffered samples.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// True when nothing is buffered.
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// Appends one sample (one value per member) and marks whether it was already sent.
    pub fn push(
        &mut self,
        ts: Timestamp,
        row: impl IntoIterator<Item = Value>,
        already_sent: bool,
    ) {
        if self.times.is_empty() {
            self.first_sent = already_sent;
        }
        self.times.push(ts);
        self.values.extend(row);
    }

    /// Simplifies the buffer, returns the samples to send (leaving out an already-sent
    /// first sample) and keeps the last sample as the start of the next buffer.
    pub fn drain(&mut self, max_error: f64) -> Selected {
        let width = self.members.len().max(1);
        let Some(origin) = self.times.first().copied() else {
            return Selected::default();
        };
        let seconds: Vec<f64> = self
            .times
            .iter()
            .map(|ts| ts.duration_since(origin).as_secs_f64())
            .collect();
        let numbers: Vec<f64> = self
            .values
            .iter()
            .map(|value| value.as_f64().unwrap_or(0.0))
            .collect();
        let mut keep = Vec::new();
        simplify(&seconds, &numbers, width, max_error, &mut keep);
        let mut selected = Selected::default();
        for (index, kept) in keep.iter().enumerate() {
            if !kept || (index == 0 && self.first_sent) {
                continue;
            }
            selected.times.push(self.times[index]);
            selected
                .values
                .extend_from_slice(&self.values[index * width..(index + 1) * width]);
        }
        let last = self.times.len() - 1;
        self.times.drain(..last);
        self.values.drain(..last * width);
        self.first_sent = true;
        selected
    }
}
