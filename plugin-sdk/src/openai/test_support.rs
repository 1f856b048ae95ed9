//! Builders for adapters' unit tests (the `test-support` feature).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::glue::StreamCell;
use crate::stream::{StreamEnd, StreamTranslator};
use crate::{Endpoint, Provider, RequestCtx, SseEvent, Usage};
use serde_json::Value;

/// The provider and client model an adapter's tests use.
#[derive(Debug, Clone, Copy)]
pub struct TestProvider {
    /// Provider name.
    pub name: &'static str,
    /// Base URL.
    pub base_url: &'static str,
    /// The model the provider knows.
    pub upstream_model: &'static str,
    /// The model the client asked for.
    pub client_model: &'static str,
}

impl TestProvider {
    /// A test provider: its name, base URL and model, and the model clients ask for.
    pub const fn new(
        name: &'static str,
        base_url: &'static str,
        upstream_model: &'static str,
        client_model: &'static str,
    ) -> Self {
        TestProvider {
            name,
            base_url,
            upstream_model,
            client_model,
        }
    }

    /// A request context for `endpoint` (request id `req-1`).
    pub fn ctx(&self, endpoint: Endpoint, stream: bool) -> RequestCtx {
        RequestCtx {
            request_id: "req-1".into(),
            endpoint,
            model: self.client_model.into(),
            stream,
            user_id: None,
            key_id: None,
            headers: vec![],
        }
    }

    /// The provider, with an optional key.
    pub fn provider(&self, key: Option<&str>) -> Provider {
        Provider {
            name: self.name.into(),
            base_url: self.base_url.into(),
            api_key: key.map(str::to_string),
            upstream_model: self.upstream_model.into(),
        }
    }
}

/// Parses bytes as JSON (panics when they are not).
pub fn json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body).expect("valid JSON")
}

/// Frames a recorded `text/event-stream` the way the host does: events end at a blank line,
/// `event:` names them, `data:` lines are joined by newlines.
pub fn parse_sse(text: &str) -> Vec<SseEvent> {
    let text = text.replace("\r\n", "\n");
    text.split("\n\n")
        .filter_map(|raw| {
            let mut event = None;
            let mut data: Vec<&str> = Vec::new();
            for line in raw.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    event = Some(v.trim().to_string());
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push(v.strip_prefix(' ').unwrap_or(v));
                }
            }
            (!data.is_empty()).then(|| SseEvent {
                event,
                data: data.join("\n"),
            })
        })
        .collect()
}

/// Usage as a comparable tuple: (prompt, completion, cached).
pub fn counts(u: Option<Usage>) -> Option<(u32, u32, u32)> {
    u.map(|u| (u.prompt_tokens, u.completion_tokens, u.cached_tokens))
}

/// Feeds a recorded `text/event-stream` through `stream` as the host would, checking that every
/// event it answers is a bare `data:` event and not `[DONE]` (the host adds that), and returns
/// the answered chunks as JSON.
pub fn translate_recorded<S: StreamTranslator>(stream: &mut S, recorded: &str) -> Vec<Value> {
    let mut chunks = Vec::new();
    for event in parse_sse(recorded) {
        for out in stream.on_event(&event).expect("maps") {
            assert_eq!(out.event, None);
            assert_ne!(out.data, "[DONE]");
            chunks.push(serde_json::from_str::<Value>(&out.data).expect("JSON chunk"));
        }
    }
    chunks
}

/// What the SDK's `stream-translator` answers for two streams in a row: `finish` of the one
/// holding `stream`, then `finish` of the next stream's translator, which the host creates afresh
/// (here from `fresh`). The first consumed its stream, so nothing of it reaches the second.
pub fn finish_twice<S: StreamTranslator>(stream: S, fresh: impl FnOnce() -> S) -> [StreamEnd; 2] {
    let first = StreamCell::new(Ok(stream));
    let end = first.finish();
    assert!(first.finish().is_err(), "a translator finishes once");
    [end, StreamCell::new(Ok(fresh())).finish()]
}
