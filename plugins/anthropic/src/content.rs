//! Message content: OpenAI content (a string or a list of parts) to Anthropic content blocks.

use serde_json::{Value, json};
use sluice_plugin_sdk::ErrorBody;
use sluice_plugin_sdk::openai::{Content, Part, bad, parse_data_url};

/// Image media types the Messages API accepts in `base64` sources.
const IMAGE_TYPES: [&str; 4] = ["image/jpeg", "image/png", "image/gif", "image/webp"];

/// A text block, or none for empty text (the Messages API refuses empty text blocks).
fn text_block(text: &str) -> Option<Value> {
    (!text.is_empty()).then(|| json!({ "type": "text", "text": text }))
}

/// The text of a system or developer message: a string or text parts, joined by newlines.
pub(crate) fn system_text(content: Option<&Value>, param: &str) -> Result<String, ErrorBody> {
    Content::text_only(content, param, "system messages may only hold text parts")
}

/// An `image_url` part's URL as an `image` block.
fn image_block(url: &str, param: &str) -> Result<Value, ErrorBody> {
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
fn document_block(
    file_id: Option<&str>,
    file_data: Option<&str>,
    filename: Option<&str>,
    param: &str,
) -> Result<Value, ErrorBody> {
    if file_id.is_some() {
        return Err(bad(
            param,
            "OpenAI file ids are not supported by the anthropic provider; send `file_data`",
        ));
    }
    let data_url = file_data.ok_or_else(|| bad(param, "a `file` part needs `file.file_data`"))?;
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
    if let Some(name) = filename {
        block["title"] = json!(name);
    }
    Ok(block)
}

/// The blocks of a user message's content.
pub(crate) fn user_blocks(content: Option<&Value>, param: &str) -> Result<Vec<Value>, ErrorBody> {
    let parts = match Content::parse(content, param)? {
        Content::Text(s) => return Ok(text_block(s).into_iter().collect()),
        Content::Parts(parts) => parts,
    };
    let mut blocks = Vec::with_capacity(parts.len());
    for part in parts {
        match Part::parse(part, param)? {
            Part::Text(t) if !Part::is_refusal(part) => blocks.extend(text_block(t)),
            Part::ImageUrl(url) => blocks.push(image_block(url, param)?),
            Part::File {
                file_id,
                file_data,
                filename,
            } => blocks.push(document_block(file_id, file_data, filename, param)?),
            Part::InputAudio { .. } => {
                return Err(bad(param, "Anthropic models do not take audio input"));
            }
            _ => {
                let other = part.get("type").and_then(Value::as_str).unwrap_or("");
                return Err(bad(param, format!("unsupported content part `{other}`")));
            }
        }
    }
    Ok(blocks)
}

/// The text blocks of an assistant message's content (text and refusal parts).
pub(crate) fn assistant_blocks(
    content: Option<&Value>,
    param: &str,
) -> Result<Vec<Value>, ErrorBody> {
    let parts = match Content::parse(content, param)? {
        Content::Text(s) => return Ok(text_block(s).into_iter().collect()),
        Content::Parts(parts) => parts,
    };
    let mut blocks = Vec::with_capacity(parts.len());
    for part in parts {
        let kind = part.get("type").and_then(Value::as_str).unwrap_or("");
        if kind != "text" && kind != "refusal" {
            return Err(bad(
                param,
                format!("assistant messages may hold text, not `{kind}` parts"),
            ));
        }
        if let Part::Text(t) = Part::parse(part, param)? {
            blocks.extend(text_block(t));
        }
    }
    Ok(blocks)
}

/// The `content` of a `tool_result` block: a string, or text blocks for a list of text parts.
pub(crate) fn tool_result_content(
    content: Option<&Value>,
    param: &str,
) -> Result<Value, ErrorBody> {
    let parts = match Content::parse(content, param)? {
        Content::Text(s) => return Ok(json!(s)),
        Content::Parts(parts) => parts,
    };
    let mut blocks = Vec::with_capacity(parts.len());
    for part in parts {
        if part.get("type").and_then(Value::as_str) != Some("text") {
            return Err(bad(param, "tool messages may only hold text parts"));
        }
        if let Part::Text(t) = Part::parse(part, param)? {
            blocks.extend(text_block(t));
        }
    }
    Ok(Value::Array(blocks))
}

#[cfg(test)]
mod tests;
