//! A closed-loop load generator: `concurrency` keep-alive HTTP/1.1 connections, each sending its
//! next request as soon as the previous answer ended, until the duration is over or the request
//! count is reached. All connections are opened before the clock starts.

use crate::sse::{SseState, StreamEnd};
use crate::stats::Report;
use anyhow::Context;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::{Barrier, Semaphore};
use tokio::time::Instant;

/// What to send, how hard, and for how long.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// Full URL (`http://HOST:PORT/path`).
    pub url: Uri,
    /// Connections, each with one request in flight at a time.
    pub concurrency: usize,
    /// Stop starting requests after this long.
    pub duration: Duration,
    /// Stop after this many requests (over all connections).
    pub requests: Option<u64>,
    /// Request body (POSTed).
    pub body: Bytes,
    /// Extra headers.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Read answers as SSE streams and record stream statistics.
    pub stream: bool,
    /// How a stream ends well (a stream that does not is an error).
    pub stream_end: StreamEnd,
    /// Deadline of one request, headers to the end of the body.
    pub request_timeout: Duration,
    /// At most this many connects at once while opening the connections (0: all at once). A
    /// burst larger than the server's listen backlog overflows its accept queue, and the overflowed
    /// connections then stall for 1-3 s of SYN-ACK retransmits.
    pub connect_concurrency: usize,
    /// Stop starting requests once this is set (another task ends the load early).
    pub stop: Option<Arc<AtomicBool>>,
}

/// Counters shared by the connections of one run.
#[derive(Default)]
struct Shared {
    issued: AtomicU64,
    inflight: AtomicU64,
    peak: AtomicU64,
}

/// One live connection.
pub(crate) type Conn = SendRequest<Full<Bytes>>;

/// Runs the load and returns what it recorded.
pub async fn run(cfg: &LoadConfig) -> anyhow::Result<Report> {
    let authority = cfg.url.authority().context("the URL needs a host")?.clone();
    let port = authority.port_u16().unwrap_or(80);
    let addr = format!("{}:{port}", authority.host());
    let cfg = Arc::new(cfg.clone());
    let shared = Arc::new(Shared::default());
    let barrier = Arc::new(Barrier::new(cfg.concurrency + 1));
    let permits = match cfg.connect_concurrency {
        0 => Semaphore::MAX_PERMITS,
        n => n,
    };
    let gate = Arc::new(Semaphore::new(permits));
    let mut workers = Vec::with_capacity(cfg.concurrency);
    for _ in 0..cfg.concurrency {
        let (cfg, shared, barrier, gate, addr) = (
            Arc::clone(&cfg),
            Arc::clone(&shared),
            Arc::clone(&barrier),
            Arc::clone(&gate),
            addr.clone(),
        );
        workers.push(tokio::spawn(worker(cfg, shared, barrier, gate, addr)));
    }
    barrier.wait().await;
    let start = Instant::now();
    let mut report = Report::default();
    for w in workers {
        report.merge(w.await.context("a load worker panicked")?);
    }
    report.elapsed = start.elapsed();
    report.peak_inflight = shared.peak.load(Ordering::Relaxed);
    Ok(report)
}

