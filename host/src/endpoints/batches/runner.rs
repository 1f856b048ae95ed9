//! Running batches. Every line goes through the gateway's own pipeline as the batch's creator
//! (policies and rate limits, adapters, fallbacks, cost, a usage row tagged with the batch id),
//! with bounded concurrency per batch and over all batches, so interactive traffic keeps the rest
//! of the machine. A line that is rate limited waits for its window and runs again instead of
//! failing. Each line's result is durable before it counts; a restarted gateway resumes batches
//! with the lines that have none. Cancel stops new lines at once and finalizes with what ran; the
//! 24 h window ends the lines left as `batch_expired`.

use super::leases::{Renewer, holder, lease_ms};
use super::llm_endpoint;
use crate::endpoints::llm;
use crate::error::{ApiError, blocking};
use crate::pipeline::bindings::types::Principal;
use crate::state::{AppState, Gateway};
use crate::store::{Batch, BatchUsage, Creator, FileRecord, PendingLine};
use crate::time::now_ms;
use bytes::Bytes;
use futures::StreamExt;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Lines read from the store at a time (expiring a batch).
const CHUNK: usize = 256;
/// How often the supervisor looks for batches to run (after a restart, or one it missed).
const SUPERVISE_EVERY: Duration = Duration::from_secs(2);
/// Interactive traffic counts as busy this long after its last request ended.
const BUSY_WINDOW_MS: u64 = 250;
/// Longest wait for a rate limit's window before a line runs again.
const MAX_RATE_WAIT: Duration = Duration::from_secs(60);

fn now_s() -> u64 {
    now_ms() / 1000
}

/// Starts the supervisor: it resumes every batch with work left, now and whenever one is found.
pub fn spawn(gw: &AppState) {
    let weak = Arc::downgrade(gw);
    tokio::spawn(async move {
        loop {
            let Some(gw) = weak.upgrade() else { return };
            let store = gw.batches.clone();
            match tokio::task::spawn_blocking(move || store.active()).await {
                Ok(Ok(ids)) => ids.iter().for_each(|id| ensure_running(&gw, id)),
                Ok(Err(e)) => tracing::warn!(error = %e, "cannot list active batches"),
                Err(e) => tracing::warn!(error = %e, "batch supervisor task failed"),
            }
            drop(gw);
            tokio::time::sleep(SUPERVISE_EVERY).await;
        }
    });
}

/// Runs batch `id` unless it is running already.
pub fn ensure_running(gw: &AppState, id: &str) {
    let flag = {
        let mut runs = gw
            .batch_runs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if runs.contains_key(id) {
            return;
        }
        let flag = Arc::new(AtomicBool::new(false));
        runs.insert(id.to_string(), Arc::clone(&flag));
        flag
    };
    let (gw, id) = (Arc::clone(gw), id.to_string());
    tokio::spawn(async move {
        if let Err(e) = run(&gw, &id, &flag).await {
            tracing::error!(batch = %id, error = %e, "batch run stopped; it resumes later");
        }
        gw.batch_runs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&id);
    });
}

/// Marks `b` (already set to `cancelling`) cancelled: stores it and stops its new lines.
pub async fn cancel(gw: &AppState, b: &Batch) -> Result<(), ApiError> {
    save(gw, b).await?;
    if let Some(flag) = gw
        .batch_runs
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(&b.id)
    {
        flag.store(true, Ordering::SeqCst);
    }
    ensure_running(gw, &b.id);
    Ok(())
}

async fn save(gw: &Gateway, b: &Batch) -> Result<(), ApiError> {
    let (store, b) = (gw.batches.clone(), b.clone());
    blocking(move || store.update(&b)).await
}

async fn load(gw: &Gateway, id: &str) -> Result<Option<Batch>, ApiError> {
    let (store, id) = (gw.batches.clone(), id.to_string());
    blocking(move || store.get(None, &id)).await
}

