//! Scenario 5 of `sluice-bench run`: a batch that the gateway runs itself (Files and Batch APIs,
//! every line through its pipeline to the mock) while scenario 1's concurrency-1 interactive load
//! goes through the same gateway, against that load just before without the batch.

use crate::load::{self, LoadConfig};
use crate::procs::{self, Proc};
use crate::report::{Row, signed_us, us};
use crate::scenarios::{Bench, chat_body, chat_value};
use crate::stats::{Report, Sorted};
use anyhow::{Context, bail};
use bytes::Bytes;
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// The multipart boundary of the upload (checked not to occur in the file).
const BOUNDARY: &str = "sluice-bench-boundary-5c0f7e21a9d3";
/// How often the batch is polled.
const POLL: Duration = Duration::from_millis(100);

/// A batch object, as far as the scenario reads it.
#[derive(Debug, Deserialize)]
pub(crate) struct BatchObj {
    id: String,
    pub(crate) status: String,
    #[serde(default)]
    pub(crate) request_counts: Counts,
    in_progress_at: Option<u64>,
    completed_at: Option<u64>,
    errors: Option<serde_json::Value>,
}

/// `request_counts` of a batch.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Counts {
    total: u64,
    pub(crate) completed: u64,
    pub(crate) failed: u64,
}

/// What driving the batch found.
pub(crate) struct Outcome {
    /// The batch as last polled.
    pub(crate) batch: BatchObj,
    /// Client clock from sending the create request to the poll that saw it end.
    wall: Duration,
    /// Whether it ended (any final status) within the time limit.
    ended: bool,
}

/// A minimal client of the gateway's Files and Batch APIs (one JSON answer per call).
pub(crate) struct Api {
    client: Client<HttpConnector, Full<Bytes>>,
    base: String,
}

impl Api {
    pub(crate) fn new(base: &str) -> Api {
        Api {
            client: Client::builder(TokioExecutor::new()).build_http(),
            base: base.to_string(),
        }
    }

    /// Sends one request with the bench key; fails on a transport error, a non-2xx status or an
    /// answer that does not parse as `T`.
    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Bytes,
    ) -> anyhow::Result<T> {
        let mut req = Request::builder()
            .method(method.clone())
            .uri(format!("{}{path}", self.base))
            .header("authorization", "Bearer sk-bench");
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let req = req.body(Full::new(body))?;
        let (status, bytes) = tokio::time::timeout(Duration::from_secs(60), async {
            let resp = self.client.request(req).await?;
            let status = resp.status();
            let bytes = resp.into_body().collect().await?.to_bytes();
            anyhow::Ok((status, bytes))
        })
        .await
        .with_context(|| format!("{method} {path} timed out"))??;
        if !status.is_success() {
            let text = String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).into_owned();
            bail!("{method} {path}: status {status}: {text}");
        }
        serde_json::from_slice(&bytes)
            .with_context(|| format!("{method} {path}: unexpected answer"))
    }

    /// Uploads `jsonl` as a file of purpose `batch`; returns its id.
    pub(crate) async fn upload(&self, jsonl: &[u8]) -> anyhow::Result<String> {
        #[derive(Deserialize)]
        struct FileObj {
            id: String,
        }
        let ct = format!("multipart/form-data; boundary={BOUNDARY}");
        let f: FileObj = self
            .call(Method::POST, "/v1/files", Some(&ct), multipart(jsonl)?)
            .await?;
        Ok(f.id)
    }
}

/// `lines` batch lines, each scenario 1's chat request with its own `custom_id`.
pub(crate) fn batch_jsonl(lines: usize) -> anyhow::Result<Vec<u8>> {
    let body = serde_json::to_string(&chat_value(json!({})))?;
    let mut out = Vec::with_capacity(lines * (body.len() + 100));
    for i in 0..lines {
        out.extend_from_slice(
            format!(
                r#"{{"custom_id":"line-{i}","method":"POST","url":"/v1/chat/completions","body":{body}}}"#
            )
            .as_bytes(),
        );
        out.push(b'\n');
    }
    Ok(out)
}

