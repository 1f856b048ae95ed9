//! Recording into the metrics: one function per event the gateway counts or times.

use super::metrics::{
    CostLabels, DenialLabels, EndpointLabel, ModelLabel, OperationLabels, PluginFailureLabels,
    PluginLabels, ProviderLabel, RequestLabels, ResultLabel, StatusLabel, TokenLabels, ToolLabels,
    metrics,
};
use prometheus_client::metrics::histogram::Histogram;

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
    if row.cost_usd > 0.0 {
        m.cost
            .get_or_create(&CostLabels {
                model: model.to_string(),
                provider: row.provider.clone(),
                key_id,
            })
            .inc_by(row.cost_usd);
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
    metrics()
        .retries
        .get_or_create(&ProviderLabel {
            provider: provider.to_string(),
        })
        .inc();
}

/// Counts a request moving on to its model's next deployment.
pub fn fallback(model: &str) {
    metrics()
        .fallbacks
        .get_or_create(&ModelLabel {
            model: model.to_string(),
        })
        .inc();
}

/// A stream's clock: its first chunk's delay and the gaps between chunks; it counts as an open
/// stream while it lives.
pub struct StreamClock {
    started: std::time::Instant,
    last: Option<std::time::Instant>,
    first_token: Histogram,
    gap: Histogram,
}

impl StreamClock {
    /// The clock of a stream of request `started`, answered by `provider` for `model`.
    pub fn new(
        endpoint: &'static str,
        model: &str,
        provider: &str,
        started: std::time::Instant,
    ) -> StreamClock {
        let m = metrics();
        m.open_streams.inc();
        StreamClock {
            started,
            last: None,
            first_token: m
                .time_to_first_token
                .get_or_create(&OperationLabels {
                    gen_ai_operation_name: operation(endpoint),
                    gen_ai_request_model: model.to_string(),
                    gen_ai_provider_name: provider.to_string(),
                    error_type: String::new(),
                })
                .clone(),
            gap: m
                .chunk_gap
                .get_or_create(&ProviderLabel {
                    provider: provider.to_string(),
                })
                .clone(),
        }
    }

    /// A chunk went to the client now.
    pub fn chunk(&mut self) {
        let now = std::time::Instant::now();
        match self.last {
            None => self.first_token.observe((now - self.started).as_secs_f64()),
            Some(last) => self.gap.observe((now - last).as_secs_f64()),
        }
        self.last = Some(now);
    }
}

impl Drop for StreamClock {
    fn drop(&mut self) {
        metrics().open_streams.dec();
    }
}

/// Counts a request a policy refused with 429.
pub fn rate_limited(endpoint: &'static str, key_id: &str) {
    metrics()
        .rate_limited
        .get_or_create(&DenialLabels {
            endpoint,
            key_id: key_id.to_string(),
        })
        .inc();
}

/// Times a plugin call; counts it as failed when `failure` names how.
pub fn plugin_call(
    plugin: &str,
    stage: &'static str,
    took: std::time::Duration,
    failure: Option<&'static str>,
) {
    let m = metrics();
    m.plugin_calls
        .get_or_create(&PluginLabels {
            plugin: plugin.to_string(),
            stage,
        })
        .observe(took.as_secs_f64());
    if let Some(kind) = failure {
        m.plugin_failures
            .get_or_create(&PluginFailureLabels {
                plugin: plugin.to_string(),
                stage,
                kind,
            })
            .inc();
    }
}

/// Counts a reload.
pub fn reload(ok: bool) {
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
