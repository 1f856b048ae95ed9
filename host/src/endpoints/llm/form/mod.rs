//! Multipart uploads of the audio and image endpoints (`/audio/transcriptions`,
//! `/audio/translations`, `/images/edits`, `/images/variations`).
//!
//! The form is read once the caller is authenticated: text fields are kept (bounded), file parts
//! are spooled to temporary files under `<data_dir>/uploads/` as they arrive (never held whole in
//! memory), within `server.max_upload_bytes`. Plugins see the form as JSON ([`Form::render`]):
//! each text field under its name (`name[]` fields as lists), each file part as
//! `{"filename", "content_type", "bytes"}`. The upstream gets a multipart body rebuilt from that
//! JSON (after policies and guards) with the files streamed from disk ([`Form::upstream`]). The
//! temporary files are removed when the form is dropped, which the request's end does whatever
//! happened.

mod read;
mod render;

use read::{Limits, read};

use crate::error::ApiError;
use axum::body::Body;
use axum::http::HeaderMap;
use bytes::Bytes;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// One file part, spooled to disk.
#[derive(Debug)]
pub(super) struct Spooled {
    /// The field's name as sent (`file`, `image`, `image[]`, `mask`).
    pub field: String,
    /// The file's name as sent (`upload` when none was).
    pub filename: String,
    /// The declared content type, if any.
    pub content_type: Option<String>,
    /// Its size.
    pub bytes: u64,
    /// Where its bytes are.
    pub path: PathBuf,
}

/// A multipart form: its text fields in arrival order and its spooled files.
#[derive(Debug, Default)]
pub(super) struct Form {
    /// Text fields (name as sent, value).
    pub fields: Vec<(String, String)>,
    /// File parts.
    pub files: Vec<Spooled>,
}

impl Drop for Form {
    fn drop(&mut self) {
        for f in &self.files {
            if let Err(e) = std::fs::remove_file(&f.path)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!(path = %f.path.display(), error = %e, "an upload's temporary file could not be removed");
            }
        }
    }
}

impl super::exchange::Exchange {
    /// Reads the request's multipart form (after auth), keeps it for the upstream call, and
    /// returns its JSON rendering: the body the policies, guards and adapters see.
    pub(super) async fn read_form(
        &mut self,
        headers: &HeaderMap,
        body: Body,
    ) -> Result<Bytes, ApiError> {
        let server = &self.pipeline.config.server;
        let limits = Limits {
            max_upload_bytes: server.max_upload_bytes,
            timeout_ms: server.body_read_timeout_ms,
        };
        let dir = self.gw.uploads_dir.clone();
        let form = read(
            self.endpoint,
            headers,
            body,
            &dir,
            &self.ctx.request_id,
            limits,
        )
        .await?;
        let rendering = serde_json::to_vec(&form.render())
            .map_err(|e| ApiError::internal(format!("The form could not be encoded: {e}")))?;
        self.form = Some(form);
        Ok(Bytes::from(rendering))
    }
}

/// Whether a part named `name` is a file part (else a text field).
pub(super) fn is_file_field(name: &str) -> bool {
    matches!(base(name), "file" | "image" | "mask")
}

/// A field's name without a trailing `[]`.
pub(super) fn base(name: &str) -> &str {
    name.strip_suffix("[]").unwrap_or(name)
}

/// Removes what a gateway that stopped abruptly left in `dir` (files older than an hour; a
/// request's uploads live as long as the request).
pub fn sweep(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let old = SystemTime::now() - Duration::from_secs(3600);
    for e in entries.flatten() {
        let stale = e
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t < old);
        if stale {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropping_a_form_removes_its_files() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("x");
        std::fs::write(&path, b"abc").expect("write");
        let form = Form {
            fields: vec![],
            files: vec![Spooled {
                field: "file".into(),
                filename: "a.wav".into(),
                content_type: None,
                bytes: 3,
                path: path.clone(),
            }],
        };
        drop(form);
        assert!(!path.exists());
        assert!(is_file_field("image[]") && is_file_field("mask") && !is_file_field("model"));
    }
}
