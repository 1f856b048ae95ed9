//! Streams: `streamGenerateContent?alt=sse` events to OpenAI `chat.completion.chunk` events.
//!
//! Each event's data is a whole `GenerateContentResponse` holding the next piece of each
//! candidate. Per candidate, the first chunk carries `role: "assistant"`; text parts become
//! `content` deltas and function calls (Gemini sends them whole) `tool_calls` deltas with the
//! complete arguments; a `finishReason` becomes a separate chunk with `finish_reason`. The
//! latest `usageMetadata` is kept for the usage chunk (`choices: []`) sent once at the end; a
//! stream that ends before any candidate finished is a 502.
//! An `{"error": ...}` event becomes an OpenAI-shaped error event.

use crate::response::{block_reason, candidate_parts, finish_reason};
use crate::{Tokens, errors};
use serde_json::{Map, Value, json};
use sluice_plugin_sdk::openai::{ChunkBuilder, ChunkTranslator, FinishReason};
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
    /// The chunks' id (`chatcmpl-<responseId>` once Gemini names it), model and time.
    chunks: ChunkBuilder,
    /// Whether the id came from a `responseId`.
    named: bool,
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
            chunks: ChunkBuilder::new(request_id, model, created),
            named: false,
            usage: None,
            finished: false,
            candidates: BTreeMap::new(),
        }
    }

    /// A chunk with one choice.
    fn choice(&self, index: u64, delta: Map<String, Value>, finish: Option<FinishReason>) -> Value {
        self.chunks.delta(index, Value::Object(delta), finish)
    }

    /// The chunks for one upstream event.
    fn handle(&mut self, event: &SseEvent) -> Result<Vec<Value>, ErrorBody> {
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
            self.chunks.id = format!("chatcmpl-{id}");
            self.named = true;
        }
        if let Some(model) = resp.get("modelVersion").and_then(Value::as_str) {
            self.chunks.model = model.to_string();
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
            out.push(self.choice(0, delta, Some(FinishReason::ContentFilter)));
        }
    }
}

impl ChunkTranslator for State {
    /// A stream that ends without its stop event was cut short: say so rather than finish.
    const CUT_SHORT: &'static str = "The Gemini stream ended before the answer was complete.";

    fn chunks(&mut self, event: &SseEvent) -> Result<Vec<Value>, ErrorBody> {
        self.handle(event)
    }

    /// Whether the stream reached its end (a `finishReason` or a blocked prompt).
    fn completed(&self) -> bool {
        self.finished
    }

    /// The last chunks (the usage chunk, `choices: []`) and the stream's usage, once Gemini
    /// reported `usageMetadata`.
    fn last(&self) -> (Vec<Value>, Option<Usage>) {
        let Some(meta) = &self.usage else {
            return (Vec::new(), None);
        };
        let tokens = Tokens::from_metadata(meta);
        (vec![self.chunks.usage(tokens.json())], Some(tokens.usage()))
    }
}

#[cfg(test)]
mod tests;
