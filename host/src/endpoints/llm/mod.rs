//! The LLM endpoints: chat completions, completions, embeddings, moderations, audio (speech,
//! transcriptions, translations) and images (generations, edits, variations), and the front doors
//! of other APIs (Anthropic's Messages, OpenAI's Responses: [`front`]). A request goes auth
//! (before its body is read) -> body (JSON, or a multipart form) -> route -> policy -> adapter ->
//! upstream -> adapter -> enrich -> the answer (JSON, binary or stream).
//!
//! Files: [`exchange`] (the request's state, auth, body, policies), `attempt` (retries and
//! fallbacks over deployments), `respond` (answers and errors), `stream` (the stream task) and
//! `pump` (forwarding events, usage, the metadata chunk's template), [`sse`] (event framing),
//! `upstream_error` (mapping a provider's errors), [`request`] (parsing the body once), `form`
//! (multipart uploads, spooled to disk) and `endpoint` (what the host knows of each endpoint).

mod answer;
mod attempt;
mod body;
mod complete;
mod endpoint;
mod exchange;
mod file_ids;
mod form;
pub mod front;
mod guarded;
mod pump;
pub mod request;
mod respond;
mod stream;
mod upstream_error;

pub use form::sweep as sweep_uploads;
pub use request::Endpoint;

use crate::state::AppState;
use axum::Router;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::routing::post;
use exchange::Exchange;
use std::sync::Arc;
use tracing::Instrument;

/// The endpoints served by [`handle`], each at its own path.
const SERVED: [Endpoint; 10] = [
    Endpoint::ChatCompletions,
    Endpoint::Completions,
    Endpoint::Embeddings,
    Endpoint::AudioSpeech,
    Endpoint::ImagesGenerations,
    Endpoint::AudioTranscriptions,
    Endpoint::AudioTranslations,
    Endpoint::ImagesEdits,
    Endpoint::ImagesVariations,
    Endpoint::Moderations,
];

/// The LLM routes (mounted under `/v1` and bare).
pub fn routes() -> Router<AppState> {
    let mut router = Router::new();
    for endpoint in SERVED {
        router = router.route(
            endpoint.path(),
            post(move |State(gw): State<AppState>, req: Request| handle(gw, endpoint, req)),
        );
    }
    router
        .merge(front::messages::routes())
        .merge(front::responses::routes())
}

/// What one batch line got: what a client would have.
#[derive(Debug, Clone)]
pub struct LineOutcome {
    /// The status.
    pub status: u16,
    /// The request id (`x-request-id`).
    pub request_id: String,
    /// The body (JSON).
    pub body: bytes::Bytes,
    /// `Retry-After` of a 429, in seconds.
    pub retry_after: Option<u64>,
}

/// Runs one batch line through the pipeline (policies, adapter, fallbacks, enrich, usage row) as
/// `principal`, the batch's creator, and collects the answer.
pub async fn run_line(
    gw: AppState,
    endpoint: Endpoint,
    principal: crate::pipeline::bindings::types::Principal,
    body: bytes::Bytes,
    batch_id: &str,
) -> LineOutcome {
    let mut x = Exchange::for_batch(gw, endpoint, principal, batch_id);
    let span = x.span.clone();
    let resp = async {
        match x.serve(body).await {
            Ok(answer) => x.respond(answer).await,
            Err(e) => x.fail(e),
        }
    }
    .instrument(span)
    .await;
    let (parts, body) = resp.into_parts();
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let body = match axum::body::to_bytes(body, 64 << 20).await {
        Ok(b) => b,
        Err(e) => bytes::Bytes::from(
            crate::error::ApiError::bad_gateway(format!("The answer could not be read: {e}."))
                .body()
                .to_string(),
        ),
    };
    LineOutcome {
        status: parts.status.as_u16(),
        request_id: header("x-request-id").unwrap_or_default(),
        retry_after: header("retry-after").and_then(|v| v.parse().ok()),
        body,
    }
}

/// Serves one request of `endpoint`.
pub async fn handle(gw: AppState, endpoint: Endpoint, req: Request) -> Response {
    handle_front(gw, endpoint, front::Front::OpenAi, req).await
}

/// Serves one request that came through the front door `front`.
async fn handle_front(
    gw: AppState,
    endpoint: Endpoint,
    front: front::Front,
    req: Request,
) -> Response {
    let (parts, body) = req.into_parts();
    // Batches give way while interactive requests are in flight.
    let gauge = Arc::clone(&gw);
    let _interactive = gauge.interactive.enter();
    let mut x = Exchange::new(gw, endpoint, &parts.headers);
    x.front = front;
    let span = x.span.clone();
    async {
        match x.run(&parts.headers, body).await {
            Ok(answer) => x.respond(answer).await,
            Err(e) => x.fail(e),
        }
    }
    .instrument(span)
    .await
}
