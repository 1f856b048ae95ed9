//! `count_tokens`: an estimate of a Messages request's input tokens.
//!
//! The request is checked as [`super::request_to_chat`] checks its conversation and tools (the
//! sampling fields, `max_tokens` and `thinking` do not count and are not checked), then counted
//! on its translation:
//!
//! - text (system, messages, tool results, tool call names and inputs as JSON text, tool
//!   definitions as JSON text): one token per [`BYTES_PER_TOKEN`] bytes, rounded up;
//! - each image: [`IMAGE_TOKENS`];
//! - each PDF: its decoded size (base64 length × 3/4) at [`BYTES_PER_TOKEN`] bytes a token;
//! - each message: [`MESSAGE_TOKENS`] for its framing.
//!
//! It is an estimate: the provider's tokenizer decides the real count.

use super::request::{Mode, to_chat};
use crate::Invalid;
use serde_json::Value;

/// Bytes of text a token, about.
pub(super) const BYTES_PER_TOKEN: u64 = 4;
/// Tokens an image counts for (a mid-sized image at Anthropic's rate of width × height / 750).
pub(super) const IMAGE_TOKENS: u64 = 1600;
/// Tokens of framing each message counts for (role and separators).
pub(super) const MESSAGE_TOKENS: u64 = 3;

/// What the request holds: text bytes, images, PDF bytes, messages.
#[derive(Default)]
struct Tally {
    text: u64,
    images: u64,
    pdf: u64,
    messages: u64,
}

/// See [`super::count_tokens`].
pub(super) fn estimate(body: &Value) -> Result<u32, Invalid> {
    let chat = to_chat(body, Mode::Count)?;
    let mut tally = Tally::default();
    for m in chat
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        tally.messages += 1;
        content(m.get("content"), &mut tally);
        let calls = m.get("tool_calls").and_then(Value::as_array);
        for call in calls.into_iter().flatten() {
            let f = &call["function"];
            tally.text += len(&f["name"]) + len(&f["arguments"]);
        }
    }
    for t in chat
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        tally.text += t["function"].to_string().len() as u64;
    }
    let tokens = tally.text.div_ceil(BYTES_PER_TOKEN)
        + tally.pdf.div_ceil(BYTES_PER_TOKEN)
        + tally.images * IMAGE_TOKENS
        + tally.messages * MESSAGE_TOKENS;
    Ok(u32::try_from(tokens).unwrap_or(u32::MAX))
}

/// The byte length of a string value (0 for others).
fn len(v: &Value) -> u64 {
    v.as_str().map_or(0, |s| s.len() as u64)
}

/// Tallies a chat message's content (a string or parts).
fn content(content: Option<&Value>, tally: &mut Tally) {
    match content {
        Some(Value::String(s)) => tally.text += s.len() as u64,
        Some(Value::Array(parts)) => {
            for p in parts {
                match p["type"].as_str() {
                    Some("text") => tally.text += len(&p["text"]),
                    Some("image_url") => tally.images += 1,
                    Some("file") => {
                        let data = p["file"]["file_data"].as_str().unwrap_or_default();
                        let b64 = data.split_once(',').map_or(data, |(_, b)| b);
                        tally.pdf += b64.len() as u64 * 3 / 4;
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
}
