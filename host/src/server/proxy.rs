//! The request path of the LLM endpoints (chat completions, completions, embeddings):
//! read and parse once -> auth -> route -> policy -> adapter -> upstream -> adapter -> enrich.

use super::error::ApiError;
use super::request::{Endpoint, Prepared, prepare};
use super::stages::{self, Additions, PolicyOutcome};
use super::stream::{self, StreamJob};
use super::{AppState, add_headers, new_request_id};
use crate::host_api::now_ms;
use crate::pipeline::bindings::adapter::exports::sluice::plugin::adapter::{
    Provider as ProviderRec, UpstreamCall,
};
use crate::pipeline::bindings::types::{
    HttpRequest, HttpResponse, LlmMeta, Outcome, Principal, RequestCtx, Usage,
};
use crate::pipeline::plugin::{Lease, Plugin};
use crate::pipeline::{AdapterWorld, Deployment, Pipeline, PolicyWorld, Route};
use crate::store::UsageRow;
use crate::upstream::{Outbound, read_body};
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Instant;

/// Largest upstream answer read whole.
const MAX_UPSTREAM_BODY: usize = 64 << 20;

/// One request's state as it moves through the stages.
pub(super) struct Exchange {
    pub gw: AppState,
    pub pipeline: Arc<Pipeline>,
    pub endpoint: Endpoint,
    pub started: Instant,
    pub ctx: RequestCtx,
    pub principal: Option<Principal>,
    pub meta: Option<LlmMeta>,
    pub additions: Additions,
    /// Policy plugins that let the request through (their `on-complete` runs at the end).
    pub ran: Vec<Arc<Plugin<PolicyWorld>>>,
    pub provider: String,
    pub served_model: String,
    pub upstream_us: u64,
    /// The gateway's own time until the response headers (set by `decorate`).
    pub overhead_us: u64,
    /// Whether `complete` ran (it runs once).
    pub completed: bool,
}

/// How one call to one deployment failed.
enum Attempt {
    /// The request itself is at fault, or the answer has started: no retry.
    Final(ApiError),
    /// The upstream failed before answering: retry, then fall back.
    Retry(ApiError),
    /// This deployment cannot serve now (no key): fall back at once.
    Next(ApiError),
}

impl Attempt {
    /// An upstream failure: connection errors and timeouts (502/504), 429 and 5xx are retried.
    fn upstream(e: ApiError) -> Attempt {
        match e.status {
            // A provider that asks for more than a second's pause will not serve a quick retry.
            StatusCode::TOO_MANY_REQUESTS if e.retry_after.is_some_and(|s| s > 1) => {
                Attempt::Next(e)
            }
            s if s == StatusCode::TOO_MANY_REQUESTS || s.is_server_error() => Attempt::Retry(e),
            _ => Attempt::Final(e),
        }
    }
}

/// Serves one request of `endpoint`.
pub async fn handle(gw: AppState, endpoint: Endpoint, headers: HeaderMap, body: Body) -> Response {
    let pipeline = gw.pipeline.load_full();
    let mut x = Exchange {
        gw,
        pipeline,
        endpoint,
        started: Instant::now(),
        ctx: RequestCtx {
            request_id: new_request_id(),
            endpoint: endpoint.name().into(),
            method: "POST".into(),
            path: endpoint.path().into(),
            model: String::new(),
            stream: false,
            user_id: None,
            key_id: None,
            headers: Vec::new(),
        },
        principal: None,
        meta: None,
        additions: Additions::default(),
        ran: Vec::new(),
        provider: String::new(),
        served_model: String::new(),
        upstream_us: 0,
        overhead_us: 0,
        completed: false,
    };
    match x.run(&headers, body).await {
        Ok(resp) => resp,
        Err(e) => {
            let status = e.status.as_u16();
            x.complete(status, None);
            x.respond_error(e)
        }
    }
}

