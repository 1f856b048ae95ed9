//! A mock OpenAI-compatible upstream on 127.0.0.1:0. What it does depends on the model asked for:
//!
//! | model               | answer                                                          |
//! |---------------------|-----------------------------------------------------------------|
//! | (any other)         | `Hello from mock` (JSON), or the same as SSE split at odd bytes |
//! | `mock-slow`         | waits 3 s before answering                                      |
//! | `mock-50ms`         | waits 50 ms before answering                                    |
//! | `mock-429-first`    | 429 (`retry-after: 1`) the first time it sees a prompt          |
//! | `mock-429`          | 429 in OpenAI's shape with `retry-after: 7`                     |
//! | `mock-500-html`     | 500 with an HTML body                                           |
//! | `mock-broken`       | a stream that breaks off after two chunks                       |
//! | `mock-bad-json`     | 200 with a body that is not JSON                                |
//! | `mock-422`          | 422 with a FastAPI-style validation body                        |
//! | `mock-truncated`    | a stream that ends cleanly but without `data: [DONE]`           |
//! | `mock-inband-error` | a stream with an error event after its first chunk              |
//! | `mock-guard-*`      | text for guard tests (see [`guard_deltas`]), in two choices     |
//!
//! Every request's JSON body and headers are recorded.

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Bytes;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One recorded request.
#[derive(Clone, Debug)]
pub struct Seen {
    pub path: String,
    pub body: Value,
    pub headers: HeaderMap,
}

/// A running mock upstream.
pub struct Mock {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    _task: tokio::task::JoinHandle<()>,
}

/// The usage the mock reports for every chat completion.
pub const USAGE: (u64, u64, u64) = (11, 3, 2);

impl Mock {
    /// Starts the mock.
    pub async fn start() -> Mock {
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let app = Router::new()
            .route("/v1/chat/completions", post(chat))
            .route("/v1/embeddings", post(embeddings))
            .with_state(Arc::clone(&seen));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind mock");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Mock {
            url,
            seen,
            _task: task,
        }
    }

    /// Requests seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }
}

type Seen_ = State<Arc<Mutex<Vec<Seen>>>>;

fn record(seen: &Seen_, path: &str, headers: &HeaderMap, body: &Bytes) -> Value {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    seen.lock().expect("lock").push(Seen {
        path: path.into(),
        body: v.clone(),
        headers: headers.clone(),
    });
    v
}

fn usage() -> Value {
    json!({
        "prompt_tokens": USAGE.0, "completion_tokens": USAGE.1,
        "total_tokens": USAGE.0 + USAGE.1,
        "prompt_tokens_details": { "cached_tokens": USAGE.2 },
    })
}

async fn embeddings(State(seen): Seen_, headers: HeaderMap, body: Bytes) -> Response {
    let v = record(&State(Arc::clone(&seen)), "/v1/embeddings", &headers, &body);
    axum::Json(json!({
        "object": "list", "model": v["model"],
        "data": [{ "object": "embedding", "index": 0, "embedding": [0.6, 0.8] }],
        "usage": { "prompt_tokens": 4, "total_tokens": 4 },
    }))
    .into_response()
}

