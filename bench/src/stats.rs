//! Raw samples of a load run and their summary (percentiles, rates).

use serde_json::{Value, json};
use std::time::Duration;
use tokio::time::Instant;

/// How many error messages a report keeps (the count is always exact).
const ERROR_SAMPLES: usize = 5;

/// Everything one load run recorded. Reports of several runs against the same target can be
/// merged, so a comparison can alternate between targets and still report one set of numbers.
#[derive(Debug, Default, Clone)]
pub struct Report {
    /// Wall time the run was sending requests (summed over merged runs).
    pub elapsed: Duration,
    /// Latency of every successful request, from sending to the end of the body, in µs.
    pub latency_us: Vec<u64>,
    /// When each successful request ended (parallel to `latency_us`).
    pub done_at: Vec<Instant>,
    /// `x-sluice-overhead-us` of every response that carried it.
    pub overhead_us: Vec<u64>,
    /// Streams: time from sending to the first body bytes, in µs.
    pub ttfb_us: Vec<u64>,
    /// Streams: time between consecutive content events of one stream, in µs.
    pub gaps_us: Vec<u64>,
    /// Streams: when each gap ended (parallel to `gaps_us`).
    pub gaps_at: Vec<Instant>,
    /// Streams: when the last stream to start got its first bytes.
    pub last_first_byte: Option<Instant>,
    /// Requests that failed (transport error, timeout, non-2xx status, broken stream).
    pub errors: u64,
    /// The first few error messages.
    pub error_samples: Vec<String>,
    /// Streams that ended with `data: [DONE]` and no error event.
    pub streams_completed: u64,
    /// Content events (non-empty `choices`) over all streams.
    pub content_events: u64,
    /// The most requests in flight at once.
    pub peak_inflight: u64,
}

impl Report {
    /// Records one failure.
    pub fn error(&mut self, msg: impl Into<String>) {
        self.errors += 1;
        if self.error_samples.len() < ERROR_SAMPLES {
            self.error_samples.push(msg.into());
        }
    }

    /// Adds `other`'s samples to this report.
    pub fn merge(&mut self, other: Report) {
        self.elapsed += other.elapsed;
        self.latency_us.extend(other.latency_us);
        self.done_at.extend(other.done_at);
        self.overhead_us.extend(other.overhead_us);
        self.ttfb_us.extend(other.ttfb_us);
        self.gaps_us.extend(other.gaps_us);
        self.gaps_at.extend(other.gaps_at);
        self.last_first_byte = self.last_first_byte.max(other.last_first_byte);
        self.errors += other.errors;
        for e in other.error_samples {
            if self.error_samples.len() < ERROR_SAMPLES {
                self.error_samples.push(e);
            }
        }
        self.streams_completed += other.streams_completed;
        self.content_events += other.content_events;
        self.peak_inflight = self.peak_inflight.max(other.peak_inflight);
    }

    /// The gaps that ended after every stream had started: steady forwarding, without the
    /// burst of stream starts.
    pub fn steady_gaps_us(&self) -> Vec<u64> {
        let Some(start) = self.last_first_byte else {
            return Vec::new();
        };
        self.gaps_us
            .iter()
            .zip(&self.gaps_at)
            .filter(|(_, at)| **at > start)
            .map(|(g, _)| *g)
            .collect()
    }

    /// Successful requests.
    pub fn count(&self) -> u64 {
        self.latency_us.len() as u64
    }

    /// Successful requests per second.
    pub fn rps(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 {
            self.count() as f64 / s
        } else {
            0.0
        }
    }

    /// The JSON summary `sluice-bench load` prints.
    pub fn summary(&self) -> Value {
        let mut v = json!({
            "count": self.count(),
            "errors": self.errors,
            "elapsed_s": round3(self.elapsed.as_secs_f64()),
            "rps": round3(self.rps()),
            "latency_us": dist(&self.latency_us),
            "peak_inflight": self.peak_inflight,
        });
        if !self.overhead_us.is_empty() {
            v["sluice_overhead_us"] = dist(&self.overhead_us);
        }
        if !self.ttfb_us.is_empty() || self.streams_completed > 0 {
            v["stream"] = json!({
                "completed": self.streams_completed,
                "content_events": self.content_events,
                "ttfb_us": dist(&self.ttfb_us),
                "gap_us": dist(&self.gaps_us),
                "steady_gap_us": dist(&self.steady_gaps_us()),
            });
        }
        if !self.error_samples.is_empty() {
            v["error_samples"] = json!(self.error_samples);
        }
        v
    }
}

/// p50/p90/p99/max of `samples` as JSON (all zero when there are none).
fn dist(samples: &[u64]) -> Value {
    let s = Sorted::new(samples);
    json!({"p50": s.pct(50.0), "p90": s.pct(90.0), "p99": s.pct(99.0), "max": s.max(), "n": samples.len()})
}

/// Rounds to 3 decimals, for readable JSON.
fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// A sorted copy of samples, for percentiles.
pub struct Sorted(Vec<u64>);

impl Sorted {
    /// Sorts a copy of `samples`.
    pub fn new(samples: &[u64]) -> Sorted {
        let mut v = samples.to_vec();
        v.sort_unstable();
        Sorted(v)
    }

    /// The nearest-rank percentile `p` (0 when empty).
    pub fn pct(&self, p: f64) -> u64 {
        if self.0.is_empty() {
            return 0;
        }
        let rank = ((p / 100.0) * self.0.len() as f64).ceil() as usize;
        self.0[rank.clamp(1, self.0.len()) - 1]
    }

    /// The largest sample (0 when empty).
    pub fn max(&self) -> u64 {
        self.0.last().copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let s = Sorted::new(&(1..=100).rev().collect::<Vec<u64>>());
        assert_eq!(s.pct(50.0), 50);
        assert_eq!(s.pct(99.0), 99);
        assert_eq!(s.pct(100.0), 100);
        assert_eq!(s.max(), 100);
        assert_eq!(Sorted::new(&[]).pct(50.0), 0);
    }

    #[test]
    fn steady_gaps_start_after_the_last_first_byte() {
        let t = Instant::now();
        let r = Report {
            gaps_us: vec![1, 2, 3],
            gaps_at: vec![
                t,
                t + Duration::from_millis(2),
                t + Duration::from_millis(3),
            ],
            last_first_byte: Some(t + Duration::from_millis(1)),
            ..Report::default()
        };
        assert_eq!(r.steady_gaps_us(), vec![2, 3]);
        assert!(Report::default().steady_gaps_us().is_empty());
    }

    #[test]
    fn merge_keeps_counts() {
        let mut a = Report {
            latency_us: vec![1, 2],
            elapsed: Duration::from_secs(1),
            ..Report::default()
        };
        let mut b = Report {
            latency_us: vec![3],
            elapsed: Duration::from_secs(1),
            ..Report::default()
        };
        b.error("x");
        a.merge(b);
        assert_eq!(a.count(), 3);
        assert_eq!(a.errors, 1);
        assert!((a.rps() - 1.5).abs() < 1e-9);
    }
}
