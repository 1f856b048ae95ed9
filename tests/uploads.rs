//! The multipart endpoints (`/audio/transcriptions`, `/audio/translations`, `/images/edits`,
//! `/images/variations`) and `/moderations` against the real binary and a mock upstream: what the
//! upstream receives (fields, the upstream model, each file's exact bytes), 401 before the body is
//! read, 413 over `server.max_upload_bytes`, 400 for what is missing or malformed, each
//! `response_format` passed through with its content type, a streamed transcript, usage rows with
//! audio seconds, and the temporary files gone afterwards. The SDK's view is in
//! tests/sdk/test_audio_images.py.

mod common;

use common::upload_mock::UploadMock;
use common::{Gateway, KEY, auth_section, client};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::time::Duration;

const ADMIN: &str = "sk-uploads-admin";

fn config(mock: &UploadMock) -> String {
    format!(
        r#"
[server]
max_upload_bytes = 100000

{auth}
[[providers]]
name = "mock"
adapter = "openai"
base_url = "{url}/v1"

[[models]]
name = "transcriber"
provider = "mock"
upstream_model = "gpt-4o-transcribe"

[[models]]
name = "gpt-image-1"
provider = "mock"

[[models]]
name = "omni-moderation-latest"
provider = "mock"
{echo}"#,
        auth = auth_section(&[]),
        url = mock.url,
        echo = common::ECHO,
    )
}

fn start(mock: &UploadMock) -> Gateway {
    Gateway::start_with(&config(mock), &[("SLUICE_ADMIN_KEY", ADMIN)])
}

/// Some bytes that are not text, so a mangled upload would show.
fn audio(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 251) as u8).collect()
}

fn file(data: &[u8], name: &str, mime: &str) -> Part {
    Part::bytes(data.to_vec())
        .file_name(name.to_string())
        .mime_str(mime)
        .expect("mime")
}

async fn post(gw: &Gateway, path: &str, form: Form) -> (u16, String, String) {
    let resp = client()
        .post(gw.at(path))
        .bearer_auth(KEY)
        .multipart(form)
        .send()
        .await
        .expect("send");
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (status, ct, resp.text().await.expect("body"))
}

