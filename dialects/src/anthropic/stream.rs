//! Streams: chat completion chunks to Messages stream events.
//!
//! | chat chunk                               | Messages events                                 |
//! |------------------------------------------|-------------------------------------------------|
//! | the first chunk                          | `message_start` (empty content, usage 0), `ping` |
//! | `delta.content` / `delta.refusal` text   | `content_block_start` `text` when none is open, `content_block_delta` `text_delta` |
//! | `delta.tool_calls[k]`, a new index or id | `content_block_stop` of the open block, `content_block_start` `tool_use` |
//! | `delta.tool_calls[k].function.arguments` | `content_block_delta` `input_json_delta`        |
//! | `finish_reason`                          | `content_block_stop` (remembers the stop reason) |
//! | `usage` (the usage chunk)                | remembered                                      |
//! | `[DONE]` ([`StreamTranslator::finish`])  | `message_delta` (stop reason, usage), `message_stop` |
//!
//! Choices other than index 0 and empty deltas give nothing. Input token counts are only known
//! at the end, so `message_start` says 0 and `message_delta` carries them.

use super::answer::{chat_usage, message_id, messages_usage, stop_reason};
use super::errors;
use crate::{Event, Usage};
use serde_json::{Map, Value, json};

/// The content block open in the stream.
#[derive(Debug, Clone, PartialEq)]
enum Open {
    /// A text block.
    Text,
    /// A tool use block for the chat tool call of this index and id.
    Tool { index: u64, id: Option<String> },
}

/// Translates one stream of chat completion chunks into Messages stream events.
#[derive(Debug)]
pub struct StreamTranslator {
    /// The model the client asked for.
    model: String,
    /// `message_start` was sent.
    started: bool,
    /// The open block and its index.
    open: Option<(u32, Open)>,
    /// The index of the next block.
    next_index: u32,
    /// The stop reason, once a `finish_reason` came.
    stop_reason: Option<&'static str>,
    /// The usage chunk's counts.
    usage: Usage,
    /// `finish` ran.
    finished: bool,
}

/// An event whose data's `type` is its name.
fn event(name: &'static str, mut data: Value) -> Event {
    data["type"] = json!(name);
    Event {
        name: Some(name),
        data,
    }
}

impl StreamTranslator {
    /// A translator for a stream of the model `model` (the name the client asked for).
    pub fn new(model: &str) -> StreamTranslator {
        StreamTranslator {
            model: model.to_string(),
            started: false,
            open: None,
            next_index: 0,
            stop_reason: None,
            usage: Usage::default(),
            finished: false,
        }
    }

