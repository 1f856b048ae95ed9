//! `sluice-bench run`: starts the mock, the forwarder and the gateway, runs the scenarios, stops
//! everything (children are stopped when dropped, also on error or ctrl-c) and prints the table.

use crate::gateway::GatewaySpec;
use crate::procs::{self, Proc};
use crate::report;
use crate::scenarios::Bench;
use anyhow::{Context, bail};
use std::io::Write;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// Options of `sluice-bench run`.
pub struct RunOpts {
    /// Scaled-down scenarios that only check that everything works.
    pub smoke: bool,
    /// Append the table to this file.
    pub out: Option<PathBuf>,
    /// The gateway binary.
    pub sluice: PathBuf,
    /// Run only this scenario (1-9) or `peers`; all of them when none.
    pub only: Option<String>,
    /// Also run the peers lane (LiteLLM, Portkey).
    pub peers: bool,
}

/// The number of the last scenario.
pub const SCENARIOS: u32 = 9;

/// Starts one of our own subcommands (`mock`, `forward`) as a child.
pub(crate) fn start_self(name: &str, args: &[&str]) -> anyhow::Result<Proc> {
    let exe = std::env::current_exe().context("cannot find this executable")?;
    let mut cmd = Command::new(exe);
    cmd.arg(name).args(args).arg("--parent-watch");
    Proc::start(
        name,
        cmd,
        &format!("{name} listening on "),
        None,
        Duration::from_secs(10),
    )
}

/// Prints how many warning/error lines the gateway logged, if any, with the tail of its log.
pub(crate) fn log_warnings(gw: &Proc) {
    let warnings = gw.stderr_warnings();
    if warnings > 0 {
        eprintln!(
            "the gateway logged {warnings} warning/error lines{}",
            gw.stderr_tail()
        );
    }
}

/// Runs everything; fails if a load had errors or a stream did not complete.
pub async fn run(opts: RunOpts) -> anyhow::Result<()> {
    // `--only peers`: the peers lane alone; `--only N`: scenario N (and the lane with --peers).
    let only_peers = opts.only.as_deref() == Some("peers");
    let only: Option<u32> = match opts.only.as_deref() {
        None | Some("peers") => None,
        Some(n) => match n.parse() {
            Ok(n) if (1..=SCENARIOS).contains(&n) => Some(n),
            _ => bail!("--only {n}: the scenarios are 1 to {SCENARIOS}, or `peers`"),
        },
    };
    let peers = opts.peers || only_peers;
    let want = |n: u32| !only_peers && only.is_none_or(|o| o == n);
    let began = Instant::now();
    let load_before = report::load_average();
    let built = report::modified(&opts.sluice);
    // 2,000 streams: the gateway holds ~4,000 sockets, the mock and this process ~2,000 each.
    procs::ensure_nofile(if opts.smoke { 1024 } else { 8192 })?;
    let dir = tempfile::Builder::new().prefix("sluice-bench-").tempdir()?;
    let mock = start_self("mock", &["--listen", "127.0.0.1:0"])?;
    let fwd = start_self(
        "forward",
        &["--listen", "127.0.0.1:0", "--upstream", &mock.url],
    )?;
    let spec = GatewaySpec::new(&opts.sluice, dir.path(), &mock.url)?;
    eprintln!(
        "mock {}, forwarder {}; starting the gateway",
        mock.url, fwd.url
    );
    let (gw, first) = spec.start().await?;
    eprintln!(
        "gateway {} (pid {}): listening after {} ms, ready after {} ms",
        gw.url,
        gw.pid(),
        first.to_listening.as_millis(),
        first.to_ready.as_millis()
    );
    let mut bench = Bench {
        smoke: opts.smoke,
        mock: mock.url.clone(),
        fwd: fwd.url.clone(),
        gw: gw.url.clone(),
        mock_pid: mock.pid(),
        fwd_pid: fwd.pid(),
        gw_pid: gw.pid(),
        rows: Vec::new(),
        problems: Vec::new(),
    };
    let scenarios = async {
        if want(1) {
            bench.latency().await?;
        }
        if want(2) {
            bench.throughput().await?;
        }
        if want(3) {
            bench.streams(&gw).await?;
        }
        log_warnings(&gw);
        drop(gw);
        if want(4) {
            bench.startup(&spec, &first).await?;
        }
        // Scenario 5 on a gateway of its own, started after the timed starts of scenario 4.
        if want(5) {
            let (gw, _) = spec.start().await?;
            eprintln!("gateway {} (pid {}) for scenario 5", gw.url, gw.pid());
            bench.batch(&gw).await?;
            log_warnings(&gw);
        }
        // Scenario 6 on a gateway of its own as well, with nothing left running from the batch.
        if want(6) {
            let (gw, _) = spec.start().await?;
            eprintln!("gateway {} (pid {}) for scenario 6", gw.url, gw.pid());
            bench.mcp(&gw).await?;
            log_warnings(&gw);
        }
        // Scenario 7 on three gateways of its own, one per `[telemetry]` config.
        if want(7) {
            bench.telemetry(&spec).await?;
        }
        // Scenario 8 on three gateways of its own: no guard, one guard, two guards.
        if want(8) {
            bench.guards(&spec).await?;
        }
        // Scenario 9 on a gateway of its own: every front door of one gateway, side by side.
        if want(9) {
            bench.front_doors(&spec).await?;
        }
        // The peers lane last, on a fresh forwarder and gateway of its own.
        let peer_table = if peers {
            Some(crate::peers::lane(&mut bench, &spec, dir.path()).await?)
        } else {
            None
        };
        anyhow::Ok(peer_table)
    };
    let peer_table = tokio::select! {
        r = scenarios => r?,
        _ = tokio::signal::ctrl_c() => bail!("interrupted"),
    };
    let mut mode = if opts.smoke {
        "smoke run (scaled down; targets are not meaningful)".to_string()
    } else {
        "full run".to_string()
    };
    if let Some(n) = only {
        mode.push_str(&format!(" of scenario {n} only (--only {n})"));
    }
    if only_peers {
        mode.push_str(" of the peers lane only (--only peers)");
    } else if peers {
        mode.push_str(" with the peers lane (--peers)");
    }
    let mut tables = String::new();
    if !bench.rows.is_empty() {
        tables.push_str(&report::table(&bench.rows));
    }
    if let Some(t) = &peer_table {
        if !tables.is_empty() {
            tables.push('\n');
        }
        tables.push_str(t);
    }
    let text = format!(
        "{}\n{} Gateway binary {} (built {built}). Load average {load_before} before, {} after. \
         Sluice-bench {mode}, {:.0} s.\n",
        tables,
        report::machine_line(),
        opts.sluice.display(),
        report::load_average(),
        began.elapsed().as_secs_f64()
    );
    println!("{text}");
    if let Some(out) = &opts.out {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(out)
            .with_context(|| format!("open {}", out.display()))?;
        writeln!(f, "{text}")?;
    }
    if !bench.problems.is_empty() {
        bail!(
            "{} problem(s):\n{}",
            bench.problems.len(),
            bench.problems.join("\n")
        );
    }
    Ok(())
}
