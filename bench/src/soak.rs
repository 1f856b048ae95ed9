//! `sluice-bench soak`: mixed traffic through one gateway for a long while, sampling what should
//! stay flat. JSON chats and SSE streams (closed loops, the mock answering after a few ms),
//! batches one after another, MCP `tools/call`s, a config reload every minute (the file rewritten,
//! as an operator would), and a request that makes a plugin trap every ~1,000 requests (the test
//! suite's `chaos` plugin, in the policy stage). Every 10 s: the gateway's resident memory, open
//! file descriptors and usage rows. At the end the gateway is stopped (SIGTERM: the queued rows
//! are written) and the rows are checked against what the clients saw answered.

use crate::batch::{self, Api};
use crate::gateway::GatewaySpec;
use crate::load::{self, LoadConfig};
use crate::mcp_bench::Session;
use crate::run::start_self;
use crate::scenarios::chat_body;
use anyhow::Context;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What to soak.
pub struct SoakOpts {
    /// The gateway binary.
    pub sluice: PathBuf,
    /// How long.
    pub minutes: f64,
    /// The `chaos` test plugin (built beside the built-ins by the release build).
    pub chaos: PathBuf,
    /// Append the report here.
    pub out: Option<PathBuf>,
}

/// One sample of the gateway.
struct Sample {
    at: Duration,
    rss_kb: u64,
    fds: u64,
    rows: u64,
}

/// Counts the clients keep.
#[derive(Default)]
struct Seen {
    traps_sent: AtomicU64,
    traps_500: AtomicU64,
    mcp_calls: AtomicU64,
    mcp_errors: AtomicU64,
    batch_lines: AtomicU64,
    batches: AtomicU64,
    reloads: AtomicU64,
}

/// The policy plugin section: `chaos` with a tag the reloads change.
fn chaos_section(chaos: &Path, tag: u64) -> String {
    format!(
        "\n[[plugins]]\nname = \"chaos\"\nstage = \"policy\"\nsource = \"{}\"\n[plugins.config]\ntag = \"soak-{tag}\"\n",
        chaos.display()
    )
}

/// Open file descriptors of `pid`.
fn fds(pid: u32) -> u64 {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count() as u64)
}

/// Usage rows in the gateway's database, by (chat outside batches, batch lines, MCP).
fn rows(db: &Path) -> anyhow::Result<(u64, u64, u64)> {
    let db = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let count = |sql: &str| -> anyhow::Result<u64> {
        Ok(db.query_row(sql, [], |r| r.get::<_, i64>(0))? as u64)
    };
    Ok((
        count("SELECT COUNT(*) FROM usage WHERE batch_id IS NULL AND endpoint NOT LIKE 'mcp%'")?,
        count("SELECT COUNT(*) FROM usage WHERE batch_id IS NOT NULL")?,
        count("SELECT COUNT(*) FROM usage WHERE endpoint LIKE 'mcp%'")?,
    ))
}

fn total_rows(db: &Path) -> u64 {
    rows(db).map_or(0, |(a, b, c)| a + b + c)
}

