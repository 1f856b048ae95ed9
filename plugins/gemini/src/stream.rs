//! Streams: `streamGenerateContent?alt=sse` events to OpenAI `chat.completion.chunk` events.
//!
//! Each event's data is a whole `GenerateContentResponse` holding the next piece of each
//! candidate. Per candidate, the first chunk carries `role: "assistant"`; text parts become
//! `content` deltas and function calls (Gemini sends them whole) `tool_calls` deltas with the
//! complete arguments; a `finishReason` becomes a separate chunk with `finish_reason`. The
//! latest `usageMetadata` is kept, and [`finish`] sends the usage chunk (`choices: []`) once.
//! An `{"error": ...}` event becomes an OpenAI-shaped error event.

use crate::response::{block_reason, candidate_parts, finish_reason};
use crate::{Tokens, errors};
use serde_json::{Map, Value, json};
use sluice_plugin_sdk::stream::{StreamSlot, StreamState};
use sluice_plugin_sdk::{ErrorBody, SseEvent, Usage};
use std::collections::BTreeMap;

/// What one stream remembers about a candidate.
#[derive(Debug, Default)]
struct Candidate {
    /// Whether its first chunk (with the role) was sent.
    started: bool,
    /// Tool calls sent so far.
    calls: usize,
}

/// What one stream needs to remember between events.
#[derive(Debug)]
pub(crate) struct State {
    /// The chunk id: `chatcmpl-<responseId>` once Gemini names it.
    id: String,
    /// Whether `id` came from a `responseId`.
    named: bool,
    /// The model the chunks name.
    model: String,
    /// The chunks' `created` (seconds since the epoch).
    created: u64,
    /// The latest `usageMetadata`.
    usage: Option<Value>,
    /// Whether a candidate finished (a `finishReason`, or a blocked prompt).
    finished: bool,
    /// Candidates by index.
    candidates: BTreeMap<u64, Candidate>,
}

impl State {
    /// A stream for request `request_id`, to model `model`, created at `created`.
    pub(crate) fn new(request_id: &str, model: &str, created: u64) -> Self {
        State {
            id: format!("chatcmpl-{request_id}"),
            named: false,
            model: model.to_string(),
            created,
            usage: None,
            finished: false,
            candidates: BTreeMap::new(),
        }
    }

    /// A chunk holding `choices`.
    fn chunk(&self, choices: Value) -> Value {
        json!({
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": choices,
        })
    }

    /// A chunk with one choice.
    fn choice(&self, index: u64, delta: Map<String, Value>, finish: Option<&str>) -> Value {
        self.chunk(
            json!([{ "index": index, "delta": delta, "logprobs": null, "finish_reason": finish }]),
        )
    }

    /// The chunks for one upstream event.
    pub(crate) fn handle(&mut self, event: &SseEvent) -> Result<Vec<Value>, ErrorBody> {
        let data = event.data.trim();
        if data.is_empty() || data == "[DONE]" {
            return Ok(Vec::new());
        }
        let v: Value = serde_json::from_str(data).map_err(|e| {
            ErrorBody::bad_upstream(format!("gemini sent a stream event that is not JSON: {e}"))
        })?;
        let responses = match v {
            Value::Array(items) => items,
            one => vec![one],
        };
        let mut out = Vec::new();
        for resp in &responses {
            if resp.get("error").is_some() {
                out.push(errors::from_value(None, Some(resp), data.as_bytes()).body());
                continue;
            }
            self.response(resp, &mut out);
        }
        Ok(out)
    }

