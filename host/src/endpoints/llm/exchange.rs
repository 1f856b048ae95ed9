//! One request's state as it moves through the stages, and the steps before the provider call:
//! auth (before the body is read), the body, the route, the policies. How it ends (the usage row,
//! the `on-complete` hooks, also for an exchange dropped half-way) is in `complete`.

use super::answer::Answer;
use super::request::{Endpoint, prepare};
use crate::error::ApiError;
use crate::http::auth::{credential, plugin_headers};
use crate::pipeline::bindings::guard_stage::Direction as GuardDirection;
use crate::pipeline::bindings::types::{LlmMeta, Outcome, Principal, RequestCtx, Usage};
use crate::pipeline::plugin::Plugin;
use crate::pipeline::stages::{self, Additions, PolicyOutcome};
use crate::pipeline::{Pipeline, PolicyWorld, Route};
use crate::state::{AppState, new_request_id};
use axum::body::Body;
use axum::http::HeaderMap;
use bytes::Bytes;
use std::sync::Arc;
use std::time::Instant;

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
    /// Whether the client asked for the usage chunk of a stream.
    pub client_wants_usage: bool,
    /// The provider of the deployment being called (then: that answered).
    pub provider: String,
    pub served_model: String,
    pub upstream_us: u64,
    /// The gateway's own time until the response headers, once they are decided.
    pub overhead_us: Option<u64>,
    /// The batch this request is a line of, if any (recorded with its usage).
    pub batch_id: Option<String>,
    /// The configured model the request resolved to (metrics label it by this, never by what a
    /// client made up).
    pub route_name: Option<String>,
    /// The request's trace span (disabled when traces are off).
    pub span: tracing::Span,
    /// The API the client spoke, when it is not OpenAI's chat completions.
    pub front: super::front::Front,
    /// A policy or guard changed the body (a front door's native lane is then closed).
    pub rewritten: bool,
    /// The deployment answering speaks the client's API itself: its answer is not translated.
    pub native: bool,
    /// A multipart upload's form (its files are removed when the exchange ends).
    pub form: Option<super::form::Form>,
    /// Whether the client asked for a JSON answer (for answers that do not say).
    pub json_asked: bool,
    /// Seconds of audio the provider reported (`usage.seconds`, or `duration`).
    pub audio_seconds: Option<f64>,
    /// The usage row is written (by `complete`, or by `drop` for an exchange cut short).
    pub recorded: bool,
}

impl Exchange {
    /// A new exchange for a request of `endpoint` with `headers`, on the pipeline serving now.
    pub fn new(gw: AppState, endpoint: Endpoint, headers: &HeaderMap) -> Exchange {
        let pipeline = gw.pipeline.load_full();
        let request_id = new_request_id();
        let span = crate::telemetry::traces::request_span(
            crate::telemetry::record::operation(endpoint.name()),
            &request_id,
            headers,
        );
        Exchange {
            gw,
            pipeline,
            endpoint,
            started: Instant::now(),
            ctx: RequestCtx {
                request_id,
                endpoint: endpoint.wit(),
                model: String::new(),
                stream: false,
                user_id: None,
                key_id: None,
                headers: plugin_headers(headers),
            },
            principal: None,
            meta: None,
            additions: Additions::default(),
            ran: Vec::new(),
            client_wants_usage: false,
            provider: String::new(),
            served_model: String::new(),
            upstream_us: 0,
            overhead_us: None,
            batch_id: None,
            route_name: None,
            span,
            front: super::front::Front::OpenAi,
            rewritten: false,
            native: false,
            form: None,
            json_asked: true,
            audio_seconds: None,
            recorded: false,
        }
    }

    /// An exchange for a line of batch `batch_id`, run as `principal` (the batch's creator was
    /// authenticated when the batch was created).
    pub fn for_batch(
        gw: AppState,
        endpoint: Endpoint,
        principal: Principal,
        batch_id: &str,
    ) -> Exchange {
        let mut x = Exchange::new(gw, endpoint, &HeaderMap::new());
        x.ctx.key_id = Some(principal.key_id.clone());
        x.principal = Some(principal);
        x.batch_id = Some(batch_id.to_string());
        x
    }

    /// Everything before the answer: auth first (the body is not read for a caller without a
    /// valid key), then the body, the route, the policies and the provider call.
    pub async fn run(&mut self, headers: &HeaderMap, body: Body) -> Result<Answer, ApiError> {
        let principal =
            stages::authenticate(&self.pipeline, &self.ctx, credential(headers).as_deref()).await?;
        self.ctx.key_id = Some(principal.key_id.clone());
        self.principal = Some(principal);

        let bytes = if self.endpoint.multipart() {
            self.read_form(headers, body).await?
        } else {
            crate::http::body::read(body, &self.pipeline.config.server).await?
        };
        let bytes = self.inbound(bytes).await?;
        self.serve(bytes).await
    }

