//! The conversation: Messages `system` and `messages` to chat completion messages.
//!
//! | Messages                                   | chat completion                                 |
//! |--------------------------------------------|-------------------------------------------------|
//! | `system` (string or text blocks)           | a leading `system` message (blocks joined by a blank line) |
//! | `role: "system"` messages                  | `system` messages in place                      |
//! | `text` blocks                              | text parts (a text-only turn: a plain string)   |
//! | `image` blocks, `base64` / `url` source    | `image_url` parts (data URL / the URL)          |
//! | `document` blocks, base64 PDF              | `file` parts with a PDF data URL                |
//! | `document` blocks, plain text / content    | text (and image) parts                          |
//! | assistant `tool_use` blocks                | assistant `tool_calls` (input as JSON text)     |
//! | user `tool_result` blocks                  | `tool` messages, before the rest of the turn (text blocks joined by a newline; `is_error: true` prefixes `Error: `) |
//! | `thinking`, `redacted_thinking` blocks     | dropped (only the provider that wrote them reads them) |
//! | `cache_control`, `citations`, document `title`/`context` | ignored                           |
//!
//! Refused (400 naming the block): Files API sources (`file`), URL PDF sources, images inside
//! `tool_result`, server tool blocks, `search_result` and any block type not listed.

use super::media::{document, image};
use super::shape::{array, block_kind, block_text, blocks, field, object, string, unsupported};
use crate::Invalid;
use serde_json::{Map, Value, json};

/// The chat messages for the request's `system` field and `messages` array.
pub(super) fn convert(body: &Map<String, Value>) -> Result<Vec<Value>, Invalid> {
    let mut out = Vec::new();
    if let Some(system) = body.get("system").filter(|v| !v.is_null()) {
        let text = text_of(system, "system")?;
        if !text.is_empty() {
            out.push(json!({ "role": "system", "content": text }));
        }
    }
    let messages = match body.get("messages") {
        None | Some(Value::Null) => {
            return Err(Invalid::field("messages", "`messages` is required"));
        }
        Some(v) => array(v, "messages")?,
    };
    if messages.is_empty() {
        return Err(Invalid::field(
            "messages",
            "`messages` must hold at least one message",
        ));
    }
    for (i, m) in messages.iter().enumerate() {
        let path = format!("messages[{i}]");
        let m = object(m, &path)?;
        let role = match m.get("role") {
            Some(r) => string(r, &format!("{path}.role"))?,
            None => return Err(Invalid::field(format!("{path}.role"), "`role` is required")),
        };
        let content = m
            .get("content")
            .ok_or_else(|| Invalid::field(format!("{path}.content"), "`content` is required"))?;
        let content_path = format!("{path}.content");
        match role {
            "user" => user(content, &content_path, &mut out)?,
            "assistant" => out.extend(assistant(content, &content_path)?),
            "system" => out.push(json!({
                "role": "system",
                "content": text_of(content, &content_path)?,
            })),
            _ => {
                return Err(Invalid::field(
                    format!("{path}.role"),
                    "`role` must be `user` or `assistant`",
                ));
            }
        }
    }
    Ok(out)
}

/// The text of a string or an array of `text` blocks (blocks joined by a blank line).
fn text_of(v: &Value, path: &str) -> Result<String, Invalid> {
    if let Value::String(s) = v {
        return Ok(s.clone());
    }
    let mut texts = Vec::new();
    for (j, block) in array(v, path)?.iter().enumerate() {
        let bpath = format!("{path}[{j}]");
        let block = object(block, &bpath)?;
        match block.get("type").and_then(Value::as_str) {
            Some("text") => texts.push(block_text(block, &bpath)?),
            _ => return Err(Invalid::field(bpath, "only `text` blocks are allowed here")),
        }
    }
    Ok(texts.join("\n\n"))
}

