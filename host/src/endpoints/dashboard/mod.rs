//! `/dashboard`: the usage page, served from the binary, and its JSON API. A key holder signs in
//! with an API key and sees that key's usage; the admin key (`SLUICE_ADMIN_KEY`) sees every key.
//! The page makes no request but to this API (its Content-Security-Policy says so).

use crate::endpoints::caller::Pending;
use crate::error::{ApiError, blocking};
use crate::http::auth::credential;
use crate::pipeline::bindings::types::Endpoint;
use crate::state::AppState;
use crate::store::{UsageQuery, query_usage, recent_errors, usage_series};
use crate::time::{now_ms, parse_duration};
use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use subtle::ConstantTimeEq;

/// The page (HTML, CSS and JS in one file; charts are SVG the page draws).
const PAGE: &str = include_str!("page.html");

/// What the page may load: itself and this API, nothing else.
const CSP: &str = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
                   img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
                   frame-ancestors 'none'";

/// The dashboard's routes (bare paths only).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dashboard", get(page))
        .route("/dashboard/api/summary", get(summary))
        .route("/dashboard/api/live", get(live))
}

async fn page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        PAGE,
    )
        .into_response()
}

/// Whose usage a caller sees.
enum Scope {
    /// The admin: every key.
    All,
    /// A key holder: their key (and its team).
    Key(String, Option<String>),
}

/// The admin key, or a key the auth stage accepts (its refusal is the response).
async fn scope(gw: &AppState, headers: &HeaderMap) -> Result<Scope, Response> {
    if let (Some(admin), Some(given)) = (&gw.admin_key, credential(headers))
        && bool::from(given.as_bytes().ct_eq(admin.as_bytes()))
    {
        return Ok(Scope::All);
    }
    let caller = Pending::new(Endpoint::Usage, String::new(), headers)
        .authenticate(gw, headers)
        .await?;
    Ok(Scope::Key(caller.principal.key_id, caller.principal.team))
}

impl Scope {
    fn key(&self) -> Option<String> {
        match self {
            Scope::All => None,
            Scope::Key(k, _) => Some(k.clone()),
        }
    }

    /// Whether a budget line is in scope: every one for the admin; a key holder sees its key's
    /// budgets and its team's.
    fn sees(&self, line: &crate::budgets::BudgetLine) -> bool {
        match self {
            Scope::All => true,
            Scope::Key(k, team) => match line.scope.as_str() {
                "key" => &line.id == k,
                "team" => team.as_deref() == Some(line.id.as_str()),
                _ => false,
            },
        }
    }

    fn json(&self) -> serde_json::Value {
        match self {
            Scope::All => json!({"kind": "all"}),
            Scope::Key(k, _) => json!({"kind": "key", "key_id": k}),
        }
    }
}

/// Query of `/dashboard/api/summary`.
#[derive(serde::Deserialize)]
struct SummaryParams {
    #[serde(default = "default_since")]
    since: String,
    #[serde(default = "default_group")]
    group_by: String,
}

fn default_since() -> String {
    "24h".into()
}
fn default_group() -> String {
    "user".into()
}

/// Bucket sizes a chart may use; the smallest that gives at most 60 buckets is taken.
const BUCKETS_MS: [u64; 10] = [
    60_000,
    300_000,
    900_000,
    1_800_000,
    3_600_000,
    10_800_000,
    21_600_000,
    43_200_000,
    86_400_000,
    604_800_000,
];

fn bucket_for(window_ms: u64) -> u64 {
    BUCKETS_MS
        .into_iter()
        .find(|b| window_ms.div_ceil(*b) <= 60)
        .unwrap_or(BUCKETS_MS[BUCKETS_MS.len() - 1])
}

