//! The Response object: built from a whole chat completion, and the pieces a stream shares.

use crate::{Invalid, Usage};
use serde_json::{Map, Value, json};

/// See [`super::answer_from_chat`].
pub(super) fn answer_from_chat(
    chat: &Value,
    req: &Value,
    id: &str,
    created_at: u64,
) -> Result<Value, Invalid> {
    let Some(choice) = chat
        .get("choices")
        .and_then(Value::as_array)
        .and_then(|c| c.first())
    else {
        return Err(Invalid::body("the chat completion has no choices"));
    };
    let message = choice.get("message").unwrap_or(&Value::Null);
    let finish = choice.get("finish_reason").and_then(Value::as_str);

    let mut output = Vec::new();
    let mut parts = Vec::new();
    let text = content_text(message.get("content"));
    if !text.is_empty() {
        parts.push(text_part(&text));
    }
    if let Some(refusal) = message.get("refusal").and_then(Value::as_str)
        && !refusal.is_empty()
    {
        parts.push(refusal_part(refusal));
    }
    if !parts.is_empty() {
        output.push(message_item(&item_id(id, "msg", 0), parts, "completed"));
    }
    let calls = message.get("tool_calls").and_then(Value::as_array);
    for call in calls.into_iter().flatten() {
        let index = output.len();
        let arguments = match call.pointer("/function/arguments") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        let call_id = match call.get("id").and_then(Value::as_str) {
            Some(call_id) => call_id.to_string(),
            None => item_id(id, "call", index),
        };
        let name = call
            .pointer("/function/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        output.push(call_item(
            &item_id(id, "fc", index),
            &call_id,
            name,
            &arguments,
            "completed",
        ));
    }

    let model = chat
        .get("model")
        .and_then(Value::as_str)
        .or_else(|| req.get("model").and_then(Value::as_str))
        .unwrap_or("");
    Ok(response_object(&Shell {
        id,
        created_at,
        model,
        echo: &echo(req),
        finish,
        output,
        usage: chat.get("usage").and_then(usage_value),
    }))
}

/// The text of a chat message's `content` (a string, or text parts).
fn content_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect(),
        _ => String::new(),
    }
}

/// The id of the output item at `index` of the response `id`: `<prefix>_<suffix>_<index>`.
pub(super) fn item_id(id: &str, prefix: &str, index: usize) -> String {
    let suffix = id.strip_prefix("resp_").unwrap_or(id);
    format!("{prefix}_{suffix}_{index}")
}

/// An `output_text` content part.
pub(super) fn text_part(text: &str) -> Value {
    json!({"type": "output_text", "text": text, "annotations": [], "logprobs": []})
}

/// A `refusal` content part.
pub(super) fn refusal_part(refusal: &str) -> Value {
    json!({"type": "refusal", "refusal": refusal})
}

/// An assistant `message` output item.
pub(super) fn message_item(id: &str, content: Vec<Value>, status: &str) -> Value {
    json!({
        "id": id,
        "type": "message",
        "role": "assistant",
        "status": status,
        "content": content,
    })
}

/// A `function_call` output item.
pub(super) fn call_item(id: &str, call_id: &str, name: &str, args: &str, status: &str) -> Value {
    json!({
        "id": id,
        "type": "function_call",
        "call_id": call_id,
        "name": name,
        "arguments": args,
        "status": status,
    })
}

/// The `incomplete_details.reason` for a chat `finish_reason`, if it ends the answer early.
pub(super) fn incomplete_reason(finish: Option<&str>) -> Option<&'static str> {
    match finish {
        Some("length") => Some("max_output_tokens"),
        Some("content_filter") => Some("content_filter"),
        _ => None,
    }
}

/// The Responses `usage` for a chat completion's `usage`.
pub(super) fn usage_value(usage: &Value) -> Option<Value> {
    if !usage.is_object() {
        return None;
    }
    let n = |p: &str| usage.pointer(p).and_then(Value::as_u64).unwrap_or(0);
    let (input, output) = (n("/prompt_tokens"), n("/completion_tokens"));
    let total = usage
        .get("total_tokens")
        .and_then(Value::as_u64)
        .unwrap_or(input + output);
    Some(json!({
        "input_tokens": input,
        "input_tokens_details": {
            "cached_tokens": n("/prompt_tokens_details/cached_tokens"),
            "cache_write_tokens": 0,
        },
        "output_tokens": output,
        "output_tokens_details": {
            "reasoning_tokens": n("/completion_tokens_details/reasoning_tokens"),
        },
        "total_tokens": total,
    }))
}

