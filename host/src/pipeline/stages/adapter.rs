//! The adapter stage: a provider adapter maps the request to the provider's, and the provider's
//! answers (whole, or event by event through a [`Translator`]) back to OpenAI's shape. The host
//! makes the HTTP call.

use crate::error::{ApiError, refused_by};
use crate::pipeline::AdapterWorld;
use crate::pipeline::bindings::adapter_if::{Provider, UpstreamCall};
use crate::pipeline::bindings::types::{HttpResponse, RequestCtx, SseEvent, Usage};
use crate::pipeline::plugin::{Lease, PluginError};
use crate::pipeline::worlds::StreamHandle;
use std::sync::Arc;

/// Calls `to-upstream`: what to send to the provider, or a whole answer.
pub async fn to_upstream(
    lease: &mut Lease<AdapterWorld>,
    ctx: &RequestCtx,
    provider: &Provider,
    body: &[u8],
) -> Result<UpstreamCall, ApiError> {
    let seen = lease.view(ctx);
    let name = Arc::clone(&lease.plugin().name);
    lease
        .call(async |w, s| w.to_upstream(s, &seen, provider, body).await)
        .await?
        .map_err(|e| refused_by(&name, e))
}

/// Calls `from-upstream` on a whole answer; None keeps it as it is.
pub async fn from_upstream(
    lease: &mut Lease<AdapterWorld>,
    ctx: &RequestCtx,
    resp: &HttpResponse,
) -> Result<Option<HttpResponse>, ApiError> {
    let seen = lease.view(ctx);
    let name = Arc::clone(&lease.plugin().name);
    lease
        .call(async |w, s| w.from_upstream(s, &seen, resp).await)
        .await?
        .map_err(|e| refused_by(&name, e))
}

/// One stream being translated: the adapter instance (held for the stream's life) and the
/// translator inside it.
pub struct Translator {
    lease: Lease<AdapterWorld>,
    stream: Option<StreamHandle>,
}

impl Translator {
    /// Starts translating the stream of `ctx` to `provider` in the instance of `lease`.
    pub async fn open(
        mut lease: Lease<AdapterWorld>,
        ctx: &RequestCtx,
        provider: &Provider,
    ) -> Result<Translator, ApiError> {
        let seen = lease.view(ctx);
        let stream = lease
            .call(async |w, s| w.open_stream(s, &seen, provider).await)
            .await?;
        Ok(Translator {
            lease,
            stream: Some(stream),
        })
    }

    /// Translates one upstream event.
    pub async fn on_event(&mut self, event: &SseEvent) -> Result<Vec<SseEvent>, ApiError> {
        let stream = self.stream.as_ref().ok_or_else(|| self.ended())?;
        self.lease
            .call(async |w, s| w.on_event(s, stream, event).await)
            .await?
            .map_err(ApiError::from)
    }

    /// Ends the stream: the last events and its usage.
    pub async fn finish(&mut self) -> Result<(Vec<SseEvent>, Option<Usage>), ApiError> {
        let stream = self.stream.take().ok_or_else(|| self.ended())?;
        self.lease
            .call(async |w, s| w.finish(s, stream).await)
            .await?
            .map_err(ApiError::from)
    }

    /// Drops a stream that ends early (its client went away, or the upstream failed), so the
    /// instance goes back to its pool clean.
    pub async fn close(mut self) {
        if let Some(stream) = self.stream.take()
            && let Err(e) = self.lease.call(async |w, s| w.close(s, stream).await).await
        {
            tracing::warn!(error = %e, "closing a stream translator failed");
        }
    }

    fn ended(&self) -> ApiError {
        PluginError::Trap {
            plugin: std::sync::Arc::clone(&self.lease.plugin().name),
            message: "its stream translator was used after the stream ended".into(),
        }
        .into()
    }
}
