//! `sluice-bench scale`: what sharing the plugins' `kv` through Redis costs, and what several
//! replicas give. Against the mock, with the benchmark's pipeline (key-auth, rate-limit, openai,
//! cost), a Redis of its own on loopback (`SLUICE_REDIS_SERVER` or `redis-server`):
//!
//! 1. Added latency at c=1, limits counted in memory vs in Redis: the two gateways alternate in
//!    rounds, each against the mock measured directly in the same rounds.
//! 2. Requests per second at c=64: one replica with Redis, then three replicas sharing it (the
//!    64 connections spread over them), over the same duration.
//!
//! On a 2-core machine three replicas share the same two cores as one, so (2) shows what the
//! sharing costs rather than what more machines give.

use crate::gateway::GatewaySpec;
use crate::load::{self, LoadConfig};
use crate::run::start_self;
use crate::scenarios::chat_body;
use crate::stats::{Report, Sorted};
use anyhow::Context;
use http::{HeaderName, HeaderValue};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// What to measure.
pub struct ScaleOpts {
    /// The gateway binary.
    pub sluice: PathBuf,
    /// Seconds per measured run.
    pub seconds: f64,
    /// Rounds of the c=1 comparison.
    pub rounds: u32,
    /// Append the report here.
    pub out: Option<PathBuf>,
}

/// A Redis of this run's own; killed on drop.
struct Redis {
    child: Child,
    url: String,
}

impl Redis {
    fn start() -> anyhow::Result<Redis> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let bin = std::env::var("SLUICE_REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
        let child = Command::new(&bin)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {bin} (scripts/services-env installs it)"))?;
        for _ in 0..500 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(Redis {
                    child,
                    url: format!("redis://127.0.0.1:{port}/"),
                });
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        anyhow::bail!("redis-server on port {port} did not start")
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn load_config(url: &str, concurrency: usize, seconds: f64) -> anyhow::Result<LoadConfig> {
    Ok(LoadConfig {
        url: url.parse()?,
        concurrency,
        duration: Duration::from_secs_f64(seconds),
        requests: None,
        body: chat_body(serde_json::json!({}))?,
        headers: vec![(
            HeaderName::from_static("authorization"),
            HeaderValue::from_static("Bearer sk-bench"),
        )],
        stream: false,
        stream_end: Default::default(),
        request_timeout: Duration::from_secs(30),
        connect_concurrency: 64,
        stop: None,
    })
}

/// One load run; fails on any error.
async fn measure(url: &str, concurrency: usize, seconds: f64) -> anyhow::Result<Report> {
    let rep = load::run(&load_config(url, concurrency, seconds)?).await?;
    anyhow::ensure!(
        rep.errors == 0,
        "{url}: {} errors: {:?}",
        rep.errors,
        rep.error_samples
    );
    Ok(rep)
}

/// Runs both measurements and prints (and appends to `out`) a Markdown report.
pub async fn run(opts: ScaleOpts) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mock = start_self("mock", &["--listen", "127.0.0.1:0"])?;
    let redis = Redis::start()?;
    let spec = GatewaySpec::new(&opts.sluice, dir.path(), &mock.url)?;
    let kv = format!("\n[kv]\nbackend = \"redis\"\nurl = \"{}\"\n", redis.url);
    let (memory_gw, _) = spec.start().await?;
    let redis_specs: Vec<GatewaySpec> = (0..3)
        .map(|i| spec.variant(&format!("redis{i}"), &kv, &[]))
        .collect::<anyhow::Result<_>>()?;
    let mut redis_gws = Vec::new();
    for s in &redis_specs {
        redis_gws.push(s.start().await?.0);
    }
    let chat = |url: &str| format!("{url}/v1/chat/completions");
    let direct = chat(&mock.url);
    let (on_memory, on_redis) = (chat(&memory_gw.url), chat(&redis_gws[0].url));

    // 1. c=1: rounds alternating direct, memory, Redis.
    let (mut d, mut m, mut r) = (Report::default(), Report::default(), Report::default());
    measure(&on_redis, 1, 1.0).await?; // warm-up: connections, plugin instances, scripts
    measure(&on_memory, 1, 1.0).await?;
    for _ in 0..opts.rounds {
        d.merge(measure(&direct, 1, opts.seconds).await?);
        m.merge(measure(&on_memory, 1, opts.seconds).await?);
        r.merge(measure(&on_redis, 1, opts.seconds).await?);
    }
    let pct = |rep: &Report, p: f64| Sorted::new(&rep.latency_us).pct(p) as i64;
    let added = |rep: &Report, p: f64| pct(rep, p) - pct(&d, p);

    // 2. c=64: one replica, then three, each with Redis.
    let one = measure(&on_redis, 64, opts.seconds).await?;
    let urls: Vec<String> = redis_gws.iter().map(|g| chat(&g.url)).collect();
    let runs = urls.iter().enumerate().map(|(i, u)| {
        // 64 connections over three replicas: 22, 21, 21.
        let c = 64 / 3 + usize::from(i < 64 % 3);
        measure(u, c, opts.seconds)
    });
    let three: Vec<Report> = futures::future::try_join_all(runs).await?;
    let three_rps: f64 = three.iter().map(Report::rps).sum();

    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let report = format!(
        "\n### `sluice-bench scale` ({cores} cores, {rounds} rounds of {secs} s at c=1)\n\n\
         | | p50 | p99 |\n|---|---|---|\n\
         | direct to the mock | {dp50} µs | {dp99} µs |\n\
         | added, limits in memory | +{mp50} µs | +{mp99} µs |\n\
         | added, limits in Redis | +{rp50} µs | +{rp99} µs |\n\
         | Redis's share (Redis − memory) | +{xp50} µs | +{xp99} µs |\n\n\
         | c=64, limits in Redis | req/s | vs one replica |\n|---|---|---|\n\
         | one replica | {one_rps:.0} | 1.00x |\n\
         | three replicas (64 connections spread) | {three_rps:.0} | {ratio:.2}x |\n",
        rounds = opts.rounds,
        secs = opts.seconds,
        dp50 = pct(&d, 50.0),
        dp99 = pct(&d, 99.0),
        mp50 = added(&m, 50.0),
        mp99 = added(&m, 99.0),
        rp50 = added(&r, 50.0),
        rp99 = added(&r, 99.0),
        xp50 = pct(&r, 50.0) - pct(&m, 50.0),
        xp99 = pct(&r, 99.0) - pct(&m, 99.0),
        one_rps = one.rps(),
        ratio = three_rps / one.rps().max(1.0),
    );
    print!("{report}");
    if let Some(out) = &opts.out {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(out)?;
        f.write_all(report.as_bytes())?;
    }
    Ok(())
}