/// The usage object of an OpenAI response.
#[derive(Deserialize, Default)]
pub(super) struct UsageJson {
    #[serde(default)]
    prompt_tokens: u32,
    #[serde(default)]
    completion_tokens: u32,
    #[serde(default)]
    prompt_tokens_details: Option<PromptDetails>,
}

#[derive(Deserialize, Default)]
struct PromptDetails {
    #[serde(default)]
    cached_tokens: u32,
}

impl From<UsageJson> for Usage {
    fn from(u: UsageJson) -> Usage {
        Usage {
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
            cached_tokens: u
                .prompt_tokens_details
                .map(|d| d.cached_tokens)
                .unwrap_or(0),
        }
    }
}

/// The parts of an OpenAI JSON answer the host reads.
#[derive(Deserialize)]
struct AnswerJson {
    #[serde(default)]
    usage: Option<UsageJson>,
}

impl Exchange {
    async fn run(&mut self, headers: &HeaderMap, body: Body) -> Result<Response, ApiError> {
        let limit = self.pipeline.config.server.max_body_bytes;
        let bytes = axum::body::to_bytes(body, limit)
            .await
            .map_err(|_| ApiError::too_large(limit))?;
        let mut prepared = prepare(self.endpoint, bytes.clone())?;
        self.ctx.model = prepared.model.clone();
        self.ctx.stream = prepared.stream;
        self.ctx.user_id = prepared.user_id.clone();
        self.ctx.headers = stages::plugin_headers(headers);
        self.meta = Some(prepared.meta.clone());

        let principal = stages::authenticate(
            &self.pipeline,
            &self.ctx,
            stages::credential(headers).as_deref(),
        )
        .await?;
        self.ctx.key_id = Some(principal.key_id.clone());
        let principal = self.principal.insert(principal).clone();

        let route = self.route(&prepared.model, &principal)?;
        let outcome = stages::run_policies(
            &self.pipeline,
            &self.ctx,
            &principal,
            &prepared.meta,
            &bytes,
            &mut self.additions,
            &mut self.ran,
        )
        .await?;
        match outcome {
            PolicyOutcome::Respond(resp) => return Ok(self.finish_plugin_response(resp).await),
            PolicyOutcome::Continue {
                body: Some(new_body),
            } => {
                let user_id = prepared.user_id.take();
                prepared = prepare(self.endpoint, Bytes::from(new_body))?;
                prepared.user_id = user_id;
            }
            PolicyOutcome::Continue { body: None } => {}
        }
        // A policy may have rewritten the model.
        let route = if prepared.model == route.name || route.aliases.contains(&prepared.model) {
            route
        } else {
            self.route(&prepared.model, &principal)?
        };
        self.call_provider(&route, prepared).await
    }

    fn route(&self, model: &str, principal: &Principal) -> Result<Arc<Route>, ApiError> {
        match self.pipeline.route(model) {
            Some(r) if stages::model_allowed(principal, &r.name, model) => Ok(Arc::clone(r)),
            _ => Err(ApiError::model_not_found(model)),
        }
    }

    /// Calls the route's deployments in order: each is retried (with backoff) after connection
    /// errors, timeouts, 429 and 5xx before the first byte, then the next one is tried. Once a
    /// stream has started nothing is retried.
    async fn call_provider(
        &mut self,
        route: &Route,
        mut prepared: Prepared,
    ) -> Result<Response, ApiError> {
        let mut last = None;
        for (i, dep) in route.deployments.iter().enumerate() {
            let p = &dep.provider;
            for attempt in 0..=p.retries {
                if attempt > 0 {
                    let backoff = p.retry_backoff.saturating_mul(1 << (attempt - 1).min(8));
                    tokio::time::sleep(backoff).await;
                }
                match self.attempt(dep, &mut prepared).await {
                    Ok(resp) => {
                        if i > 0 || attempt > 0 {
                            tracing::info!(request_id = %self.ctx.request_id, provider = %p.name, deployment = i, attempt, "answered after a retry or fallback");
                        }
                        return Ok(resp);
                    }
                    Err(Attempt::Final(e)) => return Err(e),
                    Err(Attempt::Next(e)) => {
                        tracing::warn!(request_id = %self.ctx.request_id, provider = %p.name, error = %e, "deployment unusable; trying the next");
                        last = Some(e);
                        break;
                    }
                    Err(Attempt::Retry(e)) => {
                        tracing::warn!(request_id = %self.ctx.request_id, provider = %p.name, attempt, error = %e, "upstream failed before answering");
                        last = Some(e);
                    }
                }
            }
        }
        Err(last.unwrap_or_else(|| ApiError::internal("The model has no deployment.")))
    }

