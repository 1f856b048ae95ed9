//! `sluice-bench run --peers`: the gateways users would pick instead of Sluice (LiteLLM's proxy,
//! Portkey's gateway), installed under `.cache/peers` and measured beside Sluice and the bare
//! forwarder against the same mock with the same loads. Its own table, one column per target.
//! A peer that cannot be installed or started, or that dies, gets the reason in its cells and
//! the rest of the run goes on.

mod litellm;
mod portkey;
mod proc;
mod table;

use crate::gateway::GatewaySpec;
use crate::load::{self, LoadConfig};
use crate::procs::Proc;
use crate::scenarios::{Bench, chat_body};
use crate::stats::{Report, Sorted};
use http::{HeaderName, HeaderValue};
use proc::PeerProc;
use serde_json::json;
use std::path::Path;
use std::time::Duration;

/// One column of the table: where its requests go, and what was found.
pub(crate) struct Col {
    /// Column heading.
    pub name: String,
    /// Base URL.
    base: String,
    /// Request headers (Portkey needs its own).
    headers: Vec<(HeaderName, HeaderValue)>,
    /// Root process to measure (CPU, RSS over its tree); none for direct-to-mock's RSS.
    pid: Option<u32>,
    /// The serving process for CPU (the mock for the direct column).
    cpu_pid: u32,
    /// A peer (its load errors are shown, not counted as problems of the run).
    peer: bool,
    /// What it is compared with.
    pub role: Role,
    /// Why it is not measured (install, start, or it died).
    pub failed: Option<String>,
    /// The peer's process, held until the lane ends.
    proc: Option<PeerProc>,
    /// What was measured.
    pub found: Found,
}

/// What a column is, for the comparisons of the table.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// Direct to the mock: the latency baseline.
    Direct,
    /// The bare forwarder: the throughput baseline.
    Forwarder,
    /// A gateway.
    Gateway,
}

/// Numbers of one column.
#[derive(Default)]
pub(crate) struct Found {
    /// Spawn to the first 200, and RSS (tree sum, kB) when idle after that.
    pub ready: Option<(Duration, u64)>,
    /// Per round: p50 and p99 latency at c=1, µs.
    pub p50: Vec<i64>,
    /// See `p50`.
    pub p99: Vec<i64>,
    /// Latency loads' failures.
    pub lat_errors: u64,
    /// Throughput at c=16 and c=64: merged report and CPU µs of the tree.
    pub rps: [(Report, u64); 2],
    /// The concurrent streams.
    pub stream: Option<Report>,
    /// Peak (VmHWM) and current RSS summed over the process tree, kB, and its size.
    pub rss: Option<(u64, u64, usize)>,
    /// First error messages.
    pub samples: Vec<String>,
}

/// Sizes of the lane: (warmup, rounds, requests per round, secs per throughput round,
/// throughput rounds, concurrent streams).
fn sizes(smoke: bool) -> (u64, usize, u64, u64, usize, u64) {
    if smoke {
        (20, 1, 100, 1, 1, 50)
    } else {
        (200, 5, 300, 3, 2, 200)
    }
}

/// The concurrencies of the throughput rows.
pub(crate) const CONC: [usize; 2] = [16, 64];

impl Col {
    /// A load of `cfg`'s shape against this column.
    fn cfg(
        &self,
        bench: &Bench,
        body: &bytes::Bytes,
        c: usize,
        n: Option<u64>,
        secs: u64,
    ) -> anyhow::Result<LoadConfig> {
        let mut cfg = bench.cfg(&self.base, body, c, n, secs)?;
        cfg.headers = self.headers.clone();
        Ok(cfg)
    }

    /// Runs a load; notes its errors (problems of the run unless this is a peer).
    async fn load(
        &mut self,
        bench: &mut Bench,
        what: &str,
        cfg: &LoadConfig,
    ) -> anyhow::Result<Report> {
        let rep = load::run(cfg).await?;
        let lat = Sorted::new(&rep.latency_us);
        eprintln!(
            "  {} {what}: {} ok, {} errors, {:.0} req/s, p50 {} µs, p99 {} µs",
            self.name,
            rep.count(),
            rep.errors,
            rep.rps(),
            lat.pct(50.0),
            lat.pct(99.0)
        );
        if rep.errors > 0 {
            for s in &rep.error_samples {
                if self.found.samples.len() < 3 {
                    self.found.samples.push(s.clone());
                }
            }
            if !self.peer {
                bench.problems.push(format!(
                    "peers lane, {} {what}: {} errors, e.g. {:?}",
                    self.name, rep.errors, rep.error_samples
                ));
            }
        }
        Ok(rep)
    }

