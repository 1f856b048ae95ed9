//! Chat content parts that name an uploaded file (`{"type": "file", "file": {"file_id": ...}}`):
//! the gateway inlines the file's data before the adapter runs, for the file's owner only, within
//! the limits on file parts (10 MB a file, 32 MB a request).

use super::exchange::Exchange;
use super::request::{MAX_FILE_BYTES, MAX_FILES_BYTES, Prepared};
use crate::endpoints::files;
use crate::error::ApiError;
use base64::Engine;
use std::collections::HashMap;

impl Exchange {
    /// Inlines the files that `prepared`'s chat messages name by id.
    pub(super) async fn inline_file_ids(&self, prepared: &mut Prepared) -> Result<(), ApiError> {
        let ids = prepared.file_ids();
        if ids.is_empty() {
            return Ok(());
        }
        let inlined = self.file_data(ids, "messages").await?;
        prepared.inline_files(|id| inlined.get(id).cloned())
    }

    /// The caller's files `ids` as (filename, `data:` URL), within the limits on file parts; an
    /// error names `param`.
    pub(super) async fn file_data(
        &self,
        ids: Vec<String>,
        param: &str,
    ) -> Result<HashMap<String, (String, String)>, ApiError> {
        let owner = self
            .principal
            .as_ref()
            .map(|p| p.owner.as_str())
            .unwrap_or("anonymous");
        let mut inlined: HashMap<String, (String, String)> = HashMap::new();
        let mut total = 0u64;
        for id in ids {
            if inlined.contains_key(&id) {
                continue;
            }
            let f = files::find(&self.gw, owner, &id)
                .await
                .map_err(|e| e.param(param))?;
            if f.bytes > MAX_FILE_BYTES as u64 {
                return Err(ApiError::bad_request(format!(
                    "`{}` ({id}) is about {} MB; a file may be at most 10 MB.",
                    f.filename,
                    f.bytes.div_ceil(1 << 20)
                ))
                .code("file_too_large")
                .param(param));
            }
            total += f.bytes;
            if total > MAX_FILES_BYTES as u64 {
                return Err(ApiError::bad_request(
                    "The files of this request add up to more than 32 MB, the limit per request.",
                )
                .code("files_too_large")
                .param(param));
            }
            let bytes = self.gw.contents.read(&f.id).await.map_err(|e| {
                tracing::error!(file = %f.id, error = %e, "a file's bytes are missing");
                ApiError::internal("The gateway could not read a file the request names.")
            })?;
            let data = base64::engine::general_purpose::STANDARD.encode(bytes);
            let url = format!("data:{};base64,{data}", f.content_type);
            inlined.insert(id, (f.filename, url));
        }
        Ok(inlined)
    }
}
