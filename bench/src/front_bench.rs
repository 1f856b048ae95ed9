//! Scenario 9 of `sluice-bench run`: what the front doors add. One gateway, started afresh with
//! `bench/gateway.toml` (the `openai` adapter without `native_responses`, so both doors take the
//! translated lane to the mock's chat completions), gets scenario 1's conversation at c=1 as
//! (a) a chat completion (the baseline), (b) an Anthropic Messages request, (c) a Responses
//! request with `store: false` and (d) the same with `store: true` (a SQLite row per response),
//! each whole and streamed, with the mock directly for context. One answer of each lane is checked
//! first (`front_check.rs`); then every answer must be a 200, and every stream must end with its
//! API's closing event, or the run fails.

use crate::front_check::{self, Api, DELTAS};
use crate::gateway::GatewaySpec;
use crate::load::LoadConfig;
use crate::procs;
use crate::report::{Row, signed_us, us};
use crate::run::log_warnings;
use crate::scenarios::{Bench, median};
use crate::stats::{Report, Sorted};

/// The lanes: short name, description, API, and whether it goes through the gateway.
const LANES: [(&str, &str, Api, bool); 5] = [
    ("direct", "direct to the mock", Api::Chat, false),
    ("(a)", "(a) chat completion", Api::Chat, true),
    ("(b)", "(b) Messages", Api::Messages, true),
    (
        "(c)",
        "(c) Responses `store: false`",
        Api::Responses(false),
        true,
    ),
    (
        "(d)",
        "(d) Responses `store: true`",
        Api::Responses(true),
        true,
    ),
];

/// The two ways of reading an answer: whole (JSON) and streamed (SSE).
const MODES: [(bool, &str); 2] = [(false, "whole (JSON)"), (true, "streamed (SSE)")];

/// What one lane recorded in one mode: a report per round, and the gateway's CPU µs.
#[derive(Default, Clone)]
struct Lane {
    rounds: Vec<Report>,
    cpu_us: u64,
}

impl Lane {
    /// Successful requests over all rounds.
    fn count(&self) -> u64 {
        self.rounds.iter().map(Report::count).sum()
    }

    /// The gateway's CPU µs per request.
    fn cpu_per(&self) -> u64 {
        self.cpu_us / self.count().max(1)
    }
}

impl Bench {
    /// A c=1 load of `n` requests of `api` to `base`, whole or streamed.
    fn front_cfg(&self, base: &str, api: Api, stream: bool, n: u64) -> anyhow::Result<LoadConfig> {
        let mut cfg = self.cfg(base, &api.body(stream)?, 1, Some(n), 300)?;
        cfg.url = format!("{base}{}", api.path()).parse()?;
        cfg.headers = api.headers();
        cfg.stream = stream;
        cfg.stream_end = api.end();
        Ok(cfg)
    }

    /// 9. Front doors: lanes (a) chat, (b) Messages, (c) Responses, (d) Responses stored, on one
    ///    gateway started from `spec`, and the mock directly; whole and streamed answers at c=1 in
    ///    alternating rounds after a warmup.
    pub async fn front_doors(&mut self, spec: &GatewaySpec) -> anyhow::Result<()> {
        let (n, warm, rounds) = if self.smoke {
            (100, 20, 1)
        } else {
            (2000, 200, 10)
        };
        eprintln!(
            "scenario 9: front doors, c=1, {n} whole and {n} streamed answers per lane ({} lanes)",
            LANES.len()
        );
        let (gw, _) = spec.variant("front", "", &[])?.start().await?;
        let gw_pid = gw.pid();
        eprintln!("gateway {} (pid {gw_pid}) for scenario 9", gw.url);
        let (gw_url, mock) = (gw.url.clone(), self.mock.clone());
        let base = |through: bool| if through { &gw_url } else { &mock };
        // Once, before measuring: each lane's text, its closing event, and the store.
        for (name, _, api, through) in LANES {
            for (stream, mode) in MODES {
                front_check::check(base(through), api, stream)
                    .await
                    .map_err(|e| anyhow::anyhow!("scenario 9: {name} {mode}: {e:#}"))?;
            }
        }
        eprintln!("  checked: every lane's text and closing event; (d) stored, (c) not");
        for (stream, mode) in MODES {
            for (name, _, api, through) in LANES {
                let cfg = self.front_cfg(base(through), api, stream, warm)?;
                self.load(&format!("warmup {name} {mode}"), &cfg).await?;
            }
        }
        // lanes[m][t]: mode m's record of lane t.
        let mut lanes = vec![vec![Lane::default(); LANES.len()]; MODES.len()];
        for round in 0..rounds {
            for (m, (stream, mode)) in MODES.iter().enumerate() {
                // Each round starts with another lane, so none is always the first after a pause.
                for k in 0..LANES.len() {
                    let t = (k + round as usize) % LANES.len();
                    let (name, _, api, through) = LANES[t];
                    let cfg = self.front_cfg(base(through), api, *stream, n / rounds)?;
                    let cpu0 = procs::cpu_us(gw_pid)?;
                    let label = format!("round {} {name} {mode}", round + 1);
                    let rep = self.load(&label, &cfg).await?;
                    lanes[m][t].cpu_us += procs::cpu_us(gw_pid)?.saturating_sub(cpu0);
                    lanes[m][t].rounds.push(rep);
                }
            }
        }
        log_warnings(&gw);
        drop(gw);
        self.front_rows(&lanes, rounds);
        Ok(())
    }