/// A multipart/form-data body with the fields `purpose` (`batch`) and `file` (`jsonl`).
fn multipart(jsonl: &[u8]) -> anyhow::Result<Bytes> {
    if jsonl
        .windows(BOUNDARY.len())
        .any(|w| w == BOUNDARY.as_bytes())
    {
        bail!("the batch file contains the multipart boundary");
    }
    let mut b = Vec::with_capacity(jsonl.len() + 400);
    b.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\n\
             Content-Disposition: form-data; name=\"purpose\"\r\n\r\n\
             batch\r\n\
             --{BOUNDARY}\r\n\
             Content-Disposition: form-data; name=\"file\"; filename=\"bench.jsonl\"\r\n\
             Content-Type: application/jsonl\r\n\r\n"
        )
        .as_bytes(),
    );
    b.extend_from_slice(jsonl);
    b.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    Ok(Bytes::from(b))
}

/// Creates the batch and polls it until it ends or `limit` passes (then cancels it); sets `stop`
/// when done, also on error, so the interactive load beside it stops with it.
pub(crate) async fn drive(
    api: &Api,
    file_id: &str,
    limit: Duration,
    stop: &AtomicBool,
) -> anyhow::Result<Outcome> {
    let result = async {
        let t0 = Instant::now();
        let create = json!({
            "input_file_id": file_id,
            "endpoint": "/v1/chat/completions",
            "completion_window": "24h",
        });
        let mut batch: BatchObj = api
            .call(
                Method::POST,
                "/v1/batches",
                Some("application/json"),
                Bytes::from(serde_json::to_vec(&create)?),
            )
            .await?;
        let path = format!("/v1/batches/{}", batch.id);
        let mut shown = Instant::now();
        loop {
            if !matches!(
                batch.status.as_str(),
                "validating" | "in_progress" | "finalizing"
            ) {
                return Ok(Outcome {
                    batch,
                    wall: t0.elapsed(),
                    ended: true,
                });
            }
            if t0.elapsed() > limit {
                let cancel = format!("{path}/cancel");
                if let Err(e) = api
                    .call::<serde_json::Value>(Method::POST, &cancel, None, Bytes::new())
                    .await
                {
                    eprintln!("  cancelling the unfinished batch failed: {e:#}");
                }
                return Ok(Outcome {
                    batch,
                    wall: t0.elapsed(),
                    ended: false,
                });
            }
            if shown.elapsed() >= Duration::from_secs(1) {
                let c = &batch.request_counts;
                eprintln!(
                    "  batch {}: {}/{} completed, {} failed",
                    batch.status, c.completed, c.total, c.failed
                );
                shown = Instant::now();
            }
            tokio::time::sleep(POLL).await;
            batch = api.call(Method::GET, &path, None, Bytes::new()).await?;
        }
    }
    .await;
    stop.store(true, Ordering::Relaxed);
    result
}

/// The latencies of `rep`'s requests that ended within `span` of the start of its first one
/// (its requests in order, as a concurrency-1 load records them).
fn within(rep: &Report, span: Duration) -> Vec<u64> {
    let start = match (rep.done_at.first(), rep.latency_us.first()) {
        (Some(at), Some(l)) => at.checked_sub(Duration::from_micros(*l)).unwrap_or(*at),
        _ => return Vec::new(),
    };
    rep.latency_us
        .iter()
        .zip(&rep.done_at)
        .filter(|(_, at)| at.duration_since(start) <= span)
        .map(|(l, _)| *l)
        .collect()
}

/// `a / b` as `1.23x`, or `—` when `b` is 0.
fn ratio(a: u64, b: u64) -> (String, f64) {
    if b == 0 {
        return ("—".into(), f64::INFINITY);
    }
    let r = a as f64 / b as f64;
    (format!("{r:.2}x"), r)
}