fn json_of(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

#[tokio::test]
async fn the_upstream_gets_the_fields_the_upstream_model_and_the_exact_bytes() {
    let mock = UploadMock::start().await;
    let gw = start(&mock);
    let data = audio(70_001);
    // The model comes after the file: fields are read whatever their order.
    let form = Form::new()
        .part("file", file(&data, "talk.wav", "audio/wav"))
        .text("model", "transcriber")
        .text("language", "fr")
        .text("temperature", "0.2")
        .text("timestamp_granularities[]", "word")
        .text("timestamp_granularities[]", "segment")
        .text("user_id", "alice");
    let (status, ct, body) = post(&gw, "/v1/audio/transcriptions", form).await;
    assert_eq!(status, 200, "{body}");
    assert!(ct.starts_with("application/json"), "{ct}");
    let v = json_of(&body);
    assert_eq!(v["text"], "mock transcript");
    assert_eq!(v["sluice"]["provider"], "mock", "{v}");

    let seen = mock.received();
    let r = &seen[0];
    assert!(r.content_type.starts_with("multipart/form-data; boundary="));
    assert_eq!(r.field("model"), Some("gpt-4o-transcribe"));
    assert_eq!(r.field("language"), Some("fr"));
    assert_eq!(r.field("temperature"), Some("0.2"));
    let grains: Vec<&str> = r
        .fields
        .iter()
        .filter(|(k, _)| k == "timestamp_granularities[]")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(grains, ["word", "segment"]);
    assert_eq!(r.field("user_id"), None, "gateway-only fields stay behind");
    assert_eq!(r.files.len(), 1);
    assert_eq!(r.files[0].field, "file");
    assert_eq!(r.files[0].filename.as_deref(), Some("talk.wav"));
    assert_eq!(r.files[0].content_type.as_deref(), Some("audio/wav"));
    assert!(r.files[0].data == data, "the file's bytes arrive unchanged");

    // Several images, a mask, and a bare path.
    let form = Form::new()
        .text("model", "gpt-image-1")
        .text("prompt", "add a hat")
        .part("image[]", file(b"first-png", "a.png", "image/png"))
        .part("image[]", file(b"second-png", "b.png", "image/png"))
        .part("mask", file(b"mask-png", "m.png", "image/png"));
    let (status, _, body) = post(&gw, "/images/edits", form).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(json_of(&body)["data"][0]["b64_json"], "iVBORw0KGgo=");
    let r = mock.received().pop().expect("edit");
    assert_eq!(r.path, "/v1/images/edits");
    let names: Vec<(&str, &[u8])> = r
        .files
        .iter()
        .map(|f| (f.field.as_str(), &f.data[..]))
        .collect();
    assert_eq!(
        names,
        [
            ("image[]", &b"first-png"[..]),
            ("image[]", &b"second-png"[..]),
            ("mask", &b"mask-png"[..])
        ]
    );
    assert_eq!(r.field("prompt"), Some("add a hat"));

    let form = Form::new()
        .text("model", "gpt-image-1")
        .text("n", "2")
        .part("image", file(b"png", "v.png", "image/png"));
    let (status, _, body) = post(&gw, "/v1/images/variations", form).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        mock.received().pop().expect("variation").field("n"),
        Some("2")
    );

    // No file is left behind in the spool folder.
    let spool = gw.path().join("data/uploads");
    let left: Vec<_> = std::fs::read_dir(&spool).expect("spool").collect();
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test]
async fn each_response_format_passes_through_with_its_content_type() {
    let mock = UploadMock::start().await;
    let gw = start(&mock);
    for (format, content_type, start) in [
        ("text", "text/plain; charset=utf-8", "mock transcript\n"),
        ("srt", "text/plain; charset=utf-8", "1\n00:00:00,000 --> "),
        ("vtt", "text/vtt; charset=utf-8", "WEBVTT\n"),
        ("verbose_json", "application/json", "{"),
        ("json", "application/json", "{"),
    ] {
        let form = Form::new()
            .text("model", "transcriber")
            .text("response_format", format)
            .part("file", file(&audio(100), "a.mp3", "audio/mpeg"));
        let (status, ct, body) = post(&gw, "/v1/audio/transcriptions", form).await;
        assert_eq!(status, 200, "{format}: {body}");
        assert_eq!(ct, content_type, "{format}");
        assert!(body.starts_with(start), "{format}: {body}");
    }
}

