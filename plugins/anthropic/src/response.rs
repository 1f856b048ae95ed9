//! The response: a Messages API answer to an OpenAI chat completion.

use crate::{errors, json_response, usage_json};
use serde_json::{Value, json};
use sluice_plugin_sdk::{ErrorBody, HttpResponse, RequestCtx, Usage};

/// Maps a whole upstream answer: 2xx messages become chat completions, errors OpenAI errors.
pub(crate) fn from_upstream(
    ctx: &RequestCtx,
    resp: &HttpResponse,
    created: u64,
) -> Result<HttpResponse, ErrorBody> {
    if !(200..300).contains(&resp.status) {
        return Ok(errors::error_response(resp));
    }
    let message: Value = serde_json::from_slice(&resp.body).map_err(|e| {
        ErrorBody::bad_upstream(format!("anthropic answered a body that is not JSON: {e}"))
    })?;
    translate(&message, &ctx.request_id, &ctx.model, created).map(|v| json_response(&v))
}

/// OpenAI's `finish_reason` for an Anthropic `stop_reason`.
pub(crate) fn finish_reason(stop_reason: &str) -> &'static str {
    match stop_reason {
        "max_tokens" | "model_context_window_exceeded" => "length",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        // end_turn, stop_sequence, pause_turn and anything new.
        _ => "stop",
    }
}

/// Token counts from an Anthropic `usage` object. Prompt tokens include cache reads and writes,
/// which Anthropic counts apart from `input_tokens`.
pub(crate) fn usage(u: &Value) -> Usage {
    let n = |k: &str| {
        u.get(k)
            .and_then(Value::as_u64)
            .map_or(0, |v| u32::try_from(v).unwrap_or(u32::MAX))
    };
    let cached = n("cache_read_input_tokens");
    Usage {
        prompt_tokens: n("input_tokens")
            .saturating_add(cached)
            .saturating_add(n("cache_creation_input_tokens")),
        completion_tokens: n("output_tokens"),
        cached_tokens: cached,
    }
}

/// Translates a Messages API answer. `request_id` names the completion when the message has no
/// id; `model` stands in when it names no model.
pub(crate) fn translate(
    message: &Value,
    request_id: &str,
    model: &str,
    created: u64,
) -> Result<Value, ErrorBody> {
    let blocks = message
        .get("content")
        .and_then(Value::as_array)
        .ok_or_else(|| ErrorBody::bad_upstream("anthropic answered a message without `content`"))?;
    let mut text = String::new();
    let mut tool_calls = Vec::new();
    for block in blocks {
        match block.get("type").and_then(Value::as_str) {
            Some("text") => text.push_str(block.get("text").and_then(Value::as_str).unwrap_or("")),
            Some("tool_use") => {
                let input = block.get("input").cloned().unwrap_or_else(|| json!({}));
                tool_calls.push(json!({
                    "id": block.get("id").and_then(Value::as_str).unwrap_or(""),
                    "type": "function",
                    "function": {
                        "name": block.get("name").and_then(Value::as_str).unwrap_or(""),
                        "arguments": input.to_string(),
                    },
                }));
            }
            // Thinking, redacted thinking and server tool blocks have no OpenAI equivalent.
            _ => {}
        }
    }
    let mut out_message = json!({
        "role": "assistant",
        "content": if text.is_empty() && !tool_calls.is_empty() { Value::Null } else { json!(text) },
        "refusal": null,
    });
    if !tool_calls.is_empty() {
        out_message["tool_calls"] = Value::Array(tool_calls);
    }
    let finish = message
        .get("stop_reason")
        .and_then(Value::as_str)
        .map_or("stop", finish_reason);
    let id = message
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or(request_id);
    let usage = usage(message.get("usage").unwrap_or(&Value::Null));
    Ok(json!({
        "id": format!("chatcmpl-{id}"),
        "object": "chat.completion",
        "created": created,
        "model": message.get("model").and_then(Value::as_str).unwrap_or(model),
        "choices": [{
            "index": 0,
            "message": out_message,
            "logprobs": null,
            "finish_reason": finish,
        }],
        "usage": usage_json(&usage),
    }))
}

#[cfg(test)]
mod tests;
