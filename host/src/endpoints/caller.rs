//! The caller of an endpoint without a pipeline of its own (models, files, batches, MCP): the auth stage runs
//! on the request's headers alone, before any body is read, and every answer carries the request
//! id and the gateway's time.

use crate::error::ApiError;
use crate::http::auth::{credential, plugin_headers};
use crate::pipeline::Pipeline;
use crate::pipeline::bindings::types::{Endpoint, Principal, RequestCtx};
use crate::pipeline::stages;
use crate::state::{AppState, new_request_id};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::Instant;

/// An authenticated request.
pub struct Caller {
    /// The pipeline serving now.
    pub pipeline: Arc<Pipeline>,
    /// Who is calling.
    pub principal: Principal,
    /// The request's context, as the auth stage saw it.
    pub ctx: RequestCtx,
    started: Instant,
}

/// The request's id and clock, before the caller is known.
pub struct Pending {
    ctx: RequestCtx,
    started: Instant,
}

impl Pending {
    /// A request to `endpoint` (naming `model`, if its path does) with `headers`.
    pub fn new(endpoint: Endpoint, model: String, headers: &HeaderMap) -> Pending {
        Pending {
            ctx: RequestCtx {
                request_id: new_request_id(),
                endpoint,
                model,
                stream: false,
                user_id: None,
                key_id: None,
                headers: plugin_headers(headers),
            },
            started: Instant::now(),
        }
    }

    /// Runs the auth stage; a refusal is the finished error response.
    pub async fn authenticate(
        self,
        gw: &AppState,
        headers: &HeaderMap,
    ) -> Result<Caller, Response> {
        let pipeline = gw.pipeline.load_full();
        match stages::authenticate(&pipeline, &self.ctx, credential(headers).as_deref()).await {
            Ok(principal) => {
                let mut ctx = self.ctx;
                ctx.key_id = Some(principal.key_id.clone());
                Ok(Caller {
                    pipeline,
                    principal,
                    ctx,
                    started: self.started,
                })
            }
            Err(e) => Err(finish(
                e.into_response(),
                &self.ctx.request_id,
                self.started,
            )),
        }
    }
}

impl Caller {
    /// The owner whose data this caller sees.
    pub fn owner(&self) -> &str {
        &self.principal.owner
    }

    /// `resp` (or the error) with the request id and the gateway's time.
    pub fn respond(&self, resp: Result<Response, ApiError>) -> Response {
        let resp = resp.unwrap_or_else(IntoResponse::into_response);
        finish(resp, &self.ctx.request_id, self.started)
    }
}

/// The endpoint a path (without `/v1`) belongs to, and the model it names, for the endpoints
/// served through a [`Caller`].
fn endpoint_of(path: &str) -> (Endpoint, String) {
    if let Some(model) = path.strip_prefix("/models/") {
        (Endpoint::Models, model.to_string())
    } else if path.starts_with("/files") {
        (Endpoint::Files, String::new())
    } else if path.starts_with("/batches") {
        (Endpoint::Batches, String::new())
    } else if path.starts_with("/mcp-servers/") {
        (Endpoint::Mcp, String::new())
    } else if path.starts_with("/responses") {
        (Endpoint::Responses, String::new())
    } else if path.starts_with("/dashboard/") {
        (Endpoint::Usage, String::new())
    } else {
        (Endpoint::Models, String::new())
    }
}

/// As an extractor, a handler's caller: authenticated from the headers alone, before the body is
/// read; a refusal is the finished error response.
impl FromRequestParts<AppState> for Caller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, gw: &AppState) -> Result<Caller, Response> {
        let path = parts.uri.path();
        let (endpoint, model) = endpoint_of(path.strip_prefix("/v1").unwrap_or(path));
        Pending::new(endpoint, model, &parts.headers)
            .authenticate(gw, &parts.headers)
            .await
    }
}

/// Adds `x-request-id` and `x-sluice-overhead-us` (all of the time is the gateway's here).
fn finish(mut resp: Response, request_id: &str, started: Instant) -> Response {
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-request-id", v);
    }
    h.insert(
        "x-sluice-overhead-us",
        HeaderValue::from(started.elapsed().as_micros() as u64),
    );
    resp
}
