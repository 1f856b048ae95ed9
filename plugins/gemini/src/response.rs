//! The response: a `generateContent` answer to an OpenAI chat completion (and the dispatch of
//! embeddings answers and errors).

use crate::{Tokens, embeddings, errors};
use serde_json::{Value, json};
use sluice_plugin_sdk::openai::FinishReason;
use sluice_plugin_sdk::openai::response::{
    assistant_message, choice, completion, json_response, tool_call,
};
use sluice_plugin_sdk::{Endpoint, ErrorBody, HttpResponse, RequestCtx};

/// Maps a whole upstream answer: errors to OpenAI errors, answers to chat completions or
/// embedding lists (by the request's endpoint).
pub(crate) fn from_upstream(
    ctx: &RequestCtx,
    resp: &HttpResponse,
    created: u64,
) -> Result<HttpResponse, ErrorBody> {
    if !(200..300).contains(&resp.status) {
        embeddings::forget();
        return Ok(errors::error_response(resp));
    }
    let body: Value = serde_json::from_slice(&resp.body).map_err(|e| {
        ErrorBody::bad_upstream(format!("gemini answered a body that is not JSON: {e}"))
    })?;
    if ctx.endpoint == Endpoint::Embeddings {
        let pending = embeddings::take().unwrap_or_else(|| embeddings::Pending {
            base64: false,
            prompt_tokens: 0,
            model: ctx.model.clone(),
        });
        return embeddings::respond(&body, &pending);
    }
    translate(&body, &ctx.request_id, &ctx.model, created).map(|v| json_response(&v))
}

/// OpenAI's `finish_reason` for a Gemini `finishReason`; `STOP` after function calls is
/// `tool_calls`.
pub(crate) fn finish_reason(reason: &str, called_tools: bool) -> FinishReason {
    match reason {
        "STOP" if called_tools => FinishReason::ToolCalls,
        "MAX_TOKENS" => FinishReason::Length,
        "SAFETY"
        | "RECITATION"
        | "BLOCKLIST"
        | "PROHIBITED_CONTENT"
        | "SPII"
        | "IMAGE_SAFETY"
        | "IMAGE_PROHIBITED_CONTENT" => FinishReason::ContentFilter,
        // STOP, OTHER, LANGUAGE, MALFORMED_FUNCTION_CALL and anything new.
        _ => FinishReason::Stop,
    }
}

/// A candidate's text (thinking parts left out) and function calls as OpenAI tool calls.
/// `first_call` numbers the calls that have no id of their own (`call_<n>`).
pub(crate) fn candidate_parts(candidate: &Value, first_call: usize) -> (String, Vec<Value>) {
    let mut text = String::new();
    let mut calls = Vec::new();
    let parts = candidate
        .pointer("/content/parts")
        .and_then(Value::as_array);
    for part in parts.into_iter().flatten() {
        if part.get("thought").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        if let Some(t) = part.get("text").and_then(Value::as_str) {
            text.push_str(t);
        }
        if let Some(call) = part.get("functionCall") {
            let n = first_call + calls.len();
            let id = call
                .get("id")
                .and_then(Value::as_str)
                .map_or_else(|| format!("call_{n}"), str::to_string);
            let args = call.get("args").cloned().unwrap_or_else(|| json!({}));
            let name = call.get("name").and_then(Value::as_str).unwrap_or("");
            calls.push(tool_call(&id, name, &args.to_string()));
        }
    }
    (text, calls)
}

/// The prompt's block reason, when Gemini refused the prompt itself.
pub(crate) fn block_reason(resp: &Value) -> Option<&str> {
    resp.pointer("/promptFeedback/blockReason")
        .and_then(Value::as_str)
}

/// Translates a `generateContent` answer. `request_id` names the completion when Gemini gives no
/// `responseId`; `model` stands in when it gives no `modelVersion`.
pub(crate) fn translate(
    resp: &Value,
    request_id: &str,
    model: &str,
    created: u64,
) -> Result<Value, ErrorBody> {
    let candidates = resp
        .get("candidates")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut choices: Vec<(u64, Value)> = Vec::with_capacity(candidates.len().max(1));
    for (i, candidate) in candidates.iter().enumerate() {
        let index = candidate
            .get("index")
            .and_then(Value::as_u64)
            .unwrap_or(i as u64);
        let (text, calls) = candidate_parts(candidate, 0);
        let finish = candidate
            .get("finishReason")
            .and_then(Value::as_str)
            .map_or(FinishReason::Stop, |r| finish_reason(r, !calls.is_empty()));
        let message = assistant_message(&text, calls);
        choices.push((index, choice(index, message, finish)));
    }
    if choices.is_empty() {
        let Some(reason) = block_reason(resp) else {
            return Err(ErrorBody::bad_upstream("gemini answered no candidates"));
        };
        let message = json!({ "role": "assistant", "content": null,
                              "refusal": format!("The prompt was blocked ({reason}).") });
        choices.push((0, choice(0, message, FinishReason::ContentFilter)));
    }
    choices.sort_by_key(|(i, _)| *i);
    let tokens = Tokens::from_metadata(resp.get("usageMetadata").unwrap_or(&Value::Null));
    let id = resp
        .get("responseId")
        .and_then(Value::as_str)
        .unwrap_or(request_id);
    let model = resp
        .get("modelVersion")
        .and_then(Value::as_str)
        .unwrap_or(model);
    let choices = choices.into_iter().map(|(_, c)| c).collect();
    Ok(completion(
        &format!("chatcmpl-{id}"),
        created,
        model,
        choices,
        tokens.json(),
    ))
}

#[cfg(test)]
mod tests;
