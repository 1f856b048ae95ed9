//! The Files API: `POST /files` (upload), `GET /files` (list), `GET /files/{id}`,
//! `DELETE /files/{id}` and `GET /files/{id}/content`. A file belongs to the key owner who
//! uploaded it; to every other owner it does not exist (404). Only the auth stage runs here.

mod upload;

use super::caller::Caller;
use crate::error::{ApiError, blocking};
use crate::state::AppState;
use crate::store::{FileList, FileRecord, ListOrder};
use crate::time::now_ms;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

/// The purposes a file may be uploaded for.
pub const FILE_PURPOSES: &[&str] = &[
    "assistants",
    "batch",
    "fine-tune",
    "vision",
    "user_data",
    "evals",
];

/// The Files routes (mounted under `/v1` and bare). Uploads stream past the body limit of JSON
/// endpoints; the files' own limits apply.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/files", get(list).post(create))
        .route("/files/{id}", get(retrieve).delete(remove))
        .route("/files/{id}/content", get(content))
        .layer(DefaultBodyLimit::disable())
}

/// A fresh file id: `file-` and 24 hex digits, the first 12 the upload's millisecond, so ids
/// sort in upload order (lists page by time, then id).
pub fn new_file_id() -> String {
    format!(
        "file-{:012x}{:012x}",
        now_ms() & 0xffff_ffff_ffff,
        rand::random::<u64>() & 0xffff_ffff_ffff
    )
}

/// The content type a file is served with: what the upload declared, unless that says nothing
/// (`application/octet-stream`), else what its name suggests.
pub fn content_type_for(filename: &str, declared: Option<&str>) -> String {
    if let Some(d) = declared.filter(|d| !d.is_empty() && *d != "application/octet-stream") {
        return d.to_string();
    }
    let ext = filename
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("jsonl") => "application/jsonl",
        Some("json") => "application/json",
        Some("txt" | "md") => "text/plain",
        Some("csv") => "text/csv",
        Some("pdf") => "application/pdf",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        _ => "application/octet-stream",
    }
    .to_string()
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "invalid_request_error",
        format!("No such File object: {id}"),
    )
    .code("file_not_found")
    .param("id")
}

/// `owner`'s live file `id`, or 404.
pub async fn find(gw: &AppState, owner: &str, id: &str) -> Result<FileRecord, ApiError> {
    let (files, owner_s, id_s) = (gw.files.clone(), owner.to_string(), id.to_string());
    blocking(move || files.get(&owner_s, &id_s, now_ms() / 1000))
        .await?
        .ok_or_else(|| not_found(id))
}

async fn create(State(gw): State<AppState>, caller: Caller, req: Request) -> Response {
    let result = upload::upload(gw, &caller, req).await;
    caller.respond(result)
}

/// Query of `GET /files`.
#[derive(serde::Deserialize)]
struct ListParams {
    purpose: Option<String>,
    limit: Option<usize>,
    order: Option<String>,
    after: Option<String>,
}

async fn list(
    State(gw): State<AppState>,
    query: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
    caller: Caller,
) -> Response {
    let result = async {
        let Query(p) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
        let page = list_page(&gw, Some(caller.owner().to_string()), p).await?;
        Ok(Json(list_json(page, false)).into_response())
    }
    .await;
    caller.respond(result)
}

/// A page of files of `owner` (every owner's with `None`), as `GET /files` asks.
async fn list_page(
    gw: &AppState,
    owner: Option<String>,
    p: ListParams,
) -> Result<FileList, ApiError> {
    let limit = p.limit.unwrap_or(10_000);
    if !(1..=10_000).contains(&limit) {
        return Err(ApiError::bad_request("`limit` must be from 1 to 10000.").param("limit"));
    }
    let order = match p.order.as_deref() {
        None | Some("desc") => ListOrder::Desc,
        Some("asc") => ListOrder::Asc,
        Some(o) => {
            return Err(ApiError::bad_request(format!(
                "`order` must be `asc` or `desc`, not `{o}`."
            ))
            .param("order"));
        }
    };
    let files = gw.files.clone();
    blocking(move || {
        files.list(
            owner.as_deref(),
            p.purpose.as_deref(),
            order,
            p.after.as_deref(),
            limit,
            now_ms() / 1000,
        )
    })
    .await
}

/// A list object; `with_owner` adds each file's owner (for admins).
fn list_json(page: FileList, with_owner: bool) -> serde_json::Value {
    let data: Vec<serde_json::Value> = page
        .data
        .iter()
        .map(|f| {
            let mut v = json!(f);
            if with_owner {
                v["owner"] = json!(f.owner);
            }
            v
        })
        .collect();
    json!({
        "object": "list",
        "first_id": page.data.first().map(|f| f.id.clone()),
        "last_id": page.data.last().map(|f| f.id.clone()),
        "has_more": page.has_more,
        "data": data,
    })
}

async fn retrieve(State(gw): State<AppState>, Path(id): Path<String>, caller: Caller) -> Response {
    let result = find(&gw, caller.owner(), &id)
        .await
        .map(|f| Json(f).into_response());
    caller.respond(result)
}

async fn remove(State(gw): State<AppState>, Path(id): Path<String>, caller: Caller) -> Response {
    let (files, owner, id2) = (gw.files.clone(), caller.owner().to_string(), id.clone());
    let result = match blocking(move || files.delete(&owner, &id2)).await {
        Ok(true) => {
            gw.contents.remove(&id).await;
            Ok(Json(json!({ "id": id, "object": "file", "deleted": true })).into_response())
        }
        Ok(false) => Err(not_found(&id)),
        Err(e) => Err(e),
    };
    caller.respond(result)
}

async fn content(State(gw): State<AppState>, Path(id): Path<String>, caller: Caller) -> Response {
    let result = async {
        let f = find(&gw, caller.owner(), &id).await?;
        let bytes = gw.contents.stream(&f.id).await.map_err(|e| {
            tracing::error!(file = %f.id, error = %e, "a file's bytes cannot be read");
            if e.is_missing() {
                not_found(&f.id)
            } else {
                ApiError::new(
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    "server_error",
                    "The gateway's file store is unavailable; try again shortly.",
                )
            }
        })?;
        let mut resp = Response::new(Body::from_stream(bytes));
        let h = resp.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&f.content_type) {
            h.insert(header::CONTENT_TYPE, v);
        }
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(f.bytes));
        Ok(resp)
    }
    .await;
    caller.respond(result)
}

/// `GET /admin/files?owner=...`: files of one owner, or of every owner (admin API).
pub async fn admin_list(
    State(gw): State<AppState>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    let p = ListParams {
        purpose: q.get("purpose").cloned(),
        limit: q.get("limit").and_then(|l| l.parse().ok()),
        order: q.get("order").cloned(),
        after: q.get("after").cloned(),
    };
    match list_page(&gw, q.get("owner").cloned(), p).await {
        Ok(page) => Json(list_json(page, true)).into_response(),
        Err(e) => e.into_response(),
    }
}
