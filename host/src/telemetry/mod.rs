//! What the gateway tells about itself: [`metrics`] (Prometheus, at `/metrics`, fed by
//! [`record`]), logs (text or JSON, with one access-log line per request) and the scrape endpoint.

mod labels;
pub mod metrics;
pub mod record;
pub mod traces;

use crate::config::{LogConfig, LogFormat, TelemetryConfig};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::UsageRow;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::atomic::{AtomicBool, Ordering};

pub use metrics::metrics;

/// Whether access-log lines are written (`[log] access_log`), set once at start.
static ACCESS_LOG: AtomicBool = AtomicBool::new(true);

/// Starts logging to stderr in the configured format (`SLUICE_LOG` filters, default `info`),
/// and with `telemetry`, exporting traces when it names an OTLP endpoint. Call once, before the
/// async runtime starts.
pub fn init_logging(log: &LogConfig, telemetry: Option<&TelemetryConfig>) -> Result<(), String> {
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    ACCESS_LOG.store(log.access_log, Ordering::Relaxed);
    let filter = tracing_subscriber::EnvFilter::try_from_env("SLUICE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let lines = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let lines = match log.format {
        LogFormat::Text => lines.boxed(),
        LogFormat::Json => lines
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .boxed(),
    };
    let registry = tracing_subscriber::registry().with(lines.with_filter(filter));
    let traces = match telemetry {
        Some(t) => traces::layer(t)?,
        None => None,
    };
    let _ = registry.with(traces).try_init();
    Ok(())
}

/// The access-log line of a finished request: ids, model, provider, status, tokens, cost and
/// times. Never a secret, a prompt or an answer.
pub fn access_log(row: &UsageRow) {
    if !ACCESS_LOG.load(Ordering::Relaxed) {
        return;
    }
    tracing::info!(
        target: "sluice::access",
        request_id = %row.request_id,
        key_id = row.key_id.as_deref().unwrap_or(""),
        user_id = row.user_id.as_deref().unwrap_or(""),
        endpoint = %row.endpoint,
        model = %row.model,
        provider = %row.provider,
        status = row.status,
        prompt_tokens = row.prompt_tokens,
        completion_tokens = row.completion_tokens,
        cost_usd = row.cost_usd,
        latency_ms = row.latency_ms,
        overhead_us = row.overhead_us,
        batch_id = row.batch_id.as_deref().unwrap_or(""),
        "request"
    );
}

/// `GET /metrics`: every series in the OpenMetrics text format. With `metrics_token_env` set, the
/// scrape must carry that bearer token (401 otherwise).
pub async fn scrape(State(gw): State<AppState>, headers: HeaderMap) -> Response {
    let pipeline = gw.pipeline.load();
    let t = &pipeline.config.telemetry;
    if !t.metrics {
        return ApiError::unknown_route("GET", "/metrics").into_response();
    }
    if let Some(var) = &t.metrics_token_env {
        let expected = std::env::var(var).unwrap_or_default();
        let given = crate::http::auth::credential(&headers).unwrap_or_default();
        let ok = !expected.is_empty()
            && subtle::ConstantTimeEq::ct_eq(given.as_bytes(), expected.as_bytes()).into();
        if !ok {
            return ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_request_error",
                "Scraping /metrics needs the metrics bearer token.",
            )
            .code("invalid_metrics_token")
            .into_response();
        }
    }
    let m = metrics();
    m.mcp_sessions.set(gw.mcp.session_count() as i64);
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        m.encode(),
    )
        .into_response()
}
