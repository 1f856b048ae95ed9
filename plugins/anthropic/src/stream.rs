//! Streams: Anthropic's server-sent events to OpenAI `chat.completion.chunk` events.
//!
//! | Anthropic event                        | OpenAI chunk                                       |
//! |----------------------------------------|----------------------------------------------------|
//! | `message_start`                        | `delta: {role: "assistant", content: ""}`          |
//! | `content_block_start` (`tool_use`)     | `tool_calls: [{index, id, type, function: {name, arguments: ""}}]` |
//! | `content_block_delta` `text_delta`     | `delta: {content}`                                 |
//! | `content_block_delta` `input_json_delta` | `tool_calls: [{index, function: {arguments}}]`   |
//! | `message_delta`                        | `finish_reason`                                    |
//! | `error`                                | `{"error": {...}}` in OpenAI's shape               |
//! | `ping`, `content_block_stop`, `message_stop`, text `content_block_start`, thinking deltas | nothing |
//!
//! The usage chunk (`choices: []`) comes once, at the end; a stream that ends before the message
//! stopped is a 502.

use crate::errors;
use crate::response::{finish_reason, usage};
use serde_json::{Map, Value, json};
use sluice_plugin_sdk::openai::ChunkBuilder;
use sluice_plugin_sdk::openai::ChunkTranslator;
use sluice_plugin_sdk::openai::response::usage_json;
use sluice_plugin_sdk::{ErrorBody, SseEvent, Usage};
use std::collections::HashMap;

/// What one stream needs to remember between events.
#[derive(Debug)]
pub(crate) struct State {
    /// The chunks' id (`chatcmpl-<message id>` once `message_start` names it), model and time.
    chunks: ChunkBuilder,
    /// Anthropic's usage fields, merged from `message_start` and `message_delta`.
    usage: Map<String, Value>,
    /// Whether `message_start` arrived (so usage is known).
    started: bool,
    /// Content block index -> OpenAI tool call index.
    tools: HashMap<u64, u32>,
    /// Whether the message ended (`message_delta` with a stop reason, or `message_stop`).
    stopped: bool,
}

impl State {
    /// A stream for request `request_id`, to model `model`, created at `created`.
    pub(crate) fn new(request_id: &str, model: &str, created: u64) -> Self {
        State {
            chunks: ChunkBuilder::new(request_id, model, created),
            usage: Map::new(),
            started: false,
            tools: HashMap::new(),
            stopped: false,
        }
    }

    /// A chunk with one choice holding `delta`.
    fn delta(&self, delta: Value) -> Value {
        self.chunks.delta(0, delta, None)
    }

    /// Merges an Anthropic `usage` object into the stream's usage (later values win).
    fn merge_usage(&mut self, u: Option<&Value>) {
        if let Some(Value::Object(u)) = u {
            for (k, v) in u {
                if v.is_u64() {
                    self.usage.insert(k.clone(), v.clone());
                }
            }
        }
    }

    /// The chunks for one upstream event.
    fn handle(&mut self, event: &SseEvent) -> Result<Vec<Value>, ErrorBody> {
        if event.data.trim().is_empty() {
            return Ok(Vec::new());
        }
        let v: Value = serde_json::from_str(&event.data).map_err(|e| {
            ErrorBody::bad_upstream(format!(
                "anthropic sent a stream event that is not JSON: {e}"
            ))
        })?;
        let kind = v
            .get("type")
            .and_then(Value::as_str)
            .or(event.event.as_deref())
            .unwrap_or("");
        let out = match kind {
            "message_start" => {
                let message = v.get("message").unwrap_or(&Value::Null);
                if let Some(id) = message.get("id").and_then(Value::as_str) {
                    self.chunks.id = format!("chatcmpl-{id}");
                }
                if let Some(model) = message.get("model").and_then(Value::as_str) {
                    self.chunks.model = model.to_string();
                }
                self.merge_usage(message.get("usage"));
                self.started = true;
                vec![self.delta(json!({ "role": "assistant", "content": "" }))]
            }
            "content_block_start" => {
                let block = v.get("content_block").unwrap_or(&Value::Null);
                if block.get("type").and_then(Value::as_str) != Some("tool_use") {
                    return Ok(Vec::new());
                }
                let ordinal = u32::try_from(self.tools.len()).unwrap_or(u32::MAX);
                let index = v.get("index").and_then(Value::as_u64).unwrap_or(0);
                self.tools.insert(index, ordinal);
                let call = json!({
                    "index": ordinal,
                    "id": block.get("id").and_then(Value::as_str).unwrap_or(""),
                    "type": "function",
                    "function": {
                        "name": block.get("name").and_then(Value::as_str).unwrap_or(""),
                        "arguments": "",
                    },
                });
                vec![self.delta(json!({ "tool_calls": [call] }))]
            }
            "content_block_delta" => {
                let delta = v.get("delta").unwrap_or(&Value::Null);
                match delta.get("type").and_then(Value::as_str) {
                    Some("text_delta") => match delta.get("text").and_then(Value::as_str) {
                        Some(text) if !text.is_empty() => {
                            vec![self.delta(json!({ "content": text }))]
                        }
                        _ => Vec::new(),
                    },
                    Some("input_json_delta") => {
                        let index = v.get("index").and_then(Value::as_u64).unwrap_or(0);
                        let part = delta
                            .get("partial_json")
                            .and_then(Value::as_str)
                            .unwrap_or("");
                        match self.tools.get(&index) {
                            Some(ordinal) if !part.is_empty() => {
                                let call =
                                    json!({ "index": ordinal, "function": { "arguments": part } });
                                vec![self.delta(json!({ "tool_calls": [call] }))]
                            }
                            _ => Vec::new(),
                        }
                    }
                    // Thinking, signature and citation deltas have no OpenAI equivalent.
                    _ => Vec::new(),
                }
            }
            "message_delta" => {
                self.merge_usage(v.get("usage"));
                match v.pointer("/delta/stop_reason").and_then(Value::as_str) {
                    Some(reason) => {
                        self.stopped = true;
                        let finish = Some(finish_reason(reason));
                        vec![self.chunks.delta(0, json!({}), finish)]
                    }
                    None => Vec::new(),
                }
            }
            "error" => {
                let mapped = errors::from_body(None, event.data.as_bytes());
                vec![mapped.body()]
            }
            "message_stop" => {
                self.stopped = true;
                Vec::new()
            }
            // ping, content_block_stop and anything new.
            _ => Vec::new(),
        };
        Ok(out)
    }

    /// The stream's usage, once `message_start` reported it.
    pub(crate) fn usage(&self) -> Option<Usage> {
        self.started
            .then(|| usage(&Value::Object(self.usage.clone())))
    }
}

impl ChunkTranslator for State {
    /// A stream that ends without its stop event was cut short: say so rather than finish.
    const CUT_SHORT: &'static str = "The Anthropic stream ended before the message was complete.";

    fn chunks(&mut self, event: &SseEvent) -> Result<Vec<Value>, ErrorBody> {
        self.handle(event)
    }

    /// Whether the stream reached its end (a stop reason or `message_stop`).
    fn completed(&self) -> bool {
        self.stopped
    }

    /// The last chunks (the usage chunk, `choices: []`) and the stream's usage.
    fn last(&self) -> (Vec<Value>, Option<Usage>) {
        match self.usage() {
            Some(u) => (vec![self.chunks.usage(usage_json(&u, None))], Some(u)),
            None => (Vec::new(), None),
        }
    }
}

#[cfg(test)]
mod tests;
