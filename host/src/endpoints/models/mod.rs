//! `GET /models` and `GET /models/{model}`: the models the caller's key may use.

use super::caller::Pending;
use crate::error::ApiError;
use crate::pipeline::Route;
use crate::pipeline::bindings::types::Endpoint;
use crate::pipeline::stages;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

/// `GET /models` and `GET /models/{model}` (mounted under `/v1` and bare).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/models", get(list))
        .route("/models/{*model}", get(retrieve))
}

fn model_json(r: &Route) -> Value {
    json!({ "id": r.name, "object": "model", "created": 0, "owned_by": r.deployments[0].provider.name })
}

/// `GET /models`.
async fn list(State(gw): State<AppState>, headers: HeaderMap) -> Response {
    let caller = match Pending::new(Endpoint::Models, String::new(), &headers)
        .authenticate(&gw, &headers)
        .await
    {
        Ok(c) => c,
        Err(resp) => return resp,
    };
    let data: Vec<Value> = caller
        .pipeline
        .models
        .iter()
        .filter(|r| stages::model_allowed(&caller.principal, &r.name, &r.name))
        .map(|r| model_json(r))
        .collect();
    caller.respond(Ok(
        Json(json!({ "object": "list", "data": data })).into_response()
    ))
}

/// `GET /models/{model}` (model ids may contain `/`).
async fn retrieve(
    State(gw): State<AppState>,
    Path(model): Path<String>,
    headers: HeaderMap,
) -> Response {
    let caller = match Pending::new(Endpoint::Models, model.clone(), &headers)
        .authenticate(&gw, &headers)
        .await
    {
        Ok(c) => c,
        Err(resp) => return resp,
    };
    let found = match caller.pipeline.route(&model) {
        Some(r) if stages::model_allowed(&caller.principal, &r.name, &model) => {
            Ok(Json(model_json(r)).into_response())
        }
        _ => Err(ApiError::model_not_found(&model)),
    };
    caller.respond(found)
}
