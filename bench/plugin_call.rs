//! Cost of one plugin call through the runtime, with a fresh instance per call and with a warm
//! (reused) instance: `cargo bench -p sluice --bench plugin_call`.
//!
//! Each sample is what a request pays for one stage: lease an instance (instantiate, or take one
//! from the pool), call it, and give it back (drop the store, or return it to the pool). Plugins
//! get the request headers their component declares it reads, as in the gateway; the last table
//! puts the four default plugins, warm, beside the same four given every header (what the
//! gateway did before plugins could declare them).

#[path = "plugin_common.rs"]
mod common;

use common::{HeaderUse, ctx, principal, settings};
use sluice::builtin;
use sluice::pipeline::bindings::adapter_if::Provider;
use sluice::pipeline::bindings::types::{LlmMeta, Outcome, Usage};
use sluice::pipeline::engine::{Runtime, RuntimeLimits};
use sluice::pipeline::plugin::{InstanceMode, Plugin, World};
use sluice::pipeline::{AdapterWorld, AuthWorld, EnrichWorld, PolicyWorld};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const SAMPLES: usize = 20_000;
/// Plugins get every header, whatever their component declares.
static EVERY_HEADER: AtomicBool = AtomicBool::new(false);
const WARMUP: usize = 1_000;

/// Runs `one` WARMUP + SAMPLES times and returns the durations of the last SAMPLES runs.
async fn timed(one: impl AsyncFnMut()) -> Vec<Duration> {
    common::timed(SAMPLES, WARMUP, one).await
}

fn report(what: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let p = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    println!(
        "| {what:<34} | {:>7.1} | {:>7.1} | {:>7.1} |",
        p(0.5).as_nanos() as f64 / 1000.0,
        p(0.9).as_nanos() as f64 / 1000.0,
        p(0.99).as_nanos() as f64 / 1000.0
    );
}

async fn bench_adapter(runtime: &Runtime, mode: InstanceMode) -> Vec<Duration> {
    let plugin: Arc<Plugin<AdapterWorld>> = load(runtime, "openai", "{}", mode).await;
    let ctx = ctx();
    let provider = Provider {
        name: "openai".into(),
        base_url: "http://127.0.0.1:1/v1".into(),
        api_key: Some("sk-upstream".into()),
        upstream_model: "gpt-4o-mini".into(),
    };
    timed(async || {
        let mut lease = plugin.lease().await.expect("lease");
        let seen = lease.view(&ctx);
        lease
            .call(async |w, s| w.to_upstream(s, &seen, &provider, &[]).await)
            .await
            .expect("call")
            .expect("ok");
        drop(lease);
    })
    .await
}

async fn bench_auth(runtime: &Runtime, mode: InstanceMode) -> Vec<Duration> {
    let config = r#"{"keys":[{"id":"demo","sha256":"1c590839af894cf25f9a5fe06929af05b377f60efbe55508ef93d251887b9213"}]}"#;
    let plugin: Arc<Plugin<AuthWorld>> = load(runtime, "key-auth", config, mode).await;
    let ctx = ctx();
    timed(async || {
        let mut lease = plugin.lease().await.expect("lease");
        let seen = lease.view(&ctx);
        lease
            .call(async |w, s| w.authenticate(s, &seen, Some("sk-sluice-demo")).await)
            .await
            .expect("call")
            .expect("authenticated");
        drop(lease);
    })
    .await
}

/// The built-in `name`, loaded with `config` in `mode`.
async fn load<W: World>(
    runtime: &Runtime,
    name: &str,
    config: &str,
    mode: InstanceMode,
) -> Arc<Plugin<W>> {
    let bytes = builtin::get(name).expect("built-in plugin").bytes;
    let headers = if EVERY_HEADER.load(Ordering::Relaxed) {
        HeaderUse::All
    } else {
        HeaderUse::of_component(bytes)
    };
    common::load_with(
        runtime,
        name,
        bytes,
        config,
        settings(mode, 50, 64),
        headers,
    )
    .await
}

/// p50 of `samples`, µs.
fn p50(mut samples: Vec<Duration>) -> f64 {
    samples.sort();
    samples[samples.len() / 2].as_nanos() as f64 / 1000.0
}

/// The four default plugins, warm, one request's calls each: p50 per plugin and their sum.
async fn default_four(runtime: &Runtime) -> [f64; 5] {
    let w = InstanceMode::Warm;
    let a = p50(bench_auth(runtime, w).await);
    let r = p50(bench_rate_limit(runtime, w).await);
    let o = p50(bench_adapter(runtime, w).await);
    let c = p50(bench_cost(runtime, w).await);
    [a, r, o, c, a + r + o + c]
}

fn meta() -> LlmMeta {
    LlmMeta {
        max_tokens: Some(256),
        est_prompt_tokens: 500,
        n: 1,
    }
}

fn outcome() -> Outcome {
    Outcome {
        status: 200,
        provider: "openai".into(),
        served_model: "gpt-4o-mini".into(),
        usage: Some(Usage {
            prompt_tokens: 500,
            completion_tokens: 200,
            cached_tokens: 100,
        }),
        latency_ms: 300,
        upstream_us: 299_000,
    }
}

