//! Scenario 8 of `sluice-bench run`: what the guard stage adds to streamed chat completions.
//! Three gateways run side by side, with `bench/gateway.toml` and each its own guards appended:
//! (a) none, (b) the built-in `pii-redact`, (c) `pii-redact` then `block-terms`. The mock streams
//! [`PROSE`] (40 deltas of a few words, ~800 bytes, an email address split across two deltas);
//! one answer of each target is checked first ((b) and (c) must redact the address, the others
//! pass it whole), then whole streams are timed at c=1 and counted at c=64 (streams/s, gateway
//! CPU per stream), in alternating rounds after a warmup, with the mock directly for context.

use crate::gateway::GatewaySpec;
use crate::load::LoadConfig;
use crate::mock::{PROSE, PROSE_EMAIL};
use crate::procs::{self, Proc};
use crate::report::{Row, signed_us, us};
use crate::run::log_warnings;
use crate::scenarios::{Bench, chat_body, median};
use crate::stats::{Report, Sorted};
use anyhow::{Context, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::json;
use std::time::Duration;

/// `pii-redact` with its defaults (redact every kind on both sides, look-behind 128 bytes).
const PII: &str =
    "\n[[plugins]]\nname = \"pii\"\nstage = \"guard\"\nsource = \"builtin:pii-redact\"\n";

/// `block-terms` with two terms (action `deny`, the default; the mock's text has neither).
const TERMS: &str = "\n[[plugins]]\nname = \"terms\"\nstage = \"guard\"\n\
    source = \"builtin:block-terms\"\n[plugins.config]\n\
    terms = [\"project falcon\", \"internal-only\"]\n";

/// What `pii-redact` puts in place of an email address.
const EMAIL_MARK: &str = "[EMAIL]";

/// The streamed text (all `choices[0].delta.content`) of one answer from `base`.
async fn stream_text(base: &str, body: &Bytes) -> anyhow::Result<String> {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let url = format!("{base}/v1/chat/completions");
    let req = http::Request::post(&url)
        .header("authorization", "Bearer sk-bench")
        .header("content-type", "application/json")
        .body(Full::new(body.clone()))?;
    let bytes = tokio::time::timeout(Duration::from_secs(10), async {
        let resp = client.request(req).await?;
        let status = resp.status();
        let bytes = resp.into_body().collect().await?.to_bytes();
        if !status.is_success() {
            bail!(
                "POST {url}: status {status}: {}",
                String::from_utf8_lossy(&bytes)
            );
        }
        anyhow::Ok(bytes)
    })
    .await
    .with_context(|| format!("POST {url} timed out"))??;
    let mut text = String::new();
    for line in std::str::from_utf8(&bytes)?.lines() {
        let Some(data) = line.strip_prefix("data:").map(str::trim) else {
            continue;
        };
        if data == "[DONE]" {
            continue;
        }
        let v: serde_json::Value =
            serde_json::from_str(data).with_context(|| format!("{url}: an event is not JSON"))?;
        if v.get("error").is_some() {
            bail!("{url}: error event {data}");
        }
        for c in v["choices"].as_array().into_iter().flatten() {
            text.push_str(c["delta"]["content"].as_str().unwrap_or_default());
        }
    }
    Ok(text)
}

impl Bench {
    /// A streamed load of `body` against `base`.
    fn stream_cfg(
        &self,
        base: &str,
        body: &Bytes,
        c: usize,
        n: Option<u64>,
        secs: u64,
    ) -> anyhow::Result<LoadConfig> {
        let mut cfg = self.cfg(base, body, c, n, secs)?;
        cfg.stream = true;
        Ok(cfg)
    }

    /// 8. Guard cost on streams: gateways (a) no guard, (b) `pii-redact`, (c) `pii-redact` +
    ///    `block-terms`, started from `spec`, and the mock directly; c=1 whole-stream latency and
    ///    c=64 streams/s in alternating rounds after a warmup.
    pub async fn guards(&mut self, spec: &GatewaySpec) -> anyhow::Result<()> {
        let (n, warm, rounds, secs, rounds64) = if self.smoke {
            (100, 20, 1, 1, 1)
        } else {
            (2000, 200, 10, 5, 2)
        };
        eprintln!(
            "scenario 8: guard cost on streams of {} deltas, c=1 ({n} streams each), c=64 ({} s each)",
            PROSE.len(),
            secs * rounds64
        );
        let configs = [
            ("a", String::new()),
            ("b", PII.to_string()),
            ("c", format!("{PII}{TERMS}")),
        ];
        let mut gws: Vec<Proc> = Vec::new();
        // Name, base URL and process id of each target: the mock, then (a), (b), (c).
        let mut targets = vec![("direct".to_string(), self.mock.clone(), self.mock_pid)];
        for (name, extra) in &configs {
            let v = spec.variant(&format!("guard-{name}"), extra, &[])?;
            let (gw, _) = v.start().await?;
            eprintln!("gateway ({name}) {} (pid {})", gw.url, gw.pid());
            targets.push((format!("({name})"), gw.url.clone(), gw.pid()));
            gws.push(gw);
        }
        let body = chat_body(json!({"stream": true, "mock_prose": true}))?;
        // Once, before measuring: the guards must have redacted the split address, and only that.
        let prose = PROSE.concat();
        let redacted = prose.replace(PROSE_EMAIL, EMAIL_MARK);
        for (t, (name, base, _)) in targets.iter().enumerate() {
            let got = stream_text(base, &body).await?;
            let want = if t >= 2 { &redacted } else { &prose };
            if &got != want {
                bail!(
                    "scenario 8: the stream of {name} is not as expected:\n  got  {got:?}\n  want {want:?}"
                );
            }
        }
        eprintln!("  checked: (b) and (c) stream `{EMAIL_MARK}` in place of {PROSE_EMAIL}");
        for (name, base, _) in &targets {
            let cfg = self.stream_cfg(base, &body, 1, Some(warm), 120)?;
            self.load(&format!("warmup {name}"), &cfg).await?;
        }
        // reps[r][t]: c=1 round r's report of target t.
        let mut reps: Vec<Vec<Report>> = Vec::new();
        for round in 0..rounds {
            let mut row = vec![Report::default(); targets.len()];
            // Each round starts with another target, so none is always the first after a pause.
            for k in 0..targets.len() {
                let t = (k + round as usize) % targets.len();
                let (name, base, _) = &targets[t];
                let cfg = self.stream_cfg(base, &body, 1, Some(n / rounds), 300)?;
                row[t] = self
                    .load(&format!("c=1 round {} {name}", round + 1), &cfg)
                    .await?;
            }
            reps.push(row);
        }
        // c=64: each target's merged report and the CPU µs its serving process used.
        let mut wide = vec![(Report::default(), 0u64); targets.len()];
        for round in 0..rounds64 {
            for k in 0..targets.len() {
                let t = (k + round as usize) % targets.len();
                let (name, base, pid) = &targets[t];
                let cfg = self.stream_cfg(base, &body, 64, None, secs)?;
                let cpu0 = procs::cpu_us(*pid)?;
                let rep = self
                    .load(&format!("c=64 round {} {name}", round + 1), &cfg)
                    .await?;
                wide[t].0.merge(rep);
                wide[t].1 += procs::cpu_us(*pid)?.saturating_sub(cpu0);
            }
        }
        for gw in gws.drain(..) {
            log_warnings(&gw);
        }
        self.guard_rows(&reps, &wide, rounds);
        Ok(())
    }

    /// The rows of scenario 8.
    fn guard_rows(&mut self, reps: &[Vec<Report>], wide: &[(Report, u64)], rounds: u64) {
        let s = "8 guard cost, streams";
        let of = if rounds > 1 {
            format!(" (median of {rounds} rounds)")
        } else {
            String::new()
        };
        let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
        let pairs = [
            (1, 0, "gateway (a) no guard vs direct to the mock"),
            (2, 1, "(b) `pii-redact` vs (a) no guard"),
            (3, 1, "(c) `pii-redact` + `block-terms` vs (a)"),
        ];
        // Percentile `p` of target `t` (0 direct, 1 (a), 2 (b), 3 (c)) in each c=1 round.
        let pct = |t: usize, p: f64| -> Vec<i64> {
            reps.iter()
                .map(|r| Sorted::new(&r[t].latency_us).pct(p) as i64)
                .collect()
        };
        let v = |x: i64| us(x.max(0) as u64);
        for p in [50.0, 99.0] {
            for (t, base, what) in pairs {
                let (tv, bv) = (median(pct(t, p)), median(pct(base, p)));
                let paired = pct(t, p).into_iter().zip(pct(base, p)).map(|(a, b)| a - b);
                self.rows.push(Row::info(
                    s,
                    &format!("c=1, p{p} whole stream (40 deltas, ~800 B), {what}{of}"),
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
        let cell = |r: &Report| {
            let l = Sorted::new(&r.latency_us);
            format!(
                "{:.0} streams/s (p50 {:.1} ms, p99 {:.1} ms)",
                r.rps(),
                l.pct(50.0) as f64 / 1e3,
                l.pct(99.0) as f64 / 1e3
            )
        };
        for (t, base, what) in pairs {
            let (tr, br) = (&wide[t].0, &wide[base].0);
            self.rows.push(Row::info(
                s,
                &format!("c=64, streams/s, {what}"),
                cell(tr),
                cell(br),
                format!("{:.2}x", ratio(tr.rps(), br.rps())),
            ));
        }
        let per = |t: usize| wide[t].1 / wide[t].0.count().max(1);
        for (t, base, what) in &pairs[1..] {
            self.rows.push(Row::info(
                s,
                &format!("c=64, gateway CPU per stream, {what}"),
                us(per(*t)),
                us(per(*base)),
                format!(
                    "{}, {:.2}x",
                    signed_us(per(*t) as i64 - per(*base) as i64),
                    ratio(per(*t) as f64, per(*base) as f64)
                ),
            ));
        }
        // Chunks with content per stream: held-back text leaves chunks out (c=1, all rounds).
        let chunks = |t: usize| {
            let (ev, st) = reps.iter().fold((0, 0), |(e, c), r| {
                (e + r[t].content_events, c + r[t].streams_completed)
            });
            ratio(ev as f64, st as f64)
        };
        self.rows.push(Row::info(
            s,
            &format!(
                "chunks per stream; {PROSE_EMAIL} split across 2 deltas, checked once per target"
            ),
            format!(
                "(b) {:.1}, (c) {:.1}; both stream `{EMAIL_MARK}`",
                chunks(2),
                chunks(3)
            ),
            format!("(a) {:.1}, direct {:.1}; the address", chunks(1), chunks(0)),
            "—".into(),
        ));
    }
}
