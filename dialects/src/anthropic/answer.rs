//! Answers: a chat completion to a Message, and the usage of Messages a provider answered
//! natively.
//!
//! | chat completion                          | Message                                        |
//! |------------------------------------------|------------------------------------------------|
//! | `id` (`chatcmpl-` stripped)              | `id` = `msg_` + it                             |
//! | `message.content`, then `message.refusal`| `text` blocks                                  |
//! | `message.tool_calls`                     | `tool_use` blocks (`input` = parsed arguments; arguments that are not a JSON object become `{"_raw": text}`) |
//! | `finish_reason` `stop`/`length`/`tool_calls`/`content_filter` | `stop_reason` `end_turn`/`max_tokens`/`tool_use`/`refusal` |
//! | `usage.prompt_tokens` − cached           | `usage.input_tokens` (Anthropic counts cache reads apart) |
//! | `usage.prompt_tokens_details.cached_tokens` | `usage.cache_read_input_tokens`             |

use super::NativeStreamUsage;
use super::shape::count;
use crate::{Invalid, Usage};
use serde_json::{Value, json};

/// The Message id for a chat completion id: `msg_` + the id without `chatcmpl-`.
pub(super) fn message_id(chat_id: Option<&str>) -> String {
    let id = chat_id.unwrap_or("sluice");
    format!("msg_{}", id.strip_prefix("chatcmpl-").unwrap_or(id))
}

/// Anthropic's `stop_reason` for a chat `finish_reason`.
pub(super) fn stop_reason(finish_reason: &str) -> &'static str {
    match finish_reason {
        "length" => "max_tokens",
        "tool_calls" | "function_call" => "tool_use",
        "content_filter" => "refusal",
        _ => "end_turn",
    }
}

/// The chat usage (`prompt_tokens`, `completion_tokens`, cached prompt tokens) of `usage`.
pub(super) fn chat_usage(usage: Option<&Value>) -> Usage {
    let Some(u) = usage else {
        return Usage::default();
    };
    Usage {
        prompt_tokens: count(u, "prompt_tokens"),
        completion_tokens: count(u, "completion_tokens"),
        cached_tokens: u
            .get("prompt_tokens_details")
            .map_or(0, |d| count(d, "cached_tokens")),
    }
}

/// A tool call's `input`: its arguments parsed; arguments that are not a JSON object are kept
/// as `{"_raw": text}` so nothing the model wrote is lost.
pub(super) fn tool_input(arguments: &str) -> Value {
    if arguments.trim().is_empty() {
        return json!({});
    }
    match serde_json::from_str::<Value>(arguments) {
        Ok(v @ Value::Object(_)) => v,
        _ => json!({ "_raw": arguments }),
    }
}

/// See [`super::answer_from_chat`].
pub(super) fn from_chat(chat: &Value) -> Result<Value, Invalid> {
    let choice = chat
        .get("choices")
        .and_then(Value::as_array)
        .and_then(|c| c.first())
        .ok_or_else(|| Invalid::body("the provider's completion holds no choices"))?;
    let message = choice.get("message").unwrap_or(&Value::Null);
    let mut content = Vec::new();
    let text = match message.get("content") {
        Some(Value::String(s)) => s.clone(),
        // Some providers answer content parts.
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect(),
        _ => String::new(),
    };
    if !text.is_empty() {
        content.push(json!({ "type": "text", "text": text }));
    }
    if let Some(refusal) = message.get("refusal").and_then(Value::as_str)
        && !refusal.is_empty()
    {
        content.push(json!({ "type": "text", "text": refusal }));
    }
    for call in message
        .get("tool_calls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let function = call.get("function").unwrap_or(&Value::Null);
        let str_of = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_string();
        content.push(json!({
            "type": "tool_use",
            "id": str_of(call.get("id")),
            "name": str_of(function.get("name")),
            "input": tool_input(&str_of(function.get("arguments"))),
        }));
    }
    let usage = chat_usage(chat.get("usage"));
    Ok(json!({
        "id": message_id(chat.get("id").and_then(Value::as_str)),
        "type": "message",
        "role": "assistant",
        "model": chat.get("model").and_then(Value::as_str).unwrap_or_default(),
        "content": content,
        "stop_reason": stop_reason(
            choice.get("finish_reason").and_then(Value::as_str).unwrap_or_default()
        ),
        "stop_sequence": null,
        "usage": messages_usage(usage),
    }))
}

/// Anthropic's `usage` object for the gateway's `usage`.
pub(super) fn messages_usage(u: Usage) -> Value {
    json!({
        "input_tokens": u.prompt_tokens.saturating_sub(u.cached_tokens),
        "output_tokens": u.completion_tokens,
        "cache_read_input_tokens": u.cached_tokens,
        "cache_creation_input_tokens": 0,
    })
}

/// The gateway's usage for an Anthropic `usage` object: prompt tokens are input tokens, cache
/// reads and cache writes together.
pub(super) fn usage_of(u: &Value) -> Usage {
    let cached = count(u, "cache_read_input_tokens");
    Usage {
        prompt_tokens: count(u, "input_tokens")
            .saturating_add(cached)
            .saturating_add(count(u, "cache_creation_input_tokens")),
        completion_tokens: count(u, "output_tokens"),
        cached_tokens: cached,
    }
}

impl NativeStreamUsage {
    /// See [`NativeStreamUsage::on_event`].
    pub(super) fn read(&mut self, event: Option<&str>, data: &str) -> bool {
        let parsed: Option<Value> = serde_json::from_str(data).ok();
        let kind = event.or_else(|| {
            parsed
                .as_ref()
                .and_then(|v| v.get("type"))
                .and_then(Value::as_str)
        });
        let Some(v) = parsed.as_ref() else {
            return kind == Some("error");
        };
        match kind {
            Some("error") => return true,
            Some("message_start") => {
                if let Some(u) = v.get("message").and_then(|m| m.get("usage")) {
                    self.usage = Some(usage_of(u));
                }
            }
            Some("message_delta") => {
                if let Some(u) = v.get("usage") {
                    self.delta(u);
                }
            }
            Some("message_stop") => self.complete = true,
            _ => {}
        }
        false
    }

    /// Merges a `message_delta` usage (cumulative counts) into the usage so far.
    fn delta(&mut self, u: &Value) {
        let mut usage = self.usage.unwrap_or_default();
        if u.get("output_tokens").is_some() {
            usage.completion_tokens = count(u, "output_tokens");
        }
        if u.get("cache_read_input_tokens").is_some() {
            let cached = count(u, "cache_read_input_tokens");
            let rest = usage.prompt_tokens.saturating_sub(usage.cached_tokens);
            usage.cached_tokens = cached;
            usage.prompt_tokens = rest.saturating_add(cached);
        }
        if u.get("input_tokens").is_some() || u.get("cache_creation_input_tokens").is_some() {
            // Input and cache writes, cumulative: they never shrink, and a delta naming only
            // one of them keeps the other from `message_start`.
            let rest = usage.prompt_tokens.saturating_sub(usage.cached_tokens);
            let named =
                count(u, "input_tokens").saturating_add(count(u, "cache_creation_input_tokens"));
            usage.prompt_tokens = rest.max(named).saturating_add(usage.cached_tokens);
        }
        self.usage = Some(usage);
    }
}