    /// One call to one deployment.
    async fn attempt(
        &mut self,
        dep: &Deployment,
        prepared: &mut Prepared,
    ) -> Result<Response, Attempt> {
        let provider = &dep.provider;
        self.provider = provider.name.clone();
        self.served_model = dep.upstream_model.clone();
        if let (Some(var), None) = (&provider.api_key_env, &provider.api_key) {
            return Err(Attempt::Next(
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "server_error",
                    format!(
                        "The provider `{}` has no API key: the gateway's operator must set {var}.",
                        provider.name
                    ),
                )
                .code("provider_not_configured"),
            ));
        }
        let body = prepared.upstream_body(&dep.upstream_model);
        let adapter = &provider.adapter;
        let req = HttpRequest {
            method: self.ctx.method.clone(),
            path: self.ctx.path.clone(),
            headers: self.ctx.headers.clone(),
            body: if adapter.info.wants_body {
                body.to_vec()
            } else {
                Vec::new()
            },
        };
        let rec = ProviderRec {
            name: provider.name.clone(),
            base_url: provider.base_url.clone(),
            api_key: provider.api_key.clone(),
            upstream_model: dep.upstream_model.clone(),
        };
        let mut lease = adapter
            .lease()
            .await
            .map_err(|e| Attempt::Final(e.into()))?;
        let ctx = &self.ctx;
        let call = lease
            .call(async |w, s| {
                w.sluice_plugin_adapter()
                    .call_to_upstream(s, ctx, &rec, &req)
                    .await
            })
            .await
            .map_err(|e| Attempt::Final(e.into()))?
            .map_err(|e| Attempt::Final(e.into()))?;
        // Pass-through adapters have nothing more to do: free their instance now.
        let mut lease = if adapter.info.passthrough {
            None
        } else {
            Some(lease)
        };
        let up = match call {
            UpstreamCall::Respond(resp) => {
                let answered = if self.ctx.stream && is_event_stream(&resp.headers) {
                    self.start_stream(
                        stream::Source::Whole(Bytes::from(resp.body)),
                        None,
                        prepared.client_wants_usage,
                        provider.timeout,
                    )
                } else if !self.endpoint.answers_json() && (200..300).contains(&resp.status) {
                    let content_type = header_value(&resp.headers, "content-type");
                    self.finish_binary(content_type, Body::from(resp.body))
                        .await
                } else if (200..300).contains(&resp.status) {
                    self.finish_json(resp.status, resp.body.into()).await
                } else {
                    Err(upstream_error(
                        &provider.name,
                        StatusCode::from_u16(resp.status).unwrap_or(StatusCode::BAD_GATEWAY),
                        &resp.body,
                        &resp.headers,
                    ))
                };
                return answered.map_err(Attempt::Final);
            }
            UpstreamCall::Send(up) => up,
        };
        let upstream_started = Instant::now();
        let resp = self
            .gw
            .upstream
            .send(Outbound {
                provider: &provider.name,
                method: &up.method,
                url: format!("{}{}", provider.base_url, up.path),
                headers: &up.headers,
                body: up.body.map(Bytes::from).unwrap_or(body),
                timeout: provider.timeout,
            })
            .await
            .map_err(Attempt::upstream)?;
        let status = resp.status();
        let streamed = up.stream
            && status.is_success()
            && resp
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("event-stream"));
        if streamed {
            self.upstream_us = upstream_started.elapsed().as_micros() as u64;
            return self
                .start_stream(
                    stream::Source::Upstream(Box::pin(resp.bytes_stream())),
                    lease,
                    prepared.client_wants_usage,
                    provider.timeout,
                )
                .map_err(Attempt::Final);
        }
        if !self.endpoint.answers_json() && status.is_success() {
            // Audio and other binary answers flow through as they arrive.
            self.upstream_us = upstream_started.elapsed().as_micros() as u64;
            let content_type = resp
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            return self
                .finish_binary(content_type, Body::from_stream(resp.bytes_stream()))
                .await
                .map_err(Attempt::Final);
        }
        let resp_headers = header_pairs(resp.headers());
        let body = read_body(&provider.name, resp, MAX_UPSTREAM_BODY, provider.timeout)
            .await
            .map_err(Attempt::upstream)?;
        self.upstream_us = upstream_started.elapsed().as_micros() as u64;
        let mapped = match lease.as_mut() {
            Some(lease) => from_upstream(
                lease,
                &self.ctx,
                status.as_u16(),
                resp_headers.clone(),
                &body,
            )
            .await
            .map_err(Attempt::Final)?,
            None => None,
        };
        let (status, body, resp_headers) = match mapped {
            Some(r) => (
                StatusCode::from_u16(r.status).unwrap_or(StatusCode::BAD_GATEWAY),
                Bytes::from(r.body),
                r.headers,
            ),
            None => (status, body, resp_headers),
        };
        if !status.is_success() {
            return Err(Attempt::upstream(upstream_error(
                &provider.name,
                status,
                &body,
                &resp_headers,
            )));
        }
        self.finish_json(status.as_u16(), body)
            .await
            .map_err(Attempt::Final)
    }

    /// Finishes a whole JSON answer: usage, enrich, metadata, headers.
    async fn finish_json(&mut self, status: u16, body: Bytes) -> Result<Response, ApiError> {
        let answer: AnswerJson = serde_json::from_slice(&body).map_err(|_| {
            ApiError::bad_gateway(format!(
                "The provider `{}` answered with invalid JSON.",
                self.provider
            ))
        })?;
        let usage = answer.usage.map(Usage::from);
        let outcome = self.outcome(status, usage);
        self.enrich(&outcome).await?;
        let body = self.with_metadata(body, &outcome);
        let mut resp = Response::new(Body::from(body));
        *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        self.decorate(resp.headers_mut());
        self.complete(status, outcome.usage);
        Ok(resp)
    }

    /// Runs the enrich stage on a finished outcome; its headers and metadata join the response.
    pub async fn enrich(&mut self, outcome: &Outcome) -> Result<(), ApiError> {
        stages::run_enrich(
            &self.pipeline,
            &self.ctx,
            self.principal.as_ref(),
            outcome,
            &mut self.additions,
        )
        .await
    }

    /// Finishes a binary answer (audio): enrich, headers, then the bytes as they come.
    async fn finish_binary(
        &mut self,
        content_type: Option<String>,
        body: Body,
    ) -> Result<Response, ApiError> {
        let outcome = self.outcome(200, None);
        self.enrich(&outcome).await?;
        let mut resp = Response::new(body);
        let content_type = content_type
            .and_then(|c| HeaderValue::from_str(&c).ok())
            .unwrap_or(HeaderValue::from_static("application/octet-stream"));
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, content_type);
        self.decorate(resp.headers_mut());
        self.complete(200, None);
        Ok(resp)
    }

    /// A whole response a policy plugin answered with.
    async fn finish_plugin_response(&mut self, r: HttpResponse) -> Response {
        let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::OK);
        let mut resp = Response::new(Body::from(r.body));
        *resp.status_mut() = status;
        add_headers(resp.headers_mut(), &r.headers);
        self.decorate(resp.headers_mut());
        self.complete(status.as_u16(), None);
        resp
    }

    fn start_stream(
        &mut self,
        source: stream::Source,
        lease: Option<Lease<AdapterWorld>>,
        client_wants_usage: bool,
        idle_timeout: std::time::Duration,
    ) -> Result<Response, ApiError> {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        self.decorate(&mut headers);
        let job = StreamJob {
            x: self.take(),
            source,
            lease,
            client_wants_usage,
            idle_timeout,
        };
        let body = stream::spawn(job);
        let mut resp = Response::new(body);
        *resp.headers_mut() = headers;
        Ok(resp)
    }

    /// Moves this exchange's state out (into a stream task), leaving an inert shell.
    fn take(&mut self) -> Exchange {
        Exchange {
            gw: Arc::clone(&self.gw),
            pipeline: Arc::clone(&self.pipeline),
            endpoint: self.endpoint,
            started: self.started,
            ctx: self.ctx.clone(),
            principal: self.principal.take(),
            meta: self.meta.take(),
            additions: std::mem::take(&mut self.additions),
            ran: std::mem::take(&mut self.ran),
            provider: self.provider.clone(),
            served_model: self.served_model.clone(),
            upstream_us: self.upstream_us,
            overhead_us: self.overhead_us,
            completed: std::mem::replace(&mut self.completed, true),
        }
    }

    /// The outcome record stages receive.
    pub fn outcome(&self, status: u16, usage: Option<Usage>) -> Outcome {
        Outcome {
            status,
            provider: self.provider.clone(),
            served_model: self.served_model.clone(),
            usage,
            latency_ms: u32::try_from(self.started.elapsed().as_millis()).unwrap_or(u32::MAX),
            upstream_us: self.upstream_us,
        }
    }

    /// The metadata object's JSON text (host fields, then the stages' fields).
    pub fn metadata_json(&self, outcome: &Outcome) -> Option<String> {
        let field = &self.pipeline.config.server.metadata_field;
        if field.is_empty() {
            return None;
        }
        let mut obj = serde_json::Map::new();
        obj.insert("request_id".into(), self.ctx.request_id.clone().into());
        obj.insert("provider".into(), outcome.provider.clone().into());
        obj.insert("model".into(), outcome.served_model.clone().into());
        for (k, v) in &self.additions.metadata {
            let value =
                serde_json::from_str(v).unwrap_or_else(|_| serde_json::Value::String(v.clone()));
            obj.insert(k.clone(), value);
        }
        Some(serde_json::Value::Object(obj).to_string())
    }

    /// Splices the metadata object into a JSON object body, before its closing brace.
    fn with_metadata(&self, body: Bytes, outcome: &Outcome) -> Bytes {
        let Some(meta) = self.metadata_json(outcome) else {
            return body;
        };
        let field = &self.pipeline.config.server.metadata_field;
        splice_field(&body, field, &meta)
            .map(Bytes::from)
            .unwrap_or(body)
    }

    /// Adds the request id, the gateway's overhead and the stages' headers.
    pub fn decorate(&mut self, headers: &mut HeaderMap) {
        add_headers(headers, &self.additions.headers);
        if let Ok(v) = HeaderValue::from_str(&self.ctx.request_id) {
            headers.insert("x-request-id", v);
        }
        if !self.provider.is_empty()
            && let Ok(v) = HeaderValue::from_str(&self.provider)
        {
            headers.insert("x-sluice-provider", v);
        }
        let total = self.started.elapsed().as_micros() as u64;
        let overhead = total.saturating_sub(self.upstream_us);
        self.overhead_us = overhead;
        if let Ok(v) = HeaderValue::from_str(&overhead.to_string()) {
            headers.insert("x-sluice-overhead-us", v);
        }
    }

    fn respond_error(&mut self, e: ApiError) -> Response {
        let mut resp = e.into_response();
        self.decorate(resp.headers_mut());
        resp
    }

    /// Records the request's usage row and starts the `on-complete` hooks, once, when the
    /// response is decided (for streams: when the stream ends). The hooks run in a task of their
    /// own, off the response path.
    pub fn complete(&mut self, status: u16, usage: Option<Usage>) {
        if std::mem::replace(&mut self.completed, true) {
            return;
        }
        let outcome = self.outcome(status, usage);
        let cost_usd = self
            .additions
            .metadata
            .iter()
            .rev()
            .find(|(k, _)| k == "cost_usd")
            .and_then(|(_, v)| v.parse::<f64>().ok())
            .unwrap_or(0.0);
        let u = usage.unwrap_or(Usage {
            prompt_tokens: 0,
            completion_tokens: 0,
            cached_tokens: 0,
        });
        self.gw.usage.record(UsageRow {
            at_ms: now_ms(),
            request_id: self.ctx.request_id.clone(),
            key_id: self.ctx.key_id.clone(),
            user_id: self.ctx.user_id.clone(),
            endpoint: self.ctx.endpoint.clone(),
            model: self.ctx.model.clone(),
            served_model: self.served_model.clone(),
            provider: self.provider.clone(),
            status,
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
            cached_tokens: u.cached_tokens,
            cost_usd,
            latency_ms: outcome.latency_ms,
            overhead_us: if self.overhead_us > 0 {
                self.overhead_us
            } else {
                (self.started.elapsed().as_micros() as u64).saturating_sub(self.upstream_us)
            },
        });
        if self.ran.is_empty() {
            return;
        }
        let (Some(principal), Some(meta)) = (self.principal.clone(), self.meta.clone()) else {
            return;
        };
        let ran = std::mem::take(&mut self.ran);
        let ctx = self.ctx.clone();
        tokio::spawn(async move {
            stages::run_on_complete(&ran, &ctx, &principal, &meta, &outcome).await;
        });
    }
}