/// Drives batch `id` until it ends (or the gateway stops).
async fn run(gw: &AppState, id: &str, cancelled: &AtomicBool) -> Result<(), ApiError> {
    let (store, id_s) = (gw.batches.clone(), id.to_string());
    let Some(creator) = blocking(move || store.creator(&id_s)).await? else {
        return Ok(());
    };
    let principal = Principal {
        key_id: creator.key_id.clone(),
        owner: creator.owner.clone(),
        team: creator.team.clone(),
        models: creator.models.clone(),
        attributes: creator.attributes.clone(),
        // Batch lines are LLM requests: they never reach an MCP server.
        mcp_servers: Vec::new(),
    };
    loop {
        let Some(b) = load(gw, id).await? else {
            return Ok(());
        };
        match b.status.as_str() {
            "in_progress" | "validating" => {}
            "cancelling" => return finalize(gw, b, &creator, "cancelled").await,
            "finalizing" => return finalize(gw, b, &creator, "completed").await,
            _ => return Ok(()),
        }
        let expires_at = b.expires_at.unwrap_or(u64::MAX);
        if now_s() >= expires_at {
            return expire(gw, b, &creator).await;
        }
        let per_batch = gw.pipeline.load().config.batches.per_batch_concurrency;
        let (store, id_s, me) = (gw.batches.clone(), id.to_string(), holder(gw));
        let (now, lease) = (now_ms(), lease_ms(gw));
        let claimed = per_batch.saturating_mul(2).max(1);
        let pending = blocking(move || store.claim(&id_s, me, claimed, now, now + lease)).await?;
        if pending.is_empty() {
            let (store, id_s) = (gw.batches.clone(), id.to_string());
            if blocking(move || store.pending(&id_s, 1)).await?.is_empty() {
                return finalize(gw, b, &creator, "completed").await;
            }
            // Every line left is another replica's: it finishes them, or its leases run out and
            // the supervisor brings this batch back here.
            return Ok(());
        }
        let Some(endpoint) = llm_endpoint(&b.endpoint) else {
            return Err(ApiError::internal(
                "The batch names an endpoint it cannot run.",
            ));
        };
        let _renewer = Renewer::start(gw, id);
        futures::stream::iter(pending)
            .for_each_concurrent(per_batch, |line| {
                let principal = principal.clone();
                async move {
                    if cancelled.load(Ordering::SeqCst) || now_s() >= expires_at {
                        return;
                    }
                    let Ok(_slot) = gw.batch_slots.acquire().await else {
                        return;
                    };
                    // Interactive traffic first: while it is busy, batch lines take turns.
                    let _busy = if gw.interactive.busy(BUSY_WINDOW_MS) {
                        match gw.batch_slots_busy.acquire().await {
                            Ok(p) => Some(p),
                            Err(_) => return,
                        }
                    } else {
                        None
                    };
                    if cancelled.load(Ordering::SeqCst) {
                        return;
                    }
                    let started = std::time::Instant::now();
                    let (result, failed) =
                        run_line(gw, id, endpoint, principal, &line, cancelled, expires_at).await;
                    if _busy.is_some() {
                        // While interactive traffic is busy, batch lines use at most half of
                        // the time of their one turn: the rest is left to interactive requests.
                        tokio::time::sleep(started.elapsed()).await;
                    }
                    let (store, id_s) = (gw.batches.clone(), id.to_string());
                    let n = line.line;
                    if let Err(e) = blocking(move || store.record(&id_s, n, &result, failed)).await {
                        tracing::error!(batch = %id, line = n, error = %e, "cannot record a batch line");
                    }
                }
            })
            .await;
    }
}

/// Runs one line, waiting out rate limits; returns its output line and whether it failed.
async fn run_line(
    gw: &AppState,
    batch_id: &str,
    endpoint: llm::Endpoint,
    principal: Principal,
    line: &PendingLine,
    cancelled: &AtomicBool,
    expires_at: u64,
) -> (Value, bool) {
    let body: Value = serde_json::from_str(&line.body).unwrap_or(Value::Null);
    if body.get("stream").and_then(Value::as_bool) == Some(true) {
        let error = json!({ "code": "stream_unsupported",
            "message": "Batch lines cannot stream: remove `stream` or set it to false." });
        return (output(line, None, Some(error)), true);
    }
    loop {
        let out = llm::run_line(
            Arc::clone(gw),
            endpoint,
            principal.clone(),
            Bytes::from(line.body.clone()),
            batch_id,
        )
        .await;
        if out.status == 429 && !cancelled.load(Ordering::SeqCst) {
            let wait = Duration::from_secs(out.retry_after.unwrap_or(1).max(1)).min(MAX_RATE_WAIT);
            if now_s() + wait.as_secs() < expires_at {
                tokio::time::sleep(wait).await;
                continue;
            }
        }
        let body: Value = serde_json::from_slice(&out.body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&out.body).into_owned()));
        let failed = !(200..300).contains(&out.status);
        let response =
            json!({ "status_code": out.status, "request_id": out.request_id, "body": body });
        return (output(line, Some(response), None), failed);
    }
}

