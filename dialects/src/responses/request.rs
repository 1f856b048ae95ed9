//! A Responses request as a chat completion request.

use super::items;
use crate::Invalid;
use serde_json::{Map, Value, json};

/// See [`super::request_to_chat`].
pub(super) fn request_to_chat(
    body: &Value,
    history: &[Value],
) -> Result<Map<String, Value>, Invalid> {
    if !body.is_object() {
        return Err(Invalid::body("the request body must be a JSON object"));
    }
    refuse_unsupported(body)?;
    let mut chat = Map::new();
    match body.get("model") {
        Some(Value::String(model)) => chat.insert("model".into(), json!(model)),
        _ => return Err(Invalid::field("model", "`model` is required, a string")),
    };

    let mut messages = Vec::new();
    match body.get("instructions") {
        None | Some(Value::Null) => {}
        Some(Value::String(text)) => messages.push(json!({"role": "system", "content": text})),
        Some(_) => {
            return Err(Invalid::field(
                "instructions",
                "`instructions` must be a string",
            ));
        }
    }
    for item in history {
        items::push_item(&mut messages, item, "previous_response_id").map_err(|e| {
            Invalid::field(
                "previous_response_id",
                format!("the stored conversation cannot be sent to this provider: {e}"),
            )
        })?;
    }
    for (i, item) in items::input_items(body)?.iter().enumerate() {
        items::push_item(&mut messages, item, &format!("input[{i}]"))?;
    }
    chat.insert("messages".into(), Value::Array(messages));

    if let Some(tools) = tools(body)? {
        chat.insert("tools".into(), tools);
    }
    if let Some(choice) = tool_choice(body)? {
        chat.insert("tool_choice".into(), choice);
    }
    for (from, to) in [
        ("max_output_tokens", "max_completion_tokens"),
        ("temperature", "temperature"),
        ("top_p", "top_p"),
        ("parallel_tool_calls", "parallel_tool_calls"),
        ("user", "user"),
    ] {
        if let Some(v) = body.get(from).filter(|v| !v.is_null()) {
            chat.insert(to.into(), v.clone());
        }
    }
    if !chat.contains_key("user")
        && let Some(v) = body.get("safety_identifier").filter(|v| v.is_string())
    {
        chat.insert("user".into(), v.clone());
    }
    if let Some(effort) = body.pointer("/reasoning/effort").filter(|v| v.is_string()) {
        chat.insert("reasoning_effort".into(), effort.clone());
    }
    if let Some(verbosity) = body.pointer("/text/verbosity").filter(|v| v.is_string()) {
        chat.insert("verbosity".into(), verbosity.clone());
    }
    if let Some(format) = response_format(body)? {
        chat.insert("response_format".into(), format);
    }
    if body.get("stream").and_then(Value::as_bool) == Some(true) {
        chat.insert("stream".into(), json!(true));
        chat.insert("stream_options".into(), json!({"include_usage": true}));
    }
    Ok(chat)
}

/// Refuses the features the gateway cannot honour through a chat provider.
fn refuse_unsupported(body: &Value) -> Result<(), Invalid> {
    if body.get("background").and_then(Value::as_bool) == Some(true) {
        return Err(Invalid::field(
            "background",
            "background responses are not supported by this gateway",
        ));
    }
    for (field, what) in [
        (
            "prompt",
            "reusable prompts (`prompt`) are not supported by this gateway",
        ),
        (
            "conversation",
            "conversations are not supported by this gateway; use `previous_response_id`",
        ),
    ] {
        if body.get(field).is_some_and(|v| !v.is_null()) {
            return Err(Invalid::field(field, what));
        }
    }
    if let Some(id) = body.get("previous_response_id")
        && !id.is_null()
        && !id.is_string()
    {
        return Err(Invalid::field(
            "previous_response_id",
            "`previous_response_id` must be a string",
        ));
    }
    Ok(())
}

/// The request's function tools in the chat form; other tool types are refused.
fn tools(body: &Value) -> Result<Option<Value>, Invalid> {
    let list = match body.get("tools") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(Invalid::field("tools", "`tools` must be a list")),
    };
    let mut out = Vec::with_capacity(list.len());
    for (i, tool) in list.iter().enumerate() {
        match tool.get("type").and_then(Value::as_str) {
            Some("function") => {}
            other => {
                return Err(Invalid::field(
                    format!("tools[{i}].type"),
                    format!(
                        "tools of type `{}` are not supported by this provider; only function \
                         tools are",
                        other.unwrap_or("")
                    ),
                ));
            }
        }
        let Some(name) = tool.get("name").and_then(Value::as_str) else {
            return Err(Invalid::field(
                format!("tools[{i}].name"),
                "a function tool needs `name`, a string",
            ));
        };
        let mut function = Map::new();
        function.insert("name".into(), json!(name));
        for field in ["description", "parameters", "strict"] {
            if let Some(v) = tool.get(field).filter(|v| !v.is_null()) {
                function.insert(field.into(), v.clone());
            }
        }
        out.push(json!({"type": "function", "function": function}));
    }
    Ok(Some(Value::Array(out)))
}

/// `tool_choice` in the chat form.
fn tool_choice(body: &Value) -> Result<Option<Value>, Invalid> {
    match body.get("tool_choice") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if matches!(s.as_str(), "auto" | "none" | "required") => {
            Ok(Some(json!(s)))
        }
        Some(choice) => match (
            choice.get("type").and_then(Value::as_str),
            choice.get("name").and_then(Value::as_str),
        ) {
            (Some("function"), Some(name)) => Ok(Some(
                json!({"type": "function", "function": {"name": name}}),
            )),
            _ => Err(Invalid::field(
                "tool_choice",
                "`tool_choice` must be auto, none, required or {\"type\": \"function\", \"name\"}",
            )),
        },
    }
}

/// `text.format` as the chat `response_format`.
fn response_format(body: &Value) -> Result<Option<Value>, Invalid> {
    let Some(format) = body.pointer("/text/format").filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    match format.get("type").and_then(Value::as_str) {
        Some("text") => Ok(None),
        Some("json_object") => Ok(Some(json!({"type": "json_object"}))),
        Some("json_schema") => {
            let mut schema = Map::new();
            for field in ["name", "schema", "strict", "description"] {
                if let Some(v) = format.get(field).filter(|v| !v.is_null()) {
                    schema.insert(field.into(), v.clone());
                }
            }
            if !schema.contains_key("name") {
                return Err(Invalid::field(
                    "text.format.name",
                    "a json_schema format needs `name`",
                ));
            }
            Ok(Some(json!({"type": "json_schema", "json_schema": schema})))
        }
        _ => Err(Invalid::field(
            "text.format.type",
            "`text.format.type` must be text, json_object or json_schema",
        )),
    }
}
