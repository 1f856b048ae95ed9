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
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        TelemetryConfig {
            metrics: true,
            metrics_listen: None,
            metrics_token_env: None,
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