/// One line of an output or error file, as OpenAI writes them.
fn output(line: &PendingLine, response: Option<Value>, error: Option<Value>) -> Value {
    json!({
        "id": format!("batch_req_{:024x}", rand::random::<u128>() >> 32),
        "custom_id": line.custom_id,
        "response": response,
        "error": error,
    })
}

/// The window ended: every line left fails as `batch_expired`, then the batch ends `expired`.
async fn expire(gw: &AppState, b: Batch, creator: &Creator) -> Result<(), ApiError> {
    loop {
        let (store, id) = (gw.batches.clone(), b.id.clone());
        let pending = blocking(move || store.pending(&id, CHUNK)).await?;
        if pending.is_empty() {
            break;
        }
        for line in pending {
            let error = json!({ "code": "batch_expired",
                "message": "This request could not be executed before the completion window expired." });
            let result = output(&line, None, Some(error));
            let (store, id) = (gw.batches.clone(), b.id.clone());
            blocking(move || store.record(&id, line.line, &result, true)).await?;
        }
    }
    finalize(gw, b, creator, "expired").await
}

/// Writes the output and error files and ends the batch with `status`.
async fn finalize(
    gw: &AppState,
    mut b: Batch,
    creator: &Creator,
    status: &str,
) -> Result<(), ApiError> {
    // One replica finishes a batch; the others leave it (and take over if its lease runs out).
    let (store, id, me, at) = (gw.batches.clone(), b.id.clone(), holder(gw), now_ms());
    let until = at + lease_ms(gw);
    if !blocking(move || store.claim_batch(&id, me, at, until)).await? {
        return Ok(());
    }
    let now = now_s();
    if b.status != "cancelling" {
        b.status = "finalizing".into();
        b.finalizing_at.get_or_insert(now);
        save(gw, &b).await?;
    }
    let (store, id) = (gw.batches.clone(), b.id.clone());
    let results = blocking(move || store.results(&id)).await?;
    let mut ok = String::new();
    let mut failed = String::new();
    let mut usage = BatchUsage::default();
    for (text, is_failed) in &results {
        let target = if *is_failed { &mut failed } else { &mut ok };
        target.push_str(text);
        target.push('\n');
        if !is_failed && let Ok(v) = serde_json::from_str::<Value>(text) {
            let u = &v["response"]["body"]["usage"];
            let n = |p: &str| u.pointer(p).and_then(Value::as_u64).unwrap_or(0);
            usage.input_tokens += n("/prompt_tokens");
            usage.output_tokens += n("/completion_tokens");
            usage.input_tokens_details.cached_tokens += n("/prompt_tokens_details/cached_tokens");
            usage.output_tokens_details.reasoning_tokens +=
                n("/completion_tokens_details/reasoning_tokens");
        }
    }
    usage.total_tokens = usage.input_tokens + usage.output_tokens;
    if b.output_file_id.is_none() && !ok.is_empty() {
        b.output_file_id = Some(write_file(gw, &b, creator, "output", ok).await?);
    }
    if b.error_file_id.is_none() && !failed.is_empty() {
        b.error_file_id = Some(write_file(gw, &b, creator, "error", failed).await?);
    }
    b.usage = Some(usage);
    b.status = status.into();
    match status {
        "cancelled" => b.cancelled_at = Some(now),
        "expired" => b.expired_at = Some(now),
        _ => b.completed_at = Some(now),
    }
    save(gw, &b).await?;
    tracing::info!(batch = %b.id, status, lines = results.len(), "batch ended");
    Ok(())
}

/// Stores `text` as the batch's `kind` (`output` or `error`) file, owned by its creator.
async fn write_file(
    gw: &AppState,
    b: &Batch,
    creator: &Creator,
    kind: &str,
    text: String,
) -> Result<String, ApiError> {
    let now = now_s();
    let record = FileRecord {
        id: crate::endpoints::files::new_file_id(),
        object: "file",
        bytes: text.len() as u64,
        created_at: now,
        expires_at: creator.output_expires_s.map(|s| now + s),
        filename: format!("{}_{kind}.jsonl", b.id),
        purpose: "batch_output".into(),
        status: "processed",
        owner: creator.owner.clone(),
        content_type: "application/jsonl".into(),
    };
    gw.contents
        .put_bytes(&record.id, Bytes::from(text))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "cannot write a batch's results");
            ApiError::internal("The gateway could not store a batch's results.")
        })?;
    let (files, stored) = (gw.files.clone(), record.clone());
    blocking(move || files.insert(&stored)).await?;
    Ok(record.id)
}
