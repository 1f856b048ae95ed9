//! A raw MCP Streamable HTTP client for the gateway's tests: every header under the test's
//! control, answers parsed whether they come as JSON or as server-sent events.

use serde_json::{Value, json};

/// The protocol revision the tests speak.
pub const VERSION: &str = "2025-11-25";

/// A client of one gateway MCP endpoint with one key.
pub struct McpClient {
    /// `.../mcp-servers/{name}/mcp`.
    pub url: String,
    /// The bearer key.
    pub key: String,
    http: reqwest::Client,
}

/// An answer: the status, the session id header, and the JSON-RPC messages of the body (one
/// for JSON, every event's data for SSE) with their SSE event ids.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub session: Option<String>,
    pub content_type: String,
    pub messages: Vec<Value>,
    pub event_ids: Vec<Option<String>>,
    pub raw: String,
}

impl Answer {
    /// The last message (the answer of a request).
    pub fn last(&self) -> &Value {
        self.messages.last().unwrap_or(&Value::Null)
    }
}

impl McpClient {
    pub fn new(gateway_url: &str, server: &str, key: &str) -> McpClient {
        McpClient {
            url: format!("{gateway_url}/mcp-servers/{server}/mcp"),
            key: key.to_string(),
            http: super::client(),
        }
    }

    /// A POST with the headers the spec asks for, and `extra` ones (which replace them).
    pub async fn post_with(
        &self,
        session: Option<&str>,
        body: &Value,
        extra: &[(&str, &str)],
    ) -> Answer {
        let mut headers = reqwest::header::HeaderMap::new();
        let mut set = |k: &str, v: &str| {
            headers.insert(
                reqwest::header::HeaderName::from_bytes(k.as_bytes()).expect("name"),
                v.parse().expect("value"),
            );
        };
        set("accept", "application/json, text/event-stream");
        set("content-type", "application/json");
        set("mcp-protocol-version", VERSION);
        if let Some(s) = session {
            set("mcp-session-id", s);
        }
        for (k, v) in extra {
            set(k, v);
        }
        let req = self
            .http
            .post(&self.url)
            .bearer_auth(&self.key)
            .headers(headers);
        read(req.body(body.to_string()).send().await.expect("post")).await
    }

    pub async fn post(&self, session: Option<&str>, body: &Value) -> Answer {
        self.post_with(session, body, &[]).await
    }

    /// `initialize` then `notifications/initialized`; returns the session id.
    pub async fn initialize(&self) -> String {
        let a = self
            .post(
                None,
                &json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {"protocolVersion": VERSION, "capabilities": {"sampling": {}},
                       "clientInfo": {"name": "sluice-tests", "version": "1"}}}),
            )
            .await;
        assert_eq!(a.status, 200, "initialize: {}", a.raw);
        let sid = a.session.clone().expect("a session id");
        let n = self
            .post(
                Some(&sid),
                &json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
            )
            .await;
        assert_eq!(n.status, 202, "initialized: {}", n.raw);
        sid
    }

    /// `tools/call` of `name` with `arguments`.
    pub async fn call_tool(&self, session: &str, id: u64, name: &str, arguments: Value) -> Answer {
        self.post(
            Some(session),
            &json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": {"name": name, "arguments": arguments}}),
        )
        .await
    }

    /// Every tool name over every page of `tools/list`.
    pub async fn tool_names(&self, session: &str) -> Vec<String> {
        let mut names = Vec::new();
        let mut cursor: Option<String> = None;
        for id in 100.. {
            let params = match &cursor {
                Some(c) => json!({"cursor": c}),
                None => json!({}),
            };
            let a = self
                .post(
                    Some(session),
                    &json!({"jsonrpc": "2.0", "id": id, "method": "tools/list", "params": params}),
                )
                .await;
            let result = &a.last()["result"];
            for t in result["tools"].as_array().expect("tools") {
                names.push(t["name"].as_str().expect("name").to_string());
            }
            match result["nextCursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        names
    }

    /// A request with only the method and the key (for header checks).
    pub fn raw(&self, method: reqwest::Method) -> reqwest::RequestBuilder {
        self.http.request(method, &self.url).bearer_auth(&self.key)
    }
}

/// Reads a response whole into an [`Answer`].
pub async fn read(resp: reqwest::Response) -> Answer {
    let status = resp.status().as_u16();
    let session = resp
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let raw = resp.text().await.unwrap_or_default();
    let (mut messages, mut event_ids) = (Vec::new(), Vec::new());
    if content_type.starts_with("text/event-stream") {
        for event in raw.split("\n\n") {
            let data: Vec<&str> = event
                .lines()
                .filter_map(|l| l.strip_prefix("data: "))
                .collect();
            if data.is_empty() {
                continue;
            }
            let id = event
                .lines()
                .find_map(|l| l.strip_prefix("id: "))
                .map(str::to_string);
            messages.push(serde_json::from_str(&data.join("\n")).expect("event data is JSON"));
            event_ids.push(id);
        }
    } else if let Ok(v) = serde_json::from_str::<Value>(&raw) {
        messages.push(v);
        event_ids.push(None);
    }
    Answer {
        status,
        session,
        content_type,
        messages,
        event_ids,
        raw,
    }
}
