//! `POST /files`: a multipart upload (`file`, `purpose`, optional `expires_after[anchor]` and
//! `expires_after[seconds]`), streamed to disk as it arrives (never held whole in memory), checked
//! against the size limits, then recorded.

use super::{FILE_PURPOSES, content_type_for, new_file_id};
use crate::config::FilesConfig;
use crate::endpoints::caller::Caller;
use crate::error::{ApiError, blocking};
use crate::state::AppState;
use crate::store::FileRecord;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::path::PathBuf;
use tokio::io::AsyncWriteExt;

/// Files of purpose `batch` expire after 30 days unless the upload says otherwise, like OpenAI's.
const BATCH_EXPIRY_S: u64 = 30 * 86_400;
/// The range `expires_after[seconds]` may take.
const EXPIRY_RANGE_S: std::ops::RangeInclusive<u64> = 3_600..=2_592_000;

/// The parts of an upload, as they arrive.
#[derive(Default)]
struct Upload {
    purpose: Option<String>,
    anchor: Option<String>,
    seconds: Option<String>,
    /// The file's name, its bytes on disk (a temporary name) and its size.
    file: Option<(String, PathBuf, u64, Option<String>)>,
}

/// A temporary file that is removed unless kept.
struct Temp(Option<PathBuf>);

impl Drop for Temp {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn too_large(what: &str, limit: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "invalid_request_error",
        format!("{what} is larger than the gateway's limit of {limit} bytes."),
    )
    .code("file_too_large")
    .param("file")
}

fn limit_for(purpose: Option<&str>, cfg: &FilesConfig) -> u64 {
    match purpose {
        Some("batch") => cfg.max_batch_file_bytes,
        Some(_) => cfg.max_file_bytes,
        // Not known yet: the larger limit, checked again once it is.
        None => cfg.max_file_bytes.max(cfg.max_batch_file_bytes),
    }
}

/// Handles one upload by `caller`.
pub(super) async fn upload(
    gw: AppState,
    caller: &Caller,
    req: Request,
) -> Result<Response, ApiError> {
    let cfg = caller.pipeline.config.files.clone();
    let bad = |e: axum::extract::multipart::MultipartError| {
        ApiError::bad_request(format!("The upload is not valid multipart form data: {e}."))
            .code("invalid_multipart")
    };
    let mut form = Multipart::from_request(req, &()).await.map_err(|e| {
        ApiError::bad_request(format!("Expected a multipart/form-data upload: {e}."))
            .code("invalid_multipart")
    })?;
    let id = new_file_id();
    let mut temp = Temp(None);
    let mut up = Upload::default();
    while let Some(mut field) = form.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_string();
        if name != "file" {
            let text = field.text().await.map_err(bad)?;
            match name.as_str() {
                "purpose" => up.purpose = Some(text),
                "expires_after[anchor]" => up.anchor = Some(text),
                "expires_after[seconds]" => up.seconds = Some(text),
                _ => {} // OpenAI ignores unknown fields too
            }
            continue;
        }
        if up.file.is_some() {
            return Err(ApiError::bad_request("Send one `file` per upload.").param("file"));
        }
        let filename = field.file_name().unwrap_or("upload").to_string();
        let declared = field.content_type().map(str::to_string);
        let path = caller_temp_path(&gw, &id);
        temp.0 = Some(path.clone());
        let mut out = tokio::fs::File::create(&path).await.map_err(io_error)?;
        let limit = limit_for(up.purpose.as_deref(), &cfg);
        let mut size: u64 = 0;
        while let Some(chunk) = field.chunk().await.map_err(bad)? {
            size += chunk.len() as u64;
            if size > limit {
                return Err(too_large(&format!("`{filename}`"), limit));
            }
            out.write_all(&chunk).await.map_err(io_error)?;
        }
        out.flush().await.map_err(io_error)?;
        out.sync_all().await.map_err(io_error)?;
        up.file = Some((filename, path, size, declared));
    }
    let purpose = up
        .purpose
        .ok_or_else(|| ApiError::bad_request("Missing the `purpose` field.").param("purpose"))?;
    if !FILE_PURPOSES.contains(&purpose.as_str()) {
        return Err(ApiError::bad_request(format!(
            "`{purpose}` is not a valid purpose: use one of {}.",
            FILE_PURPOSES.join(", ")
        ))
        .param("purpose"));
    }
    let Some((filename, path, size, declared)) = up.file else {
        return Err(ApiError::bad_request("Missing the `file` field.").param("file"));
    };
    let limit = limit_for(Some(&purpose), &cfg);
    if size > limit {
        return Err(too_large(&format!("`{filename}`"), limit));
    }
    let now = crate::time::now_ms() / 1000;
    let expires_at = expiry(&purpose, up.anchor.as_deref(), up.seconds.as_deref(), now)?;
    let owner = caller.owner().to_string();
    let files = gw.files.clone();
    let record = FileRecord {
        id: id.clone(),
        object: "file",
        bytes: size,
        created_at: now,
        expires_at,
        content_type: content_type_for(&filename, declared.as_deref()),
        filename,
        purpose,
        status: "processed",
        owner,
    };
    let max_owner = cfg.max_owner_bytes;
    let stored = record.clone();
    gw.contents.put_file(&id, &path).await.map_err(|e| {
        tracing::error!(file = %id, error = %e, "storing an upload failed");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "server_error",
            "The gateway could not store the file; try again shortly.",
        )
    })?;
    // The quota check and the record are one statement: concurrent uploads cannot pass the
    // owner's limit together.
    let checked = blocking(move || -> Result<Option<u64>, ApiError> {
        match files.insert_within(&stored, max_owner, now)? {
            true => Ok(None),
            false => Ok(Some(files.owner_bytes(&stored.owner, now).unwrap_or(0))),
        }
    })
    .await;
    match checked {
        Ok(None) => {}
        Ok(Some(used)) => {
            gw.contents.remove(&id).await;
            return Err(too_large(
                &format!("Your stored files ({used} bytes) plus this one"),
                max_owner,
            ));
        }
        Err(e) => {
            gw.contents.remove(&id).await;
            return Err(e);
        }
    }
    temp.0 = None; // moved into place
    Ok((StatusCode::OK, axum::Json(record)).into_response())
}

