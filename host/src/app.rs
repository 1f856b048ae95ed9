//! `app(state)`: every route of the gateway in one place. Each endpoint family is served under
//! `/v1` and bare; the admin API sits behind its guard layer. Tests drive this router in-process
//! with `tower::ServiceExt::oneshot`; `http::serve` runs it on a listener.

use crate::endpoints::{admin, batches, dashboard, files, llm, mcp, models};
use crate::error::ApiError;
use crate::state::AppState;
use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// The gateway's router.
pub fn app(state: AppState) -> Router {
    let api = Router::new()
        .merge(llm::routes())
        .merge(models::routes())
        .merge(files::routes())
        .merge(batches::routes())
        .merge(mcp::routes(state.clone()));
    // `/metrics` is here unless it has a listener of its own (`telemetry.metrics_listen`).
    let metrics_here = state
        .pipeline
        .load()
        .config
        .telemetry
        .metrics_listen
        .is_none();
    let mut router = Router::new().route("/health", get(|| async { "ok" }));
    if metrics_here {
        router = router.route("/metrics", get(crate::telemetry::scrape));
    }
    router
        .merge(admin::routes(state.clone()))
        .merge(dashboard::routes())
        .nest("/v1", api.clone())
        .merge(api)
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

async fn unknown_route(req: Request) -> Response {
    ApiError::unknown_route(req.method().as_str(), req.uri().path()).into_response()
}

async fn method_not_allowed(req: Request) -> Response {
    let mut e = ApiError::unknown_route(req.method().as_str(), req.uri().path());
    e.status = StatusCode::METHOD_NOT_ALLOWED;
    e.code = Some("method_not_allowed".into());
    e.into_response()
}
