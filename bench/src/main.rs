//! `sluice-bench`: benchmarks of the Sluice gateway against a mock upstream and a bare forwarder.
//! See `bench/README.md`.

mod batch;
mod forward;
mod front_bench;
mod front_check;
mod gateway;
mod guard_bench;
mod load;
mod mcp;
mod mcp_bench;
mod mock;
mod net;
mod otlp;
mod peers;
mod procs;
mod report;
mod run;
mod scale;
mod scenarios;
mod soak;
mod sse;
mod stats;
mod streams;
mod telemetry_bench;

use anyhow::Context;
use bytes::Bytes;
use clap::{Parser, Subcommand};
use http::{HeaderName, HeaderValue};
use std::path::PathBuf;
use std::time::Duration;

/// Command line.
#[derive(Parser)]
#[command(name = "sluice-bench", about = "Benchmarks of the Sluice gateway")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

/// Subcommands.
#[derive(Subcommand)]
enum Cmd {
    /// A fast mock OpenAI upstream (`POST /v1/chat/completions`, JSON or SSE), MCP server and OTLP sink.
    Mock {
        /// Address to listen on (port 0 picks a free one).
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: String,
        /// Delay before every answer, unless the body sets `mock_delay_ms`.
        #[arg(long, default_value_t = 0)]
        delay_ms: u64,
        /// Exit when stdin closes (used by `run`).
        #[arg(long, hide = true)]
        parent_watch: bool,
    },
    /// A bare pass-through forwarder (hyper, pooled keep-alive client).
    Forward {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: String,
        /// Upstream base URL (`http://127.0.0.1:PORT`).
        #[arg(long)]
        upstream: String,
        /// Exit when stdin closes (used by `run`).
        #[arg(long, hide = true)]
        parent_watch: bool,
    },
    /// A closed-loop load generator; prints a JSON summary.
    Load {
        /// Full URL to POST to.
        #[arg(long)]
        url: String,
        /// Connections, each with one request in flight.
        #[arg(long, default_value_t = 1)]
        concurrency: usize,
        /// Stop starting requests after this many seconds.
        #[arg(long, default_value_t = 10.0)]
        duration_s: f64,
        /// Stop after this many requests.
        #[arg(long)]
        requests: Option<u64>,
        /// Answers are SSE streams (sets `"stream": true` in the body unless it says otherwise).
        #[arg(long)]
        stream: bool,
        /// A stream ends well with this event type (`message_stop`, `response.completed`)
        /// instead of `data: [DONE]`.
        #[arg(long, value_parser = ["message_stop", "response.completed"])]
        stream_end: Option<String>,
        /// Read the JSON body from this file.
        #[arg(long, conflicts_with = "body")]
        body_file: Option<PathBuf>,
        /// The JSON body.
        #[arg(long)]
        body: Option<String>,
        /// Extra header `K:V` (repeatable).
        #[arg(long)]
        header: Vec<String>,
        /// Deadline of one request, in seconds.
        #[arg(long, default_value_t = 60.0)]
        timeout_s: f64,
        /// Connects in flight at once while opening the connections (0: all at once).
        #[arg(long, default_value_t = 64)]
        connect_concurrency: usize,
    },
    /// Runs every scenario and prints the results table.
    Run {
        /// Scaled down (~35 s); fails on any error, never on timing targets.
        #[arg(long)]
        smoke: bool,
        /// Append the table to this file.
        #[arg(long)]
        out: Option<PathBuf>,
        /// The gateway binary.
        #[arg(long, default_value = "target/release/sluice")]
        sluice: PathBuf,
        /// Run only scenario N (1-9), or `peers` for only the peers lane; the gateway is
        /// still started once first.
        #[arg(long, value_name = "N|peers")]
        only: Option<String>,
        /// Also install and measure LiteLLM's proxy and Portkey's gateway beside Sluice and
        /// the bare forwarder (`.cache/peers`; a separate table after the main one).
        #[arg(long)]
        peers: bool,
    },
    /// What Redis-backed limits add at c=1 (vs in memory), and req/s of three replicas sharing
    /// one Redis vs one replica; prints a Markdown report.
    Scale {
        /// The gateway binary.
        #[arg(long, default_value = "target/release/sluice")]
        sluice: PathBuf,
        /// Seconds per measured run.
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
        /// Rounds of the c=1 comparison (direct, memory, Redis in turn).
        #[arg(long, default_value_t = 3)]
        rounds: u32,
        /// Append the report to this file.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Mixed traffic through one gateway for a long while (JSON, streams, batches, MCP calls,
    /// reloads every minute, a plugin trap every ~1,000 requests), sampling resident memory, open
    /// file descriptors and usage rows; prints their growth and the rows against the requests.
    Soak {
        /// How long, in minutes.
        #[arg(long, default_value_t = 30.0)]
        minutes: f64,
        /// The gateway binary.
        #[arg(long, default_value = "target/release/sluice")]
        sluice: PathBuf,
        /// The test suite's `chaos` plugin (the release build makes it).
        #[arg(
            long,
            default_value = "target/plugins/wasm32-wasip2/plugin/sluice_test_chaos.wasm"
        )]
        chaos: PathBuf,
        /// Append the report to this file.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().cmd {
        Cmd::Mock {
            listen,
            delay_ms,
            parent_watch,
        } => mock::run(&listen, delay_ms, parent_watch).await,
        Cmd::Forward {
            listen,
            upstream,
            parent_watch,
        } => forward::run(&listen, &upstream, parent_watch).await,
        Cmd::Load {
            url,
            concurrency,
            duration_s,
            requests,
            stream,
            stream_end,
            body_file,
            body,
            header,
            timeout_s,
            connect_concurrency,
        } => {
            let body = match (body_file, body) {
                (Some(f), _) => {
                    Bytes::from(std::fs::read(&f).with_context(|| format!("read {}", f.display()))?)
                }
                (None, Some(b)) => Bytes::from(b),
                (None, None) => Bytes::from_static(
                    br#"{"model":"bench-model","messages":[{"role":"user","content":"Hello"}]}"#,
                ),
            };
            let body = if stream {
                load::ensure_stream(&body)?
            } else {
                body
            };
            let mut headers = Vec::new();
            for h in header {
                let (k, v) = h
                    .split_once(':')
                    .with_context(|| format!("header `{h}` is not K:V"))?;
                headers.push((
                    HeaderName::try_from(k.trim())?,
                    HeaderValue::try_from(v.trim())?,
                ));
            }
            anyhow::ensure!(concurrency > 0, "--concurrency must be at least 1");
            let cfg = load::LoadConfig {
                url: url.parse().with_context(|| format!("bad URL `{url}`"))?,
                concurrency,
                duration: Duration::try_from_secs_f64(duration_s)?,
                requests,
                body,
                headers,
                stream,
                stream_end: match stream_end.as_deref() {
                    Some("message_stop") => sse::StreamEnd::Event("message_stop"),
                    Some(_) => sse::StreamEnd::Event("response.completed"),
                    None => sse::StreamEnd::Done,
                },
                request_timeout: Duration::try_from_secs_f64(timeout_s)?,
                connect_concurrency,
                stop: None,
            };
            let report = load::run(&cfg).await?;
            println!("{}", serde_json::to_string_pretty(&report.summary())?);
            Ok(())
        }
        Cmd::Run {
            smoke,
            out,
            sluice,
            only,
            peers,
        } => {
            run::run(run::RunOpts {
                smoke,
                out,
                sluice,
                only,
                peers,
            })
            .await
        }
        Cmd::Scale {
            sluice,
            seconds,
            rounds,
            out,
        } => {
            scale::run(scale::ScaleOpts {
                sluice,
                seconds,
                rounds,
                out,
            })
            .await
        }
        Cmd::Soak {
            minutes,
            sluice,
            chaos,
            out,
        } => {
            soak::run(soak::SoakOpts {
                sluice,
                minutes,
                chaos,
                out,
            })
            .await
        }
    }
}
