//! Building OpenAI answers: chat completions, stream chunks, tool calls, usage, finish reasons.

use crate::stream::{StreamEnd, StreamTranslator};
use crate::{ErrorBody, HttpResponse, SseEvent, Usage};
use serde::Serialize;
use serde_json::{Value, json};

/// OpenAI's `finish_reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// The model stopped by itself or at a stop sequence.
    Stop,
    /// The token limit was reached.
    Length,
    /// The model called tools.
    ToolCalls,
    /// Content was withheld by a filter.
    ContentFilter,
}

impl FinishReason {
    /// The wire name: `stop`, `length`, `tool_calls` or `content_filter`.
    pub fn as_str(self) -> &'static str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
            FinishReason::ToolCalls => "tool_calls",
            FinishReason::ContentFilter => "content_filter",
        }
    }
}

/// A 200 response holding `body` as JSON.
pub fn json_response(body: &Value) -> HttpResponse {
    HttpResponse {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_string().into_bytes(),
    }
}

/// The number under `key` in `v` as a token count (0 when absent, saturating at `u32::MAX`).
pub fn count(v: &Value, key: &str) -> u32 {
    v.get(key)
        .and_then(Value::as_u64)
        .map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX))
}

/// OpenAI's `usage` object for `u`; with `reasoning`, `completion_tokens_details` too.
pub fn usage_json(u: &Usage, reasoning: Option<u32>) -> Value {
    let mut v = json!({
        "prompt_tokens": u.prompt_tokens,
        "completion_tokens": u.completion_tokens,
        "total_tokens": u.prompt_tokens.saturating_add(u.completion_tokens),
        "prompt_tokens_details": { "cached_tokens": u.cached_tokens },
    });
    if let Some(r) = reasoning {
        v["completion_tokens_details"] = json!({ "reasoning_tokens": r });
    }
    v
}

/// A tool call as an assistant message (or delta) holds it; `arguments` is JSON text.
pub fn tool_call(id: &str, name: &str, arguments: &str) -> Value {
    json!({
        "id": id,
        "type": "function",
        "function": { "name": name, "arguments": arguments },
    })
}

/// An assistant message: `content` is `null` when there is no text but there are tool calls.
pub fn assistant_message(text: &str, tool_calls: Vec<Value>) -> Value {
    let content = if text.is_empty() && !tool_calls.is_empty() {
        Value::Null
    } else {
        json!(text)
    };
    let mut message = json!({ "role": "assistant", "content": content, "refusal": null });
    if !tool_calls.is_empty() {
        message["tool_calls"] = Value::Array(tool_calls);
    }
    message
}

/// One choice of a chat completion.
pub fn choice(index: u64, message: Value, finish: FinishReason) -> Value {
    json!({ "index": index, "message": message, "logprobs": null, "finish_reason": finish })
}

/// A whole `chat.completion`.
pub fn completion(id: &str, created: u64, model: &str, choices: Vec<Value>, usage: Value) -> Value {
    json!({
        "id": id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": choices,
        "usage": usage,
    })
}

/// Builds the `chat.completion.chunk` events of one stream: they share an id, model and time.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkBuilder {
    /// The chunks' `id`.
    pub id: String,
    /// The chunks' `model`.
    pub model: String,
    /// The chunks' `created` (seconds since the epoch).
    pub created: u64,
}

impl ChunkBuilder {
    /// A builder for `chatcmpl-<id>` chunks.
    pub fn new(id: &str, model: &str, created: u64) -> Self {
        ChunkBuilder {
            id: format!("chatcmpl-{id}"),
            model: model.to_string(),
            created,
        }
    }

    /// A chunk holding `choices`.
    pub fn chunk(&self, choices: Value) -> Value {
        json!({
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": choices,
        })
    }

    /// A chunk with one choice holding `delta` and `finish_reason`.
    pub fn delta(&self, index: u64, delta: Value, finish: Option<FinishReason>) -> Value {
        self.chunk(
            json!([{ "index": index, "delta": delta, "logprobs": null, "finish_reason": finish }]),
        )
    }

    /// The usage chunk: `choices: []` and the `usage` object.
    pub fn usage(&self, usage: Value) -> Value {
        let mut last = self.chunk(json!([]));
        last["usage"] = usage;
        last
    }
}

/// JSON values as `data:` events.
pub fn events(chunks: Vec<Value>) -> Vec<SseEvent> {
    chunks
        .iter()
        .map(|c| SseEvent::data(c.to_string()))
        .collect()
}

/// A stream translator that turns each upstream event into OpenAI chunks (JSON values) and ends
/// with a usage chunk. Implementing it implements [`StreamTranslator`]: chunks become `data:`
/// events, and a stream that ends before [`ChunkTranslator::completed`] is a 502 with
/// [`ChunkTranslator::CUT_SHORT`] as its message.
pub trait ChunkTranslator: 'static {
    /// The message of the 502 for a stream that ends before the provider finished it.
    const CUT_SHORT: &'static str;
    /// The chunks for one upstream event.
    fn chunks(&mut self, event: &SseEvent) -> Result<Vec<Value>, ErrorBody>;
    /// Whether the provider's stream reached its end (its final event arrived).
    fn completed(&self) -> bool;
    /// The last chunks (typically the usage chunk, see [`ChunkBuilder::usage`]) and the usage.
    fn last(&self) -> (Vec<Value>, Option<Usage>);
}

impl<T: ChunkTranslator> StreamTranslator for T {
    fn on_event(&mut self, event: &SseEvent) -> Result<Vec<SseEvent>, ErrorBody> {
        self.chunks(event).map(events)
    }

    fn finish(self) -> StreamEnd {
        if !self.completed() {
            return Err(ErrorBody::bad_upstream(Self::CUT_SHORT));
        }
        let (chunks, usage) = self.last();
        Ok((events(chunks), usage))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_json_adds_total_cached_and_reasoning() {
        let u = Usage {
            prompt_tokens: 10,
            completion_tokens: 5,
            cached_tokens: 3,
        };
        assert_eq!(
            usage_json(&u, None),
            json!({"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,
                "prompt_tokens_details":{"cached_tokens":3}})
        );
        assert_eq!(
            usage_json(&u, Some(2))["completion_tokens_details"]["reasoning_tokens"],
            2
        );
    }

    #[test]
    fn messages_chunks_and_counts() {
        let m = assistant_message("", vec![tool_call("c", "f", "{}")]);
        assert_eq!(m["content"], Value::Null);
        assert_eq!(assistant_message("hi", vec![])["content"], "hi");
        let b = ChunkBuilder::new("x", "m", 7);
        let d = b.delta(0, json!({}), Some(FinishReason::ToolCalls));
        assert_eq!(d["id"], "chatcmpl-x");
        assert_eq!(d["choices"][0]["finish_reason"], "tool_calls");
        assert_eq!(b.usage(json!({}))["choices"], json!([]));
        assert_eq!(count(&json!({"n": u64::MAX}), "n"), u32::MAX);
        assert_eq!(count(&Value::Null, "n"), 0);
        assert_eq!(events(vec![json!(1)])[0].data, "1");
        assert_eq!(FinishReason::ContentFilter.as_str(), "content_filter");
    }
}
