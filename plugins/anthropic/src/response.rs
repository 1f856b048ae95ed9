//! The response: a Messages API answer to an OpenAI chat completion.

use crate::errors;
use serde_json::{Value, json};
use sluice_plugin_sdk::openai::FinishReason;
use sluice_plugin_sdk::openai::response::{
    assistant_message, choice, completion, count, json_response, tool_call, usage_json,
};
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
pub(crate) fn finish_reason(stop_reason: &str) -> FinishReason {
    match stop_reason {
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "tool_use" => FinishReason::ToolCalls,
        "refusal" => FinishReason::ContentFilter,
        // end_turn, stop_sequence, pause_turn and anything new.
        _ => FinishReason::Stop,
    }
}

/// Token counts from an Anthropic `usage` object. Prompt tokens include cache reads and writes,
/// which Anthropic counts apart from `input_tokens`.
pub(crate) fn usage(u: &Value) -> Usage {
    let cached = count(u, "cache_read_input_tokens");
    Usage {
        prompt_tokens: count(u, "input_tokens")
            .saturating_add(cached)
            .saturating_add(count(u, "cache_creation_input_tokens")),
        completion_tokens: count(u, "output_tokens"),
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
    let s = |b: &Value, k: &str| b.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    for block in blocks {
        match block.get("type").and_then(Value::as_str) {
            Some("text") => text.push_str(&s(block, "text")),
            Some("tool_use") => {
                let input = block.get("input").cloned().unwrap_or_else(|| json!({}));
                let arguments = input.to_string();
                tool_calls.push(tool_call(&s(block, "id"), &s(block, "name"), &arguments));
            }
            // Thinking, redacted thinking and server tool blocks have no OpenAI equivalent.
            _ => {}
        }
    }
    let finish = message
        .get("stop_reason")
        .and_then(Value::as_str)
        .map_or(FinishReason::Stop, finish_reason);
    let id = message
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or(request_id);
    let usage = usage(message.get("usage").unwrap_or(&Value::Null));
    let model = message
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or(model);
    let choices = vec![choice(0, assistant_message(&text, tool_calls), finish)];
    Ok(completion(
        &format!("chatcmpl-{id}"),
        created,
        model,
        choices,
        usage_json(&usage, None),
    ))
}

#[cfg(test)]
mod tests;
