//! The scenarios of `sluice-bench run` (1 and 2 here, 3 and 4 in `streams.rs`, 5 in `batch.rs`,
//! 6 in `mcp_bench.rs`, 7 in `telemetry_bench.rs`, 8 in `guard_bench.rs`, 9 in `front_bench.rs`),
//! each measuring Sluice side by side with a baseline in the same run, and adding rows to the
//! results table.

use crate::load::{self, LoadConfig};
use crate::procs;
use crate::report::{Row, signed_us, us};
use crate::stats::{Report, Sorted};
use bytes::Bytes;
use http::{HeaderName, HeaderValue};
use serde_json::json;
use std::time::Duration;

/// The services under test and what the scenarios found.
pub struct Bench {
    /// Scaled-down run: only checks that everything works.
    pub smoke: bool,
    /// Base URLs (`http://127.0.0.1:PORT`) of the mock, the forwarder and the gateway.
    pub mock: String,
    /// The forwarder's base URL.
    pub fwd: String,
    /// The gateway's base URL.
    pub gw: String,
    /// The mock's process id (for its CPU time).
    pub mock_pid: u32,
    /// The forwarder's process id.
    pub fwd_pid: u32,
    /// The gateway's process id.
    pub gw_pid: u32,
    /// The results table.
    pub rows: Vec<Row>,
    /// Errors and incomplete streams (any makes the run fail).
    pub problems: Vec<String>,
}

/// The headers of every request: an OpenAI SDK's, 10 with `content-type`.
pub(crate) const HEADERS: [(&str, &str); 9] = [
    ("authorization", "Bearer sk-bench"),
    ("accept", "application/json"),
    ("user-agent", "OpenAI/Python 1.54.0"),
    ("x-stainless-lang", "python"),
    ("x-stainless-package-version", "1.54.0"),
    ("x-stainless-os", "Linux"),
    ("x-stainless-arch", "x64"),
    ("x-stainless-runtime", "CPython"),
    ("x-stainless-runtime-version", "3.12.3"),
];

/// A chat request of about 2 KB, with `extra` fields merged in.
pub(crate) fn chat_body(extra: serde_json::Value) -> anyhow::Result<Bytes> {
    Ok(Bytes::from(serde_json::to_vec(&chat_value(extra))?))
}

/// The request of [`chat_body`] as a JSON value.
pub(crate) fn chat_value(extra: serde_json::Value) -> serde_json::Value {
    let filler = "The quick brown fox jumps over the lazy dog. ".repeat(21);
    let mut v = json!({
        "model": "bench-model",
        "max_tokens": 16,
        "messages": [
            {"role": "system", "content": format!("You are a benchmark. {filler}")},
            {"role": "user", "content": format!("Answer briefly. {filler}")},
        ],
    });
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    v
}

impl Bench {
    /// A load against `base`'s chat endpoint.
    pub(crate) fn cfg(
        &self,
        base: &str,
        body: &Bytes,
        concurrency: usize,
        requests: Option<u64>,
        secs: u64,
    ) -> anyhow::Result<LoadConfig> {
        let mut headers = Vec::new();
        for (k, v) in HEADERS {
            headers.push((HeaderName::from_static(k), HeaderValue::from_static(v)));
        }
        Ok(LoadConfig {
            url: format!("{base}/v1/chat/completions").parse()?,
            concurrency,
            duration: Duration::from_secs(secs),
            requests,
            body: body.clone(),
            headers,
            stream: false,
            stream_end: Default::default(),
            request_timeout: Duration::from_secs(60),
            connect_concurrency: 64,
            stop: None,
        })
    }

    /// Runs a load, prints a progress line, and notes its errors as problems.
    pub(crate) async fn load(&mut self, label: &str, cfg: &LoadConfig) -> anyhow::Result<Report> {
        let rep = load::run(cfg).await?;
        self.note(label, &rep);
        Ok(rep)
    }

    /// Prints a load's progress line and notes its errors as problems.
    pub(crate) fn note(&mut self, label: &str, rep: &Report) {
        let lat = Sorted::new(&rep.latency_us);
        eprintln!(
            "  {label}: {} ok, {} errors, {:.0} req/s, p50 {} µs, p99 {} µs",
            rep.count(),
            rep.errors,
            rep.rps(),
            lat.pct(50.0),
            lat.pct(99.0)
        );
        if rep.errors > 0 {
            self.problems.push(format!(
                "{label}: {} errors, e.g. {:?}",
                rep.errors, rep.error_samples
            ));
        }
    }

