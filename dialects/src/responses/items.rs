//! Input items: the request's `input` normalised, and items turned into chat messages.

use crate::Invalid;
use serde_json::{Map, Value, json};

/// See [`super::input_items`].
pub(super) fn input_items(body: &Value) -> Result<Vec<Value>, Invalid> {
    match body.get("input") {
        Some(Value::String(text)) => Ok(vec![json!({
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": text}],
        })]),
        Some(Value::Array(list)) => list
            .iter()
            .enumerate()
            .map(|(i, item)| normalise(item, &format!("input[{i}]")))
            .collect(),
        None | Some(Value::Null) => Err(Invalid::field("input", "`input` is required")),
        Some(_) => Err(Invalid::field(
            "input",
            "`input` must be a string or a list of items",
        )),
    }
}

/// One input item, with a short-form message made a `message` item with content parts.
fn normalise(item: &Value, path: &str) -> Result<Value, Invalid> {
    let Some(obj) = item.as_object() else {
        return Err(Invalid::field(path, "each input item must be an object"));
    };
    let kind = obj.get("type").and_then(Value::as_str);
    if kind.is_none() && !obj.contains_key("role") {
        return Err(Invalid::field(
            format!("{path}.type"),
            "an input item needs a `type` (or a `role`, for a message)",
        ));
    }
    if kind.is_some_and(|k| k != "message") {
        return Ok(item.clone());
    }
    let mut out = obj.clone();
    out.insert("type".into(), json!("message"));
    let role = match obj.get("role").and_then(Value::as_str) {
        Some(role @ ("user" | "system" | "developer" | "assistant")) => role,
        _ => {
            return Err(Invalid::field(
                format!("{path}.role"),
                "a message's role must be user, system, developer or assistant",
            ));
        }
    };
    match obj.get("content") {
        Some(Value::String(text)) => {
            let part = if role == "assistant" {
                json!({"type": "output_text", "text": text, "annotations": []})
            } else {
                json!({"type": "input_text", "text": text})
            };
            out.insert("content".into(), json!([part]));
        }
        Some(Value::Array(_)) => {}
        _ => {
            return Err(Invalid::field(
                format!("{path}.content"),
                "a message's content must be a string or a list of content parts",
            ));
        }
    }
    Ok(Value::Object(out))
}

/// Appends the chat messages for `item` (found at `path`, for refusals) to `messages`.
pub(super) fn push_item(
    messages: &mut Vec<Value>,
    item: &Value,
    path: &str,
) -> Result<(), Invalid> {
    let item = normalise(item, path)?;
    let kind = item.get("type").and_then(Value::as_str).unwrap_or("");
    match kind {
        "message" => messages.push(message(&item, path)?),
        "function_call" => push_call(messages, &item, path)?,
        "function_call_output" => messages.push(call_output(&item, path)?),
        "reasoning" => {}
        other => {
            return Err(Invalid::field(
                format!("{path}.type"),
                format!(
                    "input items of type `{other}` are not supported by this provider; \
                     send messages, function_call and function_call_output items"
                ),
            ));
        }
    }
    Ok(())
}

/// A message item as a chat message.
fn message(item: &Value, path: &str) -> Result<Value, Invalid> {
    let role = item.get("role").and_then(Value::as_str).unwrap_or("user");
    let parts = item
        .get("content")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    if role == "assistant" {
        return assistant_message(parts, path);
    }
    let mut chat_parts = Vec::with_capacity(parts.len());
    for (j, part) in parts.iter().enumerate() {
        let at = format!("{path}.content[{j}]");
        let kind = part.get("type").and_then(Value::as_str).unwrap_or("");
        let chat_part = match kind {
            "input_text" | "output_text" => json!({"type": "text", "text": text_of(part, &at)?}),
            "input_image" if role == "user" => image_part(part, &at)?,
            "input_file" if role == "user" => file_part(part, &at)?,
            _ => {
                return Err(Invalid::field(
                    format!("{at}.type"),
                    format!("content parts of type `{kind}` are not supported in a {role} message"),
                ));
            }
        };
        chat_parts.push(chat_part);
    }
    // The developer role is the system role for the chat providers this translation serves.
    let chat_role = if role == "developer" { "system" } else { role };
    let content = match chat_parts.as_slice() {
        [one] if one.get("type").and_then(Value::as_str) == Some("text") => one["text"].clone(),
        _ => Value::Array(chat_parts),
    };
    Ok(json!({"role": chat_role, "content": content}))
}

