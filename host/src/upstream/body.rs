//! Upstream answers: one response type whichever client fetched it, read whole (bounded) or as a
//! stream of chunks.

use super::UpstreamError;
use bytes::Bytes;
use futures::Stream;
use http_body_util::BodyExt;
use http_body_util::combinators::BoxBody;
use std::time::Duration;

/// An error reading an upstream body (hyper's or reqwest's, boxed).
pub type BodyError = Box<dyn std::error::Error + Send + Sync>;

/// An upstream response: its status, headers and body.
pub type UpstreamResponse = http::Response<BoxBody<Bytes, BodyError>>;

/// `resp` with its body boxed.
pub(super) fn boxed<B>(resp: http::Response<B>) -> UpstreamResponse
where
    B: http_body::Body<Data = Bytes> + Send + Sync + 'static,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    resp.map(|b| b.map_err(|e| Box::new(e) as BodyError).boxed())
}

/// The body of `resp` as a stream of chunks (trailers skipped).
pub fn chunks(resp: UpstreamResponse) -> impl Stream<Item = Result<Bytes, BodyError>> + Send {
    http_body_util::BodyDataStream::new(resp.into_body())
}

/// What a broken upstream body means for the client; the cause chain goes to the log.
pub fn body_error(provider: &str, e: &(dyn std::error::Error + 'static)) -> UpstreamError {
    tracing::warn!(provider, error = %crate::error::error_chain(e), "upstream body failed");
    UpstreamError::Transport {
        provider: provider.to_string(),
    }
}

/// Reads a whole body, at most `limit` bytes, within `timeout`.
pub async fn read_body(
    provider: &str,
    resp: UpstreamResponse,
    limit: usize,
    timeout: Duration,
) -> Result<Bytes, UpstreamError> {
    let read = async {
        let mut body = resp.into_body();
        let mut out = bytes::BytesMut::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| body_error(provider, &*e))?;
            let Ok(chunk) = frame.into_data() else {
                continue;
            };
            if out.len() + chunk.len() > limit {
                return Err(UpstreamError::TooLarge {
                    provider: provider.to_string(),
                    limit,
                });
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out.freeze())
    };
    tokio::time::timeout(timeout, read)
        .await
        .unwrap_or_else(|_| {
            Err(UpstreamError::Timeout {
                provider: provider.to_string(),
                ms: timeout.as_millis(),
            })
        })
}
