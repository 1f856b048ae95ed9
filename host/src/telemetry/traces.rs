//! Traces over OTLP/HTTP, off unless `[telemetry] otlp_endpoint` is set. Spans are `tracing`
//! spans of the target `sluice::trace`, exported through `tracing-opentelemetry`: one per request
//! (named as the GenAI conventions say, `{operation} {model}`), and children per plugin call and
//! per upstream attempt. A client's W3C `traceparent` becomes the request span's parent; each
//! upstream call carries the attempt span's own `traceparent`.

use crate::config::{OtlpProtocol, TelemetryConfig};
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The target of every span this module exports.
pub const TARGET: &str = "sluice::trace";

static ON: AtomicBool = AtomicBool::new(false);
static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

/// Whether traces are exported (spans are not even created otherwise).
pub fn enabled() -> bool {
    ON.load(Ordering::Relaxed)
}

/// The tracing layer that exports spans, when `otlp_endpoint` is set. Call before the async
/// runtime starts (the exporter's HTTP client blocks on a thread of its own).
pub fn layer<S>(cfg: &TelemetryConfig) -> Result<Option<impl tracing_subscriber::Layer<S>>, String>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    let Some(endpoint) = &cfg.otlp_endpoint else {
        return Ok(None);
    };
    let protocol = match cfg.otlp_protocol {
        OtlpProtocol::HttpProtobuf => Protocol::HttpBinary,
        OtlpProtocol::HttpJson => Protocol::HttpJson,
    };
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(protocol)
        .with_endpoint(endpoint.clone())
        .build()
        .map_err(|e| format!("telemetry.otlp_endpoint: {e}"))?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
            cfg.trace_sample_ratio,
        ))))
        .with_resource(
            opentelemetry_sdk::Resource::builder()
                .with_service_name(cfg.service_name.clone())
                .build(),
        )
        .build();
    let tracer = provider.tracer("sluice");
    let _ = PROVIDER.set(provider);
    ON.store(true, Ordering::Relaxed);
    let filter =
        tracing_subscriber::filter::Targets::new().with_target(TARGET, tracing::Level::INFO);
    Ok(Some(tracing_subscriber::Layer::with_filter(
        tracing_opentelemetry::layer().with_tracer(tracer),
        filter,
    )))
}

/// Sends the spans still buffered (the gateway is stopping).
pub fn shutdown() {
    if let Some(p) = PROVIDER.get()
        && let Err(e) = p.shutdown()
    {
        eprintln!("sluice: traces not all exported at shutdown: {e}");
    }
}

struct Headers<'a>(&'a axum::http::HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

struct Pairs<'a>(&'a mut Vec<(String, String)>);

impl Injector for Pairs<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.retain(|(k, _)| !k.eq_ignore_ascii_case(key));
        self.0.push((key.to_string(), value));
    }
}

/// The span of a request of `operation` (its model is recorded later), child of the client's
/// `traceparent` when it sent one. A disabled span when traces are off.
pub fn request_span(
    operation: &'static str,
    request_id: &str,
    headers: &axum::http::HeaderMap,
) -> tracing::Span {
    if !enabled() {
        return tracing::Span::none();
    }
    let span = tracing::info_span!(
        target: TARGET,
        "request",
        otel.name = operation,
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
        gen_ai.operation.name = operation,
        gen_ai.request.model = tracing::field::Empty,
        gen_ai.provider.name = tracing::field::Empty,
        gen_ai.usage.input_tokens = tracing::field::Empty,
        gen_ai.usage.output_tokens = tracing::field::Empty,
        http.response.status_code = tracing::field::Empty,
        sluice.request_id = request_id,
    );
    let parent = TraceContextPropagator::new().extract(&Headers(headers));
    if parent.span().span_context().is_valid() {
        let _ = span.set_parent(parent);
    }
    span
}

/// The span of an MCP exchange on `server` (named after its method once the body is read), child
/// of the client's `traceparent` when it sent one.
pub fn mcp_span(server: &str, request_id: &str, headers: &axum::http::HeaderMap) -> tracing::Span {
    if !enabled() {
        return tracing::Span::none();
    }
    let span = tracing::info_span!(
        target: TARGET,
        "mcp",
        otel.name = "mcp",
        otel.kind = "server",
        mcp.server = server,
        mcp.method.name = tracing::field::Empty,
        gen_ai.tool.name = tracing::field::Empty,
        mcp.session.id = tracing::field::Empty,
        http.response.status_code = tracing::field::Empty,
        sluice.request_id = request_id,
    );
    let parent = TraceContextPropagator::new().extract(&Headers(headers));
    if parent.span().span_context().is_valid() {
        let _ = span.set_parent(parent);
    }
    span
}

/// The span of one call to an upstream (`provider`, attempt `n`), child of `parent`.
pub fn upstream_span(parent: &tracing::Span, provider: &str, url: &str, n: u32) -> tracing::Span {
    if !enabled() || parent.is_none() {
        return tracing::Span::none();
    }
    tracing::info_span!(
        target: TARGET,
        parent: parent,
        "upstream",
        otel.name = format!("POST {provider}"),
        otel.kind = "client",
        gen_ai.provider.name = provider,
        url.full = url,
        sluice.attempt = i64::from(n),
        http.response.status_code = tracing::field::Empty,
    )
}

/// The span of one plugin call, child of the current span.
pub fn plugin_span(plugin: &str, stage: &'static str) -> tracing::Span {
    if !enabled() {
        return tracing::Span::none();
    }
    tracing::info_span!(
        target: TARGET,
        "plugin",
        otel.name = format!("plugin {plugin}"),
        sluice.plugin = plugin,
        sluice.stage = stage,
    )
}

/// Renames `span` (a request span learns its model after it started).
pub fn rename(span: &tracing::Span, name: String) {
    if !span.is_none() {
        span.context().span().update_name(name);
    }
}

/// Adds `span`'s `traceparent` (and `tracestate`) to `headers`.
pub fn inject(span: &tracing::Span, headers: &mut Vec<(String, String)>) {
    if span.is_none() {
        return;
    }
    TraceContextPropagator::new().inject_context(&span.context(), &mut Pairs(headers));
}

/// The trace id of `span` (lower-case hex), if it is exported.
pub fn trace_id(span: &tracing::Span) -> Option<String> {
    if span.is_none() {
        return None;
    }
    let cx = span.context();
    let sc = cx.span().span_context().clone();
    sc.is_valid().then(|| sc.trace_id().to_string())
}
