//! Scenario 6 of `sluice-bench run`: MCP `tools/call` through the gateway's MCP endpoint
//! (`/mcp-servers/bench/mcp`: key-auth, the `mcp-tools` policy plugin, a usage row per call)
//! against the mock's MCP server directly, at concurrency 1 and 16. Each worker opens its own
//! session once (`initialize`, `notifications/initialized`), then calls `echo` back to back.

use crate::load::{self, Conn};
use crate::procs::{self, Proc};
use crate::report::{Row, signed_us, us};
use crate::scenarios::Bench;
use crate::stats::{Report, Sorted};
use anyhow::{Context, bail};
use bytes::Bytes;
use http::{HeaderValue, Request, StatusCode, Uri, header};
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::Barrier;
use tokio::time::Instant;

/// The protocol revision the client speaks.
const VERSION: &str = "2025-11-25";
/// Deadline of one exchange.
const TIMEOUT: Duration = Duration::from_secs(60);

/// One worker's connection and MCP session.
pub(crate) struct Session {
    conn: Conn,
    /// `HOST:PORT` of `url`, to reconnect.
    addr: String,
    url: Uri,
    /// The `Mcp-Session-Id` the server issued.
    id: HeaderValue,
    /// The next JSON-RPC id.
    next: u64,
    /// Which worker this is (part of every echoed text).
    worker: usize,
}

/// An answer read whole.
struct Answer {
    status: StatusCode,
    session: Option<HeaderValue>,
    json: bool,
    body: Bytes,
}

impl Answer {
    /// Fails unless the status is `want`.
    fn expect(&self, want: StatusCode, what: &str) -> anyhow::Result<()> {
        if self.status != want {
            let text = String::from_utf8_lossy(&self.body[..self.body.len().min(200)]);
            bail!("{what}: status {}: {text}", self.status);
        }
        Ok(())
    }
}

/// POSTs one JSON-RPC message with the headers of the transport (and the bench key).
async fn post(
    conn: &mut Conn,
    url: &Uri,
    session: Option<&HeaderValue>,
    body: Bytes,
) -> anyhow::Result<Answer> {
    let path = url.path_and_query().map_or("/", |p| p.as_str());
    let mut req = Request::post(path).body(Full::new(body))?;
    let h = req.headers_mut();
    if let Some(a) = url.authority() {
        h.insert(header::HOST, HeaderValue::from_str(a.as_str())?);
    }
    h.insert(
        header::ACCEPT,
        HeaderValue::from_static("application/json, text/event-stream"),
    );
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert("mcp-protocol-version", HeaderValue::from_static(VERSION));
    h.insert(
        header::AUTHORIZATION,
        HeaderValue::from_static("Bearer sk-bench"),
    );
    if let Some(s) = session {
        h.insert("mcp-session-id", s.clone());
    }
    conn.ready().await?;
    let resp = conn.send_request(req).await?;
    let status = resp.status();
    let session = resp.headers().get("mcp-session-id").cloned();
    let json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    let body = resp.into_body().collect().await?.to_bytes();
    Ok(Answer {
        status,
        session,
        json,
        body,
    })
}

impl Session {
    /// Connects and opens a session: `initialize`, then `notifications/initialized`.
    pub(crate) async fn open(url: &Uri, worker: usize) -> anyhow::Result<Session> {
        let auth = url.authority().context("the URL needs a host")?;
        let addr = format!("{}:{}", auth.host(), auth.port_u16().unwrap_or(80));
        let mut conn = load::connect(&addr).await?;
        let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {"protocolVersion": VERSION, "capabilities": {},
                       "clientInfo": {"name": "sluice-bench", "version": "1"}}});
        let a = post(&mut conn, url, None, Bytes::from(init.to_string())).await?;
        a.expect(StatusCode::OK, "initialize")?;
        let id = a.session.context("initialize: no Mcp-Session-Id")?;
        let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        let a = post(&mut conn, url, Some(&id), Bytes::from(note.to_string())).await?;
        a.expect(StatusCode::ACCEPTED, "notifications/initialized")?;
        Ok(Session {
            conn,
            addr,
            url: url.clone(),
            id,
            next: 1,
            worker,
        })
    }

    /// One `tools/call` of `echo`; checks the answer and returns its latency in µs.
    pub(crate) async fn call(&mut self) -> anyhow::Result<u64> {
        let n = self.next;
        self.next += 1;
        let text = format!("call {n} of worker {}", self.worker);
        let msg = json!({"jsonrpc": "2.0", "id": n, "method": "tools/call",
            "params": {"name": "echo", "arguments": {"text": text}}});
        let body = Bytes::from(msg.to_string());
        let t0 = Instant::now();
        let a = post(&mut self.conn, &self.url, Some(&self.id), body).await?;
        let latency = t0.elapsed().as_micros() as u64;
        a.expect(StatusCode::OK, "tools/call")?;
        anyhow::ensure!(a.json, "tools/call: the answer is not application/json");
        let v: Value = serde_json::from_slice(&a.body).context("tools/call: not JSON")?;
        if v["id"] != n || v["result"]["content"][0]["text"] != text.as_str() {
            bail!("tools/call: unexpected answer {v}");
        }
        Ok(latency)
    }
}

