//! The pure parts of the plugin: reading the last user message and building the answers.

use serde_json::{Value, json};

/// What the adapter says before the user's text.
pub const PREFIX: &str = "v01 says: ";

/// The usage every answer reports: (prompt, completion, total).
pub const USAGE: (u32, u32, u32) = (3, 4, 7);

/// The text of the last `user` message of a chat completion body: its `content` string, or the
/// `text` of its `text` parts joined by newlines. Empty when there is no user message.
pub fn last_user_text(body: &Value) -> String {
    let Some(messages) = body.get("messages").and_then(Value::as_array) else {
        return String::new();
    };
    let Some(message) = messages
        .iter()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
    else {
        return String::new();
    };
    match message.get("content") {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter(|p| p.get("type").and_then(Value::as_str) == Some("text"))
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// The reply's content for a request body.
pub fn reply(body: &Value) -> String {
    format!("{PREFIX}{}", last_user_text(body))
}

/// OpenAI's `usage` object for [`USAGE`].
fn usage() -> Value {
    let (prompt, completion, total) = USAGE;
    json!({"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": total})
}

/// A whole `chat.completion` answering `content`.
pub fn completion(id: &str, model: &str, created: u64, content: &str) -> Value {
    json!({
        "id": id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content},
            "finish_reason": "stop",
        }],
        "usage": usage(),
    })
}

/// A `text/event-stream` body answering `content`: a role chunk, a content chunk, a finish chunk
/// (`finish_reason: "stop"`), a usage chunk (`choices: []`), then `data: [DONE]`.
pub fn stream(id: &str, model: &str, created: u64, content: &str) -> String {
    let chunk = |choices: Value| {
        json!({
            "id": id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": choices,
        })
    };
    let delta = |delta: Value, finish: Value| {
        chunk(json!([{"index": 0, "delta": delta, "finish_reason": finish}]))
    };
    let mut usage_chunk = chunk(json!([]));
    usage_chunk["usage"] = usage();
    let events = [
        delta(json!({"role": "assistant", "content": ""}), Value::Null),
        delta(json!({"content": content}), Value::Null),
        delta(json!({}), json!("stop")),
        usage_chunk,
    ];
    let mut body = String::new();
    for event in events {
        body.push_str("data: ");
        body.push_str(&event.to_string());
        body.push_str("\n\n");
    }
    body.push_str("data: [DONE]\n\n");
    body
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_last_user_message_is_read_as_text() {
        let body = json!({"messages": [
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": [
                {"type": "text", "text": "hello"},
                {"type": "image_url", "image_url": {"url": "https://x"}},
                {"type": "text", "text": "there"},
            ]},
            {"role": "system", "content": "late"},
        ]});
        assert_eq!(last_user_text(&body), "hello\nthere");
        assert_eq!(
            reply(&json!({"messages": [{"role": "user", "content": "hi"}]})),
            "v01 says: hi"
        );
        assert_eq!(last_user_text(&json!({"messages": []})), "");
        assert_eq!(last_user_text(&json!({"prompt": "x"})), "");
        assert_eq!(reply(&json!(null)), "v01 says: ");
    }

    #[test]
    fn completions_are_openai_shaped() {
        let c = completion("chatcmpl-v01-r1", "up-model", 7, "v01 says: hi");
        assert_eq!(c["object"], "chat.completion");
        assert_eq!(c["model"], "up-model");
        assert_eq!(c["choices"][0]["message"]["content"], "v01 says: hi");
        assert_eq!(c["choices"][0]["message"]["role"], "assistant");
        assert_eq!(c["choices"][0]["finish_reason"], "stop");
        assert_eq!(
            c["usage"],
            json!({"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7})
        );
    }

    #[test]
    fn streams_are_whole_events_ending_in_done() {
        let body = stream("chatcmpl-v01-r1", "up-model", 7, "v01 says: hi");
        let events: Vec<&str> = body
            .split("\n\n")
            .filter(|e| !e.is_empty())
            .map(|e| e.strip_prefix("data: ").unwrap())
            .collect();
        assert_eq!(events.len(), 5);
        assert_eq!(events[4], "[DONE]");
        let chunks: Vec<Value> = events[..4]
            .iter()
            .map(|e| serde_json::from_str(e).unwrap())
            .collect();
        assert!(
            chunks
                .iter()
                .all(|c| c["object"] == "chat.completion.chunk")
        );
        assert!(chunks.iter().all(|c| c["model"] == "up-model"));
        assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
        assert_eq!(chunks[1]["choices"][0]["delta"]["content"], "v01 says: hi");
        assert_eq!(chunks[1]["choices"][0]["finish_reason"], Value::Null);
        assert_eq!(chunks[2]["choices"][0]["finish_reason"], "stop");
        assert_eq!(chunks[3]["choices"], json!([]));
        assert_eq!(chunks[3]["usage"]["total_tokens"], 7);
        assert!(chunks[..3].iter().all(|c| c.get("usage").is_none()));
    }
}
