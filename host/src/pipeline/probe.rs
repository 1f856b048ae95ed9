//! Whether a plugin's answers depend on memory its instance keeps between calls (globals,
//! statics, module-level variables), which a fresh instance (the default for plugins loaded from
//! files) starts without at every request.
//!
//! The probe asks the same question twice of one instance (as a warm pool would), and twice of
//! two new instances (as fresh instances would), each time with a `kv` store of its own so that
//! state kept there counts as shared, as it is. When the two fresh runs agree with each other but
//! not with the warm run, the answer changed because of what the instance remembered.

use super::bindings::guard_stage::Direction;
use super::bindings::mcp_types::McpRequest;
use super::bindings::types::{Endpoint, LlmMeta, Outcome, Principal, RequestCtx, Usage};
use super::bindings::{adapter_if::Provider, types::Headers};
use super::engine::Runtime;
use super::plugin::{InstanceMode, OnError, Plugin, PluginSettings, World};
use super::{AdapterWorld, AuthWorld, EnrichWorld, GuardWorld, McpPolicyWorld, PolicyWorld};
use crate::capabilities::{Kv, PluginEnv, PluginState};
use std::sync::Arc;
use wasmtime::Store;
use wasmtime::component::Component;

/// What the probe found for one stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// The same question got the same answer from a reused instance and from fresh ones.
    Stateless,
    /// A reused instance answered differently: the plugin keeps state in its instance.
    KeepsState {
        /// The second answer of a fresh instance.
        fresh: String,
        /// The second answer of a reused instance.
        warm: String,
    },
    /// No verdict (the plugin refused its config, failed, or answers differently every time).
    Inconclusive(String),
}

/// Probes `component` as a plugin of `stage` (a config stage name) with `config_json`.
pub async fn probe(
    runtime: &Runtime,
    component: &Component,
    stage: &str,
    config_json: &str,
) -> Probe {
    match stage {
        "auth" => {
            compare::<AuthWorld>(runtime, component, config_json, async |w, s| {
                w.authenticate(s, &ctx(), Some("sk-probe"))
                    .await
                    .map(|r| format!("{r:?}"))
            })
            .await
        }
        "policy" => {
            compare::<PolicyWorld>(runtime, component, config_json, async |w, s| {
                let body = BODY.as_bytes();
                w.on_request(s, &ctx(), &principal(), &meta(), body)
                    .await
                    .map(|r| format!("{r:?}"))
            })
            .await
        }
        "adapter" => {
            compare::<AdapterWorld>(runtime, component, config_json, async |w, s| {
                w.to_upstream(s, &ctx(), &provider(), BODY.as_bytes())
                    .await
                    .map(|r| format!("{r:?}"))
            })
            .await
        }
        "enrich" => {
            compare::<EnrichWorld>(runtime, component, config_json, async |w, s| {
                w.on_response(s, &ctx(), Some(&principal()), &outcome())
                    .await
                    .map(|r| format!("{r:?}"))
            })
            .await
        }
        "guard" => {
            compare::<GuardWorld>(runtime, component, config_json, async |w, s| {
                let who = principal();
                let json = w
                    .check_json(s, &ctx(), Some(&who), Direction::Request, BODY)
                    .await?;
                let text = w
                    .check_text(s, &ctx(), Some(&who), 0, "Hello, how can I help?", true)
                    .await?;
                Ok(format!("{json:?} {text:?}"))
            })
            .await
        }
        "mcp-policy" => {
            compare::<McpPolicyWorld>(runtime, component, config_json, async |w, s| {
                w.on_request(s, &mcp_request(), &principal())
                    .await
                    .map(|r| format!("{r:?}"))
            })
            .await
        }
        other => Probe::Inconclusive(format!("unknown stage `{other}`")),
    }
}

