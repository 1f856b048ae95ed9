//! `GET /models` and `GET /models/{model}`: the models the caller's key may use.

use super::error::ApiError;
use super::stages;
use super::{AppState, new_request_id};
use crate::pipeline::Route;
use crate::pipeline::bindings::types::RequestCtx;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

fn model_json(r: &Route) -> Value {
    json!({ "id": r.name, "object": "model", "created": 0, "owned_by": r.provider.name })
}

fn ctx(path: String, model: String, headers: &HeaderMap) -> RequestCtx {
    RequestCtx {
        request_id: new_request_id(),
        endpoint: "models".into(),
        method: "GET".into(),
        path,
        model,
        stream: false,
        user_id: None,
        key_id: None,
        headers: stages::plugin_headers(headers),
    }
}

/// `GET /models`.
pub async fn list(State(gw): State<AppState>, headers: HeaderMap) -> Response {
    let pipeline = gw.pipeline.load_full();
    let ctx = ctx("/models".into(), String::new(), &headers);
    let principal =
        match stages::authenticate(&pipeline, &ctx, stages::credential(&headers).as_deref()) {
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
pub async fn retrieve(
    State(gw): State<AppState>,
    Path(model): Path<String>,
    headers: HeaderMap,
) -> Response {
    let pipeline = gw.pipeline.load_full();
    let ctx = ctx(format!("/models/{model}"), model.clone(), &headers);
    let principal =
        match stages::authenticate(&pipeline, &ctx, stages::credential(&headers).as_deref()) {
            Ok(p) => p,
            Err(e) => return e.into_response(),
        };
    match pipeline.route(&model) {
        Some(r) if stages::model_allowed(&principal, &r.name, &model) => {
            Json(model_json(r)).into_response()
        }
        _ => ApiError::model_not_found(&model).into_response(),
    }
}
