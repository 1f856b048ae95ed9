//! The conversation: OpenAI `messages` to Gemini `systemInstruction` and `contents`.

use serde_json::{Value, json};
use sluice_plugin_sdk::ErrorBody;
use sluice_plugin_sdk::openai::{Content, Part, ToolCall, bad, parse_data_url};
use std::collections::HashMap;

/// A converted conversation.
#[derive(Debug, PartialEq)]
pub(crate) struct Conversation {
    /// Texts of the system and developer messages, in order.
    pub system: Vec<String>,
    /// Gemini `contents`: `{role: "user" | "model", parts}`, consecutive same roles merged.
    pub contents: Vec<Value>,
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

/// Text-only content (system, developer and tool messages): parts joined by newlines.
fn text_only(content: Option<&Value>, param: &str) -> Result<String, ErrorBody> {
    Content::text_only(content, param, "this message may only hold text parts")
}

/// One user content part as a Gemini part.
fn user_part(part: &Value, param: &str) -> Result<Option<Value>, ErrorBody> {
    let inline =
        |mime: &str, data: &str| json!({ "inlineData": { "mimeType": mime, "data": data } });
    match Part::parse(part, param)? {
        Part::Text(text) if !Part::is_refusal(part) => {
            Ok((!text.is_empty()).then(|| json!({ "text": text })))
        }
        Part::ImageUrl(url) => {
            if url.starts_with("data:") {
                let (mime, data) = parse_data_url(url)
                    .ok_or_else(|| bad(param, "data URLs must be `data:<type>;base64,<data>`"))?;
                return Ok(Some(inline(mime, data)));
            }
            Ok(Some(
                json!({ "fileData": { "mimeType": guess_mime(url), "fileUri": url } }),
            ))
        }
        Part::InputAudio {
            data: Some(data),
            format: Some(format),
        } => Ok(Some(inline(&format!("audio/{format}"), data))),
        Part::InputAudio { .. } => Err(bad(
            param,
            "an `input_audio` part needs `data` and `format`",
        )),
        Part::File {
            file_id, file_data, ..
        } => {
            if file_id.is_some() {
                return Err(bad(
                    param,
                    "OpenAI file ids are not supported by the gemini provider; send `file_data`",
                ));
            }
            let (mime, data) = file_data.and_then(parse_data_url).ok_or_else(|| {
                bad(
                    param,
                    "a `file` part needs `file.file_data` as a base64 data URL",
                )
            })?;
            Ok(Some(inline(mime, data)))
        }
        _ => {
            let other = part.get("type").and_then(Value::as_str).unwrap_or("");
            Err(bad(param, format!("unsupported content part `{other}`")))
        }
    }
}

/// The parts of a user or assistant message's content.
fn parts(content: Option<&Value>, param: &str, user: bool) -> Result<Vec<Value>, ErrorBody> {
    let list = match Content::parse(content, param)? {
        Content::Text("") => return Ok(Vec::new()),
        Content::Text(s) => return Ok(vec![json!({ "text": s })]),
        Content::Parts(list) => list,
    };
    let mut out = Vec::with_capacity(list.len());
    for part in list {
        if user {
            out.extend(user_part(part, param)?);
            continue;
        }
        let kind = part.get("type").and_then(Value::as_str).unwrap_or("");
        if kind != "text" && kind != "refusal" {
            return Err(bad(
                param,
                format!("assistant messages may hold text, not `{kind}` parts"),
            ));
        }
        if let Part::Text(text) = Part::parse(part, param)?
            && !text.is_empty()
        {
            out.push(json!({ "text": text }));
        }
    }
    Ok(out)
}

/// The `functionCall` parts of an assistant message, remembering each call's name by id.
fn function_calls(
    message: &Value,
    param: &str,
    names: &mut HashMap<String, String>,
) -> Result<Vec<Value>, ErrorBody> {
    let calls = ToolCall::list(message, param, false)?;
    let mut out = Vec::with_capacity(calls.len());
    for call in calls {
        if let Some(id) = call.id {
            names.insert(id.to_string(), call.name.to_string());
        }
        out.push(json!({ "functionCall": { "name": call.name, "args": call.arguments } }));
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