    /// Marks a peer failed if its process has exited.
    fn check(&mut self) {
        if let Some(p) = self.proc.as_mut()
            && let Err(e) = p.check_alive()
        {
            eprintln!("peers: {e:#}");
            self.failed = Some(format!("{e:#}"));
            self.proc = None;
        }
    }
}

/// The headers of every request (an OpenAI SDK's), with `authorization` replaced and `extra` added.
fn headers(auth: &'static str, extra: &[(&'static str, String)]) -> Vec<(HeaderName, HeaderValue)> {
    let mut out: Vec<(HeaderName, HeaderValue)> = crate::scenarios::HEADERS
        .iter()
        .filter(|(k, _)| *k != "authorization")
        .map(|(k, v)| (HeaderName::from_static(k), HeaderValue::from_static(v)))
        .collect();
    out.push((
        HeaderName::from_static("authorization"),
        HeaderValue::from_static(auth),
    ));
    for (k, v) in extra {
        if let Ok(v) = HeaderValue::from_str(v) {
            out.push((HeaderName::from_static(k), v));
        }
    }
    out
}

/// A column for a peer that started, or failed to.
fn peer_col(
    name: String,
    started: anyhow::Result<PeerProc>,
    headers: Vec<(HeaderName, HeaderValue)>,
) -> Col {
    let mut col = Col {
        name,
        base: String::new(),
        headers,
        pid: None,
        cpu_pid: 0,
        peer: true,
        role: Role::Gateway,
        failed: None,
        proc: None,
        found: Found::default(),
    };
    match started {
        Ok(p) => {
            eprintln!(
                "peers: {} at {} (pid {}), ready after {} ms",
                p.name,
                p.url,
                p.pid(),
                p.to_ready.as_millis()
            );
            col.base = p.url.clone();
            col.pid = Some(p.pid());
            col.cpu_pid = p.pid();
            col.found.ready = Some((p.to_ready, 0));
            col.proc = Some(p);
        }
        Err(e) => {
            eprintln!("peers: {} not measured: {e:#}", col.name);
            col.failed = Some(format!("{e:#}"));
        }
    }
    col
}

/// Runs the peers lane: a fresh forwarder and gateway, the two peers, and the loads, in `dir`.
/// Returns the table with its notes.
pub async fn lane(bench: &mut Bench, spec: &GatewaySpec, dir: &Path) -> anyhow::Result<String> {
    eprintln!(
        "peers: LiteLLM {} and Portkey {} beside Sluice",
        litellm::VERSION,
        portkey::VERSION
    );
    let mock = bench.mock.clone();
    let fwd: Proc =
        crate::run::start_self("forward", &["--listen", "127.0.0.1:0", "--upstream", &mock])?;
    let (gw, gw_start) = spec.start().await?;
    let ready_body = chat_body(json!({}))?;
    let probe = |hs: Vec<(HeaderName, HeaderValue)>| {
        let body = ready_body.clone();
        move |url: &str| -> anyhow::Result<LoadConfig> {
            Ok(LoadConfig {
                url: format!("{url}/v1/chat/completions").parse()?,
                concurrency: 1,
                duration: Duration::from_secs(10),
                requests: Some(1),
                body: body.clone(),
                headers: hs.clone(),
                stream: false,
                stream_end: Default::default(),
                request_timeout: Duration::from_secs(10),
                connect_concurrency: 0,
                stop: None,
            })
        }
    };
    let std_headers = headers("Bearer sk-bench", &[]);
    let pk_headers = headers(
        "Bearer x",
        &[
            ("x-portkey-provider", "openai".into()),
            ("x-portkey-custom-host", format!("{mock}/v1")),
        ],
    );
    let lite = litellm::start(&mock, dir, probe(std_headers.clone())).await;
    let lite = peer_col(
        format!("LiteLLM {}", litellm::VERSION),
        lite,
        std_headers.clone(),
    );
    let pk = portkey::start(dir, probe(pk_headers.clone())).await;
    let pk = peer_col(format!("Portkey {}", portkey::VERSION), pk, pk_headers);
    let base = |name: &str, role: Role, url: &str, pid: Option<u32>, cpu_pid: u32| Col {
        name: name.into(),
        base: url.into(),
        headers: std_headers.clone(),
        pid,
        cpu_pid,
        peer: false,
        role,
        failed: None,
        proc: None,
        found: Found::default(),
    };
    let mut cols = vec![
        base("direct to mock", Role::Direct, &mock, None, bench.mock_pid),
        base(
            "bare forwarder",
            Role::Forwarder,
            &fwd.url,
            Some(fwd.pid()),
            fwd.pid(),
        ),
        base("Sluice", Role::Gateway, &gw.url, Some(gw.pid()), gw.pid()),
        lite,
        pk,
    ];
    cols[1].found.ready = Some((fwd.to_listening, 0));
    cols[2].found.ready = Some((gw_start.to_ready, 0));
    tokio::time::sleep(Duration::from_millis(300)).await;
    for c in cols.iter_mut() {
        if let (Some(pid), Some((t, _))) = (c.pid, c.found.ready) {
            c.found.ready = Some((t, proc::tree_kb(pid, "VmRSS").0));
        }
    }
    measure(bench, &mut cols).await?;
    for c in cols.iter_mut().filter(|c| c.failed.is_none()) {
        if let Some(pid) = c.pid {
            let (hwm, n) = proc::tree_kb(pid, "VmHWM");
            c.found.rss = Some((hwm, proc::tree_kb(pid, "VmRSS").0, n));
        }
    }
    crate::run::log_warnings(&gw);
    Ok(table::render(&cols, bench.smoke))
}