/// See [`super::usage_of_response`].
pub(super) fn usage_of_response(response: &Value) -> Option<Usage> {
    let usage = response.get("usage").filter(|u| u.is_object())?;
    let n = |p: &str| {
        let v = usage.pointer(p).and_then(Value::as_u64).unwrap_or(0);
        u32::try_from(v).unwrap_or(u32::MAX)
    };
    Some(Usage {
        prompt_tokens: n("/input_tokens"),
        completion_tokens: n("/output_tokens"),
        cached_tokens: n("/input_tokens_details/cached_tokens"),
    })
}

/// The request's fields a Response echoes, with the API's defaults.
pub(super) fn echo(req: &Value) -> Map<String, Value> {
    let get = |k: &str| req.get(k).cloned().unwrap_or(Value::Null);
    let or = |k: &str, default: Value| {
        req.get(k)
            .filter(|v| !v.is_null())
            .cloned()
            .unwrap_or(default)
    };
    let mut text = or("text", json!({}));
    if let Some(t) = text.as_object_mut() {
        t.entry("format").or_insert(json!({"type": "text"}));
    }
    let mut echo = Map::new();
    echo.insert("instructions".into(), get("instructions"));
    echo.insert("max_output_tokens".into(), get("max_output_tokens"));
    echo.insert(
        "parallel_tool_calls".into(),
        or("parallel_tool_calls", json!(true)),
    );
    echo.insert("previous_response_id".into(), get("previous_response_id"));
    echo.insert("reasoning".into(), get("reasoning"));
    echo.insert("store".into(), or("store", json!(true)));
    echo.insert("temperature".into(), get("temperature"));
    echo.insert("text".into(), text);
    echo.insert("tool_choice".into(), or("tool_choice", json!("auto")));
    echo.insert("tools".into(), or("tools", json!([])));
    echo.insert("top_p".into(), get("top_p"));
    echo.insert("truncation".into(), json!("disabled"));
    echo.insert("user".into(), get("user"));
    echo.insert("metadata".into(), or("metadata", json!({})));
    if let Some(id) = req.get("safety_identifier").filter(|v| v.is_string()) {
        echo.insert("safety_identifier".into(), id.clone());
    }
    echo
}

/// What a Response is made of.
pub(super) struct Shell<'a> {
    pub(super) id: &'a str,
    pub(super) created_at: u64,
    pub(super) model: &'a str,
    pub(super) echo: &'a Map<String, Value>,
    /// The chat `finish_reason`; `None` while the answer is in progress.
    pub(super) finish: Option<&'a str>,
    pub(super) output: Vec<Value>,
    pub(super) usage: Option<Value>,
}

/// The Response object, `completed` or `incomplete` by `shell.finish` (its last output item is
/// marked `incomplete` too when the answer was cut short).
pub(super) fn response_object(shell: &Shell) -> Value {
    let reason = incomplete_reason(shell.finish);
    let mut output = shell.output.clone();
    if reason.is_some()
        && let Some(last) = output.last_mut().and_then(Value::as_object_mut)
    {
        last.insert("status".into(), json!("incomplete"));
    }
    let status = if reason.is_some() {
        "incomplete"
    } else {
        "completed"
    };
    let mut r = Map::new();
    r.insert("id".into(), json!(shell.id));
    r.insert("object".into(), json!("response"));
    r.insert("created_at".into(), json!(shell.created_at));
    r.insert("status".into(), json!(status));
    r.insert("background".into(), json!(false));
    r.insert("error".into(), Value::Null);
    r.insert(
        "incomplete_details".into(),
        reason.map_or(Value::Null, |reason| json!({"reason": reason})),
    );
    r.insert("model".into(), json!(shell.model));
    r.insert("output".into(), Value::Array(output));
    r.insert("usage".into(), shell.usage.clone().unwrap_or(Value::Null));
    for (k, v) in shell.echo {
        r.insert(k.clone(), v.clone());
    }
    Value::Object(r)
}
