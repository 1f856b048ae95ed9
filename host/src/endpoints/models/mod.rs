//! `GET /models` and `GET /models/{model}`: the models the caller's key may use.

use super::caller::Caller;
use crate::error::ApiError;
use crate::pipeline::Route;
use crate::pipeline::stages;
use crate::state::AppState;
use axum::extract::Path;
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
async fn list(caller: Caller) -> Response {
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
async fn retrieve(Path(model): Path<String>, caller: Caller) -> Response {
    let found = match caller.pipeline.route(&model) {
        Some(r) if stages::model_allowed(&caller.principal, &r.name, &model) => {
            Ok(Json(model_json(r)).into_response())
        }
        _ => Err(ApiError::model_not_found(&model)),
    };
    caller.respond(found)
}
