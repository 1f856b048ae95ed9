//! The `[telemetry]` and `[log]` tables: metrics, traces and logs.

use serde::Deserialize;

/// `[telemetry]`: what the gateway exports about itself.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TelemetryConfig {
    /// Serve Prometheus metrics at `GET /metrics`.
    #[serde(default = "yes")]
    pub metrics: bool,
    /// Serve `/metrics` on this address instead of the main listener (restart to change).
    #[serde(default)]
    pub metrics_listen: Option<String>,
    /// An environment variable holding a bearer token `/metrics` then asks for.
    #[serde(default)]
    pub metrics_token_env: Option<String>,
    /// Where traces go, as an OTLP/HTTP traces URL (`http://collector:4318/v1/traces`); no
    /// traces when absent (restart to change).
    #[serde(default)]
    pub otlp_endpoint: Option<String>,
    /// `http/protobuf` (default) or `http/json`.
    #[serde(default)]
    pub otlp_protocol: OtlpProtocol,
    /// The share of traces kept, 0 to 1 (a client's sampled `traceparent` is always followed).
    #[serde(default = "one")]
    pub trace_sample_ratio: f64,
    /// `service.name` of the exported spans.
    #[serde(default = "service")]
    pub service_name: String,
}

/// The encoding of OTLP over HTTP.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
pub enum OtlpProtocol {
    /// Protobuf.
    #[default]
    #[serde(rename = "http/protobuf")]
    HttpProtobuf,
    /// JSON.
    #[serde(rename = "http/json")]
    HttpJson,
}

fn one() -> f64 {
    1.0
}
fn service() -> String {
    "sluice".into()
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        TelemetryConfig {
            metrics: true,
            metrics_listen: None,
            metrics_token_env: None,
            otlp_endpoint: None,
            otlp_protocol: OtlpProtocol::default(),
            trace_sample_ratio: 1.0,
            service_name: service(),
        }
    }
}

fn yes() -> bool {
    true
}

/// The format of log lines.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// `[log]` (restart to change).
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// `text` or `json`.
    #[serde(default)]
    pub format: LogFormat,
    /// One access-log line per request (`sluice::access`, info level).
    #[serde(default = "yes")]
    pub access_log: bool,
}
