//! The guard stage in the real gateway, with a test guard (tests/plugins/guard: redacts
//! `secret`, stops on `STOP`, traps on `TRAP`) in front of the project's mock upstream, whose
//! `mock-guard*` models answer in two choices and stream them interleaved, split mid-word, with
//! the second choice never finishing.

mod common;

use common::mock::Mock;
use common::{Gateway, KEY, auth_section, client, sse_data};
use serde_json::{Value, json};

fn config(mock: &Mock, on_error: &str) -> String {
    let models: String = ["mock-guard", "mock-guard-stop", "mock-guard-trap"]
        .iter()
        .map(|m| format!("\n[[models]]\nname = \"{m}\"\nprovider = \"mock\"\n"))
        .collect();
    format!(
        r#"{auth}
[[plugins]]
name = "guard"
stage = "guard"
source = "guard.wasm"
on_error = "{on_error}"

[[providers]]
name = "mock"
adapter = "openai"
base_url = "{url}/v1"
retries = 0
{models}"#,
        auth = auth_section(&[]),
        url = mock.url,
    )
}

fn start(mock: &Mock, on_error: &str) -> Gateway {
    Gateway::start_with_plugins(
        &config(mock, on_error),
        &[("sluice_test_guard.wasm", "guard.wasm")],
        &[],
    )
}

async fn chat(gw: &Gateway, body: Value) -> (u16, String) {
    let resp = client()
        .post(gw.at("/v1/chat/completions"))
        .bearer_auth(KEY)
        .json(&body)
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    (status, resp.text().await.expect("body"))
}

fn ask(model: &str, stream: bool, text: &str) -> Value {
    json!({"model": model, "stream": stream, "stream_options": {"include_usage": true},
           "messages": [{"role": "user", "content": text}]})
}

/// Each choice's text, joined from a stream's chunks; and every delta seen.
fn texts(events: &[String]) -> (Vec<String>, Vec<String>) {
    let mut joined = vec![String::new(), String::new()];
    let mut deltas = Vec::new();
    for e in events.iter().filter(|e| e.as_str() != "[DONE]") {
        let v: Value = serde_json::from_str(e).expect("json event");
        for c in v["choices"].as_array().into_iter().flatten() {
            let i = c["index"].as_u64().unwrap_or(0) as usize;
            if let Some(t) = c["delta"]["content"].as_str() {
                joined[i].push_str(t);
                deltas.push(t.to_string());
            }
        }
    }
    (joined, deltas)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_answers_and_requests_are_redacted() {
    let mock = Mock::start().await;
    let gw = start(&mock, "fail-closed");
    let (status, body) = chat(&gw, ask("mock-guard", false, "my secret plan")).await;
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["choices"][0]["message"]["content"], "the ****** is out");
    assert_eq!(v["choices"][1]["message"]["content"], "another ****** here");
    let seen = mock.seen();
    assert_eq!(seen[0].body["messages"][0]["content"], "my ****** plan");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_are_redacted_per_choice_across_chunks() {
    let mock = Mock::start().await;
    let gw = start(&mock, "fail-closed");
    let (status, body) = chat(&gw, ask("mock-guard", true, "hi")).await;
    assert_eq!(status, 200, "{body}");
    let events = sse_data(&body);
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"), "{body}");
    let (joined, deltas) = texts(&events);
    assert_eq!(joined[0], "the ****** is out");
    // Choice 1 never finished: what the guard held is sent when the stream ends.
    assert_eq!(joined[1], "another ****** here");
    for d in &deltas {
        assert!(!d.contains("sec") && !d.contains("cret"), "leaked: {d:?}");
    }
    // The usage chunk still closes the stream, after the held text.
    let last: Value = serde_json::from_str(&events[events.len() - 2]).expect("usage chunk");
    assert_eq!(last["usage"]["completion_tokens"], 3, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guard_stops_a_stream_and_refuses_a_whole_answer() {
    let mock = Mock::start().await;
    let gw = start(&mock, "fail-closed");
    let (status, body) = chat(&gw, ask("mock-guard-stop", true, "hi")).await;
    assert_eq!(status, 200, "the stream had started: {body}");
    let events = sse_data(&body);
    let last: Value = serde_json::from_str(events.last().expect("events")).expect("json");
    assert_eq!(last["error"]["code"], "stopped", "{body}");
    assert!(!body.contains("[DONE]"), "{body}");
    let (joined, _) = texts(&events[..events.len() - 1]);
    assert!(
        !joined[0].contains("ST"),
        "nothing of the match was sent: {joined:?}"
    );

    let (status, body) = chat(&gw, ask("mock-guard-stop", false, "hi")).await;
    assert_eq!(status, 422, "{body}");
    assert!(!body.contains("all fine"), "nothing of the answer: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_guard_fails_closed_by_default() {
    let mock = Mock::start().await;
    let gw = start(&mock, "fail-closed");
    // On the request: the provider is never called.
    let (status, body) = chat(&gw, ask("mock-guard", false, "TRAP")).await;
    assert_eq!(status, 500, "{body}");
    assert!(body.contains("guard"), "the error names the plugin: {body}");
    assert!(mock.seen().is_empty());
    // On a whole answer, and on a stream (which ends with the error).
    let (status, body) = chat(&gw, ask("mock-guard-trap", false, "hi")).await;
    assert_eq!(status, 500, "{body}");
    assert!(!body.contains("all fine"), "{body}");
    let (_, body) = chat(&gw, ask("mock-guard-trap", true, "hi")).await;
    let events = sse_data(&body);
    let last: Value = serde_json::from_str(events.last().expect("events")).expect("json");
    assert_eq!(last["error"]["type"], "server_error", "{body}");
    assert!(!body.contains("TR"), "{body}");
    // The gateway still serves.
    let (status, _) = chat(&gw, ask("mock-guard", false, "hello")).await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fail_open_guard_that_fails_is_skipped() {
    let mock = Mock::start().await;
    let gw = start(&mock, "fail-open");
    let (status, body) = chat(&gw, ask("mock-guard-trap", false, "hi")).await;
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(
        v["choices"][0]["message"]["content"],
        "all fine then TRAP here"
    );
    let (status, body) = chat(&gw, ask("mock-guard-trap", true, "hi")).await;
    assert_eq!(status, 200);
    let events = sse_data(&body);
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"), "{body}");
    let (joined, _) = texts(&events);
    assert_eq!(joined[0], "all fine then TRAP here");
    assert_eq!(joined[1], "ok");
}