/// Runs the soak and prints (and appends to `out`) its report.
pub async fn run(opts: SoakOpts) -> anyhow::Result<()> {
    let total = Duration::from_secs_f64(opts.minutes * 60.0);
    let dir = tempfile::tempdir()?;
    let chaos = dir.path().join("chaos.wasm");
    std::fs::copy(&opts.chaos, &chaos).with_context(|| {
        format!(
            "copy the chaos plugin from {} (built by `cargo build --release`)",
            opts.chaos.display()
        )
    })?;
    let mock = start_self("mock", &["--listen", "127.0.0.1:0"])?;
    let base = GatewaySpec::new(&opts.sluice, dir.path(), &mock.url)?;
    let spec = base.variant("soak", &chaos_section(&chaos, 0), &[])?;
    let (gw, startup) = spec.start().await?;
    let pid = gw.pid();
    let db = spec
        .config
        .parent()
        .context("config folder")?
        .join("data/sluice.db");
    eprintln!(
        "soak: {:.0} min against {} (pid {pid}, ready in {} ms)",
        opts.minutes,
        gw.url,
        startup.to_ready.as_millis()
    );

    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Seen::default());
    let auth = (
        HeaderName::from_static("authorization"),
        HeaderValue::from_static("Bearer sk-bench"),
    );
    let cfg = |concurrency: usize, stream: bool, extra: serde_json::Value| -> anyhow::Result<_> {
        Ok(LoadConfig {
            url: format!("{}/v1/chat/completions", gw.url).parse()?,
            concurrency,
            duration: total,
            requests: None,
            body: chat_body(extra)?,
            headers: vec![auth.clone()],
            stream,
            stream_end: Default::default(),
            request_timeout: Duration::from_secs(30),
            connect_concurrency: 0,
            stop: Some(Arc::clone(&stop)),
        })
    };
    // ~1,000 JSON chats a second at most (the mock waits 4 ms), streams of 20 chunks 5 ms apart.
    let json_cfg = cfg(4, false, json!({"mock_delay_ms": 4}))?;
    let stream_cfg = cfg(2, true, json!({"stream": true, "mock_interval_ms": 5}))?;
    let json_load = tokio::spawn(async move { load::run(&json_cfg).await });
    let stream_load = tokio::spawn(async move { load::run(&stream_cfg).await });
    let traps = tokio::spawn(traps(gw.url.clone(), Arc::clone(&stop), Arc::clone(&seen)));
    let mcp = tokio::spawn(mcp(gw.url.clone(), Arc::clone(&stop), Arc::clone(&seen)));
    let batches = tokio::spawn(batches(
        gw.url.clone(),
        Arc::clone(&stop),
        Arc::clone(&seen),
    ));

    let started = Instant::now();
    let mut samples = Vec::new();
    let mut next_reload = Duration::from_secs(60);
    while started.elapsed() < total {
        tokio::time::sleep(Duration::from_secs(10)).await;
        let at = started.elapsed();
        let rss_kb = procs_rss(pid);
        samples.push(Sample {
            at,
            rss_kb,
            fds: fds(pid),
            rows: total_rows(&db),
        });
        if at >= next_reload {
            next_reload += Duration::from_secs(60);
            let n = seen.reloads.fetch_add(1, Ordering::SeqCst) + 1;
            let text = std::fs::read_to_string(&spec.config)?;
            let text = text.replace(&format!("soak-{}\"", n - 1), &format!("soak-{n}\""));
            std::fs::write(&spec.config, text)?;
        }
        if samples.len() % 6 == 0 {
            eprintln!(
                "  {:>4.1} min: RSS {:.1} MB, {} fds, {} rows",
                at.as_secs_f64() / 60.0,
                rss_kb as f64 / 1024.0,
                fds(pid),
                total_rows(&db)
            );
        }
    }
    stop.store(true, Ordering::SeqCst);
    let json_rep = json_load.await??;
    let stream_rep = stream_load.await??;
    traps.await?;
    mcp.await?;
    batches.await?;
    let log_warnings = gw.stderr_warnings();
    // SIGTERM: the gateway drains and writes every queued row before it exits.
    drop(gw);
    let (chat_rows, batch_rows, mcp_rows) = rows(&db)?;

    let chats = json_rep.count() + json_rep.errors + stream_rep.count() + stream_rep.errors;
    let chats = chats + seen.traps_sent.load(Ordering::SeqCst);
    let report = report(
        &opts,
        &samples,
        [
            ("chat requests (JSON, streams, traps)", chats, chat_rows),
            (
                "batch lines",
                seen.batch_lines.load(Ordering::SeqCst),
                batch_rows,
            ),
            (
                "MCP tools/call",
                seen.mcp_calls.load(Ordering::SeqCst) + seen.mcp_errors.load(Ordering::SeqCst),
                mcp_rows,
            ),
        ],
        &format!(
            "JSON {} ok / {} errors, streams {} ok / {} errors, traps {} sent / {} answered 500, \
             MCP calls {} ok / {} errors, {} batches, {} reloads, {} warning/error log lines",
            json_rep.count(),
            json_rep.errors,
            stream_rep.count(),
            stream_rep.errors,
            seen.traps_sent.load(Ordering::SeqCst),
            seen.traps_500.load(Ordering::SeqCst),
            seen.mcp_calls.load(Ordering::SeqCst),
            seen.mcp_errors.load(Ordering::SeqCst),
            seen.batches.load(Ordering::SeqCst),
            seen.reloads.load(Ordering::SeqCst),
            log_warnings,
        ),
    );
    println!("{report}");
    if let Some(out) = &opts.out {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(out)?;
        writeln!(f, "{report}")?;
    }
    Ok(())
}

fn procs_rss(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("VmRSS:")
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            })
        })
        .unwrap_or(0)
}