/// Every session calls `echo` back to back, starting together, until `duration` is over or
/// `requests` calls were started over all of them; returns the sessions for the next run.
async fn closed_loop(
    sessions: Vec<Session>,
    duration: Duration,
    requests: Option<u64>,
) -> anyhow::Result<(Vec<Session>, Report)> {
    let barrier = Arc::new(Barrier::new(sessions.len() + 1));
    let issued = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::with_capacity(sessions.len());
    for mut s in sessions {
        let (barrier, issued) = (Arc::clone(&barrier), Arc::clone(&issued));
        tasks.push(tokio::spawn(async move {
            let mut rep = Report::default();
            barrier.wait().await;
            let deadline = Instant::now() + duration;
            while Instant::now() < deadline {
                if let Some(n) = requests
                    && issued.fetch_add(1, Ordering::Relaxed) >= n
                {
                    break;
                }
                let err = match tokio::time::timeout(TIMEOUT, s.call()).await {
                    Ok(Ok(latency)) => {
                        rep.latency_us.push(latency);
                        rep.done_at.push(Instant::now());
                        continue;
                    }
                    Ok(Err(e)) => format!("{e:#}"),
                    Err(_) => "tools/call timed out".into(),
                };
                rep.error(err);
                // The connection's state is unknown after a failure; the session lives on.
                match load::connect(&s.addr).await {
                    Ok(c) => s.conn = c,
                    Err(e) => {
                        rep.error(format!("reconnect: {e:#}"));
                        break;
                    }
                }
            }
            (s, rep)
        }));
    }
    barrier.wait().await;
    let start = Instant::now();
    let (mut back, mut report) = (Vec::new(), Report::default());
    for t in tasks {
        let (s, rep) = t.await.context("an MCP worker panicked")?;
        back.push(s);
        report.merge(rep);
    }
    report.elapsed = start.elapsed();
    Ok((back, report))
}

impl Bench {
    /// 6. MCP `tools/call` at concurrency 1 and 16: directly to the mock's MCP server and through
    ///    the gateway's MCP endpoint, in alternating rounds after a warmup.
    pub async fn mcp(&mut self, gw: &Proc) -> anyhow::Result<()> {
        let (secs, rounds, warm) = if self.smoke { (1, 1, 50) } else { (5, 2, 500) };
        eprintln!(
            "scenario 6: MCP tools/call at concurrency 1 and 16, {} s each",
            secs * rounds
        );
        // Name, MCP endpoint, and the process that serves it.
        let targets = [
            ("direct", format!("{}/v1/mcp", self.mock), self.mock_pid),
            (
                "sluice",
                format!("{}/mcp-servers/bench/mcp", gw.url),
                gw.pid(),
            ),
        ];
        for c in [1usize, 16] {
            let mut sessions: Vec<Vec<Session>> = Vec::new();
            for (name, url, _) in &targets {
                let url: Uri = url.parse()?;
                let mut v = Vec::with_capacity(c);
                for w in 0..c {
                    let s = Session::open(&url, w).await;
                    v.push(s.with_context(|| format!("opening an MCP session ({name})"))?);
                }
                let (v, rep) = closed_loop(v, Duration::from_secs(60), Some(warm)).await?;
                self.note(&format!("c={c} warmup {name}"), &rep);
                sessions.push(v);
            }
            // Per target: the merged report, and the CPU µs its serving process used.
            let mut acc = vec![(Report::default(), 0u64); targets.len()];
            for round in 0..rounds {
                for (t, (name, _, pid)) in targets.iter().enumerate() {
                    let cpu0 = procs::cpu_us(*pid)?;
                    let v = std::mem::take(&mut sessions[t]);
                    let (v, rep) = closed_loop(v, Duration::from_secs(secs), None).await?;
                    acc[t].1 += procs::cpu_us(*pid)?.saturating_sub(cpu0);
                    sessions[t] = v;
                    self.note(&format!("c={c} round {} {name}", round + 1), &rep);
                    acc[t].0.merge(rep);
                }
            }
            self.mcp_rows(c, secs * rounds, &acc[0], &acc[1]);
        }
        Ok(())
    }

    /// The rows of one concurrency: `direct` and `gw` are (report, CPU µs of the serving process).
    fn mcp_rows(&mut self, c: usize, secs: u64, direct: &(Report, u64), gw: &(Report, u64)) {
        let s = format!("6 MCP tools/call, c={c}");
        let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
        let (d, g) = (
            Sorted::new(&direct.0.latency_us),
            Sorted::new(&gw.0.latency_us),
        );
        for p in [50.0, 99.0] {
            let (gp, dp) = (g.pct(p), d.pct(p));
            self.rows.push(Row::info(
                &s,
                &format!("p{p} latency, `tools/call` of `echo` (JSON answer), Sluice vs direct"),
                us(gp),
                us(dp),
                format!(
                    "{}, {:.1}x",
                    signed_us(gp as i64 - dp as i64),
                    ratio(gp as f64, dp as f64)
                ),
            ));
        }
        self.rows.push(Row::info(
            &s,
            &format!(
                "calls/s, closed loop over {c} session{}, {secs} s each",
                if c == 1 { "" } else { "s" }
            ),
            format!("{:.0} calls/s", gw.0.rps()),
            format!("{:.0} calls/s", direct.0.rps()),
            format!("{:.2}x", ratio(gw.0.rps(), direct.0.rps())),
        ));
        let per = |(r, cpu): &(Report, u64)| cpu / r.count().max(1);
        let (gc, dc) = (per(gw), per(direct));
        self.rows.push(Row::info(
            &s,
            "CPU per call of the serving process (gateway; baseline: the mock)",
            us(gc),
            us(dc),
            format!("{:.1}x", ratio(gc as f64, dc as f64)),
        ));
    }
}
