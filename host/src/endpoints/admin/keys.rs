//! `/admin/keys`: managed keys (never their secrets, but for the one answer that creates a key).

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::NewKey;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// `GET /admin/keys`: the managed keys (never their secrets).
pub(super) async fn list_keys(State(gw): State<AppState>) -> Response {
    let keys = gw.keys.clone();
    match tokio::task::spawn_blocking(move || keys.list()).await {
        Ok(Ok(keys)) => Json(json!({ "object": "list", "data": keys })).into_response(),
        Ok(Err(e)) => ApiError::from(e).into_response(),
        Err(_) => ApiError::internal("The key store is unavailable.").into_response(),
    }
}

/// `POST /admin/keys`: creates a key; the answer holds its secret, shown this once.
pub(super) async fn create_key(State(gw): State<AppState>, body: axum::body::Bytes) -> Response {
    let new: NewKey = match serde_json::from_slice(&body) {
        Ok(n) => n,
        Err(e) => return ApiError::bad_request(format!("Invalid key: {e}")).into_response(),
    };
    let keys = gw.keys.clone();
    match tokio::task::spawn_blocking(move || keys.create(new)).await {
        Ok(Ok((record, secret))) => (
            StatusCode::CREATED,
            Json(json!({ "key": secret, "record": record })),
        )
            .into_response(),
        Ok(Err(e)) => ApiError::from(e).into_response(),
        Err(_) => ApiError::internal("The key store is unavailable.").into_response(),
    }
}

/// `DELETE /admin/keys/{id}`: revokes a key; it gets 401 from the next request on.
pub(super) async fn revoke_key(State(gw): State<AppState>, Path(id): Path<String>) -> Response {
    let keys = gw.keys.clone();
    let id2 = id.clone();
    match tokio::task::spawn_blocking(move || keys.revoke(&id2)).await {
        Ok(Ok(true)) => Json(json!({ "id": id, "revoked": true })).into_response(),
        Ok(Ok(false)) => ApiError::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            format!("No key `{id}`."),
        )
        .code("key_not_found")
        .into_response(),
        Ok(Err(e)) => ApiError::from(e).into_response(),
        Err(_) => ApiError::internal("The key store is unavailable.").into_response(),
    }
}