    /// Everything after auth and the body: the route, the policies and the provider call.
    pub async fn serve(&mut self, bytes: Bytes) -> Result<Answer, ApiError> {
        let Some(principal) = self.principal.clone() else {
            return Err(ApiError::internal("The request has no principal."));
        };
        let max_user_id = self.pipeline.config.server.max_user_id_bytes;
        let mut prepared = prepare(self.endpoint, bytes.clone(), max_user_id)?;
        self.ctx.model = prepared.model.clone();
        self.ctx.stream = prepared.stream;
        self.ctx.user_id = prepared.user_id.clone();
        self.client_wants_usage = prepared.client_wants_usage;
        self.meta = Some(prepared.meta);

        let route = self.route(&prepared.model, &principal)?;
        self.routed(&route.name);
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
            PolicyOutcome::Respond(resp) => return Ok(Answer::Plugin(resp)),
            PolicyOutcome::Continue {
                body: Some(new_body),
            } => {
                let user_id = prepared.user_id.take();
                prepared = prepare(self.endpoint, Bytes::from(new_body), max_user_id)?;
                prepared.user_id = user_id;
                self.rewritten = true;
            }
            PolicyOutcome::Continue { body: None } => {}
        }
        // A policy may have rewritten the model.
        let route = if prepared.model == route.name || route.aliases.contains(&prepared.model) {
            route
        } else {
            self.route(&prepared.model, &principal)?
        };
        self.routed(&route.name);
        if !self.pipeline.guards.is_empty() {
            self.guard_request(&mut prepared, max_user_id).await?;
        }
        if self.endpoint == Endpoint::ChatCompletions {
            self.inline_file_ids(&mut prepared).await?;
        }
        self.json_asked = prepared.asks_json();
        self.call_provider(&route, prepared).await
    }

    /// Runs the guards on the request body; a rewritten body is prepared again (the model it
    /// names must stay the one routed).
    async fn guard_request(
        &mut self,
        prepared: &mut super::request::Prepared,
        max_user_id: usize,
    ) -> Result<(), ApiError> {
        let body = serde_json::to_vec(&prepared.body).map_err(|e| {
            ApiError::internal(format!("The request body could not be encoded: {e}"))
        })?;
        let rewritten = stages::run_guards_json(
            &self.pipeline,
            &self.ctx,
            self.principal.as_ref(),
            GuardDirection::Request,
            &body,
        )
        .await?;
        if let Some(new_body) = rewritten {
            let user_id = prepared.user_id.take();
            let mut again = prepare(self.endpoint, Bytes::from(new_body), max_user_id)?;
            if again.model != prepared.model || again.stream != prepared.stream {
                return Err(ApiError::internal(
                    "A guard changed the request's `model` or `stream`; guards may only change content.",
                ));
            }
            again.user_id = user_id;
            *prepared = again;
            self.rewritten = true;
        }
        Ok(())
    }

    /// The endpoint's name in usage rows and metrics: the API the client spoke.
    pub fn endpoint_name(&self) -> &'static str {
        self.front.name().unwrap_or(self.endpoint.name())
    }

    /// The request resolved to the configured model `name`: labels and the span name follow.
    fn routed(&mut self, name: &str) {
        if self.route_name.as_deref() != Some(name) {
            self.route_name = Some(name.to_string());
            let op = crate::telemetry::record::operation(self.endpoint.name());
            crate::telemetry::traces::rename(&self.span, format!("{op} {name}"));
            self.span.record("gen_ai.request.model", name);
        }
    }

    fn route(&self, model: &str, principal: &Principal) -> Result<Arc<Route>, ApiError> {
        match self.pipeline.route(model) {
            Some(r) if stages::model_allowed(principal, &r.name, model) => Ok(Arc::clone(r)),
            _ => Err(ApiError::model_not_found(model)),
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

    /// The metadata object's JSON text (host fields, then the stages' fields); none when the
    /// config turns the object off.
    pub fn metadata_json(&self, outcome: &Outcome) -> Option<String> {
        let field = &self.pipeline.config.server.metadata_field;
        if field.is_empty() {
            return None;
        }
        let mut obj = serde_json::Map::new();
        obj.insert("request_id".into(), self.ctx.request_id.clone().into());
        obj.insert("provider".into(), outcome.provider.clone().into());
        obj.insert("model".into(), outcome.served_model.clone().into());
        if let Some(trace_id) = crate::telemetry::traces::trace_id(&self.span) {
            obj.insert("trace_id".into(), trace_id.into());
        }
        for (k, v) in &self.additions.metadata {
            let value =
                serde_json::from_str(v).unwrap_or_else(|_| serde_json::Value::String(v.clone()));
            obj.insert(k.clone(), value);
        }
        Some(serde_json::Value::Object(obj).to_string())
    }

    /// The gateway's own time so far: all of it but the upstream's.
    pub fn overhead_now(&self) -> u64 {
        (self.started.elapsed().as_micros() as u64).saturating_sub(self.upstream_us)
    }
}
