//! `GET /models` and `GET /models/{model}`: the models the caller's key may use.

use crate::error::ApiError;
use crate::http::auth::{credential, plugin_headers};
use crate::pipeline::bindings::types::{Endpoint, RequestCtx};
use crate::pipeline::stages;
use crate::pipeline::{Pipeline, Route};
use crate::state::{AppState, new_request_id};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use std::time::Instant;

/// `GET /models` and `GET /models/{model}` (mounted under `/v1` and bare).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/models", get(list))
        .route("/models/{*model}", get(retrieve))
}

fn model_json(r: &Route) -> Value {
    json!({ "id": r.name, "object": "model", "created": 0, "owned_by": r.deployments[0].provider.name })
}

fn ctx(model: String, headers: &HeaderMap) -> RequestCtx {
    RequestCtx {
        request_id: new_request_id(),
        endpoint: Endpoint::Models,
        model,
        stream: false,
        user_id: None,
        key_id: None,
        headers: plugin_headers(headers),
    }
}

/// Adds `x-request-id` and `x-sluice-overhead-us` (all of the time is the gateway's here).
fn decorate(mut resp: Response, ctx: &RequestCtx, started: Instant) -> Response {
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&ctx.request_id) {
        h.insert("x-request-id", v);
    }
    if let Ok(v) = HeaderValue::from_str(&started.elapsed().as_micros().to_string()) {
        h.insert("x-sluice-overhead-us", v);
    }
    resp
}

/// `GET /models`.
async fn list(State(gw): State<AppState>, headers: HeaderMap) -> Response {
    let started = Instant::now();
    let pipeline = gw.pipeline.load_full();
    let ctx = ctx(String::new(), &headers);
    let resp = list_inner(&pipeline, &ctx, &headers).await;
    decorate(resp, &ctx, started)
}

async fn list_inner(pipeline: &Pipeline, ctx: &RequestCtx, headers: &HeaderMap) -> Response {
    let principal = match stages::authenticate(pipeline, ctx, credential(headers).as_deref()).await
    {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let data: Vec<Value> = pipeline
        .models
        .iter()
        .filter(|r| stages::model_allowed(&principal, &r.name, &r.name))
        .map(|r| model_json(r))
        .collect();
    Json(json!({ "object": "list", "data": data })).into_response()
}

/// `GET /models/{model}` (model ids may contain `/`).
async fn retrieve(
    State(gw): State<AppState>,
    Path(model): Path<String>,
    headers: HeaderMap,
) -> Response {
    let started = Instant::now();
    let pipeline = gw.pipeline.load_full();
    let ctx = ctx(model.clone(), &headers);
    let resp = retrieve_inner(&pipeline, &ctx, &headers, &model).await;
    decorate(resp, &ctx, started)
}

async fn retrieve_inner(
    pipeline: &Pipeline,
    ctx: &RequestCtx,
    headers: &HeaderMap,
    model: &str,
) -> Response {
    let principal = match stages::authenticate(pipeline, ctx, credential(headers).as_deref()).await
    {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    match pipeline.route(model) {
        Some(r) if stages::model_allowed(&principal, &r.name, model) => {
            Json(model_json(r)).into_response()
        }
        _ => ApiError::model_not_found(model).into_response(),
    }
}
