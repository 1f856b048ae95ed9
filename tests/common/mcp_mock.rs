//! A mock MCP server speaking Streamable HTTP on 127.0.0.1:0, with sessions of its own
//! (`up-1`, `up-2`, ...). Its tools:
//!
//! | tool             | answer                                                               |
//! |------------------|----------------------------------------------------------------------|
//! | `echo`           | JSON: the `text` argument back                                       |
//! | `delete_file`    | JSON: `deleted`                                                      |
//! | `slow_progress`  | SSE (event ids `ev-1`..): two progress notifications, then the result |
//! | `die_mid_stream` | SSE: one progress notification, then the connection breaks           |
//! | `leak_secret`    | JSON: a text containing `SECRET-123`                                 |
//!
//! `tools/list` comes in two pages (`nextCursor`). GET answers 405, unless it carries
//! `Last-Event-ID`: then one replayed event follows that id. Every request is recorded.

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Bytes;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One recorded request.
#[derive(Clone, Debug)]
pub struct McpSeen {
    /// HTTP method.
    pub http: String,
    /// The JSON-RPC method (empty for GET and DELETE).
    pub method: String,
    /// The body (Null for GET and DELETE).
    pub body: Value,
    /// Headers.
    pub headers: HeaderMap,
}

#[derive(Default)]
struct Shared {
    seen: Mutex<Vec<McpSeen>>,
    sessions: Mutex<Vec<String>>,
    next: AtomicU64,
}

/// A running mock MCP server.
pub struct McpMock {
    /// The MCP endpoint, `http://127.0.0.1:PORT/mcp`.
    pub url: String,
    shared: Arc<Shared>,
    _task: tokio::task::JoinHandle<()>,
}

impl McpMock {
    /// Starts the mock.
    pub async fn start() -> McpMock {
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .route("/mcp", post(on_post).get(on_get).delete(on_delete))
            .with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind mock");
        let url = format!("http://{}/mcp", listener.local_addr().expect("addr"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        McpMock {
            url,
            shared,
            _task: task,
        }
    }

    /// Requests seen so far.
    pub fn seen(&self) -> Vec<McpSeen> {
        self.shared.seen.lock().expect("lock").clone()
    }

    /// Sessions it issued and that were not deleted.
    pub fn sessions(&self) -> Vec<String> {
        self.shared.sessions.lock().expect("lock").clone()
    }
}

fn record(s: &Shared, http: &str, method: &str, body: Value, headers: &HeaderMap) {
    s.seen.lock().expect("lock").push(McpSeen {
        http: http.into(),
        method: method.into(),
        body,
        headers: headers.clone(),
    });
}

fn session_ok(s: &Shared, headers: &HeaderMap) -> bool {
    let sid = headers.get("mcp-session-id").and_then(|v| v.to_str().ok());
    sid.is_some_and(|sid| s.sessions.lock().expect("lock").iter().any(|x| x == sid))
}

fn json_reply(v: Value) -> Response {
    ([("content-type", "application/json")], v.to_string()).into_response()
}

fn sse(frames: Vec<Result<String, std::io::Error>>, delay: Duration) -> Response {
    let stream = futures::stream::iter(frames).then(move |f| async move {
        tokio::time::sleep(delay).await;
        f.map(Bytes::from)
    });
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from_stream(stream))
        .expect("response")
}

use futures::StreamExt;

async fn on_post(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let msg: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let method = msg["method"].as_str().unwrap_or_default().to_string();
    record(&s, "POST", &method, msg.clone(), &headers);
    let id = msg["id"].clone();
    if method == "initialize" {
        let sid = format!("up-{}", s.next.fetch_add(1, Ordering::Relaxed) + 1);
        s.sessions.lock().expect("lock").push(sid.clone());
        let result = json!({
            "protocolVersion": msg["params"]["protocolVersion"],
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "mock-mcp", "version": "1"},
        });
        let mut resp = json_reply(json!({"jsonrpc": "2.0", "id": id, "result": result}));
        resp.headers_mut()
            .insert("mcp-session-id", sid.parse().expect("sid"));
        return resp;
    }
    if !session_ok(&s, &headers) {
        return (StatusCode::NOT_FOUND, "unknown session").into_response();
    }
    if id.is_null() {
        return StatusCode::ACCEPTED.into_response();
    }
    let answer = |result: Value| json!({"jsonrpc": "2.0", "id": id, "result": result});
    let text = |t: &str| answer(json!({"content": [{"type": "text", "text": t}]}));
    match method.as_str() {
        "tools/list" => {
            let tool = |n: &str| json!({"name": n, "inputSchema": {"type": "object"}});
            if msg["params"]["cursor"] == "p2" {
                json_reply(answer(
                    json!({"tools": [tool("slow_progress"), tool("die_mid_stream"), tool("leak_secret")]}),
                ))
            } else {
                json_reply(answer(
                    json!({"tools": [tool("echo"), tool("delete_file")], "nextCursor": "p2"}),
                ))
            }
        }
        "tools/call" => {
            let token = msg["params"]["_meta"]["progressToken"].clone();
            let progress = |n: u32| {
                let p = json!({"jsonrpc": "2.0", "method": "notifications/progress",
                    "params": {"progressToken": token, "progress": n, "total": 2}});
                format!("id: ev-{n}\ndata: {p}\n\n")
            };
            match msg["params"]["name"].as_str().unwrap_or_default() {
                "echo" => json_reply(text(
                    msg["params"]["arguments"]["text"]
                        .as_str()
                        .unwrap_or_default(),
                )),
                "delete_file" => json_reply(text("deleted")),
                "leak_secret" => json_reply(text("the key is SECRET-123")),
                "slow_progress" => sse(
                    vec![
                        Ok(progress(1)),
                        Ok(progress(2)),
                        Ok(format!("id: ev-3\ndata: {}\n\n", text("done"))),
                    ],
                    Duration::from_millis(50),
                ),
                "die_mid_stream" => sse(
                    vec![
                        Ok(progress(1)),
                        Err(std::io::Error::other("the server died")),
                    ],
                    Duration::from_millis(50),
                ),
                other => json_reply(json!({"jsonrpc": "2.0", "id": id,
                    "error": {"code": -32602, "message": format!("Unknown tool: {other}")}})),
            }
        }
        "ping" => json_reply(answer(json!({}))),
        _ => json_reply(json!({"jsonrpc": "2.0", "id": id,
            "error": {"code": -32601, "message": "Method not found"}})),
    }
}

async fn on_get(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    record(&s, "GET", "", Value::Null, &headers);
    if !session_ok(&s, &headers) {
        return (StatusCode::NOT_FOUND, "unknown session").into_response();
    }
    match headers.get("last-event-id").and_then(|v| v.to_str().ok()) {
        None => StatusCode::METHOD_NOT_ALLOWED.into_response(),
        Some(last) => {
            let n = json!({"jsonrpc": "2.0", "method": "notifications/message",
                "params": {"level": "info", "data": format!("replayed after {last}")}});
            sse(
                vec![Ok(format!("id: {last}-next\ndata: {n}\n\n"))],
                Duration::ZERO,
            )
        }
    }
}

async fn on_delete(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    record(&s, "DELETE", "", Value::Null, &headers);
    let sid = headers
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    s.sessions.lock().expect("lock").retain(|x| *x != sid);
    StatusCode::OK.into_response()
}
