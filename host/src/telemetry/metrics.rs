//! The gateway's metrics, in one `prometheus-client` registry served at `/metrics`.
//!
//! LLM series follow the OpenTelemetry GenAI semantic conventions (`gen_ai.client.token.usage`,
//! `gen_ai.client.operation.duration`, `gen_ai.server.time_to_first_token`, with the attributes
//! `gen_ai.operation.name`, `gen_ai.request.model`, `gen_ai.provider.name`, `gen_ai.token.type`),
//! exported under Prometheus-safe names (dots become underscores, the unit becomes a suffix). The
//! gateway's own series carry a `sluice_` prefix. Labels are bounded: models are the configured
//! names (`unknown` for anything else), no user or request id is ever a label.

pub use super::labels::*;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};
use std::sync::LazyLock;
use std::sync::atomic::AtomicU64;

/// A family of histograms whose buckets a plain function makes.
pub type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// Every series the gateway exports.
pub struct Metrics {
    registry: Registry,
    /// Tokens per request, by type.
    pub tokens: Histograms<TokenLabels>,
    /// Time from arrival to the response's end.
    pub duration: Histograms<OperationLabels>,
    /// Time from arrival to a stream's first chunk.
    pub time_to_first_token: Histograms<OperationLabels>,
    /// Requests answered.
    pub requests: Family<RequestLabels, Counter>,
    /// Cost in USD, as the enrich stage priced it.
    pub cost: Family<CostLabels, Counter<f64, AtomicU64>>,
    /// Seconds of audio transcribed or translated, as the provider reported them.
    pub audio_seconds: Family<CostLabels, Counter<f64, AtomicU64>>,
    /// The gateway's own time per request (total minus the upstream's).
    pub overhead: Histograms<EndpointLabel>,
    /// Time between a stream's chunks.
    pub chunk_gap: Histograms<ProviderLabel>,
    /// Upstream calls retried.
    pub retries: Family<ProviderLabel, Counter>,
    /// Requests that fell back to a later deployment of their model.
    pub fallbacks: Family<ModelLabel, Counter>,
    /// Requests a policy refused with 429.
    pub rate_limited: Family<DenialLabels, Counter>,
    /// Webhook delivery attempts, by outcome.
    pub webhooks: Family<WebhookLabels, Counter>,
    /// Duration of each plugin call.
    pub plugin_calls: Histograms<PluginLabels>,
    /// Plugin calls that failed.
    pub plugin_failures: Family<PluginFailureLabels, Counter>,
    /// Plugin instances in use and idle.
    pub plugin_instances: Family<InstanceLabels, Gauge>,
    /// Reloads, by result.
    pub reloads: Family<ResultLabel, Counter>,
    /// Streams open now.
    pub open_streams: Gauge,
    /// Batch lines run, by status.
    pub batch_lines: Family<StatusLabel, Counter>,
    /// MCP `tools/call`s.
    pub mcp_tool_calls: Family<ToolLabels, Counter>,
    /// MCP sessions open now.
    pub mcp_sessions: Gauge,
    /// `kv` calls that found the shared store unreachable, by outcome (`failed`, `open`).
    pub kv_unavailable: Family<OutcomeLabel, Counter>,
}

fn token_buckets() -> Histogram {
    // The GenAI conventions' advice: 1, 4, 16, ... 67,108,864.
    Histogram::new(exponential_buckets(1.0, 4.0, 14))
}

fn duration_buckets() -> Histogram {
    // The GenAI conventions' advice for durations, in seconds.
    Histogram::new([
        0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
    ])
}

fn fine_buckets() -> Histogram {
    // 10 µs to ~2.6 s: gateway overhead, plugin calls, chunk gaps.
    Histogram::new(exponential_buckets(0.000_01, 2.0, 19))
}

