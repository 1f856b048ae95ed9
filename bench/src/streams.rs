//! Scenarios 3 (concurrent SSE streams) and 4 (startup) of `sluice-bench run`.

use crate::gateway::{GatewaySpec, Startup};
use crate::procs::{self, Proc};
use crate::report::{Row, mb, signed_us};
use crate::scenarios::{Bench, chat_body};
use crate::stats::{Report, Sorted};
use serde_json::json;
use std::time::Duration;

impl Bench {
    /// 3. Concurrent SSE streams: direct to the mock, then through Sluice; completion, added
    ///    inter-chunk delay, time to first byte, and the gateway's peak RSS.
    pub async fn streams(&mut self, gateway: &Proc) -> anyhow::Result<()> {
        let (n, chunks, secs) = if self.smoke {
            (100u64, 5u64, 30)
        } else {
            (2000, 20, 120)
        };
        let interval_us = 50_000i64;
        eprintln!("scenario 3: {n} concurrent streams of {chunks} chunks, 50 ms apart");
        let body =
            chat_body(json!({"stream": true, "mock_chunks": chunks, "mock_interval_ms": 50}))?;
        let mut reps = Vec::new();
        // CPU of the process that serves the client: the mock directly, then the gateway.
        let mut cpu = Vec::new();
        let targets = [
            ("mock", self.mock.clone(), self.mock_pid),
            ("sluice", self.gw.clone(), self.gw_pid),
        ];
        for (name, base, pid) in targets {
            let mut cfg = self.cfg(&base, &body, n as usize, Some(n), secs)?;
            cfg.stream = true;
            let cpu0 = procs::cpu_us(pid)?;
            let rep = self.load(&format!("{n} streams {name}"), &cfg).await?;
            cpu.push(procs::cpu_us(pid)?.saturating_sub(cpu0));
            if rep.streams_completed != n || rep.content_events != n * chunks {
                self.problems.push(format!(
                    "{name}: {}/{n} streams completed, {}/{} chunks",
                    rep.streams_completed,
                    rep.content_events,
                    n * chunks
                ));
            }
            reps.push(rep);
        }
        let (mock, gw) = (&reps[0], &reps[1]);
        let s = "3 streams";
        let done = |r: &Report| {
            format!(
                "{}/{n} (peak {} open)",
                r.streams_completed, r.peak_inflight
            )
        };
        let ok = gw.streams_completed == n && gw.errors == 0;
        self.rows.push(
            Row::info(
                s,
                &format!("streams completed ({n} concurrent × {chunks} chunks, 50 ms apart)"),
                done(gw),
                done(mock),
                "—".into(),
            )
            .target("all complete", ok),
        );
        let (gg, mg) = (Sorted::new(&gw.gaps_us), Sorted::new(&mock.gaps_us));
        let gap = |g: &Sorted| {
            format!(
                "{} (p50 {})",
                signed_us(g.pct(99.0) as i64 - interval_us),
                signed_us(g.pct(50.0) as i64 - interval_us)
            )
        };
        self.rows.push(Row::info(
            s,
            "added inter-chunk delay p99 (gap − 50 ms)",
            gap(&gg),
            gap(&mg),
            signed_us(gg.pct(99.0) as i64 - mg.pct(99.0) as i64),
        ));
        let (gs, ms) = (
            Sorted::new(&gw.steady_gaps_us()),
            Sorted::new(&mock.steady_gaps_us()),
        );
        self.rows.push(Row::info(
            s,
            "same, only gaps after every stream had started (steady forwarding)",
            gap(&gs),
            gap(&ms),
            signed_us(gs.pct(99.0) as i64 - ms.pct(99.0) as i64),
        ));
        let (gt, mt) = (Sorted::new(&gw.ttfb_us), Sorted::new(&mock.ttfb_us));
        let ttfb = |t: &Sorted| {
            format!(
                "p50 {:.1} ms, p99 {:.1} ms",
                t.pct(50.0) as f64 / 1e3,
                t.pct(99.0) as f64 / 1e3
            )
        };
        self.rows.push(Row::info(
            s,
            "time to first byte",
            ttfb(&gt),
            ttfb(&mt),
            format!(
                "p99 {}",
                signed_us(gt.pct(99.0) as i64 - mt.pct(99.0) as i64)
            ),
        ));
        let cpu_cell = |us: u64, r: &Report| {
            let secs = r.elapsed.as_secs_f64().max(1e-3);
            format!(
                "{:.2} s over {:.2} s ({:.0}% of a core), {} µs per chunk",
                us as f64 / 1e6,
                secs,
                us as f64 / 1e4 / secs,
                us / r.content_events.max(1)
            )
        };
        self.rows.push(Row::info(
            s,
            "CPU of the serving process during the run (gateway; baseline: the mock alone)",
            cpu_cell(cpu[1], gw),
            cpu_cell(cpu[0], mock),
            "—".into(),
        ));
        let hwm = gateway.status_kb("VmHWM")?;
        let rss = gateway.status_kb("VmRSS")?;
        self.rows.push(
            Row::info(
                s,
                "gateway peak RSS (VmHWM over scenarios 1-3)",
                mb(hwm),
                "—".into(),
                format!("still {} resident after the streams ended", mb(rss)),
            )
            .target("< 300 MB", hwm < 300 * 1024),
        );
        if !self.smoke {
            // The gateway gives a burst's memory back once the burst is over (it looks every
            // 5 s); the target is a minute after, measured here sooner.
            tokio::time::sleep(std::time::Duration::from_secs(15)).await;
            let later = gateway.status_kb("VmRSS")?;
            self.rows.push(
                Row::info(
                    s,
                    "gateway RSS 15 s after the streams ended",
                    mb(later),
                    "—".into(),
                    format!("{} right after", mb(rss)),
                )
                .target("<= 80 MB", later <= 80 * 1024),
            );
        }
        Ok(())
    }