    /// The chunks for one `GenerateContentResponse`.
    fn response(&mut self, resp: &Value, out: &mut Vec<Value>) {
        if !self.named
            && let Some(id) = resp.get("responseId").and_then(Value::as_str)
        {
            self.id = format!("chatcmpl-{id}");
            self.named = true;
        }
        if let Some(model) = resp.get("modelVersion").and_then(Value::as_str) {
            self.model = model.to_string();
        }
        if let Some(meta) = resp.get("usageMetadata") {
            self.usage = Some(meta.clone());
        }
        let candidates = resp.get("candidates").and_then(Value::as_array);
        for (i, candidate) in candidates.into_iter().flatten().enumerate() {
            let index = candidate
                .get("index")
                .and_then(Value::as_u64)
                .unwrap_or(i as u64);
            let state = self.candidates.entry(index).or_default();
            let (text, calls) = candidate_parts(candidate, state.calls);
            let mut delta = Map::new();
            if !state.started {
                let content = if text.is_empty() && !calls.is_empty() {
                    Value::Null
                } else {
                    json!(text)
                };
                delta.insert("role".into(), json!("assistant"));
                delta.insert("content".into(), content);
            } else if !text.is_empty() {
                delta.insert("content".into(), json!(text));
            }
            if !calls.is_empty() {
                let first = state.calls;
                let calls: Vec<Value> = calls
                    .into_iter()
                    .enumerate()
                    .map(|(k, mut c)| {
                        c["index"] = json!(first + k);
                        c
                    })
                    .collect();
                state.calls += calls.len();
                delta.insert("tool_calls".into(), Value::Array(calls));
            }
            state.started = true;
            let called = state.calls > 0;
            if !delta.is_empty() {
                out.push(self.choice(index, delta, None));
            }
            if let Some(reason) = candidate.get("finishReason").and_then(Value::as_str) {
                self.finished = true;
                out.push(self.choice(index, Map::new(), Some(finish_reason(reason, called))));
            }
        }
        if candidates.is_none_or(Vec::is_empty) && block_reason(resp).is_some() {
            let mut delta = Map::new();
            if !self.candidates.contains_key(&0) {
                delta.insert("role".into(), json!("assistant"));
                delta.insert("content".into(), json!(""));
            }
            self.candidates.entry(0).or_default().started = true;
            self.finished = true;
            out.push(self.choice(0, delta, Some("content_filter")));
        }
    }

    /// The last chunks (the usage chunk, `choices: []`) and the stream's usage, once Gemini
    /// reported `usageMetadata`.
    pub(crate) fn finish(&self) -> (Vec<Value>, Option<Usage>) {
        let Some(meta) = &self.usage else {
            return (Vec::new(), None);
        };
        let tokens = Tokens::from_metadata(meta);
        let mut last = self.chunk(json!([]));
        last["usage"] = tokens.json();
        (vec![last], Some(tokens.usage()))
    }
}

impl StreamState for State {
    fn new(request_id: &str, model: &str, created: u64) -> Self {
        State::new(request_id, model, created)
    }
    fn handle(&mut self, event: &SseEvent) -> Result<Vec<Value>, ErrorBody> {
        State::handle(self, event)
    }
    fn completed(&self) -> bool {
        self.finished
    }
    fn finish(&self) -> (Vec<Value>, Option<Usage>) {
        State::finish(self)
    }
}

thread_local! {
    /// The stream this instance is serving. One instance serves one request at a time.
    static STATE: StreamSlot<State> = const { StreamSlot::new() };
}

/// Forgets any previous stream (called for every new request).
pub(crate) fn reset() {
    STATE.with(StreamSlot::reset);
}

/// Starts a stream for request `request_id` to `model`.
pub(crate) fn begin(request_id: &str, model: &str, created: u64) {
    STATE.with(|s| s.begin(request_id, model, created));
}

/// Maps one upstream event; `now` gives `created` when no stream was begun.
pub(crate) fn on_event(event: &SseEvent, now: fn() -> u64) -> Result<Vec<SseEvent>, ErrorBody> {
    STATE.with(|s| s.on_event(event, now))
}

/// Whether the stream being served reached its end (a `finishReason` or a blocked prompt).
#[cfg(test)]
pub(crate) fn completed() -> bool {
    STATE.with(StreamSlot::completed)
}

/// Ends the stream: the usage chunk and the usage. The state is dropped, so this answers once.
#[cfg(test)]
pub(crate) fn finish() -> (Vec<SseEvent>, Option<Usage>) {
    STATE.with(StreamSlot::finish)
}

/// Ends the stream; one that never reached its end is a 502 with `cut_short` as its message.
pub(crate) fn finish_complete(
    cut_short: &str,
) -> Result<(Vec<SseEvent>, Option<Usage>), ErrorBody> {
    STATE.with(|s| s.finish_complete(cut_short))
}

#[cfg(test)]
mod tests;
