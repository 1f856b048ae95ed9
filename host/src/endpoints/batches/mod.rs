//! The Batch API: `POST /batches`, `GET /batches`, `GET /batches/{id}` and
//! `POST /batches/{id}/cancel`. The gateway runs every batch itself, line by line through its own
//! pipeline (`runner`), for every provider. A batch belongs to the key owner who created it; to
//! every other owner it does not exist (404).

mod leases;
pub mod runner;
mod validate;

use super::caller::Caller;
use super::files;
use crate::error::{ApiError, blocking};
use crate::state::AppState;
use crate::store::{Batch, BatchErrors, Creator, RequestCounts};
use crate::time::now_ms;
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// The endpoints a batch may call.
pub const BATCH_ENDPOINTS: &[&str] = &["/v1/chat/completions", "/v1/completions", "/v1/embeddings"];
/// The completion window: a batch's lines must run within it.
const WINDOW_S: u64 = 24 * 3600;

/// The Batch routes (mounted under `/v1` and bare).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/batches", get(list).post(create))
        .route("/batches/{id}", get(retrieve))
        .route("/batches/{id}/cancel", post(cancel))
}

/// The LLM endpoint of a batch endpoint.
pub fn llm_endpoint(endpoint: &str) -> Option<super::llm::Endpoint> {
    match endpoint {
        "/v1/chat/completions" => Some(super::llm::Endpoint::ChatCompletions),
        "/v1/completions" => Some(super::llm::Endpoint::Completions),
        "/v1/embeddings" => Some(super::llm::Endpoint::Embeddings),
        _ => None,
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "invalid_request_error",
        format!("No batch found with id '{id}'."),
    )
    .code("batch_not_found")
    .param("id")
}

/// The body of `POST /batches`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewBatch {
    input_file_id: String,
    endpoint: String,
    completion_window: String,
    #[serde(default)]
    metadata: Option<Map<String, Value>>,
    #[serde(default)]
    output_expires_after: Option<ExpiresAfter>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpiresAfter {
    anchor: String,
    seconds: u64,
}

fn check_metadata(m: &Map<String, Value>) -> Result<(), ApiError> {
    let bad = |msg: String| ApiError::bad_request(msg).param("metadata");
    if m.len() > 16 {
        return Err(bad("`metadata` may have at most 16 pairs.".into()));
    }
    for (k, v) in m {
        if k.chars().count() > 64 {
            return Err(bad(format!(
                "The metadata key `{k}` is longer than 64 characters."
            )));
        }
        match v {
            Value::String(s) if s.chars().count() <= 512 => {}
            Value::String(_) => {
                return Err(bad(format!(
                    "The value of `{k}` is longer than 512 characters."
                )));
            }
            _ => return Err(bad(format!("The value of `{k}` must be a string."))),
        }
    }
    Ok(())
}

async fn create(State(gw): State<AppState>, caller: Caller, req: Request) -> Response {
    let result = create_batch(&gw, &caller, req).await;
    caller.respond(result)
}