/// A policy plugin's `on-request` and `on-complete`, as one request pays them.
async fn bench_policy(
    runtime: &Runtime,
    name: &str,
    config: &str,
    mode: InstanceMode,
) -> Vec<Duration> {
    let plugin: Arc<Plugin<PolicyWorld>> = load(runtime, name, config, mode).await;
    let (ctx, who, meta, outcome) = (ctx(), principal(), meta(), outcome());
    timed(async || {
        let mut lease = plugin.lease().await.expect("lease");
        let seen = lease.view(&ctx);
        lease
            .call(async |w, s| w.on_request(s, &seen, &who, &meta, &[]).await)
            .await
            .expect("on-request");
        drop(lease);
        let mut lease = plugin.lease().await.expect("lease");
        let seen = lease.view(&ctx);
        lease
            .call(async |w, s| w.on_complete(s, &seen, &who, &meta, &outcome).await)
            .await
            .expect("on-complete");
        drop(lease);
    })
    .await
}

/// rate-limit: reserve and reconcile, with limits high enough never to refuse (every sample runs
/// the full path).
async fn bench_rate_limit(runtime: &Runtime, mode: InstanceMode) -> Vec<Duration> {
    let config = r#"{"rpm":1000000000,"tpm_in":1000000000000,"tpm_out":1000000000000}"#;
    bench_policy(runtime, "rate-limit", config, mode).await
}

/// budget: price lookup, reserve and remember; then charge the real cost, give back the rest and
/// check thresholds; against one monthly key budget never reached.
async fn bench_budget(runtime: &Runtime, mode: InstanceMode) -> Vec<Duration> {
    bench_policy(runtime, "budget", r#"{"key":{"month":1000000000}}"#, mode).await
}

async fn bench_cost(runtime: &Runtime, mode: InstanceMode) -> Vec<Duration> {
    // Prices come from the gateway's table (the built-in list prices gpt-4o-mini).
    let config = "{}";
    let plugin: Arc<Plugin<EnrichWorld>> = load(runtime, "cost", config, mode).await;
    let (ctx, who, outcome) = (ctx(), principal(), outcome());
    timed(async || {
        let mut lease = plugin.lease().await.expect("lease");
        let seen = lease.view(&ctx);
        lease
            .call(async |w, s| w.on_response(s, &seen, Some(&who), &outcome).await)
            .await
            .expect("on-response");
        drop(lease);
    })
    .await
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let runtime = Runtime::new(RuntimeLimits::default()).expect("runtime");
        let rows: Vec<(&str, Vec<Duration>)> = vec![
            (
                "openai adapter, fresh",
                bench_adapter(&runtime, InstanceMode::Fresh).await,
            ),
            (
                "openai adapter, warm",
                bench_adapter(&runtime, InstanceMode::Warm).await,
            ),
            (
                "key-auth (sha256), fresh",
                bench_auth(&runtime, InstanceMode::Fresh).await,
            ),
            (
                "key-auth (sha256), warm",
                bench_auth(&runtime, InstanceMode::Warm).await,
            ),
            (
                "rate-limit (reserve+reconcile), fresh",
                bench_rate_limit(&runtime, InstanceMode::Fresh).await,
            ),
            (
                "rate-limit (reserve+reconcile), warm",
                bench_rate_limit(&runtime, InstanceMode::Warm).await,
            ),
            (
                "budget (reserve+charge), fresh",
                bench_budget(&runtime, InstanceMode::Fresh).await,
            ),
            (
                "budget (reserve+charge), warm",
                bench_budget(&runtime, InstanceMode::Warm).await,
            ),
            (
                "cost, fresh",
                bench_cost(&runtime, InstanceMode::Fresh).await,
            ),
            ("cost, warm", bench_cost(&runtime, InstanceMode::Warm).await),
        ];
        println!("| plugin call ({SAMPLES} samples)          | p50 µs  | p90 µs  | p99 µs  |");
        println!("|------------------------------------|---------|---------|---------|");
        for (what, samples) in rows {
            report(what, samples);
        }
        // Alternating, so both columns see the same machine.
        let mut declared = Vec::new();
        let mut every = Vec::new();
        for _ in 0..2 {
            EVERY_HEADER.store(true, Ordering::Relaxed);
            every.push(default_four(&runtime).await);
            EVERY_HEADER.store(false, Ordering::Relaxed);
            declared.push(default_four(&runtime).await);
        }
        let best = |runs: &[[f64; 5]], i: usize| runs.iter().map(|r| r[i]).fold(f64::MAX, f64::min);
        println!();
        println!("| four default plugins, warm, p50 µs (best of 2) | every header (10) | as declared | ratio |");
        println!("|---|---|---|---|");
        let names = ["key-auth", "rate-limit (both calls)", "openai adapter (to-upstream)", "cost", "sum, one request"];
        for (i, name) in names.iter().enumerate() {
            let (e, d) = (best(&every, i), best(&declared, i));
            println!("| {name} | {e:.1} | {d:.1} | {:.2}x |", d / e);
        }
    });
}