/// A user turn: its `tool_result` blocks as `tool` messages, then the rest as one user message.
fn user(content: &Value, path: &str, out: &mut Vec<Value>) -> Result<(), Invalid> {
    let Some(blocks) = blocks(content, path)? else {
        out.push(json!({ "role": "user", "content": content }));
        return Ok(());
    };
    let mut parts = Vec::new();
    for (bpath, block) in blocks {
        match block_kind(block, &bpath)? {
            "tool_result" => out.push(tool_result(block, &bpath)?),
            "thinking" | "redacted_thinking" => {}
            _ => parts.extend(user_part(block, &bpath)?),
        }
    }
    if !parts.is_empty() {
        out.push(json!({ "role": "user", "content": simplify(parts) }));
    }
    Ok(())
}

/// Text-only parts as one string when there is one part, else the parts.
fn simplify(parts: Vec<Value>) -> Value {
    if let [only] = parts.as_slice()
        && only["type"] == "text"
    {
        return only["text"].clone();
    }
    Value::Array(parts)
}

/// The chat parts for one non-tool block of a user turn.
fn user_part(block: &Map<String, Value>, path: &str) -> Result<Vec<Value>, Invalid> {
    match block_kind(block, path)? {
        "text" => Ok(vec![
            json!({ "type": "text", "text": block_text(block, path)? }),
        ]),
        "image" => Ok(vec![image(block, path)?]),
        "document" => document(block, path),
        "tool_use" => Err(Invalid::field(
            path,
            "`tool_use` blocks belong in assistant turns",
        )),
        other => Err(unsupported(path, other)),
    }
}

/// A `tool_result` block as a `tool` message. `is_error: true` prefixes the text with `Error: `.
fn tool_result(block: &Map<String, Value>, path: &str) -> Result<Value, Invalid> {
    let id = field(block, "tool_use_id", path)?;
    let text = match block.get("content") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(content) => {
            let cpath = format!("{path}.content");
            let mut texts = Vec::new();
            for (bpath, b) in blocks(content, &cpath)?.unwrap_or_default() {
                match block_kind(b, &bpath)? {
                    "text" => texts.push(block_text(b, &bpath)?),
                    "image" => {
                        return Err(Invalid::field(
                            bpath,
                            "images inside `tool_result` are not supported by this provider \
                             (tool messages carry text only); put the image in a user text turn",
                        ));
                    }
                    other => return Err(unsupported(&bpath, other)),
                }
            }
            texts.join("\n")
        }
    };
    let is_error = block.get("is_error").and_then(Value::as_bool) == Some(true);
    let text = if is_error {
        format!("Error: {text}")
    } else {
        text
    };
    Ok(json!({ "role": "tool", "tool_call_id": id, "content": text }))
}

/// An assistant turn as one assistant message (none when nothing of it remains).
fn assistant(content: &Value, path: &str) -> Result<Option<Value>, Invalid> {
    let Some(blocks) = blocks(content, path)? else {
        return Ok(Some(json!({ "role": "assistant", "content": content })));
    };
    let mut parts = Vec::new();
    let mut calls = Vec::new();
    for (bpath, block) in blocks {
        match block_kind(block, &bpath)? {
            "text" => parts.push(json!({ "type": "text", "text": block_text(block, &bpath)? })),
            "tool_use" => calls.push(tool_use(block, &bpath)?),
            "thinking" | "redacted_thinking" => {}
            "tool_result" => {
                return Err(Invalid::field(
                    bpath,
                    "`tool_result` blocks belong in user turns",
                ));
            }
            other => return Err(unsupported(&bpath, other)),
        }
    }
    if parts.is_empty() && calls.is_empty() {
        return Ok(None);
    }
    let mut msg = json!({ "role": "assistant" });
    msg["content"] = if parts.is_empty() {
        Value::Null
    } else {
        simplify(parts)
    };
    if !calls.is_empty() {
        msg["tool_calls"] = Value::Array(calls);
    }
    Ok(Some(msg))
}

/// A `tool_use` block as a chat tool call (`input` serialised as the arguments).
fn tool_use(block: &Map<String, Value>, path: &str) -> Result<Value, Invalid> {
    let id = field(block, "id", path)?;
    let name = field(block, "name", path)?;
    let arguments = match block.get("input") {
        None | Some(Value::Null) => "{}".to_string(),
        Some(v) => v.to_string(),
    };
    Ok(json!({ "id": id, "type": "function", "function": {
        "name": name, "arguments": arguments,
    }}))
}
