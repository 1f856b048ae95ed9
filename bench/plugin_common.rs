//! What the plugin benchmarks (`plugin_call.rs`, `plugin_langs.rs`) share: the timing loop, a
//! plugin's settings and environment, loading a component, and the request they call it with.

use sluice::capabilities::{Kv, NoEvents, PluginEnv, PriceTable};
use sluice::config::Config;
use sluice::pipeline::bindings::types::{Endpoint, Principal, RequestCtx};
use sluice::pipeline::engine::Runtime;
pub use sluice::pipeline::hints::HeaderUse;
use sluice::pipeline::plugin::{InstanceMode, OnError, Plugin, PluginSettings, World};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Runs `one` `warmup` + `samples` times and returns the durations of the last `samples` runs.
pub async fn timed(samples: usize, warmup: usize, mut one: impl AsyncFnMut()) -> Vec<Duration> {
    let mut out = Vec::with_capacity(samples);
    for i in 0..samples + warmup {
        let t = Instant::now();
        one().await;
        if i >= warmup {
            out.push(t.elapsed());
        }
    }
    out
}

/// A plugin's settings: `mode`, a deadline of `timeout_ms` and a memory cap of `memory_mb`.
pub fn settings(mode: InstanceMode, timeout_ms: u64, memory_mb: usize) -> PluginSettings {
    PluginSettings {
        timeout_ms,
        memory_bytes: memory_mb << 20,
        mode,
        on_error: OnError::FailClosed,
        max_uses: u32::MAX,
        max_idle: 64,
        stage: "bench",
    }
}

/// A plugin's environment: its name and config, and a `kv` of its own.
pub fn env(name: &str, config: &str) -> Arc<PluginEnv> {
    let kv = Arc::new(Kv::memory());
    Arc::new(PluginEnv {
        name: Arc::from(name),
        config_json: Arc::from(config),
        kv,
        kv_prefix: format!("{name}:"),
        keys: None,
        // The gateway's default price table: the built-in list (gpt-4o-mini is in it).
        prices: Arc::new(PriceTable::new(
            &Config::parse(std::path::Path::new("bench.toml"), "").expect("an empty config"),
        )),
        events: Arc::new(NoEvents),
    })
}

/// Compiles `bytes` and loads them as plugin `name` of world `W`, given the request headers its
/// component declares it reads (as the gateway does).
#[allow(
    dead_code,
    reason = "plugin_langs uses it; plugin_call chooses the headers itself"
)]
pub async fn load<W: World>(
    runtime: &Runtime,
    name: &str,
    bytes: &[u8],
    config: &str,
    settings: PluginSettings,
) -> Arc<Plugin<W>> {
    load_with(
        runtime,
        name,
        bytes,
        config,
        settings,
        HeaderUse::of_component(bytes),
    )
    .await
}

/// [`load`], with `headers` in place of the component's declaration.
pub async fn load_with<W: World>(
    runtime: &Runtime,
    name: &str,
    bytes: &[u8],
    config: &str,
    settings: PluginSettings,
    headers: HeaderUse,
) -> Arc<Plugin<W>> {
    let (component, hash) = runtime.compile(bytes).expect("compile");
    let mut plugin = Plugin::load(
        runtime,
        &component,
        hash,
        name.into(),
        env(name, config),
        settings,
    )
    .await
    .expect("load");
    plugin.headers = headers;
    Arc::new(plugin)
}

/// A chat request's context, with ten headers.
pub fn ctx() -> RequestCtx {
    RequestCtx {
        request_id: "req_0123456789abcdef01234567".into(),
        endpoint: Endpoint::ChatCompletions,
        model: "gpt-4o-mini".into(),
        stream: false,
        user_id: Some("user-1".into()),
        key_id: Some("demo".into()),
        headers: (0..10)
            .map(|i| (format!("x-header-{i}"), "value".repeat(4)))
            .collect(),
    }
}

/// The key behind the requests.
pub fn principal() -> Principal {
    Principal {
        key_id: "demo".into(),
        owner: "demo".into(),
        team: None,
        models: vec![],
        attributes: vec![],
        mcp_servers: vec![],
    }
}
