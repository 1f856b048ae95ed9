//! What a call to a provider (or a policy plugin) produced, before the gateway answers with it.

use crate::pipeline::bindings::types::HttpResponse;
use crate::pipeline::stages::adapter::Translator;
use axum::body::Body;
use bytes::Bytes;
use futures::Stream;
use std::pin::Pin;
use std::time::Duration;

/// A successful answer, not yet sent.
pub(super) enum Answer {
    /// A whole OpenAI JSON body.
    Json {
        /// Its status (2xx).
        status: u16,
        /// The body.
        body: Bytes,
    },
    /// Bytes passed through as they arrive (audio).
    Binary {
        /// The upstream's content type.
        content_type: Option<String>,
        /// The bytes.
        body: Body,
    },
    /// A server-sent event stream.
    Stream {
        /// Where its bytes come from.
        source: Source,
        /// What translates it; none when the adapter is pass-through.
        translator: Option<Translator>,
        /// Longest silence from the upstream.
        idle_timeout: Duration,
    },
    /// A whole response a policy plugin answered with.
    Plugin(HttpResponse),
}

/// Where a stream's bytes come from.
pub enum Source {
    /// A whole `text/event-stream` body (an adapter that answered by itself).
    Whole(Bytes),
    /// An upstream response body.
    Upstream(Pin<Box<dyn Stream<Item = Result<Bytes, crate::upstream::BodyError>> + Send>>),
}