/// Calls the adapter's `from-upstream`.
async fn from_upstream(
    lease: &mut Lease<AdapterWorld>,
    ctx: &RequestCtx,
    status: u16,
    headers: Vec<(String, String)>,
    body: &Bytes,
) -> Result<Option<HttpResponse>, ApiError> {
    let resp = HttpResponse {
        status,
        headers,
        body: body.to_vec(),
    };
    lease
        .call(async |w, s| {
            w.sluice_plugin_adapter()
                .call_from_upstream(s, ctx, &resp)
                .await
        })
        .await?
        .map_err(ApiError::from)
}

/// An upstream's non-success answer as the client's error: OpenAI-shaped errors pass through with
/// their status; anything else becomes a 502 that says what the provider answered.
fn upstream_error(
    provider: &str,
    status: StatusCode,
    body: &[u8],
    headers: &[(String, String)],
) -> ApiError {
    #[derive(Deserialize)]
    struct Wrapper {
        error: Inner,
    }
    #[derive(Deserialize)]
    struct Inner {
        message: String,
        #[serde(default, rename = "type")]
        kind: Option<String>,
        #[serde(default)]
        code: Option<serde_json::Value>,
        #[serde(default)]
        param: Option<String>,
    }
    let retry_after = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
        .and_then(|(_, v)| v.trim().parse::<u32>().ok());
    if let Ok(w) = serde_json::from_slice::<Wrapper>(body) {
        let status = if status.is_client_error() || status.is_server_error() {
            status
        } else {
            StatusCode::BAD_GATEWAY
        };
        return ApiError {
            status,
            kind: w.error.kind.unwrap_or_else(|| "upstream_error".into()),
            code: w.error.code.map(|c| match c {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            }),
            param: w.error.param,
            message: w.error.message,
            retry_after: retry_after.or((status == StatusCode::TOO_MANY_REQUESTS).then_some(1)),
        };
    }
    tracing::warn!(provider, %status, "provider answered with a non-OpenAI error body");
    // Some OpenAI-compatible servers (Ollama) answer `{"error": "text"}`.
    let text_error = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string));
    if status == StatusCode::TOO_MANY_REQUESTS {
        let mut e = ApiError::new(
            status,
            "rate_limit_exceeded",
            format!("The provider `{provider}` is rate limiting requests."),
        )
        .code("rate_limit_exceeded");
        e.retry_after = Some(retry_after.unwrap_or(1));
        return e;
    }
    if status.is_client_error() {
        // The request was refused for a reason of its own: keep the status so clients see a
        // 4xx they can fix (422 from validating servers, 404 for a model the provider lacks).
        let message = text_error.unwrap_or_else(|| {
            format!(
                "The provider `{provider}` refused the request with status {}.",
                status.as_u16()
            )
        });
        let code = match status.as_u16() {
            404 => "upstream_not_found",
            422 => "unprocessable_entity",
            _ => "upstream_rejected",
        };
        return ApiError::new(status, "invalid_request_error", message).code(code);
    }
    ApiError::bad_gateway(format!(
        "The provider `{provider}` answered with status {}.",
        status.as_u16()
    ))
}