/// `GET /dashboard/api/summary?since=24h&group_by=user`: totals, a time series, the groups, the
/// top end users and the latest errors, for the caller's scope.
async fn summary(
    State(gw): State<AppState>,
    headers: HeaderMap,
    Query(p): Query<SummaryParams>,
) -> Response {
    let scope = match scope(&gw, &headers).await {
        Ok(s) => s,
        Err(refused) => return refused,
    };
    let window = match parse_duration(&p.since) {
        Some(d) if d.as_millis() > 0 && d.as_secs() <= 366 * 86_400 => d.as_millis() as u64,
        _ => {
            return ApiError::bad_request(format!(
                "`since` must be a duration like 1h, 24h, 7d or 30d, not `{}`",
                p.since
            ))
            .param("since")
            .into_response();
        }
    };
    if !matches!(p.group_by.as_str(), "key" | "user" | "model" | "provider") {
        return ApiError::bad_request("`group_by` must be key, user, model or provider")
            .param("group_by")
            .into_response();
    }
    gw.usage.flush().await;
    let bucket = bucket_for(window);
    let until = now_ms();
    // The series starts on a bucket boundary so its labels read well.
    let since = (until - window.min(until)) / bucket * bucket;
    let q = UsageQuery {
        group_by: p.group_by.clone(),
        since_ms: since,
        until_ms: until + 1,
        key_id: scope.key(),
    };
    let (db, keys) = (gw.db.clone(), gw.keys.clone());
    let config = std::sync::Arc::clone(&gw.pipeline.load().config);
    let result = blocking(move || {
        let groups = query_usage(&db, &q)?;
        let users = query_usage(
            &db,
            &UsageQuery {
                group_by: "user".into(),
                ..q.clone()
            },
        )?;
        let series = usage_series(&db, &q, bucket)?;
        let errors = recent_errors(&db, &q, 20)?;
        let budgets = crate::budgets::report(&config, &db, &keys, until)?;
        Ok::<_, crate::store::StoreError>((groups, users, series, errors, budgets))
    })
    .await;
    let (mut groups, users, series, errors, mut budgets) = match result {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let totals = groups.iter().fold(json!({"requests": 0, "errors": 0, "prompt_tokens": 0, "completion_tokens": 0, "cost_usd": 0.0, "audio_seconds": 0.0}), |mut t, g| {
        for (k, v) in [("requests", g.requests), ("errors", g.errors), ("prompt_tokens", g.prompt_tokens), ("completion_tokens", g.completion_tokens)] {
            t[k] = json!(t[k].as_u64().unwrap_or(0) + v);
        }
        t["cost_usd"] = json!(t["cost_usd"].as_f64().unwrap_or(0.0) + g.cost_usd);
        t["audio_seconds"] = json!(t["audio_seconds"].as_f64().unwrap_or(0.0) + g.audio_seconds);
        t
    });
    groups.sort_by(|a, b| {
        b.requests
            .cmp(&a.requests)
            .then_with(|| a.group.cmp(&b.group))
    });
    let mut top_users: Vec<_> = users.into_iter().filter(|u| !u.group.is_empty()).collect();
    top_users.sort_by(|a, b| {
        b.requests
            .cmp(&a.requests)
            .then_with(|| a.group.cmp(&b.group))
    });
    top_users.truncate(10);
    budgets.retain(|b| scope.sees(b));
    Json(json!({
        "scope": scope.json(),
        "since_ms": since,
        "until_ms": until,
        "bucket_ms": bucket,
        "group_by": p.group_by,
        "totals": totals,
        "series": series,
        "groups": groups,
        "top_users": top_users,
        "recent_errors": errors,
        "budgets": budgets,
    }))
    .into_response()
}

/// Seconds over which `/dashboard/api/live` counts.
const LIVE_WINDOW_S: u64 = 10;

/// `GET /dashboard/api/live`: requests per second over the last ten seconds, in scope.
async fn live(State(gw): State<AppState>, headers: HeaderMap) -> Response {
    let scope = match scope(&gw, &headers).await {
        Ok(s) => s,
        Err(refused) => return refused,
    };
    let now = now_ms();
    let q = UsageQuery {
        group_by: "key".into(),
        since_ms: now.saturating_sub(LIVE_WINDOW_S * 1000),
        until_ms: now + 1,
        key_id: scope.key(),
    };
    let db = gw.db.clone();
    match blocking(move || query_usage(&db, &q)).await {
        Ok(groups) => {
            let n: u64 = groups.iter().map(|g| g.requests).sum();
            Json(json!({"rps": n as f64 / LIVE_WINDOW_S as f64, "window_s": LIVE_WINDOW_S}))
                .into_response()
        }
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_keep_charts_under_sixty_bars() {
        assert_eq!(bucket_for(3_600_000), 60_000);
        assert_eq!(bucket_for(86_400_000), 1_800_000);
        assert_eq!(bucket_for(7 * 86_400_000), 10_800_000);
        assert_eq!(bucket_for(30 * 86_400_000), 43_200_000);
        assert_eq!(bucket_for(365 * 86_400_000), 604_800_000);
    }
}
