//! A mock OpenAI upstream for the multipart endpoints (`/v1/audio/transcriptions`,
//! `/v1/audio/translations`, `/v1/images/edits`, `/v1/images/variations`) and `/v1/moderations`.
//! It records every text field and every file's exact bytes, and answers:
//!
//! | request                                   | answer                                          |
//! |-------------------------------------------|-------------------------------------------------|
//! | transcription, `response_format` json     | `{"text", "usage": {input_tokens 14, output 3}}` |
//! | transcription, verbose_json               | `{"text", "duration": 8.5, ...}` (no usage)      |
//! | transcription, text / srt / vtt           | the transcript as `text/plain` / `text/plain` / `text/vtt` |
//! | transcription, `stream=true`              | two `transcript.text.delta` and a `done` event with usage, no `[DONE]` |
//! | translation                               | `{"text", "usage": {"type": "duration", "seconds": 4}}` |
//! | image edit                                | one b64 image, usage 50 in / 100 out             |
//! | image variation                           | one url image                                    |
//! | moderation                                | one unflagged result per input                   |

use axum::Router;
use axum::extract::{Multipart, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Bytes;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// One file part as the mock received it.
#[derive(Clone, Debug)]
pub struct FilePart {
    pub field: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub data: Bytes,
}

/// One recorded request.
#[derive(Clone, Debug, Default)]
pub struct Received {
    pub path: String,
    pub content_type: String,
    /// Text fields in order (name as sent, value).
    pub fields: Vec<(String, String)>,
    pub files: Vec<FilePart>,
    /// The JSON body (moderations).
    pub json: Value,
}

impl Received {
    /// The first text field named `name`.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

type Log = Arc<Mutex<Vec<Received>>>;

/// A running mock.
pub struct UploadMock {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    log: Log,
    _task: tokio::task::JoinHandle<()>,
}

impl UploadMock {
    pub async fn start() -> UploadMock {
        let log: Log = Arc::default();
        let app = Router::new()
            .route("/v1/audio/transcriptions", post(transcription))
            .route("/v1/audio/translations", post(translation))
            .route("/v1/images/edits", post(edit))
            .route("/v1/images/variations", post(variation))
            .route("/v1/moderations", post(moderation))
            .layer(axum::extract::DefaultBodyLimit::disable())
            .with_state(Arc::clone(&log));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind mock");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        UploadMock {
            url,
            log,
            _task: task,
        }
    }

    /// Requests received so far.
    pub fn received(&self) -> Vec<Received> {
        self.log.lock().expect("lock").clone()
    }
}

async fn record(
    log: &Log,
    path: &str,
    headers: &axum::http::HeaderMap,
    mut form: Multipart,
) -> Received {
    let mut r = Received {
        path: path.into(),
        content_type: headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .into(),
        ..Received::default()
    };
    while let Ok(Some(field)) = form.next_field().await {
        let name = field.name().unwrap_or("").to_string();
        let filename = field.file_name().map(str::to_string);
        let content_type = field.content_type().map(str::to_string);
        let data = field.bytes().await.expect("field bytes");
        if filename.is_some() {
            r.files.push(FilePart {
                field: name,
                filename,
                content_type,
                data,
            });
        } else {
            r.fields
                .push((name, String::from_utf8_lossy(&data).into_owned()));
        }
    }
    log.lock().expect("lock").push(r.clone());
    r
}

fn text(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

async fn transcription(
    State(log): State<Log>,
    headers: axum::http::HeaderMap,
    form: Multipart,
) -> Response {
    let r = record(&log, "/v1/audio/transcriptions", &headers, form).await;
    if r.field("stream") == Some("true") {
        let events = concat!(
            "data: {\"type\":\"transcript.text.delta\",\"delta\":\"mock \"}\n\n",
            "data: {\"type\":\"transcript.text.delta\",\"delta\":\"transcript\"}\n\n",
            "data: {\"type\":\"transcript.text.done\",\"text\":\"mock transcript\",",
            "\"usage\":{\"type\":\"tokens\",\"input_tokens\":14,\"output_tokens\":3,\"total_tokens\":17}}\n\n",
        );
        return text("text/event-stream", events);
    }
    match r.field("response_format").unwrap_or("json") {
        "text" => text("text/plain; charset=utf-8", "mock transcript\n"),
        "srt" => text(
            "text/plain; charset=utf-8",
            "1\n00:00:00,000 --> 00:00:01,500\nmock transcript\n\n",
        ),
        "vtt" => text(
            "text/vtt; charset=utf-8",
            "WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nmock transcript\n\n",
        ),
        "verbose_json" => axum::Json(json!({
            "task": "transcribe", "language": "english", "duration": 8.5,
            "text": "mock transcript", "segments": [],
        }))
        .into_response(),
        _ => axum::Json(json!({
            "text": "mock transcript",
            "usage": {"type": "tokens", "input_tokens": 14, "output_tokens": 3, "total_tokens": 17},
        }))
        .into_response(),
    }
}

async fn translation(
    State(log): State<Log>,
    headers: axum::http::HeaderMap,
    form: Multipart,
) -> Response {
    record(&log, "/v1/audio/translations", &headers, form).await;
    axum::Json(json!({"text": "mock translation", "usage": {"type": "duration", "seconds": 4}}))
        .into_response()
}

async fn edit(State(log): State<Log>, headers: axum::http::HeaderMap, form: Multipart) -> Response {
    record(&log, "/v1/images/edits", &headers, form).await;
    axum::Json(json!({
        "created": 1, "data": [{"b64_json": "iVBORw0KGgo="}],
        "usage": {"input_tokens": 50, "output_tokens": 100, "total_tokens": 150,
                  "input_tokens_details": {"text_tokens": 10, "image_tokens": 40}},
    }))
    .into_response()
}

async fn variation(
    State(log): State<Log>,
    headers: axum::http::HeaderMap,
    form: Multipart,
) -> Response {
    record(&log, "/v1/images/variations", &headers, form).await;
    axum::Json(json!({"created": 1, "data": [{"url": "https://images.example/1.png"}]}))
        .into_response()
}

async fn moderation(State(log): State<Log>, body: Bytes) -> Response {
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let n = json["input"].as_array().map_or(1, Vec::len);
    log.lock().expect("lock").push(Received {
        path: "/v1/moderations".into(),
        json: json.clone(),
        ..Received::default()
    });
    let result =
        json!({"flagged": false, "categories": {"hate": false}, "category_scores": {"hate": 0.0}});
    axum::Json(json!({"id": "modr-1", "model": json["model"], "results": vec![result; n]}))
        .into_response()
}