    /// 1. Added latency at concurrency 1: direct to the mock, through Sluice, through the forwarder,
    ///    in alternating rounds after a warmup.
    pub async fn latency(&mut self) -> anyhow::Result<()> {
        let (n, warm, rounds) = if self.smoke {
            (300, 50, 1)
        } else {
            (5000, 500, 10)
        };
        eprintln!("scenario 1: added latency, concurrency 1, {n} requests each");
        let body = chat_body(json!({}))?;
        let targets = [
            ("mock", self.mock.clone()),
            ("sluice", self.gw.clone()),
            ("forwarder", self.fwd.clone()),
        ];
        // rounds[r][t]: round r's report of target t (mock, sluice, forwarder).
        let mut rounds_reps: Vec<Vec<Report>> = Vec::new();
        for (name, base) in &targets {
            let cfg = self.cfg(base, &body, 1, Some(warm), 120)?;
            self.load(&format!("warmup {name}"), &cfg).await?;
        }
        for round in 0..rounds {
            let mut row = Vec::new();
            for (name, base) in &targets {
                let cfg = self.cfg(base, &body, 1, Some(n / rounds), 300)?;
                row.push(
                    self.load(&format!("round {} {name}", round + 1), &cfg)
                        .await?,
                );
            }
            rounds_reps.push(row);
        }
        // Percentile `p` of target `t` in each round; a noisy neighbour on the shared machine
        // spoils a round for every target, so rows report medians over rounds of paired values.
        let pct = |t: usize, p: f64| -> Vec<i64> {
            rounds_reps
                .iter()
                .map(|r| Sorted::new(&r[t].latency_us).pct(p) as i64)
                .collect()
        };
        let added = |t: usize, p: f64| -> i64 {
            median(
                pct(t, p)
                    .iter()
                    .zip(pct(0, p))
                    .map(|(a, b)| a - b)
                    .collect(),
            )
        };
        let of = if rounds > 1 {
            format!(" (median of {rounds} rounds)")
        } else {
            String::new()
        };
        let s = "1 latency, c=1";
        let v = |x: i64| us(x.max(0) as u64);
        for (p, limit) in [(50.0, 50), (99.0, 100)] {
            let d = added(1, p);
            self.rows.push(
                Row::info(
                    s,
                    &format!("p{p} latency, JSON chat (2 KB, 10 headers), Sluice vs direct{of}"),
                    v(median(pct(1, p))),
                    v(median(pct(0, p))),
                    signed_us(d),
                )
                .target(&format!("added <= {limit} µs"), d <= limit),
            );
        }
        let headers: Vec<u64> = rounds_reps
            .iter()
            .flat_map(|r| r[1].overhead_us.iter().copied())
            .collect();
        let header = Sorted::new(&headers).pct(50.0);
        self.rows.push(Row::info(
            s,
            "median `x-sluice-overhead-us` (the gateway's own clock)",
            us(header),
            "—".into(),
            format!(
                "{} of the added p50 is outside it",
                signed_us(added(1, 50.0) - header as i64)
            ),
        ));
        for p in [50.0, 99.0] {
            self.rows.push(Row::info(
                s,
                &format!("p{p} through the bare forwarder vs direct (proxy floor)"),
                v(median(pct(2, p))),
                v(median(pct(0, p))),
                signed_us(added(2, p)),
            ));
        }
        Ok(())
    }

    /// 2. Requests per second at concurrency 64, upstream delay 0 and 20 ms: Sluice vs the bare
    ///    forwarder, alternating.
    pub async fn throughput(&mut self) -> anyhow::Result<()> {
        let (secs, rounds) = if self.smoke { (2, 1) } else { (5, 2) };
        eprintln!(
            "scenario 2: req/s at concurrency 64, {} s each",
            secs * rounds
        );
        for delay in [0u64, 20] {
            let body = chat_body(json!({"mock_delay_ms": delay}))?;
            // Report and CPU µs used by the proxy process (forwarder, gateway) during its loads.
            let mut fwd = (Report::default(), 0u64);
            let mut gw = (Report::default(), 0u64);
            for round in 0..rounds {
                for (name, base, pid, acc) in [
                    ("forwarder", self.fwd.clone(), self.fwd_pid, &mut fwd),
                    ("sluice", self.gw.clone(), self.gw_pid, &mut gw),
                ] {
                    let cfg = self.cfg(&base, &body, 64, None, secs)?;
                    let cpu0 = procs::cpu_us(pid)?;
                    let label = format!("delay {delay} ms round {} {name}", round + 1);
                    acc.0.merge(self.load(&label, &cfg).await?);
                    acc.1 += procs::cpu_us(pid)?.saturating_sub(cpu0);
                }
            }
            let ratio = if fwd.0.rps() > 0.0 {
                gw.0.rps() / fwd.0.rps()
            } else {
                0.0
            };
            let cell = |r: &Report| {
                let l = Sorted::new(&r.latency_us);
                let ms = |v: u64| v as f64 / 1e3;
                format!(
                    "{:.0} req/s (p50 {:.1} ms, p99 {:.1} ms)",
                    r.rps(),
                    ms(l.pct(50.0)),
                    ms(l.pct(99.0))
                )
            };
            let s = "2 throughput, c=64";
            self.rows.push(
                Row::info(
                    s,
                    &format!("req/s, upstream delay {delay} ms, Sluice vs bare forwarder"),
                    cell(&gw.0),
                    cell(&fwd.0),
                    format!("{ratio:.2}x"),
                )
                .target(">= 0.75x", ratio >= 0.75),
            );
            let per = |(r, cpu): &(Report, u64)| cpu / r.count().max(1);
            let (g, f) = (per(&gw), per(&fwd));
            self.rows.push(Row::info(
                s,
                &format!("CPU per request of the proxy process, delay {delay} ms"),
                us(g),
                us(f),
                format!("{:.1}x", g as f64 / f.max(1) as f64),
            ));
        }
        Ok(())
    }
}

/// The median of `v` (the upper one of an even count; 0 when empty).
pub(crate) fn median(mut v: Vec<i64>) -> i64 {
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_body_size() -> anyhow::Result<()> {
        assert_eq!(median(vec![5, 1, 3]), 3);
        assert_eq!(median(vec![]), 0);
        let body = chat_body(json!({"mock_delay_ms": 20}))?;
        assert!((1900..=2300).contains(&body.len()), "{}", body.len());
        Ok(())
    }
}