    /// The rows of scenario 9.
    fn front_rows(&mut self, lanes: &[Vec<Lane>], rounds: u64) {
        let s = "9 front doors, c=1";
        let of = if rounds > 1 {
            format!(" (median of {rounds} rounds)")
        } else {
            String::new()
        };
        let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
        let v = |x: i64| us(x.max(0) as u64);
        // Lane and its baseline: (a) against the mock, the front doors against (a).
        let pairs = [(1, 0), (2, 1), (3, 1), (4, 1)];
        for (m, (_, mode)) in MODES.iter().enumerate() {
            let l = &lanes[m];
            // Percentile `p` of lane `t` in each round.
            let pct = |t: usize, p: f64| -> Vec<i64> {
                l[t].rounds
                    .iter()
                    .map(|r| Sorted::new(&r.latency_us).pct(p) as i64)
                    .collect()
            };
            for p in [50.0, 99.0] {
                for (t, b) in pairs {
                    let (tv, bv) = (median(pct(t, p)), median(pct(b, p)));
                    let paired = pct(t, p).into_iter().zip(pct(b, p)).map(|(x, y)| x - y);
                    self.rows.push(Row::info(
                        s,
                        &format!("p{p} {mode}, {} vs {}{of}", LANES[t].1, LANES[b].1),
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
            for (t, b) in &pairs[1..] {
                let (tc, bc) = (l[*t].cpu_per(), l[*b].cpu_per());
                self.rows.push(Row::info(
                    s,
                    &format!("gateway CPU per request, {mode}, {} vs (a)", LANES[*t].1),
                    us(tc),
                    us(bc),
                    format!(
                        "{}, {:.2}x",
                        signed_us(tc as i64 - bc as i64),
                        ratio(tc as f64, bc as f64)
                    ),
                ));
            }
        }
        // The gateway's own clock, whole answers (all rounds).
        let overhead = |t: usize| {
            let all: Vec<u64> = lanes[0][t]
                .rounds
                .iter()
                .flat_map(|r| r.overhead_us.iter().copied())
                .collect();
            Sorted::new(&all).pct(50.0)
        };
        self.rows.push(Row::info(
            s,
            "median `x-sluice-overhead-us` (the gateway's own clock), whole (JSON)",
            format!(
                "(b) {} µs, (c) {} µs, (d) {} µs",
                overhead(2),
                overhead(3),
                overhead(4)
            ),
            format!("(a) {} µs", overhead(1)),
            "—".into(),
        ));
        // Streams complete, and text deltas per stream (the mock sends DELTAS).
        let streams = |t: usize| {
            let l = &lanes[1][t];
            let (ev, done) = l.rounds.iter().fold((0, 0), |(e, d), r| {
                (e + r.content_events, d + r.streams_completed)
            });
            format!(
                "{} {done}/{}, {:.1}",
                LANES[t].0,
                l.count(),
                ratio(ev as f64, done as f64)
            )
        };
        self.rows.push(Row::info(
            s,
            &format!(
                "streams that ended with `message_stop` (b), `response.completed` (c, d), \
                 `[DONE]` (a, direct), and text deltas per stream (the mock sends {DELTAS})"
            ),
            format!("{}; {}; {}", streams(2), streams(3), streams(4)),
            format!("{}; {}", streams(1), streams(0)),
            "—".into(),
        ));
    }
}
