//! The adapter stage: a provider adapter maps the request to the provider's, and the provider's
//! answers (whole, or event by event) back to OpenAI's shape. The host makes the HTTP call.

use crate::error::ApiError;
use crate::pipeline::AdapterWorld;
use crate::pipeline::bindings::adapter::exports::sluice::plugin::adapter::{
    Provider, UpstreamCall,
};
use crate::pipeline::bindings::types::{HttpRequest, HttpResponse, RequestCtx, SseEvent, Usage};
use crate::pipeline::plugin::Lease;

/// Calls `to-upstream`: what to send to the provider, or a whole answer.
pub async fn to_upstream(
    lease: &mut Lease<AdapterWorld>,
    ctx: &RequestCtx,
    provider: &Provider,
    req: &HttpRequest,
) -> Result<UpstreamCall, ApiError> {
    lease
        .call(async |w, s| {
            w.sluice_plugin_adapter()
                .call_to_upstream(s, ctx, provider, req)
                .await
        })
        .await?
        .map_err(ApiError::from)
}

/// Calls `from-upstream` on a whole answer; None keeps it as it is.
pub async fn from_upstream(
    lease: &mut Lease<AdapterWorld>,
    ctx: &RequestCtx,
    resp: &HttpResponse,
) -> Result<Option<HttpResponse>, ApiError> {
    lease
        .call(async |w, s| {
            w.sluice_plugin_adapter()
                .call_from_upstream(s, ctx, resp)
                .await
        })
        .await?
        .map_err(ApiError::from)
}

/// Calls `from-upstream-event` on one upstream stream event.
pub async fn from_upstream_event(
    lease: &mut Lease<AdapterWorld>,
    event: &SseEvent,
) -> Result<Vec<SseEvent>, ApiError> {
    lease
        .call(async |w, s| {
            w.sluice_plugin_adapter()
                .call_from_upstream_event(s, event)
                .await
        })
        .await?
        .map_err(ApiError::from)
}

/// Calls `finish-stream`: the last events and the stream's usage.
pub async fn finish_stream(
    lease: &mut Lease<AdapterWorld>,
) -> Result<(Vec<SseEvent>, Option<Usage>), ApiError> {
    lease
        .call(async |w, s| w.sluice_plugin_adapter().call_finish_stream(s).await)
        .await?
        .map_err(ApiError::from)
}
