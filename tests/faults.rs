//! The fault suite: an upstream that misbehaves on purpose (`common::evil`) and clients that do,
//! each with the outcome the client sees and the usage row the request leaves (every request that
//! reached the pipeline leaves exactly one).

mod common;

use common::evil::Evil;
use common::{Gateway, KEY, auth_section, client};
use serde_json::{Value, json};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const FAULTS: &[&str] = &[
    "reset-before-headers",
    "reset-mid-headers",
    "reset-mid-body",
    "stall",
    "one-byte-a-second",
    "oversized",
    "invalid-utf8",
    "short-length",
    "error-in-200",
    "stream-stall",
    "stream-reset",
    "firehose",
    "fine",
    "client-gone-waiting",
    "client-gone-streaming",
];

fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

fn config(evil: &Evil) -> String {
    let mut models = String::new();
    for name in FAULTS {
        let upstream = match *name {
            "client-gone-waiting" => "stall",
            "client-gone-streaming" => "stream-stall",
            other => other,
        };
        models.push_str(&format!(
            "[[models]]\nname = \"{name}\"\nprovider = \"evil\"\nupstream_model = \"{upstream}\"\n\n"
        ));
    }
    format!(
        r#"
{auth}
[[providers]]
name = "evil"
adapter = "openai"
base_url = "{url}/v1"
timeout_ms = 1500
retries = 0

[[providers]]
name = "refuses"
adapter = "openai"
base_url = "http://127.0.0.1:{dead}/v1"
retries = 0

[[models]]
name = "refused"
provider = "refuses"

{models}"#,
        auth = auth_section(&[]),
        url = evil.url,
        dead = closed_port(),
    )
}

