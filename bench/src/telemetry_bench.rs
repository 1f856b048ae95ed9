//! Scenario 7 of `sluice-bench run`: what telemetry adds to a non-streamed chat completion at
//! c=1. Three gateways run side by side, with `bench/gateway.toml` and each its own `[telemetry]`
//! table: (a) `metrics = false`, (b) metrics on (the default), (c) metrics on and traces at 100%
//! sampling over OTLP/HTTP (protobuf) to the mock's sink (`POST /v1/traces`, `otlp.rs`). They are
//! measured in alternating rounds, with the mock directly for context; then (c) is stopped (its
//! shutdown exports the spans still buffered) and the sink's counts are read.

use crate::gateway::GatewaySpec;
use crate::otlp::SinkStats;
use crate::procs::{self, Proc};
use crate::report::{Row, signed_us, us};
use crate::run::log_warnings;
use crate::scenarios::{Bench, chat_body, median};
use crate::stats::{Report, Sorted};
use anyhow::{Context, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::json;
use std::time::Duration;

/// The three gateways: name, what it records, and its `[telemetry]` table (`@SINK@`: the sink).
const CONFIGS: [(&str, &str, &str); 3] = [
    ("a", "metrics off", "metrics = false\n"),
    ("b", "metrics on", "metrics = true\n"),
    (
        "c",
        "metrics + traces 100%",
        "metrics = true\notlp_endpoint = \"@SINK@\"\notlp_protocol = \"http/protobuf\"\n\
         trace_sample_ratio = 1.0\n",
    ),
];

/// The exporter's batch delay (the SDK's default, spelled out so the environment cannot change
/// it): spans are exported every 5 s, or as soon as 512 are queued.
const BSP_ENV: [(&str, &str); 1] = [("OTEL_BSP_SCHEDULE_DELAY", "5000")];

/// What the mock's OTLP sink has received so far (`GET /v1/traces`).
async fn sink_stats(sink: &str) -> anyhow::Result<SinkStats> {
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let body = tokio::time::timeout(Duration::from_secs(10), async {
        let resp = client.get(sink.parse()?).await?;
        if !resp.status().is_success() {
            bail!("GET {sink}: status {}", resp.status());
        }
        anyhow::Ok(resp.into_body().collect().await?.to_bytes())
    })
    .await
    .with_context(|| format!("GET {sink} timed out"))??;
    serde_json::from_slice(&body).with_context(|| format!("GET {sink}: unexpected answer"))
}

impl Bench {
    /// 7. Telemetry cost at concurrency 1: gateways (a), (b) and (c) of [`CONFIGS`], started from
    ///    `spec`, and the mock directly, in alternating rounds after a warmup.
    pub async fn telemetry(&mut self, spec: &GatewaySpec) -> anyhow::Result<()> {
        let (n, warm, rounds) = if self.smoke {
            (200, 50, 1)
        } else {
            (10_000, 1000, 10)
        };
        eprintln!("scenario 7: telemetry cost, concurrency 1, {n} requests each");
        let sink = format!("{}/v1/traces", self.mock);
        let before = sink_stats(&sink).await?;
        let mut gws: Vec<Proc> = Vec::new();
        // Name, base URL and process id of each target: the mock, then (a), (b), (c).
        let mut targets = vec![("direct".to_string(), self.mock.clone(), self.mock_pid)];
        for (name, _, table) in CONFIGS {
            let extra = format!("\n[telemetry]\n{}", table.replace("@SINK@", &sink));
            let v = spec.variant(&format!("telemetry-{name}"), &extra, &BSP_ENV)?;
            let (gw, _) = v.start().await?;
            eprintln!("gateway ({name}) {} (pid {})", gw.url, gw.pid());
            targets.push((format!("({name})"), gw.url.clone(), gw.pid()));
            gws.push(gw);
        }
        let body = chat_body(json!({}))?;
        for (name, base, _) in &targets {
            let cfg = self.cfg(base, &body, 1, Some(warm), 120)?;
            self.load(&format!("warmup {name}"), &cfg).await?;
        }
        // reps[r][t]: round r's report of target t; cpu[t]: CPU µs of its process over the rounds.
        let mut reps: Vec<Vec<Report>> = Vec::new();
        let mut cpu = vec![0u64; targets.len()];
        for round in 0..rounds {
            let mut row = vec![Report::default(); targets.len()];
            // Each round starts with another target, so none is always the first after a pause.
            for k in 0..targets.len() {
                let t = (k + round as usize) % targets.len();
                let (name, base, pid) = &targets[t];
                let cfg = self.cfg(base, &body, 1, Some(n / rounds), 300)?;
                let cpu0 = procs::cpu_us(*pid)?;
                row[t] = self
                    .load(&format!("round {} {name}", round + 1), &cfg)
                    .await?;
                cpu[t] += procs::cpu_us(*pid)?.saturating_sub(cpu0);
            }
            reps.push(row);
        }
        let during = sink_stats(&sink).await?;
        // Stopped last to first: (c) flushes its buffered spans as it shuts down.
        while let Some(gw) = gws.pop() {
            log_warnings(&gw);
        }
        let after = sink_stats(&sink).await?;
        // Requests (c) answered: its readiness probe, the warmup and the rounds.
        let answered = 1 + warm + reps.iter().map(|r| r[3].count()).sum::<u64>();
        self.telemetry_rows(&reps, &cpu, rounds, answered, [before, during, after]);
        Ok(())
    }

    /// The rows of scenario 7; `sink` holds the sink's counts before, at the end of the rounds,
    /// and after (c) stopped.
    fn telemetry_rows(
        &mut self,
        reps: &[Vec<Report>],
        cpu: &[u64],
        rounds: u64,
        answered: u64,
        sink: [SinkStats; 3],
    ) {
        let s = "7 telemetry cost, c=1";
        // Percentile `p` of target `t` (0 direct, 1 (a), 2 (b), 3 (c)) in each round.
        let pct = |t: usize, p: f64| -> Vec<i64> {
            reps.iter()
                .map(|r| Sorted::new(&r[t].latency_us).pct(p) as i64)
                .collect()
        };
        let of = if rounds > 1 {
            format!(" (median of {rounds} rounds)")
        } else {
            String::new()
        };
        let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
        let v = |x: i64| us(x.max(0) as u64);
        for p in [50.0, 99.0] {
            for (t, base, what) in [
                (1, 0, "gateway (a) `metrics = false` vs direct to the mock"),
                (2, 1, "(b) metrics on (default) vs (a) metrics off"),
                (3, 1, "(c) metrics + traces 100% over OTLP/HTTP vs (a)"),
            ] {
                let (tv, bv) = (median(pct(t, p)), median(pct(base, p)));
                let paired = pct(t, p).into_iter().zip(pct(base, p)).map(|(a, b)| a - b);
                self.rows.push(Row::info(
                    s,
                    &format!("p{p} latency, JSON chat (2 KB), {what}{of}"),
                    v(tv),
                    v(bv),
                    format!(
                        "{}, {:.2}x",
                        signed_us(median(paired.collect())),
                        ratio(tv as f64, bv as f64)
                    ),
                ));
            }
        }
        let per = |t: usize| {
            let count: u64 = reps.iter().map(|r| r[t].count()).sum();
            cpu[t] / count.max(1)
        };
        for (t, what) in [(2, "(b) metrics on"), (3, "(c) metrics + traces")] {
            self.rows.push(Row::info(
                s,
                &format!("gateway CPU per request, {what} vs (a) metrics off"),
                us(per(t)),
                us(per(1)),
                format!(
                    "{}, {:.2}x",
                    signed_us(per(t) as i64 - per(1) as i64),
                    ratio(per(t) as f64, per(1) as f64)
                ),
            ));
        }
        let [before, during, after] = sink;
        let spans = after.spans - before.spans;
        let posts = after.requests - before.requests;
        self.rows.push(Row::info(
            s,
            "spans (c) exported to the mock's OTLP sink (protobuf), after its shutdown flush",
            format!(
                "{spans} spans in {posts} POSTs ({:.0} KB), {:.1} per request answered ({answered})",
                (after.bytes - before.bytes) as f64 / 1024.0,
                ratio(spans as f64, answered as f64)
            ),
            format!(
                "{} spans in {} POSTs by the end of the rounds",
                during.spans - before.spans,
                during.requests - before.requests
            ),
            "—".into(),
        ));
        if spans == 0 || after.unreadable > before.unreadable {
            self.problems.push(format!(
                "scenario 7: the OTLP sink got {spans} spans in {posts} requests, {} unreadable",
                after.unreadable - before.unreadable
            ));
        }
    }
}
