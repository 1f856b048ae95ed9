//! Reading a request body whole, within the configured size and time.

use crate::config::ServerConfig;
use crate::error::ApiError;
use axum::body::Body;
use bytes::Bytes;

/// Reads `body`: at most `server.max_body_bytes` (413 beyond), within
/// `server.body_read_timeout_ms` (408 after).
pub async fn read(body: Body, server: &ServerConfig) -> Result<Bytes, ApiError> {
    let limit = server.max_body_bytes;
    let deadline = std::time::Duration::from_millis(server.body_read_timeout_ms);
    tokio::time::timeout(deadline, axum::body::to_bytes(body, limit))
        .await
        .map_err(|_| ApiError::body_timeout(server.body_read_timeout_ms))?
        .map_err(|e| {
            let e = e.into_inner();
            if e.is::<http_body_util::LengthLimitError>() {
                ApiError::too_large(limit)
            } else {
                ApiError::bad_request(format!("The request body could not be read: {e}."))
                    .code("unreadable_body")
            }
        })
}