    /// The events for one chat completion chunk.
    pub fn on_chunk(&mut self, chunk: &Value) -> Vec<Event> {
        let mut out = Vec::new();
        if self.finished {
            return out;
        }
        self.start(chunk.get("id").and_then(Value::as_str), &mut out);
        if let Some(u) = chunk.get("usage").filter(|u| u.is_object()) {
            self.usage = chat_usage(Some(u));
        }
        let choices = chunk.get("choices").and_then(Value::as_array);
        for choice in choices.into_iter().flatten() {
            if choice.get("index").and_then(Value::as_u64).unwrap_or(0) != 0 {
                continue;
            }
            if let Some(delta) = choice.get("delta") {
                self.delta(delta, &mut out);
            }
            if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
                self.close(&mut out);
                self.stop_reason = Some(stop_reason(reason));
            }
        }
        out
    }

    /// The stream ended well (`[DONE]`): the closing events. `extra` fields (the gateway's
    /// metadata object) join the `message_delta` event's data.
    pub fn finish(&mut self, extra: Map<String, Value>) -> Vec<Event> {
        let mut out = Vec::new();
        if self.finished {
            return out;
        }
        self.start(None, &mut out);
        self.close(&mut out);
        self.finished = true;
        let mut data = json!({
            "type": "message_delta",
            "delta": {
                "stop_reason": self.stop_reason.unwrap_or("end_turn"),
                "stop_sequence": null,
            },
            "usage": messages_usage(self.usage),
        });
        if let Some(obj) = data.as_object_mut() {
            for (k, v) in extra {
                obj.entry(k).or_insert(v);
            }
        }
        out.push(event("message_delta", data));
        out.push(event("message_stop", json!({})));
        out
    }

    /// The stream failed with an error of HTTP `status`, OpenAI `type` and `message`: the
    /// `error` event that ends it.
    pub fn error(&mut self, status: u16, kind: &str, message: &str) -> Event {
        self.finished = true;
        event("error", errors::body(status, kind, message))
    }

    /// `message_start` and `ping`, once.
    fn start(&mut self, chat_id: Option<&str>, out: &mut Vec<Event>) {
        if self.started {
            return;
        }
        self.started = true;
        out.push(event(
            "message_start",
            json!({ "message": {
                "id": message_id(chat_id),
                "type": "message",
                "role": "assistant",
                "model": self.model,
                "content": [],
                "stop_reason": null,
                "stop_sequence": null,
                "usage": { "input_tokens": 0, "output_tokens": 0 },
            }}),
        ));
        out.push(event("ping", json!({})));
    }

    /// Closes the open block, if any.
    fn close(&mut self, out: &mut Vec<Event>) {
        if let Some((index, _)) = self.open.take() {
            out.push(event("content_block_stop", json!({ "index": index })));
        }
    }

    /// Opens a block (closing the open one): `content_block_start`.
    fn open(&mut self, open: Open, block: Value, out: &mut Vec<Event>) -> u32 {
        self.close(out);
        let index = self.next_index;
        self.next_index += 1;
        self.open = Some((index, open));
        out.push(event(
            "content_block_start",
            json!({ "index": index, "content_block": block }),
        ));
        index
    }

    /// The events for one choice's `delta`.
    fn delta(&mut self, delta: &Value, out: &mut Vec<Event>) {
        for key in ["content", "refusal"] {
            if let Some(text) = delta.get(key).and_then(Value::as_str)
                && !text.is_empty()
            {
                let index = match &self.open {
                    Some((index, Open::Text)) => *index,
                    _ => self.open(Open::Text, json!({ "type": "text", "text": "" }), out),
                };
                out.push(event(
                    "content_block_delta",
                    json!({ "index": index, "delta": { "type": "text_delta", "text": text } }),
                ));
            }
        }
        let calls = delta.get("tool_calls").and_then(Value::as_array);
        for call in calls.into_iter().flatten() {
            self.tool_call(call, out);
        }
    }

    /// The events for one tool call fragment.
    fn tool_call(&mut self, call: &Value, out: &mut Vec<Event>) {
        let id = call
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        let function = call.get("function").unwrap_or(&Value::Null);
        let k = match (call.get("index").and_then(Value::as_u64), &self.open) {
            (Some(k), _) => k,
            // No index: the open call's, else the first.
            (None, Some((_, Open::Tool { index, .. }))) => *index,
            (None, _) => 0,
        };
        let same = match &self.open {
            Some((_, Open::Tool { index, id: open_id })) => {
                *index == k && (id.is_none() || open_id.as_deref() == id)
            }
            _ => false,
        };
        let index = match (&self.open, same) {
            (Some((index, _)), true) => *index,
            _ => {
                let name = function
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let block_id = id.map_or_else(|| format!("toolu_{k}"), str::to_string);
                self.open(
                    Open::Tool {
                        index: k,
                        id: id.map(str::to_string),
                    },
                    json!({ "type": "tool_use", "id": block_id, "name": name, "input": {} }),
                    out,
                )
            }
        };
        if let Some(args) = function.get("arguments").and_then(Value::as_str)
            && !args.is_empty()
        {
            out.push(event(
                "content_block_delta",
                json!({ "index": index,
                        "delta": { "type": "input_json_delta", "partial_json": args } }),
            ));
        }
    }
}
