//! `/admin/usage`: usage totals over a time range; `/admin/usage/budgets`: spend against budget.

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{StoreError, UsageQuery, query_usage};
use crate::time::{now_ms, parse_duration};
use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Query of `GET /admin/usage`.
#[derive(serde::Deserialize)]
pub(super) struct UsageParams {
    #[serde(default = "default_group")]
    group_by: String,
    /// A duration back from now (`24h`, `30m`, `7d`), or use `since_ms`.
    #[serde(default)]
    since: Option<String>,
    #[serde(default)]
    since_ms: Option<u64>,
    #[serde(default)]
    until_ms: Option<u64>,
}

fn default_group() -> String {
    "key".into()
}

/// `GET /admin/usage?group_by=key|team|user|model|provider&since=24h`: totals over a time range.
pub(super) async fn usage(State(gw): State<AppState>, Query(p): Query<UsageParams>) -> Response {
    let now = now_ms();
    let since_ms = match (&p.since, p.since_ms) {
        (Some(d), _) => match parse_duration(d) {
            Some(d) => now.saturating_sub(d.as_millis() as u64),
            None => {
                return ApiError::bad_request(format!(
                    "`since` must be a duration like 24h, not `{d}`"
                ))
                .param("since")
                .into_response();
            }
        },
        (None, Some(ms)) => ms,
        (None, None) => now.saturating_sub(24 * 3_600_000),
    };
    let q = UsageQuery {
        group_by: p.group_by,
        since_ms,
        until_ms: p.until_ms.unwrap_or(u64::MAX),
        key_id: None,
    };
    // Rows still in the writer's queue count too.
    gw.usage.flush().await;
    let db = gw.db.clone();
    let q2 = q.clone();
    match tokio::task::spawn_blocking(move || query_usage(&db, &q2)).await {
        Ok(Ok(data)) => Json(json!({
            "object": "list", "group_by": q.group_by, "since_ms": q.since_ms,
            "until_ms": p.until_ms, "data": data,
        }))
        .into_response(),
        Ok(Err(StoreError::Invalid(m))) => {
            ApiError::bad_request(m).param("group_by").into_response()
        }
        Ok(Err(e)) => ApiError::from(e).into_response(),
        Err(_) => ApiError::internal("The usage store is unavailable.").into_response(),
    }
}

/// `GET /admin/usage/budgets`: every key, team and model budget with what was spent in its
/// current period (see [`crate::budgets`]).
pub(super) async fn budgets(State(gw): State<AppState>) -> Response {
    gw.usage.flush().await;
    let config = std::sync::Arc::clone(&gw.pipeline.load().config);
    let (db, keys) = (gw.db.clone(), gw.keys.clone());
    let report =
        tokio::task::spawn_blocking(move || crate::budgets::report(&config, &db, &keys, now_ms()))
            .await;
    match report {
        Ok(Ok(data)) => Json(json!({"object": "list", "data": data})).into_response(),
        Ok(Err(e)) => ApiError::from(e).into_response(),
        Err(_) => ApiError::internal("The usage store is unavailable.").into_response(),
    }
}