/// An assistant message item: its text parts joined, a refusal kept as `refusal`.
fn assistant_message(parts: &[Value], path: &str) -> Result<Value, Invalid> {
    let mut text = String::new();
    let mut refusal = String::new();
    for (j, part) in parts.iter().enumerate() {
        let at = format!("{path}.content[{j}]");
        match part.get("type").and_then(Value::as_str).unwrap_or("") {
            "output_text" | "input_text" => text.push_str(text_of(part, &at)?),
            "refusal" => {
                refusal.push_str(part.get("refusal").and_then(Value::as_str).unwrap_or(""))
            }
            kind => {
                return Err(Invalid::field(
                    format!("{at}.type"),
                    format!(
                        "content parts of type `{kind}` are not supported in an assistant message"
                    ),
                ));
            }
        }
    }
    let mut msg = Map::new();
    msg.insert("role".into(), json!("assistant"));
    msg.insert("content".into(), json!(text));
    if !refusal.is_empty() {
        msg.insert("refusal".into(), json!(refusal));
    }
    Ok(Value::Object(msg))
}

fn text_of<'a>(part: &'a Value, at: &str) -> Result<&'a str, Invalid> {
    part.get("text")
        .and_then(Value::as_str)
        .ok_or_else(|| Invalid::field(format!("{at}.text"), "a text part needs `text`, a string"))
}

/// An `input_image` part as a chat `image_url` part.
fn image_part(part: &Value, at: &str) -> Result<Value, Invalid> {
    let Some(url) = part.get("image_url").and_then(Value::as_str) else {
        return Err(Invalid::field(
            format!("{at}.image_url"),
            "images must be sent as `image_url` (https or data URL); `file_id` is not supported \
             by this provider",
        ));
    };
    let mut image = Map::new();
    image.insert("url".into(), json!(url));
    if let Some(detail @ ("low" | "high" | "auto")) = part.get("detail").and_then(Value::as_str) {
        image.insert("detail".into(), json!(detail));
    }
    Ok(json!({"type": "image_url", "image_url": image}))
}

/// An `input_file` part as a chat `file` part.
fn file_part(part: &Value, at: &str) -> Result<Value, Invalid> {
    let mut file = Map::new();
    if let Some(data) = part.get("file_data").and_then(Value::as_str) {
        if let Some(name) = part.get("filename").and_then(Value::as_str) {
            file.insert("filename".into(), json!(name));
        }
        file.insert("file_data".into(), json!(data));
    } else if let Some(id) = part.get("file_id").and_then(Value::as_str) {
        file.insert("file_id".into(), json!(id));
    } else {
        return Err(Invalid::field(
            format!("{at}.file_data"),
            "files must be sent as `file_data` or `file_id`; `file_url` is not supported by this \
             provider",
        ));
    }
    Ok(json!({"type": "file", "file": file}))
}

fn string_field<'a>(item: &'a Value, field: &str, path: &str) -> Result<&'a str, Invalid> {
    item.get(field).and_then(Value::as_str).ok_or_else(|| {
        Invalid::field(
            format!("{path}.{field}"),
            format!("`{field}` is required, a string"),
        )
    })
}

/// A `function_call` item: a tool call on the assistant message just before it, or on a new one.
fn push_call(messages: &mut Vec<Value>, item: &Value, path: &str) -> Result<(), Invalid> {
    let call = json!({
        "id": string_field(item, "call_id", path)?,
        "type": "function",
        "function": {
            "name": string_field(item, "name", path)?,
            "arguments": string_field(item, "arguments", path)?,
        },
    });
    if let Some(Value::Object(last)) = messages.last_mut()
        && last.get("role").and_then(Value::as_str) == Some("assistant")
    {
        if let Some(Value::Array(calls)) = last.get_mut("tool_calls") {
            calls.push(call);
        } else {
            last.insert("tool_calls".into(), json!([call]));
        }
        return Ok(());
    }
    messages.push(json!({"role": "assistant", "tool_calls": [call]}));
    Ok(())
}

/// A `function_call_output` item as a `tool` message.
fn call_output(item: &Value, path: &str) -> Result<Value, Invalid> {
    let call_id = string_field(item, "call_id", path)?;
    let content = match item.get("output") {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(parts)) => {
            let mut text = String::new();
            for (j, part) in parts.iter().enumerate() {
                let at = format!("{path}.output[{j}]");
                match part.get("type").and_then(Value::as_str) {
                    Some("input_text" | "output_text") => text.push_str(text_of(part, &at)?),
                    _ => {
                        return Err(Invalid::field(
                            format!("{at}.type"),
                            "a function call's output may only hold text parts for this provider",
                        ));
                    }
                }
            }
            text
        }
        _ => {
            return Err(Invalid::field(
                format!("{path}.output"),
                "`output` is required, a string or a list of input_text parts",
            ));
        }
    };
    Ok(json!({"role": "tool", "tool_call_id": call_id, "content": content}))
}
