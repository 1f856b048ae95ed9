//! The conversation: OpenAI `messages` to Gemini `systemInstruction` and `contents`.

use serde_json::{Value, json};
use sluice_plugin_sdk::ErrorBody;
use std::collections::HashMap;

/// A converted conversation.
#[derive(Debug, PartialEq)]
pub(crate) struct Conversation {
    /// Texts of the system and developer messages, in order.
    pub system: Vec<String>,
    /// Gemini `contents`: `{role: "user" | "model", parts}`, consecutive same roles merged.
    pub contents: Vec<Value>,
}

/// A 400 naming `param`.
pub(crate) fn bad(param: &str, message: impl Into<String>) -> ErrorBody {
    ErrorBody::bad_request(message).with_param(param)
}

/// Splits a `data:` URL into its media type and base64 payload.
pub(crate) fn parse_data_url(url: &str) -> Option<(&str, &str)> {
    let (meta, data) = url.strip_prefix("data:")?.split_once(',')?;
    let mut fields = meta.split(';');
    let media_type = fields.next().filter(|m| !m.is_empty())?;
    fields
        .any(|f| f.eq_ignore_ascii_case("base64"))
        .then_some((media_type, data))
}

/// The media type of a file URL, from its extension; `image/jpeg` when unknown.
pub(crate) fn guess_mime(url: &str) -> &'static str {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "heic" => "image/heic",
        "heif" => "image/heif",
        "pdf" => "application/pdf",
        _ => "image/jpeg",
    }
}

fn part_type(part: &Value) -> &str {
    part.get("type").and_then(Value::as_str).unwrap_or("")
}

/// The text of a `text` (or `refusal`) part.
fn part_text<'a>(part: &'a Value, param: &str) -> Result<&'a str, ErrorBody> {
    let key = if part_type(part) == "refusal" {
        "refusal"
    } else {
        "text"
    };
    part.get(key).and_then(Value::as_str).ok_or_else(|| {
        bad(
            param,
            format!("a `{}` part needs a string `{key}`", part_type(part)),
        )
    })
}

/// Text-only content (system, developer and tool messages): parts joined by newlines.
fn text_only(content: Option<&Value>, param: &str) -> Result<String, ErrorBody> {
    match content {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Array(parts)) => {
            let mut texts = Vec::with_capacity(parts.len());
            for part in parts {
                if part_type(part) != "text" {
                    return Err(bad(param, "this message may only hold text parts"));
                }
                texts.push(part_text(part, param)?);
            }
            Ok(texts.join("\n"))
        }
        Some(_) => Err(bad(param, "`content` must be a string or a list of parts")),
    }
}

/// One user content part as a Gemini part.
fn user_part(part: &Value, param: &str) -> Result<Option<Value>, ErrorBody> {
    match part_type(part) {
        "text" => {
            let text = part_text(part, param)?;
            Ok((!text.is_empty()).then(|| json!({ "text": text })))
        }
        "image_url" => {
            let image = part.get("image_url");
            let url = image
                .and_then(|i| i.get("url"))
                .or(image)
                .and_then(Value::as_str)
                .ok_or_else(|| bad(param, "an `image_url` part needs `image_url.url`"))?;
            if url.starts_with("data:") {
                let (mime, data) = parse_data_url(url)
                    .ok_or_else(|| bad(param, "data URLs must be `data:<type>;base64,<data>`"))?;
                return Ok(Some(
                    json!({ "inlineData": { "mimeType": mime, "data": data } }),
                ));
            }
            Ok(Some(
                json!({ "fileData": { "mimeType": guess_mime(url), "fileUri": url } }),
            ))
        }
        "input_audio" => {
            let audio = part.get("input_audio").unwrap_or(&Value::Null);
            let data = audio.get("data").and_then(Value::as_str);
            let format = audio.get("format").and_then(Value::as_str);
            let (Some(data), Some(format)) = (data, format) else {
                return Err(bad(
                    param,
                    "an `input_audio` part needs `data` and `format`",
                ));
            };
            Ok(Some(
                json!({ "inlineData": { "mimeType": format!("audio/{format}"), "data": data } }),
            ))
        }
        "file" => {
            let file = part.get("file").unwrap_or(&Value::Null);
            if file.get("file_id").is_some_and(|v| !v.is_null()) {
                return Err(bad(
                    param,
                    "OpenAI file ids are not supported by the gemini provider; send `file_data`",
                ));
            }
            let (mime, data) = file
                .get("file_data")
                .and_then(Value::as_str)
                .and_then(parse_data_url)
                .ok_or_else(|| {
                    bad(
                        param,
                        "a `file` part needs `file.file_data` as a base64 data URL",
                    )
                })?;
            Ok(Some(
                json!({ "inlineData": { "mimeType": mime, "data": data } }),
            ))
        }
        other => Err(bad(param, format!("unsupported content part `{other}`"))),
    }
}