impl Metrics {
    fn new() -> Metrics {
        let mut r = Registry::default();
        let m = Metrics {
            tokens: Family::new_with_constructor(token_buckets),
            duration: Family::new_with_constructor(duration_buckets),
            time_to_first_token: Family::new_with_constructor(duration_buckets),
            requests: Family::default(),
            cost: Family::default(),
            audio_seconds: Family::default(),
            overhead: Family::new_with_constructor(fine_buckets),
            chunk_gap: Family::new_with_constructor(fine_buckets),
            retries: Family::default(),
            fallbacks: Family::default(),
            rate_limited: Family::default(),
            webhooks: Family::default(),
            plugin_calls: Family::new_with_constructor(fine_buckets),
            plugin_failures: Family::default(),
            plugin_instances: Family::default(),
            reloads: Family::default(),
            open_streams: Gauge::default(),
            batch_lines: Family::default(),
            mcp_tool_calls: Family::default(),
            mcp_sessions: Gauge::default(),
            kv_unavailable: Family::default(),
            registry: Registry::default(),
        };
        r.register(
            "gen_ai_client_token_usage",
            "Tokens used per request (gen_ai.client.token.usage)",
            m.tokens.clone(),
        );
        r.register_with_unit(
            "gen_ai_client_operation_duration",
            "Time from a request's arrival to its response's end (gen_ai.client.operation.duration)",
            Unit::Seconds,
            m.duration.clone(),
        );
        r.register_with_unit(
            "gen_ai_server_time_to_first_token",
            "Time from a request's arrival to its stream's first chunk (gen_ai.server.time_to_first_token)",
            Unit::Seconds,
            m.time_to_first_token.clone(),
        );
        r.register("sluice_requests", "Requests answered", m.requests.clone());
        r.register(
            "sluice_cost_usd",
            "Cost in USD as priced by the enrich stage",
            m.cost.clone(),
        );
        r.register(
            "sluice_audio_seconds",
            "Seconds of audio transcribed or translated, as providers reported them",
            m.audio_seconds.clone(),
        );
        r.register(
            "sluice_upstream_retries",
            "Upstream calls retried",
            m.retries.clone(),
        );
        r.register(
            "sluice_fallbacks",
            "Requests that fell back to a later deployment",
            m.fallbacks.clone(),
        );
        r.register(
            "sluice_rate_limited",
            "Requests a policy refused with 429",
            m.rate_limited.clone(),
        );
        r.register(
            "sluice_kv_unavailable",
            "Plugin kv calls that found the shared store unreachable, by outcome",
            m.kv_unavailable.clone(),
        );
        r.register(
            "sluice_webhook_deliveries",
            "Webhook delivery attempts, by outcome",
            m.webhooks.clone(),
        );
        r.register(
            "sluice_plugin_failures",
            "Plugin calls that failed, by kind",
            m.plugin_failures.clone(),
        );
        r.register(
            "sluice_plugin_instances",
            "Plugin instances, in use and idle",
            m.plugin_instances.clone(),
        );
        r.register(
            "sluice_reloads",
            "Config and plugin reloads, by result",
            m.reloads.clone(),
        );
        r.register(
            "sluice_open_streams",
            "Streams open now",
            m.open_streams.clone(),
        );
        r.register(
            "sluice_batch_lines",
            "Batch lines run, by status",
            m.batch_lines.clone(),
        );
        r.register(
            "sluice_mcp_tool_calls",
            "MCP tools/call requests, by server, tool and status",
            m.mcp_tool_calls.clone(),
        );
        r.register(
            "sluice_mcp_sessions",
            "MCP sessions open now",
            m.mcp_sessions.clone(),
        );
        r.register_with_unit(
            "sluice_overhead",
            "The gateway's own time per request",
            Unit::Seconds,
            m.overhead.clone(),
        );
        r.register_with_unit(
            "sluice_stream_chunk_gap",
            "Time between a stream's chunks",
            Unit::Seconds,
            m.chunk_gap.clone(),
        );
        r.register_with_unit(
            "sluice_plugin_call_duration",
            "Duration of plugin calls",
            Unit::Seconds,
            m.plugin_calls.clone(),
        );
        Metrics { registry: r, ..m }
    }

    /// The registry in the OpenMetrics text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "metrics could not be encoded");
        }
        out
    }
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// The process's metrics.
pub fn metrics() -> &'static Metrics {
    &METRICS
}
