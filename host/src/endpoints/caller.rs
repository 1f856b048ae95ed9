//! The caller of an endpoint without a pipeline of its own (models, files): the auth stage runs
//! on the request's headers alone, before any body is read, and every answer carries the request
//! id and the gateway's time.

use crate::error::ApiError;
use crate::http::auth::{credential, plugin_headers};
use crate::pipeline::Pipeline;
use crate::pipeline::bindings::types::{Endpoint, Principal, RequestCtx};
use crate::pipeline::stages;
use crate::state::{AppState, new_request_id};
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