/// Runs the loads, alternating between the live columns.
async fn measure(bench: &mut Bench, cols: &mut [Col]) -> anyhow::Result<()> {
    let (warm, rounds, n, secs, tp_rounds, streams) = sizes(bench.smoke);
    let body = chat_body(json!({}))?;
    eprintln!("peers: latency at c=1, {rounds} rounds of {n} requests after {warm} warmup");
    for c in cols.iter_mut().filter(|c| c.failed.is_none()) {
        let cfg = c.cfg(bench, &body, 1, Some(warm), 120)?;
        c.load(bench, "warmup", &cfg).await?;
        c.check();
    }
    for r in 0..rounds {
        for c in cols.iter_mut().filter(|c| c.failed.is_none()) {
            let cfg = c.cfg(bench, &body, 1, Some(n), 120)?;
            let rep = c
                .load(bench, &format!("latency round {}", r + 1), &cfg)
                .await?;
            let lat = Sorted::new(&rep.latency_us);
            c.found.p50.push(lat.pct(50.0) as i64);
            c.found.p99.push(lat.pct(99.0) as i64);
            c.found.lat_errors += rep.errors;
            c.check();
        }
    }
    for (i, conc) in CONC.into_iter().enumerate() {
        eprintln!("peers: req/s at c={conc}, {tp_rounds} x {secs} s each");
        for _ in 0..tp_rounds {
            for c in cols.iter_mut().filter(|c| c.failed.is_none()) {
                let cfg = c.cfg(bench, &body, conc, None, secs)?;
                let cpu0 = proc::tree_cpu_us(c.cpu_pid);
                let rep = c.load(bench, &format!("c={conc}"), &cfg).await?;
                let cpu = proc::tree_cpu_us(c.cpu_pid).saturating_sub(cpu0);
                c.found.rps[i].0.merge(rep);
                c.found.rps[i].1 += cpu;
                c.check();
            }
        }
    }
    eprintln!("peers: {streams} concurrent streams (the mock's 20 chunks, back to back)");
    let sbody = chat_body(json!({"stream": true}))?;
    for c in cols.iter_mut().filter(|c| c.failed.is_none()) {
        let mut cfg = c.cfg(bench, &sbody, streams as usize, Some(streams), 60)?;
        cfg.stream = true;
        let rep = c.load(bench, &format!("{streams} streams"), &cfg).await?;
        if !c.peer && rep.streams_completed != streams {
            bench.problems.push(format!(
                "peers lane, {}: {}/{streams} streams completed",
                c.name, rep.streams_completed
            ));
        }
        c.found.stream = Some(rep);
        c.check();
    }
    Ok(())
}
