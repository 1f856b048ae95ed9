//! Recording into the metrics: one function per event the gateway counts or times.

use super::metrics::{
    CostLabels, DenialLabels, EndpointLabel, InstanceLabels, ModelLabel, OperationLabels,
    OutcomeLabel, PluginFailureLabels, PluginLabels, ProviderLabel, RequestLabels, ResultLabel,
    StatusLabel, TokenLabels, ToolLabels, WebhookLabels, metrics,
};
use prometheus_client::metrics::histogram::Histogram;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether anything is recorded (`[telemetry] metrics`; a reload may change it).
static ON: AtomicBool = AtomicBool::new(true);

/// Turns recording on or off.
pub fn set_enabled(on: bool) {
    ON.store(on, Ordering::Relaxed);
}

fn on() -> bool {
    ON.load(Ordering::Relaxed)
}

/// The GenAI operation name of an endpoint family.
pub fn operation(endpoint: &'static str) -> &'static str {
    match endpoint {
        "chat.completions" => "chat",
        "completions" => "text_completion",
        "embeddings" => "embeddings",
        other => other,
    }
}

/// `error.type` of a status: empty on success.
pub fn error_type(status: u16) -> String {
    match status {
        200..=399 => String::new(),
        499 => "499".into(),
        s => format!("{}xx", s / 100),
    }
}

/// Counts a finished LLM request (or batch line): requests, tokens, duration, cost, overhead.
pub fn observe_request(
    endpoint: &'static str,
    model: &str,
    row: &crate::store::UsageRow,
    usage_known: bool,
    took: std::time::Duration,
) {
    if !on() {
        return;
    }
    let m = metrics();
    let key_id = row.key_id.clone().unwrap_or_default();
    m.requests
        .get_or_create(&RequestLabels {
            endpoint,
            model: model.to_string(),
            provider: row.provider.clone(),
            status: row.status.to_string(),
            key_id: key_id.clone(),
        })
        .inc();
    let op = operation(endpoint);
    if usage_known {
        for (kind, n) in [
            ("input", row.prompt_tokens),
            ("output", row.completion_tokens),
        ] {
            m.tokens
                .get_or_create(&TokenLabels {
                    gen_ai_token_type: kind,
                    gen_ai_operation_name: op,
                    gen_ai_request_model: model.to_string(),
                    gen_ai_provider_name: row.provider.clone(),
                })
                .observe(f64::from(n));
        }
    }
    m.duration
        .get_or_create(&OperationLabels {
            gen_ai_operation_name: op,
            gen_ai_request_model: model.to_string(),
            gen_ai_provider_name: row.provider.clone(),
            error_type: error_type(row.status),
        })
        .observe(took.as_secs_f64());
    let labels = || CostLabels {
        model: model.to_string(),
        provider: row.provider.clone(),
        key_id: key_id.clone(),
    };
    if row.cost_usd > 0.0 {
        m.cost.get_or_create(&labels()).inc_by(row.cost_usd);
    }
    if row.audio_seconds > 0.0 {
        m.audio_seconds
            .get_or_create(&labels())
            .inc_by(row.audio_seconds);
    }
    m.overhead
        .get_or_create(&EndpointLabel { endpoint })
        .observe(row.overhead_us as f64 / 1e6);
    if row.batch_id.is_some() {
        m.batch_lines
            .get_or_create(&StatusLabel {
                status: row.status.to_string(),
            })
            .inc();
    }
}

/// Counts an upstream call about to be retried.
pub fn retry(provider: &str) {
    if !on() {
        return;
    }
    metrics()
        .retries
        .get_or_create(&ProviderLabel {
            provider: provider.to_string(),
        })
        .inc();
}

/// Counts a request moving on to its model's next deployment.
pub fn fallback(model: &str) {
    if !on() {
        return;
    }
    metrics()
        .fallbacks
        .get_or_create(&ModelLabel {
            model: model.to_string(),
        })
        .inc();
}

/// A stream's clock: its first chunk's delay and the gaps between chunks; it counts as an open
/// stream while it lives. With recording off it does nothing.
pub struct StreamClock {
    started: std::time::Instant,
    last: Option<std::time::Instant>,
    /// Time to first token, and the gaps.
    histograms: Option<(Histogram, Histogram)>,
}

impl StreamClock {
    /// The clock of a stream of request `started`, answered by `provider` for `model`.
    pub fn new(
        endpoint: &'static str,
        model: &str,
        provider: &str,
        started: std::time::Instant,
    ) -> StreamClock {
        let histograms = on().then(|| {
            let m = metrics();
            m.open_streams.inc();
            let first = m.time_to_first_token.get_or_create(&OperationLabels {
                gen_ai_operation_name: operation(endpoint),
                gen_ai_request_model: model.to_string(),
                gen_ai_provider_name: provider.to_string(),
                error_type: String::new(),
            });
            let gap = m.chunk_gap.get_or_create(&ProviderLabel {
                provider: provider.to_string(),
            });
            (first.clone(), gap.clone())
        });
        StreamClock {
            started,
            last: None,
            histograms,
        }
    }

    /// A chunk went to the client now.
    pub fn chunk(&mut self) {
        let Some((first, gap)) = &self.histograms else {
            return;
        };
        let now = std::time::Instant::now();
        match self.last {
            None => first.observe((now - self.started).as_secs_f64()),
            Some(last) => gap.observe((now - last).as_secs_f64()),
        }
        self.last = Some(now);
    }
}

impl Drop for StreamClock {
    fn drop(&mut self) {
        if self.histograms.is_some() {
            metrics().open_streams.dec();
        }
    }
}

/// Counts a request a policy refused with 429.
pub fn rate_limited(endpoint: &'static str, key_id: &str) {
    if !on() {
        return;
    }
    metrics()
        .rate_limited
        .get_or_create(&DenialLabels {
            endpoint,
            key_id: key_id.to_string(),
        })
        .inc();
}

/// A plugin's series, resolved once when it loads: its call durations and its instances.
pub struct PluginMeters {
    plugin: String,
    stage: &'static str,
    calls: Histogram,
    in_use: prometheus_client::metrics::gauge::Gauge,
    idle: prometheus_client::metrics::gauge::Gauge,
}

impl PluginMeters {
    /// The series of `plugin` serving `stage`.
    pub fn new(plugin: &str, stage: &'static str) -> PluginMeters {
        let m = metrics();
        let gauge = |state| {
            m.plugin_instances
                .get_or_create(&InstanceLabels {
                    plugin: plugin.to_string(),
                    stage,
                    state,
                })
                .clone()
        };
        PluginMeters {
            plugin: plugin.to_string(),
            stage,
            calls: m
                .plugin_calls
                .get_or_create(&PluginLabels {
                    plugin: plugin.to_string(),
                    stage,
                })
                .clone(),
            in_use: gauge("in_use"),
            idle: gauge("idle"),
        }
    }

    /// Times a call; counts it as failed when `failure` names how.
    pub fn call(&self, took: std::time::Duration, failure: Option<&'static str>) {
        if !on() {
            return;
        }
        self.calls.observe(took.as_secs_f64());
        if let Some(kind) = failure {
            metrics()
                .plugin_failures
                .get_or_create(&PluginFailureLabels {
                    plugin: self.plugin.clone(),
                    stage: self.stage,
                    kind,
                })
                .inc();
        }
    }

    /// Instances in use: +1 or -1.
    pub fn in_use(&self, delta: i64) {
        self.in_use.inc_by(delta);
    }

    /// Idle instances: + or - `delta`.
    pub fn idle(&self, delta: i64) {
        self.idle.inc_by(delta);
    }
}

/// Counts a reload.
pub fn reload(ok: bool) {
    if !on() {
        return;
    }
    metrics()
        .reloads
        .get_or_create(&ResultLabel {
            result: if ok { "ok" } else { "rejected" },
        })
        .inc();
}

/// Counts an MCP `tools/call`. The tool is a label only when the server answered for it, so
/// names clients make up do not become series.
pub fn mcp_tool_call(server: &str, tool: &str, status: u16) {
    if !on() {
        return;
    }
    let tool = if matches!(status, 200 | 422) {
        tool
    } else {
        "other"
    };
    metrics()
        .mcp_tool_calls
        .get_or_create(&ToolLabels {
            server: server.to_string(),
            tool: tool.to_string(),
            status: status.to_string(),
        })
        .inc();
}

/// A webhook delivery attempt ended (`delivered`, `retried` or `failed`).
pub fn webhook(webhook: &str, outcome: &'static str) {
    if !on() {
        return;
    }
    metrics()
        .webhooks
        .get_or_create(&WebhookLabels {
            webhook: webhook.to_string(),
            outcome,
        })
        .inc();
}

/// A plugin's `kv` call found the shared store unreachable: `failed` (fail-closed) or `open`.
pub fn kv_unavailable(outcome: &'static str) {
    if !on() {
        return;
    }
    metrics()
        .kv_unavailable
        .get_or_create(&OutcomeLabel { outcome })
        .inc();
}
