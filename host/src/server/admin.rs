//! The admin API, guarded by the key in `SLUICE_ADMIN_KEY`: status and reload, managed keys, and
//! usage totals.

use super::error::ApiError;
use super::{AppState, stages};
use crate::host_api::now_ms;
use crate::store::{NewKey, StoreError, UsageQuery, query_usage};
use axum::Json;
use axum::extract::{Path, Query, State};
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

/// `GET /admin/keys`: the managed keys (never their secrets).
pub async fn list_keys(State(gw): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(e) = guard(&gw, &headers) {
        return e.into_response();
    }
    let keys = gw.keys.clone();
    match tokio::task::spawn_blocking(move || keys.list()).await {
        Ok(Ok(keys)) => Json(json!({ "object": "list", "data": keys })).into_response(),
        Ok(Err(e)) => store_error(e),
        Err(_) => ApiError::internal("The key store is unavailable.").into_response(),
    }
}

/// `POST /admin/keys`: creates a key; the answer holds its secret, shown this once.
pub async fn create_key(
    State(gw): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Err(e) = guard(&gw, &headers) {
        return e.into_response();
    }
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
        Ok(Err(e)) => store_error(e),
        Err(_) => ApiError::internal("The key store is unavailable.").into_response(),
    }
}

/// `DELETE /admin/keys/{id}`: revokes a key; it gets 401 from the next request on.
pub async fn revoke_key(
    State(gw): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(e) = guard(&gw, &headers) {
        return e.into_response();
    }
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
        Ok(Err(e)) => store_error(e),
        Err(_) => ApiError::internal("The key store is unavailable.").into_response(),
    }
}

/// Query of `GET /admin/usage`.
#[derive(serde::Deserialize)]
pub struct UsageParams {
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

/// `GET /admin/usage?group_by=key|user|model&since=24h`: totals over a time range.
pub async fn usage(
    State(gw): State<AppState>,
    Query(p): Query<UsageParams>,
    headers: HeaderMap,
) -> Response {
    if let Err(e) = guard(&gw, &headers) {
        return e.into_response();
    }
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
        Ok(Err(e)) => store_error(e),
        Err(_) => ApiError::internal("The usage store is unavailable.").into_response(),
    }
}

fn store_error(e: StoreError) -> Response {
    match e {
        StoreError::Invalid(m) => ApiError::bad_request(m).into_response(),
        other => {
            tracing::error!(error = %other, "store failure");
            ApiError::internal("The gateway's store failed.").into_response()
        }
    }
}

/// Parses `90s`, `15m`, `24h`, `7d` (or plain seconds).
pub fn parse_duration(text: &str) -> Option<std::time::Duration> {
    let text = text.trim();
    let (digits, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: u64 = digits.parse().ok()?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        "d" => n.checked_mul(86_400)?,
        _ => return None,
    };
    Some(std::time::Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90").map(|d| d.as_secs()), Some(90));
        assert_eq!(parse_duration("15m").map(|d| d.as_secs()), Some(900));
        assert_eq!(parse_duration("24h").map(|d| d.as_secs()), Some(86_400));
        assert_eq!(parse_duration("7d").map(|d| d.as_secs()), Some(604_800));
        assert_eq!(parse_duration("7w"), None);
        assert_eq!(parse_duration("h"), None);
    }
}