    /// 4. Idle RSS and time from spawn to ready, on starts after the first (warm caches).
    pub async fn startup(&mut self, spec: &GatewaySpec, first: &Startup) -> anyhow::Result<()> {
        let starts = if self.smoke { 1 } else { 3 };
        eprintln!("scenario 4: idle RSS and spawn-to-ready, {starts} restarts");
        let mut runs = Vec::new();
        for _ in 0..starts {
            let (_gw, st) = spec.start().await?;
            eprintln!(
                "  start: listening {} ms, ready {} ms, RSS {}",
                st.to_listening.as_millis(),
                st.to_ready.as_millis(),
                mb(st.rss_kb)
            );
            runs.push(st);
        }
        runs.sort_by_key(|s| s.to_ready);
        let med = &runs[runs.len() / 2];
        let (max_ready, max_rss) = (
            runs.iter().map(|s| s.to_ready).max().unwrap_or_default(),
            runs.iter().map(|s| s.rss_kb).max().unwrap_or_default(),
        );
        let s = "4 startup";
        let of = if starts > 1 {
            format!(", median of {starts}")
        } else {
            String::new()
        };
        self.rows.push(
            Row::info(
                s,
                &format!("idle RSS after start (2nd+ start{of})"),
                format!("{} (max {})", mb(med.rss_kb), mb(max_rss)),
                format!("1st start: {}", mb(first.rss_kb)),
                "—".into(),
            )
            .target("< 50 MB", max_rss < 50 * 1024),
        );
        self.rows.push(
            Row::info(
                s,
                &format!("spawn → ready: listening line + first 200 (2nd+ start{of})"),
                format!(
                    "{} ms (listening {} ms, max {} ms)",
                    med.to_ready.as_millis(),
                    med.to_listening.as_millis(),
                    max_ready.as_millis()
                ),
                format!("1st start: {} ms", first.to_ready.as_millis()),
                "—".into(),
            )
            .target("< 1 s", max_ready < Duration::from_secs(1)),
        );
        Ok(())
    }
}