async fn chat(gw: &Gateway, model: &str, stream: bool) -> reqwest::Response {
    client()
        .post(gw.at("/v1/chat/completions"))
        .bearer_auth(KEY)
        .json(&json!({"model": model, "stream": stream,
                      "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("the gateway answers")
}

/// The statuses of the usage rows of `model`, once `count` are written.
async fn rows(gw: &Gateway, model: &str, count: usize) -> Vec<i64> {
    common::usage_statuses(gw.path(), &format!("model = '{model}'"), count).await
}

/// Asserts a JSON error answer with `status` whose message contains `says`, and one usage row
/// of that status.
async fn fails(gw: &Gateway, model: &str, status: u16, says: &str) {
    let started = Instant::now();
    let r = chat(gw, model, false).await;
    assert_eq!(r.status(), status, "{model}");
    let v: Value = r.json().await.expect("a JSON error");
    let message = v["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(says), "{model}: {v}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{model}: answered within the provider's timeout, not the fault's length"
    );
    assert_eq!(rows(gw, model, 1).await, [i64::from(status)], "{model}");
}

#[tokio::test]
async fn every_upstream_fault_gets_a_clear_answer_and_one_usage_row() {
    let evil = Evil::start().await;
    let gw = Gateway::start(&config(&evil));
    fails(
        &gw,
        "refused",
        502,
        "Could not connect to the provider `refuses`",
    )
    .await;
    for model in [
        "reset-before-headers",
        "reset-mid-headers",
        "reset-mid-body",
        "short-length",
    ] {
        fails(&gw, model, 502, "provider `evil`").await;
    }
    fails(&gw, "stall", 504, "did not answer within 1500 ms").await;
    fails(
        &gw,
        "one-byte-a-second",
        504,
        "did not answer within 1500 ms",
    )
    .await;
    fails(&gw, "oversized", 502, "more than").await;
    fails(&gw, "invalid-utf8", 502, "provider `evil`").await;
    fails(
        &gw,
        "error-in-200",
        502,
        "The engine is currently overloaded.",
    )
    .await;
    // After all that the gateway serves as before.
    let r = chat(&gw, "fine", false).await;
    assert_eq!(r.status(), 200);
    assert_eq!(rows(&gw, "fine", 1).await, [200]);
}

/// The `data:` payloads of an event stream.
fn events(body: &str) -> Vec<Value> {
    common::sse_data(body)
        .iter()
        .filter(|d| d.as_str() != "[DONE]")
        .map(|d| serde_json::from_str(d).expect("JSON event"))
        .collect()
}

#[tokio::test]
async fn a_stream_that_stalls_or_breaks_ends_with_an_error_event_and_a_row() {
    let evil = Evil::start().await;
    let gw = Gateway::start(&config(&evil));
    for (model, says, status) in [
        ("stream-stall", "did not answer within 1500 ms", 504),
        ("stream-reset", "broke off", 502),
    ] {
        let r = chat(&gw, model, true).await;
        assert_eq!(r.status(), 200, "{model}: the stream had started");
        let body = r.text().await.expect("the stream ends");
        let ev = events(&body);
        assert_eq!(
            ev[0]["choices"][0]["delta"]["content"], "first",
            "{model}: {body}"
        );
        let last = ev.last().expect("events");
        let message = last["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{model}: {body}");
        assert_eq!(rows(&gw, model, 1).await, [status], "{model}");
    }
}

/// Resident memory of `pid`, in KB.
fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn a_slow_reader_holds_back_the_upstream_and_memory_stays_bounded() {
    let evil = Evil::start().await;
    let gw = Gateway::start(&config(&evil));
    let before = rss_kb(gw.pid());
    let mut r = chat(&gw, "firehose", true).await;
    assert_eq!(r.status(), 200);
    // The client reads nothing for a while: the upstream's writes stall once the buffers on the
    // way (sockets, the gateway's channel) are full.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let held = evil.firehose_sent.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let later = evil.firehose_sent.load(Ordering::SeqCst);
    assert_eq!(held, later, "the upstream is held back");
    let total = 200_000 * 1000;
    assert!(
        held < 32 << 20,
        "at most buffers' worth in flight: {held} of {total} bytes"
    );
    assert!(
        rss_kb(gw.pid()) < before + 64 * 1024,
        "the gateway holds no more than buffers: {} KB, {} KB before",
        rss_kb(gw.pid()),
        before
    );
    // Then it reads everything, and the stream completes.
    let mut bytes = 0usize;
    let mut tail = Vec::new();
    while let Some(chunk) = r.chunk().await.expect("chunk") {
        bytes += chunk.len();
        tail = chunk.to_vec();
    }
    assert!(bytes > total / 2, "{bytes}");
    assert!(String::from_utf8_lossy(&tail).contains("[DONE]"));
    assert_eq!(rows(&gw, "firehose", 1).await, [200]);
}

#[tokio::test]
async fn a_client_that_goes_away_at_any_stage_leaves_the_gateway_serving_and_rows_right() {
    let evil = Evil::start().await;
    let gw = Gateway::start(&config(&evil));
    let addr = gw.url.trim_start_matches("http://").to_string();
    let body =
        json!({"model": "fine", "messages": [{"role": "user", "content": "hi"}]}).to_string();

    // Mid-head and mid-body: the connection closes before the request is whole. Nothing reaches
    // the upstream, and no row is written for a request that never was.
    for cut in [40, 200] {
        let mut tcp = tokio::net::TcpStream::connect(&addr)
            .await
            .expect("connect");
        let head = format!(
            "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {KEY}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        tcp.write_all(&head.as_bytes()[..cut.min(head.len() - 10)])
            .await
            .expect("write");
        drop(tcp);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(evil.requests.load(Ordering::SeqCst), 0);

    // While the upstream thinks: the client gives up; the row says 499.
    let gone = client()
        .post(gw.at("/v1/chat/completions"))
        .bearer_auth(KEY)
        .timeout(Duration::from_millis(300))
        .json(&json!({"model": "client-gone-waiting", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await;
    assert!(gone.is_err());
    assert_eq!(rows(&gw, "client-gone-waiting", 1).await, [499]);

    // Mid-stream: the client reads the first chunk and leaves.
    let mut tcp = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let body = json!({"model": "client-gone-streaming", "stream": true,
                      "messages": [{"role": "user", "content": "hi"}]})
    .to_string();
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {KEY}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    tcp.write_all(head.as_bytes()).await.expect("write");
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("first") {
        let n = tcp.read(&mut buf).await.expect("read");
        assert!(n > 0, "the stream started");
        seen.extend_from_slice(&buf[..n]);
    }
    drop(tcp);
    assert_eq!(rows(&gw, "client-gone-streaming", 1).await, [499]);

    // And the gateway serves as before.
    assert_eq!(chat(&gw, "fine", false).await.status(), 200);
    assert_eq!(rows(&gw, "fine", 1).await, [200]);
}