#[tokio::test]
async fn a_streamed_transcript_and_usage_rows_with_audio_seconds() {
    let mock = UploadMock::start().await;
    let gw = start(&mock);
    let form = Form::new()
        .text("model", "transcriber")
        .text("stream", "true")
        .part("file", file(&audio(10), "a.wav", "audio/wav"));
    let (status, ct, body) = post(&gw, "/v1/audio/transcriptions", form).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(ct, "text/event-stream");
    let events = common::sse_chunks(&body);
    let types: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(
        types,
        [
            "transcript.text.delta",
            "transcript.text.delta",
            "transcript.text.done"
        ],
        "{body}"
    );
    assert_eq!(events.len(), 3, "no chat-shaped chunk is added: {body}");
    assert_eq!(events[2]["usage"]["input_tokens"], 14);
    assert!(
        events[2]["sluice"]["request_id"].is_string(),
        "metadata rides on done: {body}"
    );

    for (path, format) in [
        ("/v1/audio/transcriptions", "verbose_json"), // duration 8.5
        ("/v1/audio/translations", "json"),           // usage.seconds 4
    ] {
        let form = Form::new()
            .text("model", "transcriber")
            .text("response_format", format)
            .part("file", file(&audio(10), "a.wav", "audio/wav"));
        let (status, _, body) = post(&gw, path, form).await;
        assert_eq!(status, 200, "{body}");
    }
    let usage: Value = client()
        .get(gw.at("/admin/usage?group_by=model&since=1h"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .expect("usage")
        .json()
        .await
        .expect("json");
    let row = usage["data"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["group"] == "transcriber"))
        .cloned()
        .expect("transcriber row");
    assert_eq!(row["requests"], 3, "{row}");
    assert_eq!(row["audio_seconds"], 12.5, "{row}");
    assert_eq!(row["prompt_tokens"], 14, "the stream's tokens: {row}");
    assert_eq!(row["completion_tokens"], 3, "{row}");
    let metrics = client()
        .get(gw.at("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("sluice_audio_seconds_total{") && l.ends_with(" 12.5")),
        "{metrics}"
    );
}

#[tokio::test]
async fn auth_comes_before_the_body_and_limits_answer_in_openai_shape() {
    let mock = UploadMock::start().await;
    let gw = start(&mock);
    // A client that announces 50 MB and sends none of it hears 401 at once.
    let addr = gw.url.trim_start_matches("http://").to_string();
    let answer = tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let head = "POST /v1/audio/transcriptions HTTP/1.1\r\nhost: x\r\n\
                    authorization: Bearer sk-wrong\r\n\
                    content-type: multipart/form-data; boundary=b\r\n\
                    content-length: 52428800\r\n\r\n";
        s.write_all(head.as_bytes()).expect("write");
        let mut buf = [0u8; 512];
        let n = s.read(&mut buf).expect("an answer before any body byte");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    })
    .await
    .expect("join");
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");

    // Over max_upload_bytes (100000): 413, in OpenAI's shape, nothing sent upstream.
    let form = Form::new()
        .text("model", "transcriber")
        .part("file", file(&audio(100_001), "big.wav", "audio/wav"));
    let (status, _, body) = post(&gw, "/v1/audio/transcriptions", form).await;
    assert_eq!(status, 413, "{body}");
    let e = json_of(&body);
    assert_eq!(e["error"]["code"], "file_too_large");
    assert_eq!(e["error"]["param"], "file");

    // A missing file, a missing model, a broken body: 400 naming the field.
    let form = Form::new().text("model", "transcriber");
    let (status, _, body) = post(&gw, "/v1/audio/translations", form).await;
    assert_eq!(
        (status, json_of(&body)["error"]["param"].clone()),
        (400, json!("file"))
    );
    let form = Form::new().part("image", file(b"png", "v.png", "image/png"));
    let (status, _, body) = post(&gw, "/v1/images/variations", form).await;
    assert_eq!(
        (status, json_of(&body)["error"]["param"].clone()),
        (400, json!("model"))
    );
    let broken = "--b\r\ncontent-disposition: form-data; name=\"model\"\r\n\r\ntranscriber\r\n\
                  --b\r\ncontent-disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n\r\nabc";
    let resp = client()
        .post(gw.at("/v1/audio/transcriptions"))
        .bearer_auth(KEY)
        .header("content-type", "multipart/form-data; boundary=b")
        .body(broken)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 400);
    let e: Value = resp.json().await.expect("json");
    assert_eq!(e["error"]["code"], "invalid_multipart", "{e}");
    assert_eq!(e["error"]["param"], "file", "{e}");
    assert!(mock.received().is_empty(), "nothing reached the upstream");
    let left: Vec<_> = std::fs::read_dir(gw.path().join("data/uploads"))
        .expect("spool")
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test]
async fn moderations_are_json_and_default_their_model() {
    let mock = UploadMock::start().await;
    let gw = start(&mock);
    let resp = client()
        .post(gw.at("/v1/moderations"))
        .bearer_auth(KEY)
        .json(&json!({"input": ["a", "b"]}))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 200);
    let v: Value = resp.json().await.expect("json");
    assert_eq!(v["results"].as_array().map(Vec::len), Some(2), "{v}");
    let r = mock.received().pop().expect("moderation");
    assert_eq!(r.json["model"], "omni-moderation-latest");
    // The echo model answers offline, flagging what carries a marker.
    let resp = client()
        .post(gw.at("/moderations"))
        .bearer_auth(KEY)
        .json(&json!({"model": "echo", "input": "x [flag:hate]"}))
        .send()
        .await
        .expect("send");
    let v: Value = resp.json().await.expect("json");
    assert_eq!(v["results"][0]["categories"]["hate"], true, "{v}");
}