async fn chat(State(seen): Seen_, headers: HeaderMap, body: Bytes) -> Response {
    let v = record(
        &State(Arc::clone(&seen)),
        "/v1/chat/completions",
        &headers,
        &body,
    );
    let model = v["model"].as_str().unwrap_or("").to_string();
    let stream = v["stream"].as_bool().unwrap_or(false);
    match model.as_str() {
        "mock-slow" => tokio::time::sleep(Duration::from_secs(3)).await,
        "mock-50ms" => tokio::time::sleep(Duration::from_millis(50)).await,
        // Rate limited the first time it sees a prompt, answered the next.
        "mock-429-first"
            if seen
                .lock()
                .expect("lock")
                .iter()
                .filter(|s| s.body["messages"] == v["messages"])
                .count()
                < 2 =>
        {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", "1")],
                axum::Json(json!({"error": {"message": "slow down", "type": "requests",
                    "param": null, "code": "rate_limit_exceeded"}})),
            )
                .into_response();
        }
        "mock-429" => {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", "7")],
                axum::Json(
                    json!({"error": {"message": "Rate limit reached for requests",
                    "type": "requests", "param": null, "code": "rate_limit_exceeded"}}),
                ),
            )
                .into_response();
        }
        "mock-500-html" => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                [("content-type", "text/html")],
                "<html>internal stack trace here</html>",
            )
                .into_response();
        }
        "mock-bad-json" => return (StatusCode::OK, "this is not json").into_response(),
        "mock-422" => {
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                axum::Json(
                    json!({"detail": [{"loc": ["body", "messages"], "msg": "field required"}]}),
                ),
            )
                .into_response();
        }
        _ => {}
    }
    let id = "chatcmpl-mock";
    if let Some(choices) = guard_deltas(&model) {
        return guard_answer(&model, &choices, stream);
    }
    if !stream {
        return axum::Json(json!({
            "id": id, "object": "chat.completion", "created": 1, "model": model,
            "choices": [{ "index": 0, "finish_reason": "stop",
                "message": { "role": "assistant", "content": "Hello from mock" } }],
            "usage": usage(),
        }))
        .into_response();
    }
    let include_usage = v["stream_options"]["include_usage"]
        .as_bool()
        .unwrap_or(false);
    let chunk = |delta: Value, finish: Value| {
        json!({ "id": id, "object": "chat.completion.chunk", "created": 1, "model": model,
            "choices": [{ "index": 0, "delta": delta, "finish_reason": finish }],
            "usage": null })
    };
    let mut events = vec![
        chunk(json!({"role": "assistant", "content": ""}), Value::Null),
        chunk(json!({"content": "Hello"}), Value::Null),
        chunk(json!({"content": " from"}), Value::Null),
        chunk(json!({"content": " mock"}), Value::Null),
        chunk(json!({}), json!("stop")),
    ];
    if include_usage {
        events.push(
            json!({ "id": id, "object": "chat.completion.chunk", "created": 1,
            "model": model, "choices": [], "usage": usage() }),
        );
    }
    if model == "mock-inband-error" {
        events.truncate(2);
        events.push(
            json!({"error": {"message": "overloaded", "type": "server_error", "code": null}}),
        );
    }
    let mut text = String::new();
    for e in &events {
        text.push_str(&format!("data: {e}\n\n"));
    }
    if model != "mock-truncated" {
        text.push_str("data: [DONE]\n\n");
    }
    let broken = model == "mock-broken";
    // Send the stream in pieces of 7 bytes, so events straddle reads.
    let bytes = Bytes::from(text);
    let pieces: Vec<Bytes> = (0..bytes.len())
        .step_by(7)
        .map(|i| bytes.slice(i..(i + 7).min(bytes.len())))
        .collect();
    let cut = if broken { pieces.len() / 3 } else { usize::MAX };
    let stream =
        futures::stream::iter(pieces.into_iter().enumerate()).then(move |(i, p)| async move {
            if i % 8 == 0 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            if i >= cut {
                return Err(std::io::Error::other("mock: the stream breaks off"));
            }
            Ok::<_, std::io::Error>(p)
        });
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

use futures::StreamExt;

/// The deltas of each choice of a `mock-guard-*` model, or none for other models. The streams
/// interleave the choices' deltas; choice 1 never finishes (no `finish_reason`).
pub fn guard_deltas(model: &str) -> Option<Vec<Vec<&'static str>>> {
    Some(match model {
        "mock-guard" => vec![
            vec!["the sec", "ret is out"],
            vec!["another se", "cret ", "here"],
        ],
        "mock-guard-stop" => vec![vec!["all fine", " then ST", "OP here"], vec!["ok"]],
        "mock-guard-trap" => vec![vec!["all fine", " then TR", "AP here"], vec!["ok"]],
        _ => return None,
    })
}

fn guard_answer(model: &str, choices: &[Vec<&str>], stream: bool) -> Response {
    if !stream {
        let choices: Vec<Value> = choices
            .iter()
            .enumerate()
            .map(|(i, deltas)| {
                json!({"index": i, "finish_reason": "stop",
                       "message": {"role": "assistant", "content": deltas.concat()}})
            })
            .collect();
        return axum::Json(json!({
            "id": "chatcmpl-guard", "object": "chat.completion", "created": 1, "model": model,
            "choices": choices, "usage": usage(),
        }))
        .into_response();
    }
    let chunk = |index: usize, delta: Value, finish: Value| {
        json!({"id": "chatcmpl-guard", "object": "chat.completion.chunk", "created": 1,
               "model": model,
               "choices": [{"index": index, "delta": delta, "finish_reason": finish}]})
    };
    let mut events = vec![
        chunk(0, json!({"role": "assistant", "content": ""}), Value::Null),
        chunk(1, json!({"role": "assistant", "content": ""}), Value::Null),
    ];
    let longest = choices.iter().map(Vec::len).max().unwrap_or(0);
    for step in 0..longest {
        for (i, deltas) in choices.iter().enumerate() {
            if let Some(d) = deltas.get(step) {
                events.push(chunk(i, json!({"content": d}), Value::Null));
            }
        }
    }
    events.push(chunk(0, json!({}), json!("stop")));
    events.push(
        json!({"id": "chatcmpl-guard", "object": "chat.completion.chunk", "created": 1,
                       "model": model, "choices": [], "usage": usage()}),
    );
    let mut text: String = events.iter().map(|e| format!("data: {e}\n\n")).collect();
    text.push_str("data: [DONE]\n\n");
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from(text))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}
