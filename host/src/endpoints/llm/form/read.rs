//! Reading a multipart form as it arrives: text fields kept (at most 1 MiB of them), file parts
//! written to disk chunk by chunk within the upload limit.

use super::{Form, Spooled, base, is_file_field};
use crate::endpoints::llm::Endpoint;
use crate::error::ApiError;
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use std::path::Path;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// Most bytes the text fields of one form may hold together (prompts and options).
pub(super) const MAX_FIELDS_BYTES: usize = 1 << 20;

/// What a form may take.
#[derive(Debug, Clone, Copy)]
pub(in crate::endpoints::llm) struct Limits {
    /// The file parts' bytes together (`server.max_upload_bytes`).
    pub max_upload_bytes: u64,
    /// Time the whole body has to arrive (`server.body_read_timeout_ms`).
    pub timeout_ms: u64,
}

/// Reads the multipart body of a request of `endpoint`, spooling its files into `dir` as
/// `<prefix>-<n>`. Checks the file part the endpoint needs is there.
pub(in crate::endpoints::llm) async fn read(
    endpoint: Endpoint,
    headers: &HeaderMap,
    body: Body,
    dir: &Path,
    prefix: &str,
    limits: Limits,
) -> Result<Form, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let boundary = multer::parse_boundary(content_type).map_err(|_| {
        ApiError::bad_request(format!(
            "`{}` takes a multipart/form-data body with a boundary; this request's content type is `{content_type}`.",
            endpoint.path()
        ))
        .code("invalid_multipart")
    })?;
    let mut form = Form::default();
    let reading = read_parts(
        &mut form,
        body,
        boundary,
        dir,
        prefix,
        limits.max_upload_bytes,
    );
    // On any error the form is dropped here, and its files with it.
    match tokio::time::timeout(Duration::from_millis(limits.timeout_ms), reading).await {
        Err(_) => return Err(ApiError::body_timeout(limits.timeout_ms)),
        Ok(read) => read?,
    }
    if let Some(required) = endpoint.required_file()
        && !form.files.iter().any(|f| base(&f.field) == required)
    {
        return Err(
            ApiError::bad_request(format!("Missing the `{required}` file part."))
                .code("missing_required_parameter")
                .param(required),
        );
    }
    Ok(form)
}

async fn read_parts(
    form: &mut Form,
    body: Body,
    boundary: String,
    dir: &Path,
    prefix: &str,
    limit: u64,
) -> Result<(), ApiError> {
    let mut parts = multer::Multipart::new(body.into_data_stream(), boundary);
    let mut previous: Option<String> = None;
    let mut text_bytes = 0usize;
    let mut file_bytes = 0u64;
    loop {
        let field = match parts.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => return Ok(()),
            Err(e) => return Err(malformed(previous.as_deref(), "after", &e)),
        };
        let name = field.name().unwrap_or_default().to_string();
        if name.is_empty() {
            return Err(
                ApiError::bad_request("A part of the form has no name.").code("invalid_multipart")
            );
        }
        if is_file_field(&name) {
            spool(form, field, &name, dir, prefix, limit, &mut file_bytes).await?;
        } else {
            let text = read_text(field, &name, &mut text_bytes).await?;
            form.fields.push((name.clone(), text));
        }
        previous = Some(name);
    }
}

/// Writes one file part to disk; `total` counts the form's file bytes so far.
async fn spool(
    form: &mut Form,
    mut field: multer::Field<'_>,
    name: &str,
    dir: &Path,
    prefix: &str,
    limit: u64,
    total: &mut u64,
) -> Result<(), ApiError> {
    let path = dir.join(format!("{prefix}-{}", form.files.len()));
    let filename = field
        .file_name()
        .filter(|n| !n.is_empty())
        .unwrap_or("upload")
        .to_string();
    let content_type = field.content_type().map(ToString::to_string);
    let mut out = tokio::fs::File::create(&path).await.map_err(io_error)?;
    // Recorded at once, so that an error below still removes the file.
    form.files.push(Spooled {
        field: name.to_string(),
        filename,
        content_type,
        bytes: 0,
        path,
    });
    let mut size = 0u64;
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| malformed(Some(name), "in", &e))?
    {
        size += chunk.len() as u64;
        *total += chunk.len() as u64;
        if *total > limit {
            return Err(too_large(name, limit));
        }
        out.write_all(&chunk).await.map_err(io_error)?;
    }
    out.flush().await.map_err(io_error)?;
    if let Some(f) = form.files.last_mut() {
        f.bytes = size;
    }
    Ok(())
}

/// Reads one text field; `total` counts the form's text bytes so far.
async fn read_text(
    mut field: multer::Field<'_>,
    name: &str,
    total: &mut usize,
) -> Result<String, ApiError> {
    let mut buf = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| malformed(Some(name), "in", &e))?
    {
        *total += chunk.len();
        if *total > MAX_FIELDS_BYTES {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request_error",
                format!(
                    "The form's text fields are larger than the gateway's limit of {MAX_FIELDS_BYTES} bytes (at `{name}`)."
                ),
            )
            .code("request_too_large")
            .param(name));
        }
        buf.extend_from_slice(&chunk);
    }
    String::from_utf8(buf).map_err(|_| {
        ApiError::bad_request(format!("The field `{name}` is not UTF-8 text."))
            .code("invalid_multipart")
            .param(name)
    })
}

/// 400 for a body that is not valid multipart, naming the field it broke in (or after).
fn malformed(field: Option<&str>, place: &str, e: &multer::Error) -> ApiError {
    let at = field
        .map(|f| format!(" {place} the field `{f}`"))
        .unwrap_or_default();
    let err = ApiError::bad_request(format!("The multipart body is malformed{at}: {e}."))
        .code("invalid_multipart");
    match field {
        Some(f) => err.param(f),
        None => err,
    }
}

/// 413 for file parts over the limit.
fn too_large(name: &str, limit: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "invalid_request_error",
        format!(
            "The uploaded files are larger than the gateway's limit of {limit} bytes (at `{name}`)."
        ),
    )
    .code("file_too_large")
    .param(base(name))
}

fn io_error(e: std::io::Error) -> ApiError {
    tracing::error!(error = %e, "spooling an upload failed");
    ApiError::internal("The gateway could not store the upload.")
}

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;
