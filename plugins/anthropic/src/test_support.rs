//! Helpers shared by the unit tests.

use sluice_plugin_sdk::{Provider, RequestCtx, SseEvent};

/// A request context for `endpoint`.
pub fn ctx(endpoint: &str, stream: bool) -> RequestCtx {
    RequestCtx {
        request_id: "req-1".into(),
        endpoint: endpoint.into(),
        method: "POST".into(),
        path: "/chat/completions".into(),
        model: "claude".into(),
        stream,
        user_id: None,
        key_id: None,
        headers: vec![],
    }
}

/// The provider `anthropic` with an optional key.
pub fn provider(key: Option<&str>) -> Provider {
    Provider {
        name: "anthropic".into(),
        base_url: "https://api.anthropic.com/v1".into(),
        api_key: key.map(str::to_string),
        upstream_model: "claude-sonnet-4-5".into(),
    }
}

/// Parses bytes as JSON.
pub fn json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body).expect("valid JSON")
}

/// Frames a recorded `text/event-stream` the way the host does: events end at a blank line,
/// `event:` names them, `data:` lines are joined by newlines.
pub fn parse_sse(text: &str) -> Vec<SseEvent> {
    let text = text.replace("\r\n", "\n");
    text.split("\n\n")
        .filter_map(|raw| {
            let mut event = None;
            let mut data: Vec<&str> = Vec::new();
            for line in raw.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    event = Some(v.trim().to_string());
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push(v.strip_prefix(' ').unwrap_or(v));
                }
            }
            (!data.is_empty()).then(|| SseEvent {
                event,
                data: data.join("\n"),
            })
        })
        .collect()
}

/// Usage as a comparable tuple: (prompt, completion, cached).
pub fn counts(u: Option<sluice_plugin_sdk::Usage>) -> Option<(u32, u32, u32)> {
    u.map(|u| (u.prompt_tokens, u.completion_tokens, u.cached_tokens))
}