impl Bench {
    /// 5. A batch run by the gateway beside concurrency-1 interactive traffic: the batch's lines/s,
    ///    and the interactive p50/p99 with the batch against a run of the same length just before.
    pub async fn batch(&mut self, gw: &Proc) -> anyhow::Result<()> {
        // Lines, warmup requests, longest interactive run, time limit of the batch.
        let (lines, warm, secs, limit) = if self.smoke {
            (200, 50, 2, 60)
        } else {
            (10_000, 500, 10, 300)
        };
        eprintln!("scenario 5: a {lines}-line batch beside interactive traffic at concurrency 1");
        let (base, pid) = (gw.url.clone(), gw.pid());
        let body = chat_body(json!({}))?;
        self.load(
            "warmup sluice",
            &self.cfg(&base, &body, 1, Some(warm), 120)?,
        )
        .await?;
        let api = Api::new(&base);
        let jsonl = batch_jsonl(lines)?;
        let file_id = api
            .upload(&jsonl)
            .await
            .context("uploading the batch file")?;
        eprintln!(
            "  uploaded {file_id} ({:.1} MB)",
            jsonl.len() as f64 / 1048576.0
        );

        // Interactive alone, then with the batch (stopped when the batch ends, at most as long).
        let cfg = self.cfg(&base, &body, 1, None, secs)?;
        let cpu0 = procs::cpu_us(pid)?;
        let alone = self.load("c=1 without the batch", &cfg).await?;
        let alone_cpu = procs::cpu_us(pid)?.saturating_sub(cpu0);
        let stop = Arc::new(AtomicBool::new(false));
        let with_cfg = LoadConfig {
            stop: Some(Arc::clone(&stop)),
            ..cfg
        };
        let cpu0 = procs::cpu_us(pid)?;
        let (with, outcome) = tokio::join!(
            load::run(&with_cfg),
            drive(&api, &file_id, Duration::from_secs(limit), &stop)
        );
        let batch_cpu = procs::cpu_us(pid)?.saturating_sub(cpu0);
        let (with, out) = (with?, outcome?);
        self.note("c=1 with the batch", &with);
        let b = &out.batch;
        let c = &b.request_counts;
        eprintln!(
            "  batch {} {}: {}/{} completed, {} failed, {:.2} s",
            b.id,
            b.status,
            c.completed,
            c.total,
            c.failed,
            out.wall.as_secs_f64()
        );
        if !out.ended {
            self.problems.push(format!(
                "batch {}: not finished within {limit} s ({}, {}/{} completed)",
                b.id, b.status, c.completed, c.total
            ));
        } else if b.status != "completed" {
            self.problems.push(format!(
                "batch {}: ended `{}`, errors {}",
                b.id,
                b.status,
                b.errors.as_ref().map_or("none".into(), |e| e.to_string())
            ));
        }
        let all = c.total == lines as u64 && c.completed == c.total && c.failed == 0;
        if out.ended && !all {
            self.problems.push(format!(
                "batch {}: {} of {lines} lines completed, {} failed (total {})",
                b.id, c.completed, c.failed, c.total
            ));
        }

        let s = "5 batch + c=1";
        let wall = out.wall.as_secs_f64().max(1e-3);
        let by_stamps = match (b.in_progress_at, b.completed_at) {
            (Some(a), Some(z)) if z > a => format!(
                "{:.0} lines/s ({} lines in {} s ± 1 s: whole seconds)",
                c.total as f64 / (z - a) as f64,
                c.total,
                z - a
            ),
            (Some(_), Some(_)) => "— (ended within the same second)".into(),
            _ => "— (not completed)".into(),
        };
        self.rows.push(Row::info(
            s,
            &format!(
                "batch of {lines} chat lines (scenario 1's request) run by the gateway \
                 (concurrency 16, 8 per batch): total / (completed_at − in_progress_at)"
            ),
            by_stamps,
            "—".into(),
            format!(
                "client clock: {:.0} lines/s over {:.2} s (create → `completed` seen, polled every 100 ms)",
                c.completed as f64 / wall,
                wall
            ),
        ));
        self.rows.push(
            Row::info(
                s,
                "batch lines completed / failed",
                format!("{} / {} of {lines}", c.completed, c.failed),
                "—".into(),
                "—".into(),
            )
            .target("all complete", all && out.ended),
        );

        // The run without the batch, cut to the length of the run with it.
        let span = with.elapsed;
        let before = within(&alone, span);
        let (w, a) = (Sorted::new(&with.latency_us), Sorted::new(&before));
        let of = format!(
            "c=1 interactive (scenario 1's request), with the batch ({:.2} s) vs the same length just before",
            span.as_secs_f64()
        );
        for p in [50.0, 99.0] {
            let (wp, ap) = (w.pct(p), a.pct(p));
            let (text, r) = ratio(wp, ap);
            let row = Row::info(
                s,
                &format!("p{p} latency, {of}"),
                us(wp),
                us(ap),
                format!("{text} ({})", signed_us(wp as i64 - ap as i64)),
            );
            self.rows.push(if p == 99.0 {
                row.target("<= 2x (informational)", r <= 2.0)
            } else {
                row
            });
        }
        let rate = |n: usize| n as f64 / span.as_secs_f64().max(1e-3);
        self.rows.push(Row::info(
            s,
            "interactive requests completed in that time",
            format!(
                "{} ({:.0} req/s)",
                with.count(),
                rate(with.latency_us.len())
            ),
            format!("{} ({:.0} req/s)", before.len(), rate(before.len())),
            ratio(with.count(), before.len() as u64).0,
        ));
        // CPU of the interactive requests at their cost without the batch, to estimate the lines'.
        let per_req = alone_cpu / alone.count().max(1);
        let lines_cpu = batch_cpu.saturating_sub(per_req * with.count());
        self.rows.push(Row::info(
            s,
            "gateway CPU from create to `completed` (with the interactive requests and polls)",
            format!(
                "{:.2} s over {:.2} s ({:.0}% of a core); ≈ {} per line without the interactive share",
                batch_cpu as f64 / 1e6,
                wall,
                batch_cpu as f64 / 1e4 / wall,
                us(lines_cpu / c.completed.max(1))
            ),
            format!("{} per interactive request alone", us(per_req)),
            "—".into(),
        ));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_lines_are_json_with_unique_ids() -> anyhow::Result<()> {
        let jsonl = batch_jsonl(3)?;
        let text = String::from_utf8(jsonl)?;
        let ids: Vec<String> = text
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l)?;
                assert_eq!(v["body"]["model"], "bench-model");
                assert_eq!(v["url"], "/v1/chat/completions");
                Ok(v["custom_id"].as_str().unwrap_or_default().to_string())
            })
            .collect::<anyhow::Result<_>>()?;
        assert_eq!(ids, ["line-0", "line-1", "line-2"]);
        Ok(())
    }

    #[test]
    fn multipart_has_both_fields_and_the_closing_boundary() -> anyhow::Result<()> {
        let b = multipart(b"{}\n")?;
        let text = String::from_utf8_lossy(&b);
        assert!(text.contains("name=\"purpose\"\r\n\r\nbatch\r\n"));
        assert!(text.contains("filename=\"bench.jsonl\""));
        assert!(text.ends_with(&format!("{{}}\n\r\n--{BOUNDARY}--\r\n")));
        assert!(multipart(BOUNDARY.as_bytes()).is_err());
        Ok(())
    }

    #[test]
    fn within_keeps_the_first_span() {
        let t = Instant::now();
        let ms = Duration::from_millis;
        let rep = Report {
            latency_us: vec![1000, 1000, 1000],
            done_at: vec![t + ms(1), t + ms(2), t + ms(3)],
            ..Report::default()
        };
        assert_eq!(within(&rep, ms(2)).len(), 2);
        assert!(within(&Report::default(), ms(2)).is_empty());
    }
}
