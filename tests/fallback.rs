//! Routing resilience: retries with backoff, fallback to the next deployment, per-provider
//! timeouts, and no retry once a stream has started.

mod common;

use common::mock::Mock;
use common::{Gateway, KEY, auth_section, client, joined_content, sse_chunks, sse_data};
use serde_json::{Value, json};

fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

fn config(mock: &Mock) -> String {
    format!(
        r#"
{auth}
[[providers]]
name = "refuses"
adapter = "openai"
base_url = "http://127.0.0.1:{dead}/v1"
retries = 1
retry_backoff_ms = 10

[[providers]]
name = "flaky"
adapter = "openai"
base_url = "{mock}/v1"
retries = 1
retry_backoff_ms = 10

[[providers]]
name = "slow"
adapter = "openai"
base_url = "{mock}/v1"
timeout_ms = 300
retries = 0

[[providers]]
name = "good"
adapter = "openai"
base_url = "{mock}/v1"

[[models]]
name = "resilient"
deployments = [
  {{ provider = "refuses" }},
  {{ provider = "flaky", upstream_model = "mock-500-html" }},
  {{ provider = "slow", upstream_model = "mock-slow" }},
  {{ provider = "good", upstream_model = "mock-model" }},
]

[[models]]
name = "breaks-mid-stream"
deployments = [
  {{ provider = "flaky", upstream_model = "mock-broken" }},
  {{ provider = "good", upstream_model = "mock-model" }},
]

[[models]]
name = "refused-request"
deployments = [
  {{ provider = "flaky", upstream_model = "mock-422" }},
  {{ provider = "good", upstream_model = "mock-model" }},
]

[[models]]
name = "all-down"
deployments = [
  {{ provider = "refuses" }},
  {{ provider = "slow", upstream_model = "mock-slow" }},
]
"#,
        auth = auth_section(&[]),
        mock = mock.url,
        dead = closed_port(),
    )
}

async fn chat(
    gw: &Gateway,
    model: &str,
    stream: bool,
) -> (u16, reqwest::header::HeaderMap, String) {
    let r = client()
        .post(gw.at("/v1/chat/completions"))
        .bearer_auth(KEY)
        .json(&json!({ "model": model, "stream": stream, "messages": [{ "role": "user", "content": "hi" }] }))
        .send()
        .await
        .expect("request");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.text().await.expect("body"))
}

fn count(mock: &Mock, model: &str) -> usize {
    mock.seen()
        .iter()
        .filter(|s| s.body["model"] == model)
        .count()
}

#[tokio::test]
async fn failures_before_the_first_byte_retry_then_fall_back() {
    let mock = Mock::start().await;
    let gw = Gateway::start(&config(&mock));
    let (status, headers, text) = chat(&gw, "resilient", false).await;
    assert_eq!(status, 200, "{text}");
    let v: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(v["choices"][0]["message"]["content"], "Hello from mock");
    assert_eq!(
        v["sluice"]["provider"], "good",
        "the metadata names the deployment that answered"
    );
    assert_eq!(headers["x-sluice-provider"], "good");
    assert_eq!(
        count(&mock, "mock-500-html"),
        2,
        "a 5xx is retried once on its provider"
    );
    assert_eq!(
        count(&mock, "mock-slow"),
        1,
        "a timeout moves on (retries = 0)"
    );
    assert_eq!(count(&mock, "mock-model"), 1);

    // Streams fall back the same way before their first byte.
    let (status, _, text) = chat(&gw, "resilient", true).await;
    assert_eq!(status, 200);
    assert_eq!(joined_content(&sse_chunks(&text)), "Hello from mock");
}

#[tokio::test]
async fn a_stream_that_breaks_after_starting_is_not_retried() {
    let mock = Mock::start().await;
    let gw = Gateway::start(&config(&mock));
    let (status, _, text) = chat(&gw, "breaks-mid-stream", true).await;
    assert_eq!(status, 200);
    let data = sse_data(&text);
    assert!(!data.iter().any(|d| d == "[DONE]"), "{text}");
    let last: Value = serde_json::from_str(data.last().expect("events")).expect("json");
    assert!(
        last["error"].is_object(),
        "the stream ends with an error event: {text}"
    );
    assert_eq!(
        count(&mock, "mock-broken"),
        1,
        "no retry once the stream started"
    );
    assert_eq!(
        count(&mock, "mock-model"),
        0,
        "no second answer from another deployment"
    );
}

#[tokio::test]
async fn client_errors_are_not_retried_and_total_failure_reports_the_last_error() {
    let mock = Mock::start().await;
    let gw = Gateway::start(&config(&mock));
    let (status, _, text) = chat(&gw, "refused-request", false).await;
    assert_eq!(status, 422, "{text}");
    assert_eq!(count(&mock, "mock-422"), 1);
    assert_eq!(
        count(&mock, "mock-model"),
        0,
        "a refused request is not sent elsewhere"
    );

    let (status, _, text) = chat(&gw, "all-down", false).await;
    assert_eq!(status, 504, "the last deployment timed out: {text}");
    let v: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(v["error"]["code"], "upstream_timeout");
}