/// The second answer of a reused instance against those of two pairs of fresh instances.
async fn compare<W: World>(
    runtime: &Runtime,
    component: &Component,
    config_json: &str,
    ask: impl AsyncFn(&W, &mut Store<PluginState>) -> wasmtime::Result<String>,
) -> Probe {
    let mut seconds = Vec::with_capacity(3);
    for mode in [InstanceMode::Warm, InstanceMode::Fresh, InstanceMode::Fresh] {
        let plugin = match load::<W>(runtime, component, config_json, mode).await {
            Ok(p) => Arc::new(p),
            Err(e) => return Probe::Inconclusive(e),
        };
        let mut answer = String::new();
        for _ in 0..2 {
            let call = match plugin.lease().await {
                Ok(mut lease) => lease.call(async |w, s| ask(w, s).await).await,
                Err(e) => Err(e),
            };
            answer = match call {
                Ok(a) => a,
                Err(e) => return Probe::Inconclusive(format!("a probe call failed: {e}")),
            };
        }
        seconds.push(answer);
    }
    let [warm, fresh, fresh_again] = <[String; 3]>::try_from(seconds).unwrap_or_default();
    if fresh != fresh_again {
        Probe::Inconclusive("its answers differ from one fresh instance to the next".into())
    } else if warm != fresh {
        Probe::KeepsState { fresh, warm }
    } else {
        Probe::Stateless
    }
}

async fn load<W: World>(
    runtime: &Runtime,
    component: &Component,
    config_json: &str,
    mode: InstanceMode,
) -> Result<Plugin<W>, String> {
    let kv = Arc::new(Kv::memory());
    let env = Arc::new(PluginEnv {
        name: Arc::from("probe"),
        config_json: Arc::from(config_json),
        kv,
        kv_prefix: "probe\u{1f}".into(),
        keys: None,
        prices: Arc::default(),
        events: Arc::new(crate::capabilities::NoEvents),
    });
    let settings = PluginSettings {
        timeout_ms: 5_000,
        memory_bytes: 256 << 20,
        mode,
        on_error: OnError::FailClosed,
        max_uses: u32::MAX,
        max_idle: 1,
        stage: "probe",
    };
    Plugin::load(runtime, component, [0; 32], "probe".into(), env, settings).await
}

const BODY: &str = r#"{"model":"probe-model","messages":[{"role":"user","content":"Hello"}]}"#;

fn headers() -> Headers {
    vec![("user-agent".into(), "sluice-plugin-check".into())]
}

fn ctx() -> RequestCtx {
    RequestCtx {
        request_id: "req_probe".into(),
        endpoint: Endpoint::ChatCompletions,
        model: "probe-model".into(),
        stream: false,
        user_id: Some("probe-user".into()),
        key_id: Some("probe-key".into()),
        headers: headers(),
    }
}

fn principal() -> Principal {
    Principal {
        key_id: "probe-key".into(),
        owner: "probe".into(),
        team: None,
        models: vec![],
        attributes: vec![],
        mcp_servers: vec![],
    }
}

fn meta() -> LlmMeta {
    LlmMeta {
        max_tokens: Some(16),
        est_prompt_tokens: 2,
        n: 1,
    }
}

fn outcome() -> Outcome {
    Outcome {
        status: 200,
        provider: "probe".into(),
        served_model: "probe-model".into(),
        usage: Some(Usage {
            prompt_tokens: 2,
            completion_tokens: 3,
            cached_tokens: 0,
        }),
        latency_ms: 10,
        upstream_us: 9_000,
    }
}

fn provider() -> Provider {
    Provider {
        name: "probe".into(),
        base_url: "http://127.0.0.1:9/v1".into(),
        api_key: Some("sk-probe-upstream".into()),
        upstream_model: "probe-model".into(),
    }
}

fn mcp_request() -> McpRequest {
    McpRequest {
        request_id: "req_probe".into(),
        server: "probe".into(),
        session_id: Some("probe-session".into()),
        user_id: None,
        method: "tools/call".into(),
        target: Some("echo".into()),
        params: r#"{"name":"echo","arguments":{"text":"hi"}}"#.into(),
    }
}
