//! The admin API, guarded by the key in `SLUICE_ADMIN_KEY`: `GET /admin/status` and
//! `POST /admin/reload`.

use super::error::ApiError;
use super::{AppState, stages};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::time::UNIX_EPOCH;
use subtle::ConstantTimeEq;

fn guard(gw: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(admin) = &gw.admin_key else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "permission_error",
            "The admin API is disabled: set SLUICE_ADMIN_KEY when starting the gateway.",
        )
        .code("admin_disabled"));
    };
    let given = stages::credential(headers).unwrap_or_default();
    if bool::from(given.as_bytes().ct_eq(admin.as_bytes())) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            "Incorrect admin key.",
        )
        .code("invalid_api_key"))
    }
}

fn status_json(gw: &AppState) -> serde_json::Value {
    let p = gw.pipeline.load_full();
    let state = gw.reload_state();
    let plugins: Vec<_> = p
        .plugins()
        .into_iter()
        .map(|s| json!({ "name": s.name, "stage": format!("{:?}", s.stage).to_lowercase(), "source": s.source, "hash": s.hash }))
        .collect();
    let loaded_at_ms = p
        .loaded_at
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    json!({
        "generation": p.generation,
        "loaded_at_ms": loaded_at_ms,
        "config": p.config.file.display().to_string(),
        "plugins": plugins,
        "models": p.models.iter().map(|m| m.name.clone()).collect::<Vec<_>>(),
        "last_reload": state.last,
        "restart_required": state.restart_required,
    })
}

/// `GET /admin/status`: the pipeline serving, its plugins, and the last reload's outcome.
pub async fn status(State(gw): State<AppState>, headers: HeaderMap) -> Response {
    match guard(&gw, &headers) {
        Ok(()) => Json(status_json(&gw)).into_response(),
        Err(e) => e.into_response(),
    }
}

/// `POST /admin/reload`: reloads now and answers with the outcome (422 if it was rejected).
pub async fn reload(State(gw): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(e) = guard(&gw, &headers) {
        return e.into_response();
    }
    match gw.reload("admin").await {
        Ok(_) => Json(status_json(&gw)).into_response(),
        Err(message) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request_error",
            message,
        )
        .code("reload_rejected")
        .into_response(),
    }
}