/// Where an upload is written while it arrives (hidden; renamed once complete).
fn caller_temp_path(gw: &AppState, id: &str) -> PathBuf {
    gw.files.dir().join(format!(".upload-{id}"))
}

fn io_error(e: std::io::Error) -> ApiError {
    tracing::error!(error = %e, "writing an upload failed");
    ApiError::internal("The gateway could not store the upload.")
}

/// When a file expires: `expires_after` if given, else 30 days for `batch` files, else never.
fn expiry(
    purpose: &str,
    anchor: Option<&str>,
    seconds: Option<&str>,
    now: u64,
) -> Result<Option<u64>, ApiError> {
    match (anchor, seconds) {
        (None, None) => Ok((purpose == "batch").then_some(now + BATCH_EXPIRY_S)),
        (Some("created_at"), Some(s)) => match s.trim().parse::<u64>() {
            Ok(s) if EXPIRY_RANGE_S.contains(&s) => Ok(Some(now + s)),
            _ => Err(ApiError::bad_request(format!(
                "`expires_after[seconds]` must be a number of seconds from {} to {}.",
                EXPIRY_RANGE_S.start(),
                EXPIRY_RANGE_S.end()
            ))
            .param("expires_after[seconds]")),
        },
        (Some(a), Some(_)) if a != "created_at" => Err(ApiError::bad_request(
            "`expires_after[anchor]` must be `created_at`.",
        )
        .param("expires_after[anchor]")),
        _ => Err(
            ApiError::bad_request("`expires_after` needs both `anchor` and `seconds`.")
                .param("expires_after"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_follows_openai() {
        assert_eq!(
            expiry("batch", None, None, 10).ok(),
            Some(Some(10 + BATCH_EXPIRY_S))
        );
        assert_eq!(expiry("user_data", None, None, 10).ok(), Some(None));
        assert_eq!(
            expiry("user_data", Some("created_at"), Some("3600"), 10).ok(),
            Some(Some(3610))
        );
        for (a, s) in [
            (Some("created_at"), Some("59")),
            (Some("created_at"), Some("2592001")),
            (Some("updated_at"), Some("3600")),
            (None, Some("3600")),
        ] {
            assert!(expiry("batch", a, s, 0).is_err(), "{a:?} {s:?}");
        }
    }
}
