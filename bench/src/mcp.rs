//! The mock's MCP server: Streamable HTTP with JSON answers only, at any path ending in `/mcp`
//! (the gateway's config points at `/v1/mcp`). It is scenario 6's baseline, so it does as little
//! as it can:
//!
//! - `initialize` answers its result and a new `Mcp-Session-Id` (`bench-N`);
//! - every other POST needs a session id it issued (400 without one, 404 for an unknown one);
//! - a message without an `id` (`notifications/*`) gets 202;
//! - `tools/call` of `echo` answers `{"content":[{"type":"text","text": <arguments.text>}]}` at
//!   once; `tools/list` lists `echo`, `ping` answers `{}`, anything else a JSON-RPC error;
//! - GET gets 405 (no stream from the server), DELETE 200.

use crate::net::Body;
use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, Ordering};

/// The protocol revision answered when `initialize` names none.
const VERSION: &str = "2025-11-25";

/// Sessions issued so far: session `bench-N` is known when `1 <= N <= SESSIONS`.
static SESSIONS: AtomicU64 = AtomicU64::new(0);

/// A JSON-RPC message, as far as the mock reads it.
#[derive(Deserialize)]
struct Message {
    /// Absent (or null) for notifications.
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    method: String,
    #[serde(default)]
    params: Params,
}

/// The params the mock reads.
#[derive(Deserialize, Default)]
struct Params {
    /// `tools/call`: the tool.
    name: Option<String>,
    /// `tools/call`: its arguments.
    #[serde(default)]
    arguments: Arguments,
    /// `initialize`: the client's protocol revision.
    #[serde(rename = "protocolVersion")]
    protocol_version: Option<String>,
}

/// The arguments of `echo`.
#[derive(Deserialize, Default)]
struct Arguments {
    #[serde(default)]
    text: String,
}

/// Answers one request to the MCP endpoint.
pub async fn handle(req: Request<Incoming>) -> Response<Body> {
    match *req.method() {
        Method::POST => {}
        Method::DELETE => return respond(StatusCode::OK, None),
        _ => return respond(StatusCode::METHOD_NOT_ALLOWED, None),
    }
    let session = req.headers().get("mcp-session-id").cloned();
    let Ok(body) = req.into_body().collect().await.map(|b| b.to_bytes()) else {
        return respond(StatusCode::BAD_REQUEST, None);
    };
    let Ok(msg) = serde_json::from_slice::<Message>(&body) else {
        let e = json!({"jsonrpc": "2.0", "id": null,
            "error": {"code": -32700, "message": "Parse error"}});
        return respond(StatusCode::BAD_REQUEST, Some(e));
    };
    let id = msg.id.unwrap_or(Value::Null);
    let answer = |result: Value| json!({"jsonrpc": "2.0", "id": id, "result": result});
    if msg.method == "initialize" {
        let n = SESSIONS.fetch_add(1, Ordering::Relaxed) + 1;
        let version = msg.params.protocol_version.as_deref().unwrap_or(VERSION);
        let mut resp = respond(
            StatusCode::OK,
            Some(answer(json!({
                "protocolVersion": version,
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "sluice-bench-mock", "version": "1"},
            }))),
        );
        if let Ok(v) = HeaderValue::try_from(format!("bench-{n}")) {
            resp.headers_mut().insert("mcp-session-id", v);
        }
        return resp;
    }
    match session.as_ref().map(known) {
        None => return respond(StatusCode::BAD_REQUEST, None),
        Some(false) => return respond(StatusCode::NOT_FOUND, None),
        Some(true) => {}
    }
    if id.is_null() {
        return respond(StatusCode::ACCEPTED, None);
    }
    let error = |code: i32, message: String| json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}});
    let reply = match msg.method.as_str() {
        "tools/call" => match msg.params.name.as_deref() {
            Some("echo") => answer(json!({
                "content": [{"type": "text", "text": msg.params.arguments.text}],
            })),
            other => error(-32602, format!("Unknown tool: {}", other.unwrap_or(""))),
        },
        "tools/list" => answer(json!({"tools": [{
            "name": "echo",
            "description": "Answers its `text` argument.",
            "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}},
        }]})),
        "ping" => answer(json!({})),
        _ => error(-32601, "Method not found".into()),
    };
    respond(StatusCode::OK, Some(reply))
}

/// Whether `session` is one the mock issued.
fn known(session: &HeaderValue) -> bool {
    session
        .to_str()
        .ok()
        .and_then(|s| s.strip_prefix("bench-"))
        .and_then(|n| n.parse::<u64>().ok())
        .is_some_and(|n| n >= 1 && n <= SESSIONS.load(Ordering::Relaxed))
}

/// A response with `status` and, if given, a JSON body.
fn respond(status: StatusCode, json: Option<Value>) -> Response<Body> {
    let is_json = json.is_some();
    let body = json.map_or_else(Bytes::new, |v| Bytes::from(v.to_string()));
    let mut resp = Response::new(Full::new(body).map_err(|never| match never {}).boxed());
    *resp.status_mut() = status;
    if is_json {
        resp.headers_mut().insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_known_once_issued() {
        let n = SESSIONS.fetch_add(1, Ordering::Relaxed) + 1;
        let v = |s: &str| HeaderValue::try_from(s).expect("header");
        assert!(known(&v(&format!("bench-{n}"))));
        assert!(!known(&v(&format!("bench-{}", n + 1000))));
        assert!(!known(&v("bench-0")));
        assert!(!known(&v("up-1")));
    }

    #[test]
    fn messages_parse_with_and_without_params() {
        let m: Message = serde_json::from_str(
            r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}"#,
        )
        .expect("call");
        assert_eq!(m.params.arguments.text, "hi");
        assert_eq!(m.id, Some(json!(7)));
        let n: Message =
            serde_json::from_str(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
                .expect("notification");
        assert!(n.id.is_none());
    }
}