fn is_event_stream(headers: &[(String, String)]) -> bool {
    header_value(headers, "content-type").is_some_and(|v| v.contains("event-stream"))
}

fn header_value(headers: &[(String, String)], name: &str) -> Option<String> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
}

fn header_pairs(h: &reqwest::header::HeaderMap) -> Vec<(String, String)> {
    h.iter()
        .filter_map(|(k, v)| {
            v.to_str()
                .ok()
                .map(|v| (k.as_str().to_string(), v.to_string()))
        })
        .collect()
}

/// Inserts `"field": value` as the last member of the JSON object in `body`.
pub(super) fn splice_field(body: &[u8], field: &str, value: &str) -> Option<Vec<u8>> {
    let end = body.iter().rposition(|b| !b.is_ascii_whitespace())?;
    let start = body.iter().position(|b| !b.is_ascii_whitespace())?;
    if body[start] != b'{' || body[end] != b'}' {
        return None;
    }
    let empty = body[start + 1..end].iter().all(u8::is_ascii_whitespace);
    let key = serde_json::to_string(field).ok()?;
    let mut out = Vec::with_capacity(body.len() + key.len() + value.len() + 2);
    out.extend_from_slice(&body[..end]);
    if !empty {
        out.push(b',');
    }
    out.extend_from_slice(key.as_bytes());
    out.push(b':');
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(&body[end..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splice_adds_a_last_member() {
        let out = splice_field(b"{\"a\":1}\n", "sluice", "{\"x\":2}").expect("object");
        let v: serde_json::Value = serde_json::from_slice(&out).expect("valid json");
        assert_eq!(v["a"], 1);
        assert_eq!(v["sluice"]["x"], 2);
        let out = splice_field(b" { } ", "s", "1").expect("object");
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&out).expect("json")["s"],
            1
        );
        assert!(splice_field(b"[1]", "s", "1").is_none());
    }

    #[test]
    fn openai_shaped_upstream_errors_pass_through() {
        let e = upstream_error(
            "p",
            StatusCode::TOO_MANY_REQUESTS,
            br#"{"error":{"message":"slow","type":"requests","code":"rate_limit_exceeded"}}"#,
            &[("retry-after".into(), "3".into())],
        );
        assert_eq!(e.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(e.message, "slow");
        assert_eq!(e.retry_after, Some(3));
        let e = upstream_error(
            "p",
            StatusCode::INTERNAL_SERVER_ERROR,
            b"<html>oops</html>",
            &[],
        );
        assert_eq!(e.status, StatusCode::BAD_GATEWAY);
        assert!(!e.message.contains("oops"));
        let e = upstream_error(
            "p",
            StatusCode::UNPROCESSABLE_ENTITY,
            br#"{"detail":[{"loc":["body","messages"]}]}"#,
            &[],
        );
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.code.as_deref(), Some("unprocessable_entity"));
        let e = upstream_error(
            "p",
            StatusCode::NOT_FOUND,
            br#"{"error":"model 'x' not found"}"#,
            &[],
        );
        assert_eq!(e.status, StatusCode::NOT_FOUND);
        assert_eq!(e.message, "model 'x' not found");
    }
}