/// Opens one keep-alive connection.
pub(crate) async fn connect(addr: &str) -> anyhow::Result<Conn> {
    let tcp = tokio::time::timeout(Duration::from_secs(10), TcpStream::connect(addr))
        .await
        .context("connect timed out")?
        .with_context(|| format!("connect to {addr}"))?;
    tcp.set_nodelay(true)?;
    let (sender, conn) = http1::handshake(TokioIo::new(tcp)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

/// One connection's loop.
async fn worker(
    cfg: Arc<LoadConfig>,
    shared: Arc<Shared>,
    barrier: Arc<Barrier>,
    gate: Arc<Semaphore>,
    addr: String,
) -> Report {
    let mut rep = Report::default();
    let permit = gate.acquire().await;
    let mut conn = match connect(&addr).await {
        Ok(c) => Some(c),
        Err(e) => {
            rep.error(format!("{e:#}"));
            None
        }
    };
    drop(permit);
    barrier.wait().await;
    let deadline = Instant::now() + cfg.duration;
    while Instant::now() < deadline {
        if cfg.stop.as_ref().is_some_and(|s| s.load(Ordering::Relaxed)) {
            break;
        }
        if let Some(n) = cfg.requests
            && shared.issued.fetch_add(1, Ordering::Relaxed) >= n
        {
            break;
        }
        let mut sender = match conn.take() {
            Some(s) if !s.is_closed() => s,
            _ => match connect(&addr).await {
                Ok(s) => s,
                Err(e) => {
                    rep.error(format!("{e:#}"));
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        match tokio::time::timeout(
            cfg.request_timeout,
            one(&mut sender, &cfg, &shared, &mut rep),
        )
        .await
        {
            Ok(Ok(())) => conn = Some(sender),
            // After a failure the connection is dropped: its state is unknown.
            Ok(Err(e)) => rep.error(format!("{e:#}")),
            Err(_) => rep.error("request timed out"),
        }
    }
    rep
}

/// Counts a request in flight for as long as it lives.
struct Inflight<'a>(&'a Shared);

impl<'a> Inflight<'a> {
    /// Counts one more request in flight.
    fn new(s: &'a Shared) -> Self {
        let now = s.inflight.fetch_add(1, Ordering::Relaxed) + 1;
        s.peak.fetch_max(now, Ordering::Relaxed);
        Inflight(s)
    }
}

impl Drop for Inflight<'_> {
    fn drop(&mut self) {
        self.0.inflight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Sends one request and reads its whole answer, recording into `rep`.
async fn one(
    sender: &mut Conn,
    cfg: &LoadConfig,
    shared: &Shared,
    rep: &mut Report,
) -> anyhow::Result<()> {
    let path = cfg.url.path_and_query().map_or("/", |p| p.as_str());
    let mut req = Request::post(path).body(Full::new(cfg.body.clone()))?;
    let h = req.headers_mut();
    if let Some(a) = cfg.url.authority() {
        h.insert(http::header::HOST, HeaderValue::from_str(a.as_str())?);
    }
    h.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    for (k, v) in &cfg.headers {
        h.insert(k.clone(), v.clone());
    }
    sender.ready().await?;
    let _inflight = Inflight::new(shared);
    let t0 = Instant::now();
    let resp = sender.send_request(req).await?;
    let status = resp.status();
    let overhead = resp
        .headers()
        .get("x-sluice-overhead-us")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let mut body = resp.into_body();
    if !status.is_success() {
        let bytes = body.collect().await?.to_bytes();
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned();
        anyhow::bail!("status {status}: {text}");
    }
    let mut stream = cfg.stream.then(|| SseState::new(cfg.stream_end));
    let mut ttfb = None;
    while let Some(frame) = body.frame().await {
        let frame = frame?;
        if let Some(data) = frame.data_ref() {
            let now = Instant::now();
            ttfb.get_or_insert(now - t0);
            if let Some(s) = stream.as_mut() {
                s.push(data, now)?;
            }
        }
    }
    let latency = t0.elapsed();
    if let Some(s) = stream {
        anyhow::ensure!(s.done, "stream did not end with {}", cfg.stream_end);
        rep.streams_completed += 1;
        rep.content_events += s.events;
        rep.gaps_us.extend(s.gaps_us);
        rep.gaps_at.extend(s.gaps_at);
        rep.last_first_byte = rep.last_first_byte.max(Some(t0 + ttfb.unwrap_or(latency)));
        rep.ttfb_us.push(ttfb.unwrap_or(latency).as_micros() as u64);
    }
    rep.latency_us.push(latency.as_micros() as u64);
    rep.done_at.push(t0 + latency);
    rep.overhead_us.extend(overhead);
    Ok(())
}

/// Sets `"stream": true` in a JSON object body that does not say otherwise.
pub fn ensure_stream(body: &[u8]) -> anyhow::Result<Bytes> {
    let mut v: serde_json::Value = serde_json::from_slice(body).context("the body is not JSON")?;
    let obj = v.as_object_mut().context("the body is not a JSON object")?;
    obj.entry("stream").or_insert(serde_json::Value::Bool(true));
    Ok(Bytes::from(serde_json::to_vec(&v)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_flag_is_added() -> anyhow::Result<()> {
        let b = ensure_stream(br#"{"model":"m"}"#)?;
        let v: serde_json::Value = serde_json::from_slice(&b)?;
        assert_eq!(v["stream"], true);
        Ok(())
    }
}
