//! The router in-process: `sluice::app(state)` driven with `tower::ServiceExt::oneshot` against the
//! project's mock upstream. Retries, fallbacks, stream framing, error mapping, the metadata
//! object, auth before the body and the usage rows, without a spawned binary.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::mock::{Mock, USAGE};
use common::{KEY, auth_section, joined_content, sse_chunks, sse_data};
use futures::StreamExt;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sluice::config::Config;
use sluice::state::{AppState, Gateway};
use tower::ServiceExt;

fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A gateway over `mock`, built in this process, and the folder that holds its config and data.
async fn gateway(mock: &Mock) -> (AppState, tempfile::TempDir) {
    let text = format!(
        r#"
{auth}
[[providers]]
name = "refuses"
adapter = "openai"
base_url = "http://127.0.0.1:{dead}/v1"
retries = 0

[[providers]]
name = "flaky"
adapter = "openai"
base_url = "{mock}/v1"
retries = 1
retry_backoff_ms = 5

[[providers]]
name = "good"
adapter = "openai"
base_url = "{mock}/v1"
retries = 2

[[models]]
name = "resilient"
deployments = [
  {{ provider = "refuses" }},
  {{ provider = "flaky", upstream_model = "mock-500-html" }},
  {{ provider = "good", upstream_model = "mock-model" }},
]

[[models]]
name = "limited-then-good"
deployments = [
  {{ provider = "good", upstream_model = "mock-429" }},
  {{ provider = "flaky", upstream_model = "mock-model" }},
]

[[models]]
name = "plain"
provider = "good"
upstream_model = "mock-model"

[[models]]
name = "html-errors"
provider = "flaky"
upstream_model = "mock-500-html"

[[models]]
name = "strict"
provider = "good"
upstream_model = "mock-422"

[[models]]
name = "not-json"
provider = "good"
upstream_model = "mock-bad-json"

[[models]]
name = "truncated"
provider = "good"
upstream_model = "mock-truncated"
"#,
        auth = auth_section(&["plain"]),
        dead = closed_port(),
        mock = mock.url,
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("gateway.toml");
    std::fs::write(&file, &text).expect("write config");
    let config = Config::load(&file).expect("valid config");
    (Gateway::start(config).await.expect("gateway"), dir)
}

fn chat(model: &str, stream: bool) -> Request<Body> {
    post(
        "/v1/chat/completions",
        Some(KEY),
        json!({ "model": model, "stream": stream,
                "messages": [{ "role": "user", "content": "hi" }] })
        .to_string(),
    )
}

fn post(path: &str, key: Option<&str>, body: impl Into<Body>) -> Request<Body> {
    let mut b = Request::post(path).header("content-type", "application/json");
    if let Some(k) = key {
        b = b.header("authorization", format!("Bearer {k}"));
    }
    b.body(body.into()).expect("request")
}

/// Status, headers and body text of one request through the router.
async fn send(gw: &AppState, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
    let resp = sluice::app(gw.clone())
        .oneshot(req)
        .await
        .expect("infallible");
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await.expect("body").to_bytes();
    (
        parts.status,
        parts.headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

fn models_seen(mock: &Mock) -> Vec<String> {
    mock.seen()
        .iter()
        .map(|s| s.body["model"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn retries_then_falls_back_and_says_who_answered() {
    let mock = Mock::start().await;
    let (gw, _dir) = gateway(&mock).await;
    let (status, headers, body) = send(&gw, chat("resilient", false)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // `refuses` cannot be reached; `flaky` answers 500 twice (one retry); `good` answers.
    assert_eq!(
        models_seen(&mock),
        ["mock-500-html", "mock-500-html", "mock-model"]
    );
    assert_eq!(headers["x-sluice-provider"], "good");
    let v: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["choices"][0]["message"]["content"], "Hello from mock");
    // The metadata object names the request and the deployment that answered.
    assert_eq!(
        v["sluice"]["request_id"],
        headers["x-request-id"].to_str().expect("ascii")
    );
    assert_eq!(v["sluice"]["provider"], "good");
    assert_eq!(v["sluice"]["model"], "mock-model");
    assert!(headers.contains_key("x-sluice-overhead-us"));
}

#[tokio::test]
async fn a_long_rate_limit_falls_back_at_once() {
    let mock = Mock::start().await;
    let (gw, _dir) = gateway(&mock).await;
    let (status, headers, _) = send(&gw, chat("limited-then-good", false)).await;
    assert_eq!(status, StatusCode::OK);
    // retry-after: 7 is not worth two quick retries: one call, then the next deployment.
    assert_eq!(models_seen(&mock), ["mock-429", "mock-model"]);
    assert_eq!(headers["x-sluice-provider"], "flaky");
}

#[tokio::test]
async fn upstream_errors_are_mapped_without_internals() {
    let mock = Mock::start().await;
    let (gw, _dir) = gateway(&mock).await;
    let (status, _, body) = send(&gw, chat("html-errors", false)).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert!(!body.contains("stack trace"), "{body}");
    let v: Value = serde_json::from_str(&body).expect("OpenAI error shape");
    assert_eq!(v["error"]["type"], "upstream_error");

    let (status, _, body) = send(&gw, chat("strict", false)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let v: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["error"]["code"], "unprocessable_entity");

    let (status, _, body) = send(&gw, chat("not-json", false)).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert!(body.contains("invalid JSON"), "{body}");
}

#[tokio::test]
async fn streams_are_reframed_with_metadata_last_and_done() {
    let mock = Mock::start().await;
    let (gw, _dir) = gateway(&mock).await;
    let (status, headers, body) = send(&gw, chat("plain", true)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "text/event-stream");
    // The mock sends 7-byte pieces; the client gets whole events.
    let data = sse_data(&body);
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"));
    let chunks = sse_chunks(&body);
    assert_eq!(joined_content(&chunks), "Hello from mock");
    // The host asked for usage for itself; the client did not, so the usage chunk is gone and
    // a metadata-only chunk closes the stream.
    let last = chunks.last().expect("chunks");
    assert_eq!(last["choices"], json!([]));
    assert!(last.get("usage").is_none(), "{last}");
    assert_eq!(last["sluice"]["provider"], "good");
    assert_eq!(mock.seen()[0].body["stream_options"]["include_usage"], true);
}

#[tokio::test]
async fn a_stream_without_done_ends_with_an_error_event() {
    let mock = Mock::start().await;
    let (gw, _dir) = gateway(&mock).await;
    let (status, _, body) = send(&gw, chat("truncated", true)).await;
    assert_eq!(status, StatusCode::OK, "headers were sent before the end");
    let data = sse_data(&body);
    assert_ne!(data.last().map(String::as_str), Some("[DONE]"));
    let last: Value = serde_json::from_str(data.last().expect("events")).expect("json");
    assert_eq!(last["error"]["type"], "upstream_error");
}

#[tokio::test]
async fn the_key_is_checked_before_the_body_is_read() {
    let mock = Mock::start().await;
    let (gw, _dir) = gateway(&mock).await;
    // A wrong key with a malformed body: 401, not a JSON error.
    let (status, _, body) = send(&gw, post("/v1/chat/completions", Some("sk-wrong"), "{")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    // No key, and a body that fails if anyone reads it: 401 all the same.
    let poisoned = Body::from_stream(futures::stream::once(async {
        Err::<bytes::Bytes, _>(std::io::Error::other("the body was read"))
    }));
    let (status, _, _) = send(&gw, post("/v1/embeddings", None, poisoned)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // With the key, the same malformed body is the client's 400.
    let (status, _, _) = send(&gw, post("/v1/chat/completions", Some(KEY), "{")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(mock.seen().is_empty());
}

#[tokio::test]
async fn long_user_ids_are_refused_and_usage_is_recorded_per_request() {
    let mock = Mock::start().await;
    let (gw, _dir) = gateway(&mock).await;
    let body = |user: &str| {
        json!({ "model": "plain", "user_id": user,
                "messages": [{ "role": "user", "content": "hi" }] })
        .to_string()
    };
    let (status, _, text) = send(
        &gw,
        post("/v1/chat/completions", Some(KEY), body(&"u".repeat(257))),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let v: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(v["error"]["param"], "user_id");
    let (status, _, _) = send(&gw, post("/v1/chat/completions", Some(KEY), body("ann"))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(mock.seen()[0].body.get("user_id").is_none());

    let rows = common::usage_totals(&gw, "user").await;
    let ann = rows.iter().find(|r| r.group == "ann").expect("ann's row");
    assert_eq!((ann.requests, ann.errors), (1, 0));
    assert_eq!(ann.prompt_tokens, USAGE.0);
    // The refused request has its row too, as an error, with no user id stored.
    let refused: u64 = rows
        .iter()
        .filter(|r| r.group.is_empty())
        .map(|r| r.errors)
        .sum();
    assert_eq!(refused, 1);
}

#[tokio::test]
async fn a_body_that_stops_arriving_gets_408() {
    let mock = Mock::start().await;
    let (gw, dir) = gateway(&mock).await;
    // The same gateway with a short body deadline.
    let file = dir.path().join("gateway.toml");
    let text = std::fs::read_to_string(&file).expect("config");
    std::fs::write(
        &file,
        format!("[server]\nbody_read_timeout_ms = 200\n{text}"),
    )
    .expect("write");
    drop(gw);
    let gw = Gateway::start(Config::load(&file).expect("valid"))
        .await
        .expect("gateway");
    // Half a JSON body, then nothing.
    let stalled = Body::from_stream(
        futures::stream::once(async { Ok::<_, std::io::Error>(bytes::Bytes::from("{\"model\"")) })
            .chain(futures::stream::pending()),
    );
    let (status, _, text) = send(&gw, post("/v1/chat/completions", Some(KEY), stalled)).await;
    assert_eq!(status, StatusCode::REQUEST_TIMEOUT, "{text}");
    let v: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(v["error"]["code"], "request_timeout");
}
