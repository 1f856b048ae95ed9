//! Media blocks: `image` and `document` blocks to chat content parts.

use super::shape::{block_kind, block_text, blocks, field, source, unsupported};
use crate::Invalid;
use serde_json::{Map, Value, json};

/// An `image` block as an `image_url` part.
pub(super) fn image(block: &Map<String, Value>, path: &str) -> Result<Value, Invalid> {
    let (src, kind, spath) = source(block, path)?;
    let url = match kind {
        "base64" => {
            let media = field(src, "media_type", &spath)?;
            format!("data:{media};base64,{}", field(src, "data", &spath)?)
        }
        "url" => field(src, "url", &spath)?.to_string(),
        _ => {
            return Err(Invalid::field(
                spath,
                format!(
                    "image sources of type `{kind}` are not supported by this provider; send the image as base64 or a URL"
                ),
            ));
        }
    };
    Ok(json!({ "type": "image_url", "image_url": { "url": url } }))
}

/// A `document` block as chat parts: a PDF `file` part, or the text (and images) it holds.
pub(super) fn document(block: &Map<String, Value>, path: &str) -> Result<Vec<Value>, Invalid> {
    let (src, kind, spath) = source(block, path)?;
    match kind {
        "base64" => {
            let media = field(src, "media_type", &spath)?;
            if media != "application/pdf" {
                return Err(Invalid::field(
                    format!("{spath}.media_type"),
                    "base64 documents must be `application/pdf`",
                ));
            }
            let data = field(src, "data", &spath)?;
            Ok(vec![json!({ "type": "file", "file": {
                "filename": "document.pdf",
                "file_data": format!("data:application/pdf;base64,{data}"),
            }})])
        }
        "text" => Ok(vec![
            json!({ "type": "text", "text": field(src, "data", &spath)? }),
        ]),
        "content" => {
            let cpath = format!("{spath}.content");
            let content = src
                .get("content")
                .ok_or_else(|| Invalid::field(cpath.as_str(), "`content` is required"))?;
            if let Value::String(s) = content {
                return Ok(vec![json!({ "type": "text", "text": s })]);
            }
            let mut parts = Vec::new();
            for (bpath, b) in blocks(content, &cpath)?.unwrap_or_default() {
                match block_kind(b, &bpath)? {
                    "text" => parts.push(json!({ "type": "text", "text": block_text(b, &bpath)? })),
                    "image" => parts.push(image(b, &bpath)?),
                    other => return Err(unsupported(&bpath, other)),
                }
            }
            Ok(parts)
        }
        "url" => Err(Invalid::field(
            spath,
            "URL documents are not supported by this provider; send the PDF as base64",
        )),
        _ => Err(Invalid::field(
            spath,
            format!(
                "document sources of type `{kind}` are not supported by this provider; send the PDF as base64"
            ),
        )),
    }
}
