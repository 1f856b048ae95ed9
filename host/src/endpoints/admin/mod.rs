//! The admin API, behind one guard layer that checks the key in `SLUICE_ADMIN_KEY`: status and
//! reload here, managed keys in `keys`, usage totals in `usage`.

mod keys;
mod usage;

use crate::error::ApiError;
use crate::http::auth::credential;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde_json::json;
use std::time::UNIX_EPOCH;
use subtle::ConstantTimeEq;

/// The admin routes, every one behind the admin key.
pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/admin/status", get(status))
        .route("/admin/reload", post(reload))
        .route("/admin/keys", get(keys::list_keys).post(keys::create_key))
        .route("/admin/keys/{id}", delete(keys::revoke_key))
        .route("/admin/usage", get(usage::usage))
        .route("/admin/usage/budgets", get(usage::budgets))
        .route("/admin/files", get(crate::endpoints::files::admin_list))
        .route_layer(middleware::from_fn_with_state(state, guard))
}

/// Lets a request through only with the admin key (403 when the admin API is off).
async fn guard(State(gw): State<AppState>, req: Request, next: Next) -> Response {
    let Some(admin) = &gw.admin_key else {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "permission_error",
            "The admin API is disabled: set SLUICE_ADMIN_KEY when starting the gateway.",
        )
        .code("admin_disabled")
        .into_response();
    };
    let given = credential(req.headers()).unwrap_or_default();
    if bool::from(given.as_bytes().ct_eq(admin.as_bytes())) {
        next.run(req).await
    } else {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            "Incorrect admin key.",
        )
        .code("invalid_api_key")
        .into_response()
    }
}

fn status_json(gw: &AppState) -> serde_json::Value {
    let p = gw.pipeline.load_full();
    let state = gw.reload_state();
    let plugins: Vec<_> = p
        .plugins()
        .into_iter()
        .map(|s| json!({ "name": s.name, "stage": s.stage.as_str(), "source": s.source, "hash": s.hash }))
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
async fn status(State(gw): State<AppState>) -> Response {
    Json(status_json(&gw)).into_response()
}

/// `POST /admin/reload`: reloads now and answers with the outcome (422 if it was rejected).
async fn reload(State(gw): State<AppState>) -> Response {
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