/// The parts of a user or assistant message's content.
fn parts(content: Option<&Value>, param: &str, user: bool) -> Result<Vec<Value>, ErrorBody> {
    match content {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) if s.is_empty() => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![json!({ "text": s })]),
        Some(Value::Array(list)) => {
            let mut out = Vec::with_capacity(list.len());
            for part in list {
                match part_type(part) {
                    "text" | "refusal" if !user => {
                        let text = part_text(part, param)?;
                        if !text.is_empty() {
                            out.push(json!({ "text": text }));
                        }
                    }
                    other if !user => {
                        return Err(bad(
                            param,
                            format!("assistant messages may hold text, not `{other}` parts"),
                        ));
                    }
                    _ => out.extend(user_part(part, param)?),
                }
            }
            Ok(out)
        }
        Some(_) => Err(bad(param, "`content` must be a string or a list of parts")),
    }
}

/// The `functionCall` parts of an assistant message, remembering each call's name by id.
fn function_calls(
    message: &Value,
    param: &str,
    names: &mut HashMap<String, String>,
) -> Result<Vec<Value>, ErrorBody> {
    let calls = match message.get("tool_calls") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(calls)) => calls,
        Some(_) => return Err(bad(param, "`tool_calls` must be a list")),
    };
    let mut out = Vec::with_capacity(calls.len());
    for (j, call) in calls.iter().enumerate() {
        let param = format!("{param}.tool_calls[{j}]");
        let name = call
            .pointer("/function/name")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(&param, "a tool call needs `function.name`"))?;
        let arguments = call
            .pointer("/function/arguments")
            .and_then(Value::as_str)
            .unwrap_or("");
        let args: Value = if arguments.trim().is_empty() {
            json!({})
        } else {
            serde_json::from_str(arguments).map_err(|e| {
                bad(
                    &param,
                    format!("`function.arguments` is not valid JSON: {e}"),
                )
            })?
        };
        if !args.is_object() {
            return Err(bad(&param, "`function.arguments` must be a JSON object"));
        }
        if let Some(id) = call.get("id").and_then(Value::as_str) {
            names.insert(id.to_string(), name.to_string());
        }
        out.push(json!({ "functionCall": { "name": name, "args": args } }));
    }
    Ok(out)
}

/// Adds parts to the conversation, merging them into the last turn when it has the same role.
fn push(contents: &mut Vec<Value>, role: &str, parts: Vec<Value>) {
    if parts.is_empty() {
        return;
    }
    if let Some(last) = contents.last_mut()
        && last["role"] == role
        && let Some(existing) = last.get_mut("parts").and_then(Value::as_array_mut)
    {
        existing.extend(parts);
        return;
    }
    contents.push(json!({ "role": role, "parts": parts }));
}

/// Converts OpenAI `messages`.
pub(crate) fn convert(messages: &[Value]) -> Result<Conversation, ErrorBody> {
    let mut system = Vec::new();
    let mut contents = Vec::with_capacity(messages.len());
    let mut names: HashMap<String, String> = HashMap::new();
    for (i, m) in messages.iter().enumerate() {
        let param = format!("messages[{i}]");
        let content_param = format!("{param}.content");
        let content = m.get("content");
        match m.get("role").and_then(Value::as_str) {
            Some("system" | "developer") => {
                let text = text_only(content, &content_param)?;
                if !text.is_empty() {
                    system.push(text);
                }
            }
            Some("user") => push(&mut contents, "user", parts(content, &content_param, true)?),
            Some("assistant") => {
                if m.get("function_call").is_some_and(|v| !v.is_null()) {
                    return Err(bad(
                        &param,
                        "the legacy `function_call` is not supported; use `tool_calls`",
                    ));
                }
                let mut p = parts(content, &content_param, false)?;
                p.extend(function_calls(m, &param, &mut names)?);
                push(&mut contents, "model", p);
            }
            Some("tool") => {
                let id = m
                    .get("tool_call_id")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad(&param, "a tool message needs a string `tool_call_id`"))?;
                let name = names.get(id).ok_or_else(|| {
                    bad(
                        &param,
                        format!("no earlier assistant tool call has the id `{id}`"),
                    )
                })?;
                let text = text_only(content, &content_param)?;
                let result = serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text));
                let part = json!({ "functionResponse": { "name": name, "response": { "content": result } } });
                push(&mut contents, "user", vec![part]);
            }
            Some(other) => {
                return Err(bad(
                    &param,
                    format!("the gemini provider does not support the `{other}` role"),
                ));
            }
            None => return Err(bad(&param, "every message needs a string `role`")),
        }
    }
    if contents.is_empty() {
        return Err(bad(
            "messages",
            "`messages` must hold at least one non-empty user or assistant message",
        ));
    }
    Ok(Conversation { system, contents })
}

#[cfg(test)]
mod tests;