async fn create_batch(gw: &AppState, caller: &Caller, req: Request) -> Result<Response, ApiError> {
    let bytes = axum::body::to_bytes(req.into_body(), 1 << 20)
        .await
        .map_err(|_| ApiError::too_large(1 << 20))?;
    let new: NewBatch = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request(format!("Invalid batch: {e}.")).code("invalid_json"))?;
    if !BATCH_ENDPOINTS.contains(&new.endpoint.as_str()) {
        return Err(ApiError::bad_request(format!(
            "`endpoint` must be one of {}.",
            BATCH_ENDPOINTS.join(", ")
        ))
        .param("endpoint"));
    }
    if new.completion_window != "24h" {
        return Err(
            ApiError::bad_request("`completion_window` must be `24h`.").param("completion_window")
        );
    }
    if let Some(m) = &new.metadata {
        check_metadata(m)?;
    }
    let output_expires_s = match &new.output_expires_after {
        None => None,
        Some(e) if e.anchor == "created_at" && (3_600..=2_592_000).contains(&e.seconds) => {
            Some(e.seconds)
        }
        Some(_) => {
            return Err(ApiError::bad_request(
                "`output_expires_after` needs `anchor: created_at` and 3600 to 2592000 `seconds`.",
            )
            .param("output_expires_after"));
        }
    };
    let cfg = caller.pipeline.config.batches.clone();
    let owner = caller.owner().to_string();
    let store = gw.batches.clone();
    let owner2 = owner.clone();
    let active = blocking(move || store.active_count(&owner2)).await?;
    if active >= cfg.max_active_per_owner {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limit_exceeded",
            format!(
                "You have {active} batches in progress, the most this gateway allows ({}).",
                cfg.max_active_per_owner
            ),
        )
        .code("too_many_active_batches");
        e.retry_after = Some(60);
        return Err(e);
    }
    let input = files::find(gw, &owner, &new.input_file_id)
        .await
        .map_err(|e| e.param("input_file_id"))?;
    if input.purpose != "batch" {
        return Err(ApiError::bad_request(format!(
            "The file `{}` has purpose `{}`; a batch's input must have purpose `batch`.",
            input.id, input.purpose
        ))
        .param("input_file_id"));
    }
    let text = gw.contents.read(&input.id).await.map_err(|e| {
        tracing::error!(file = %input.id, error = %e, "a batch's input cannot be read");
        ApiError::internal("The gateway could not read the input file.")
    })?;
    let now = now_ms() / 1000;
    let mut batch = Batch {
        id: format!(
            "batch_{:012x}{:012x}",
            now_ms() & 0xffff_ffff_ffff,
            rand::random::<u64>() & 0xffff_ffff_ffff
        ),
        object: "batch".into(),
        endpoint: new.endpoint.clone(),
        errors: None,
        input_file_id: input.id.clone(),
        completion_window: new.completion_window,
        status: "in_progress".into(),
        output_file_id: None,
        error_file_id: None,
        created_at: now,
        in_progress_at: Some(now),
        expires_at: Some(now + WINDOW_S),
        finalizing_at: None,
        completed_at: None,
        failed_at: None,
        expired_at: None,
        cancelling_at: None,
        cancelled_at: None,
        request_counts: RequestCounts::default(),
        metadata: new.metadata,
        usage: None,
    };
    let p = &caller.principal;
    let creator = Creator {
        key_id: p.key_id.clone(),
        owner: p.owner.clone(),
        team: p.team.clone(),
        models: p.models.clone(),
        attributes: p.attributes.clone(),
        output_expires_s,
    };
    let (pipeline, principal) = (caller.pipeline.clone(), caller.principal.clone());
    let endpoint = new.endpoint;
    let checked = tokio::task::spawn_blocking(move || match String::from_utf8(text.to_vec()) {
        Ok(text) => validate::lines(&text, &endpoint, cfg.max_lines, |m| {
            validate::model_ok(&pipeline, &principal, m)
        }),
        Err(_) => Err(vec![crate::store::BatchError {
            code: "invalid_file".into(),
            message: "The input file is not UTF-8 text.".into(),
            param: None,
            line: None,
        }]),
    })
    .await
    .map_err(|_| ApiError::internal("Validating the batch failed."))?;
    let lines = match checked {
        Ok(lines) => lines,
        Err(errors) => {
            batch.status = "failed".into();
            batch.in_progress_at = None;
            batch.failed_at = Some(now);
            batch.errors = Some(BatchErrors {
                object: "list".into(),
                data: errors,
            });
            Vec::new()
        }
    };
    let store = gw.batches.clone();
    let stored = batch.clone();
    blocking(move || store.insert(&stored, &creator, &lines)).await?;
    if batch.status == "in_progress" {
        runner::ensure_running(gw, &batch.id);
    }
    let batch = find(gw, &owner, &batch.id).await?;
    Ok(Json(batch).into_response())
}

/// `owner`'s batch `id`, with live counts, or 404.
async fn find(gw: &AppState, owner: &str, id: &str) -> Result<Batch, ApiError> {
    let (store, owner_s, id_s) = (gw.batches.clone(), owner.to_string(), id.to_string());
    blocking(move || store.get(Some(&owner_s), &id_s))
        .await?
        .ok_or_else(|| not_found(id))
}

/// Query of `GET /batches`.
#[derive(Deserialize)]
struct ListParams {
    after: Option<String>,
    limit: Option<usize>,
}

async fn list(
    State(gw): State<AppState>,
    query: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
    caller: Caller,
) -> Response {
    let result = async {
        let Query(p) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
        let limit = p.limit.unwrap_or(20);
        if !(1..=100).contains(&limit) {
            return Err(ApiError::bad_request("`limit` must be from 1 to 100.").param("limit"));
        }
        let (store, owner) = (gw.batches.clone(), caller.owner().to_string());
        let (data, has_more) =
            blocking(move || store.list(&owner, p.after.as_deref(), limit)).await?;
        Ok(Json(json!({
            "object": "list",
            "first_id": data.first().map(|b| b.id.clone()),
            "last_id": data.last().map(|b| b.id.clone()),
            "has_more": has_more,
            "data": data,
        }))
        .into_response())
    }
    .await;
    caller.respond(result)
}

async fn retrieve(State(gw): State<AppState>, Path(id): Path<String>, caller: Caller) -> Response {
    let result = find(&gw, caller.owner(), &id)
        .await
        .map(|b| Json(b).into_response());
    caller.respond(result)
}

async fn cancel(State(gw): State<AppState>, Path(id): Path<String>, caller: Caller) -> Response {
    let result = async {
        let mut b = find(&gw, caller.owner(), &id).await?;
        match b.status.as_str() {
            "validating" | "in_progress" => {
                b.status = "cancelling".into();
                b.cancelling_at = Some(now_ms() / 1000);
                runner::cancel(&gw, &b).await?;
            }
            "cancelling" | "cancelled" => {}
            other => {
                return Err(ApiError::bad_request(format!(
                    "The batch is {other} and can no longer be cancelled."
                ))
                .code("batch_not_cancellable"));
            }
        }
        Ok(Json(find(&gw, caller.owner(), &id).await?).into_response())
    }
    .await;
    caller.respond(result)
}
