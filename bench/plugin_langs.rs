//! Cost of a plugin call by the language the plugin is written in, and of the guard stage:
//!
//! ```sh
//! target/release/sluice plugin build examples/policy-max-tokens-python
//! target/release/sluice plugin build examples/policy-max-tokens-js
//! cargo bench -p sluice --bench plugin_langs
//! ```
//!
//! The same policy (the max-tokens example) in Rust, Python (componentize-py) and JavaScript
//! (componentize-js), each with a fresh instance per call and with a warm (reused) instance; then
//! the built-in `pii-redact` guard on a whole chat answer and on one stream delta. Each sample is
//! what a request pays for the call: lease an instance, call it, give it back. A language whose
//! component is not built is reported as such.

#[path = "plugin_common.rs"]
mod common;

use common::{ctx, principal, settings};
use sluice::builtin;
use sluice::pipeline::bindings::guard_stage::Direction;
use sluice::pipeline::bindings::types::LlmMeta;
use sluice::pipeline::engine::{Runtime, RuntimeLimits};
use sluice::pipeline::plugin::{InstanceMode, Plugin, World};
use sluice::pipeline::{GuardWorld, PolicyWorld};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Samples per row: enough for stable percentiles, few enough that a 4 ms call takes seconds.
const SAMPLES: usize = 2_000;
const WARMUP: usize = 200;

const MAX_TOKENS_CONFIG: &str = r#"{"max_tokens":1024,"require_user_id":false}"#;

async fn timed(one: impl AsyncFnMut()) -> Vec<Duration> {
    common::timed(SAMPLES, WARMUP, one).await
}

/// Loads `bytes` as plugin `name`, with a generous deadline: this measures the cost, it does not
/// police it.
async fn load<W: World>(
    runtime: &Runtime,
    name: &str,
    bytes: &[u8],
    config: &str,
    mode: InstanceMode,
) -> Arc<Plugin<W>> {
    common::load(runtime, name, bytes, config, settings(mode, 5_000, 128)).await
}

async fn bench_policy(runtime: &Runtime, bytes: &[u8], mode: InstanceMode) -> Vec<Duration> {
    let plugin: Arc<Plugin<PolicyWorld>> =
        load(runtime, "max-tokens", bytes, MAX_TOKENS_CONFIG, mode).await;
    let (ctx, who) = (ctx(), principal());
    let meta = LlmMeta {
        max_tokens: Some(256),
        est_prompt_tokens: 500,
        n: 1,
    };
    timed(async || {
        let mut lease = plugin.lease().await.expect("lease");
        lease
            .call(async |w, s| w.on_request(s, &ctx, &who, &meta, &[]).await)
            .await
            .expect("on-request");
        drop(lease);
    })
    .await
}

/// A chat answer of about 1 KB of text with an email and a card number in it.
fn answer() -> String {
    let text =
        "The invoice went to alice.smith@example.com and was paid with 4111 1111 1111 1111. "
            .repeat(12);
    serde_json::json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": 500, "completion_tokens": 200, "total_tokens": 700},
    })
    .to_string()
}

async fn bench_guard_json(runtime: &Runtime) -> Vec<Duration> {
    let bytes = builtin::get("pii-redact").expect("pii-redact").bytes;
    let plugin: Arc<Plugin<GuardWorld>> =
        load(runtime, "pii", bytes, "{}", InstanceMode::Warm).await;
    let (ctx, who, body) = (ctx(), principal(), answer());
    timed(async || {
        let mut lease = plugin.lease().await.expect("lease");
        let b: &str = &body;
        lease
            .call(async |w, s| {
                w.check_json(s, &ctx, Some(&who), Direction::Response, b)
                    .await
            })
            .await
            .expect("check-json");
        drop(lease);
    })
    .await
}

/// One stream delta as the host passes it: the held look-behind (128 bytes) and a new delta of
/// about 20 bytes, on an instance held for the stream (as the host holds it).
async fn bench_guard_text(runtime: &Runtime) -> Vec<Duration> {
    let bytes = builtin::get("pii-redact").expect("pii-redact").bytes;
    let plugin: Arc<Plugin<GuardWorld>> =
        load(runtime, "pii", bytes, "{}", InstanceMode::Warm).await;
    let (ctx, who) = (ctx(), principal());
    let text = format!("{} write to bob@exa", "a".repeat(128));
    let mut lease = plugin.lease().await.expect("lease");
    timed(async || {
        let t: &str = &text;
        lease
            .call(async |w, s| w.check_text(s, &ctx, Some(&who), 0, t, false).await)
            .await
            .expect("check-text");
    })
    .await
}

fn report(what: &str, samples: Option<Vec<Duration>>) {
    let Some(mut samples) = samples else {
        println!("| {what:<40} | not built: see the command at the top of bench/plugin_langs.rs |");
        return;
    };
    samples.sort();
    let p = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    println!(
        "| {what:<40} | {:>8.1} | {:>8.1} | {:>8.1} |",
        p(0.5).as_nanos() as f64 / 1000.0,
        p(0.9).as_nanos() as f64 / 1000.0,
        p(0.99).as_nanos() as f64 / 1000.0
    );
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: PathBuf) -> Option<Vec<u8>> {
    std::fs::read(path).ok()
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let runtime = Runtime::new(RuntimeLimits::default()).expect("runtime");
        let plugins = repo().join("target/plugins/wasm32-wasip2/plugin");
        let langs = [
            ("Rust", read(plugins.join("sluice_example_max_tokens.wasm"))),
            (
                "Python",
                read(repo().join("examples/policy-max-tokens-python/max-tokens-python.wasm")),
            ),
            (
                "JavaScript",
                read(repo().join("examples/policy-max-tokens-js/max-tokens-js.wasm")),
            ),
        ];
        let mut rows = Vec::new();
        for (lang, bytes) in &langs {
            for (mode, label) in [(InstanceMode::Fresh, "fresh"), (InstanceMode::Warm, "warm")] {
                let samples = match bytes {
                    Some(b) => Some(bench_policy(&runtime, b, mode).await),
                    None => None,
                };
                rows.push((format!("max-tokens policy, {lang}, {label}"), samples));
            }
        }
        rows.push((
            "pii-redact, check-json (1 KB answer)".into(),
            Some(bench_guard_json(&runtime).await),
        ));
        rows.push((
            "pii-redact, check-text (one delta)".into(),
            Some(bench_guard_text(&runtime).await),
        ));
        println!(
            "| plugin call ({SAMPLES} samples)               | p50 µs   | p90 µs   | p99 µs   |"
        );
        println!("|------------------------------------------|----------|----------|----------|");
        for (what, samples) in rows {
            report(&what, samples);
        }
    });
}