/// A request that makes the chaos plugin trap, every 0.5 s (about one in a thousand).
async fn traps(url: String, stop: Arc<AtomicBool>, seen: Arc<Seen>) {
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let Ok(body) = chat_body(json!({})) else {
        return;
    };
    while !stop.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let Ok(req) = Request::post(format!("{url}/v1/chat/completions"))
            .header("authorization", "Bearer sk-bench")
            .header("content-type", "application/json")
            .header("x-chaos", "trap")
            .body(Full::new(body.clone()))
        else {
            return;
        };
        seen.traps_sent.fetch_add(1, Ordering::SeqCst);
        if let Ok(resp) = client.request(req).await {
            if resp.status() == StatusCode::INTERNAL_SERVER_ERROR {
                seen.traps_500.fetch_add(1, Ordering::SeqCst);
            }
            let _ = resp.into_body().collect().await;
        }
    }
}

/// MCP `tools/call`s on one session, every 50 ms (a new session if one fails).
async fn mcp(url: String, stop: Arc<AtomicBool>, seen: Arc<Seen>) {
    let Ok(uri) = format!("{url}/mcp-servers/bench/mcp").parse() else {
        return;
    };
    let mut session = None;
    while !stop.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if session.is_none() {
            session = Session::open(&uri, 0).await.ok();
        }
        let Some(s) = session.as_mut() else {
            seen.mcp_errors.fetch_add(1, Ordering::SeqCst);
            continue;
        };
        match s.call().await {
            Ok(_) => seen.mcp_calls.fetch_add(1, Ordering::SeqCst),
            Err(_) => {
                session = None;
                seen.mcp_errors.fetch_add(1, Ordering::SeqCst)
            }
        };
    }
}

/// Batches of 200 lines, one every ~10 s.
async fn batches(url: String, stop: Arc<AtomicBool>, seen: Arc<Seen>) {
    let api = Api::new(&url);
    let Ok(jsonl) = batch::batch_jsonl(200) else {
        return;
    };
    while !stop.load(Ordering::SeqCst) {
        let Ok(file) = api.upload(&jsonl).await else {
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        };
        let never = AtomicBool::new(false);
        if let Ok(out) = batch::drive(&api, &file, Duration::from_secs(120), &never).await {
            let c = &out.batch.request_counts;
            seen.batch_lines
                .fetch_add(c.completed + c.failed, Ordering::SeqCst);
            seen.batches.fetch_add(1, Ordering::SeqCst);
        }
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
}

/// The report: samples over time, growth per hour after warm-up, rows against requests.
fn report(
    opts: &SoakOpts,
    samples: &[Sample],
    counts: [(&str, u64, u64); 3],
    detail: &str,
) -> String {
    let mut out = format!(
        "\n### Soak: {:.0} minutes of mixed traffic\n\n| minute | RSS | open fds | usage rows |\n|---|---|---|---|\n",
        opts.minutes
    );
    let step = (samples.len() / 12).max(1);
    let last = samples.len().saturating_sub(1);
    for s in samples
        .iter()
        .enumerate()
        .filter(|(i, _)| i % step == 0 || *i == last)
        .map(|(_, s)| s)
    {
        out.push_str(&format!(
            "| {:.1} | {:.1} MB | {} | {} |\n",
            s.at.as_secs_f64() / 60.0,
            s.rss_kb as f64 / 1024.0,
            s.fds,
            s.rows
        ));
    }
    // Growth after a warm-up of a fifth of the run (at least the first sample).
    let warm = samples
        .iter()
        .find(|s| s.at.as_secs_f64() >= samples.last().map_or(0.0, |l| l.at.as_secs_f64()) / 5.0);
    if let (Some(w), Some(l)) = (warm, samples.last()) {
        let hours = (l.at - w.at).as_secs_f64() / 3600.0;
        if hours > 0.0 {
            out.push_str(&format!(
                "\nAfter warm-up (minute {:.1} to {:.1}): RSS {:+.1} MB per hour ({:.1} → {:.1} MB), open fds {:+.0} per hour ({} → {}).\n",
                w.at.as_secs_f64() / 60.0,
                l.at.as_secs_f64() / 60.0,
                (l.rss_kb as f64 - w.rss_kb as f64) / 1024.0 / hours,
                w.rss_kb as f64 / 1024.0,
                l.rss_kb as f64 / 1024.0,
                (l.fds as f64 - w.fds as f64) / hours,
                w.fds,
                l.fds
            ));
        }
    }
    out.push_str(
        "\n| requests | sent and answered (clients) | usage rows | rows missing |\n|---|---|---|---|\n",
    );
    for (what, sent, rows) in counts {
        // A request in flight when the clients stopped has a row but no answer the client
        // counted: more rows than answers is not a loss.
        out.push_str(&format!(
            "| {what} | {sent} | {rows} | {} |\n",
            sent.saturating_sub(rows)
        ));
    }
    out.push_str(&format!("\n{detail}.\n"));
    out
}
