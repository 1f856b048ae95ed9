//! Message content: OpenAI content (a string or a list of parts) to Anthropic content blocks.

use serde_json::{Value, json};
use sluice_plugin_sdk::ErrorBody;

/// Image media types the Messages API accepts in `base64` sources.
const IMAGE_TYPES: [&str; 4] = ["image/jpeg", "image/png", "image/gif", "image/webp"];

/// A 400 naming `param`.
pub(crate) fn bad(param: &str, message: impl Into<String>) -> ErrorBody {
    ErrorBody::bad_request(message).with_param(param)
}

/// The `type` of a content part.
fn part_type(part: &Value) -> &str {
    part.get("type").and_then(Value::as_str).unwrap_or("")
}

/// A text block, or none for empty text (the Messages API refuses empty text blocks).
fn text_block(text: &str) -> Option<Value> {
    (!text.is_empty()).then(|| json!({ "type": "text", "text": text }))
}

/// The text of a part that must be text (`refusal` parts count as text too).
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

/// The text of a system or developer message: a string or text parts, joined by newlines.
pub(crate) fn system_text(content: Option<&Value>, param: &str) -> Result<String, ErrorBody> {
    match content {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Array(parts)) => {
            let mut texts = Vec::with_capacity(parts.len());
            for part in parts {
                if part_type(part) != "text" {
                    return Err(bad(param, "system messages may only hold text parts"));
                }
                texts.push(part_text(part, param)?);
            }
            Ok(texts.join("\n"))
        }
        Some(_) => Err(bad(param, "`content` must be a string or a list of parts")),
    }
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

/// An `image_url` part as an `image` block.
fn image_block(part: &Value, param: &str) -> Result<Value, ErrorBody> {
    let image = part.get("image_url");
    let url = image
        .and_then(|i| i.get("url"))
        .or(image)
        .and_then(Value::as_str)
        .ok_or_else(|| bad(param, "an `image_url` part needs `image_url.url`"))?;
    if url.starts_with("data:") {
        let (media_type, data) = parse_data_url(url)
            .ok_or_else(|| bad(param, "image data URLs must be `data:<type>;base64,<data>`"))?;
        if !IMAGE_TYPES.contains(&media_type) {
            return Err(bad(
                param,
                format!("Anthropic takes JPEG, PNG, GIF and WebP images, not `{media_type}`"),
            ));
        }
        return Ok(json!({
            "type": "image",
            "source": { "type": "base64", "media_type": media_type, "data": data },
        }));
    }
    if url.starts_with("https://") || url.starts_with("http://") {
        return Ok(json!({ "type": "image", "source": { "type": "url", "url": url } }));
    }
    Err(bad(
        param,
        "image URLs must be http(s) URLs or base64 data URLs",
    ))
}

/// A `file` part (a PDF as a base64 data URL) as a `document` block.
fn document_block(part: &Value, param: &str) -> Result<Value, ErrorBody> {
    let file = part.get("file").unwrap_or(&Value::Null);
    if file.get("file_id").is_some_and(|v| !v.is_null()) {
        return Err(bad(
            param,
            "OpenAI file ids are not supported by the anthropic provider; send `file_data`",
        ));
    }
    let data_url = file
        .get("file_data")
        .and_then(Value::as_str)
        .ok_or_else(|| bad(param, "a `file` part needs `file.file_data`"))?;
    let (media_type, data) = parse_data_url(data_url)
        .ok_or_else(|| bad(param, "`file_data` must be a base64 data URL"))?;
    if media_type != "application/pdf" {
        return Err(bad(
            param,
            format!("Anthropic takes PDF documents, not `{media_type}`"),
        ));
    }
    let mut block = json!({
        "type": "document",
        "source": { "type": "base64", "media_type": media_type, "data": data },
    });
    if let Some(name) = file.get("filename").and_then(Value::as_str) {
        block["title"] = json!(name);
    }
    Ok(block)
}

/// The blocks of a user message's content.
pub(crate) fn user_blocks(content: Option<&Value>, param: &str) -> Result<Vec<Value>, ErrorBody> {
    match content {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(text_block(s).into_iter().collect()),
        Some(Value::Array(parts)) => {
            let mut blocks = Vec::with_capacity(parts.len());
            for part in parts {
                match part_type(part) {
                    "text" => blocks.extend(text_block(part_text(part, param)?)),
                    "image_url" => blocks.push(image_block(part, param)?),
                    "file" => blocks.push(document_block(part, param)?),
                    "input_audio" => {
                        return Err(bad(param, "Anthropic models do not take audio input"));
                    }
                    other => {
                        return Err(bad(param, format!("unsupported content part `{other}`")));
                    }
                }
            }
            Ok(blocks)
        }
        Some(_) => Err(bad(param, "`content` must be a string or a list of parts")),
    }
}

/// The text blocks of an assistant message's content (text and refusal parts).
pub(crate) fn assistant_blocks(
    content: Option<&Value>,
    param: &str,
) -> Result<Vec<Value>, ErrorBody> {
    match content {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(text_block(s).into_iter().collect()),
        Some(Value::Array(parts)) => {
            let mut blocks = Vec::with_capacity(parts.len());
            for part in parts {
                match part_type(part) {
                    "text" | "refusal" => blocks.extend(text_block(part_text(part, param)?)),
                    other => {
                        return Err(bad(
                            param,
                            format!("assistant messages may hold text, not `{other}` parts"),
                        ));
                    }
                }
            }
            Ok(blocks)
        }
        Some(_) => Err(bad(param, "`content` must be a string or a list of parts")),
    }
}

/// The `content` of a `tool_result` block: a string, or text blocks for a list of text parts.
pub(crate) fn tool_result_content(
    content: Option<&Value>,
    param: &str,
) -> Result<Value, ErrorBody> {
    match content {
        None | Some(Value::Null) => Ok(json!("")),
        Some(Value::String(s)) => Ok(json!(s)),
        Some(Value::Array(parts)) => {
            let mut blocks = Vec::with_capacity(parts.len());
            for part in parts {
                if part_type(part) != "text" {
                    return Err(bad(param, "tool messages may only hold text parts"));
                }
                blocks.extend(text_block(part_text(part, param)?));
            }
            Ok(Value::Array(blocks))
        }
        Some(_) => Err(bad(param, "`content` must be a string or a list of parts")),
    }
}

#[cfg(test)]
mod tests;
