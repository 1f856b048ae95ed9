//! The gateway end to end, against the project's mock OpenAI upstream: JSON and streamed chat,
//! what reaches the upstream, and the error table.

mod common;

use common::mock::{Mock, USAGE};
use common::{Gateway, KEY, auth_section, client, joined_content, sse_chunks, sse_data};
use serde_json::{Value, json};

/// A port on loopback that nothing listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

fn config(mock: &Mock) -> String {
    let mut c = format!(
        r#"
[server]
max_body_bytes = 65536
{auth}
[[providers]]
name = "mock"
adapter = "openai"
base_url = "{mock}/v1"
api_key_env = "MOCK_UPSTREAM_KEY"
timeout_ms = 1000

[[providers]]
name = "dead"
adapter = "openai"
base_url = "http://127.0.0.1:{dead}/v1"

[[providers]]
name = "keyless"
adapter = "openai"
base_url = "{mock}/v1"
api_key_env = "SLUICE_TEST_UNSET_VARIABLE"

[[providers]]
name = "echo"
adapter = "echo"

[[models]]
name = "gpt-test"
provider = "mock"
upstream_model = "mock-model"
aliases = ["gpt-alias"]

[[models]]
name = "dead-model"
provider = "dead"

[[models]]
name = "keyless-model"
provider = "keyless"

[[models]]
name = "echo"
provider = "echo"
"#,
        auth = auth_section(&["echo"]),
        mock = mock.url,
        dead = closed_port(),
    );
    for m in [
        "mock-slow",
        "mock-429",
        "mock-500-html",
        "mock-broken",
        "mock-bad-json",
        "mock-truncated",
        "mock-inband-error",
    ] {
        c.push_str(&format!(
            "\n[[models]]\nname = \"{m}\"\nprovider = \"mock\"\n"
        ));
    }
    c
}

struct Env {
    mock: Mock,
    gw: Gateway,
}

async fn env() -> Env {
    let mock = Mock::start().await;
    let gw = Gateway::start_with(&config(&mock), &[("MOCK_UPSTREAM_KEY", "sk-upstream")]);
    Env { mock, gw }
}

async fn post(
    gw: &Gateway,
    path: &str,
    key: Option<&str>,
    body: Value,
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut req = client().post(gw.at(path)).json(&body);
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.text().await.expect("body"))
}

fn chat(model: &str, stream: bool) -> Value {
    json!({ "model": model, "stream": stream, "messages": [{ "role": "user", "content": "hi" }] })
}

fn error_of(body: &str) -> Value {
    let v: Value = serde_json::from_str(body).expect("error body is JSON");
    let e = v["error"].clone();
    for field in ["message", "type", "param", "code"] {
        assert!(e.get(field).is_some(), "error lacks `{field}`: {body}");
    }
    e
}

#[tokio::test]
async fn json_chat_reaches_the_upstream_as_sent_and_comes_back_with_metadata() {
    let Env { mock, gw } = env().await;
    let body = json!({
        "model": "gpt-alias",
        "user_id": "end-user-7",
        "messages": [{ "role": "user", "content": [
            { "type": "text", "text": "what is this?" },
            { "type": "image_url", "image_url": { "url": "data:image/png;base64,AAAA" } }
        ]}],
        "response_format": { "type": "json_schema", "json_schema": { "name": "x", "schema": { "type": "object" } } },
        "tools": [{ "type": "function", "function": { "name": "f", "parameters": { "type": "object" } } }],
        "temperature": 0.25,
        "stop": ["\n\n"],
        "n": 2,
    });
    let (status, headers, text) = post(&gw, "/v1/chat/completions", Some(KEY), body.clone()).await;
    assert_eq!(status, 200, "{text}");
    let v: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(v["choices"][0]["message"]["content"], "Hello from mock");
    assert_eq!(v["usage"]["prompt_tokens"], USAGE.0);
    assert_eq!(v["sluice"]["provider"], "mock");
    assert_eq!(v["sluice"]["model"], "mock-model");
    let request_id = headers["x-request-id"].to_str().expect("ascii");
    assert_eq!(v["sluice"]["request_id"], request_id);
    assert!(
        headers["x-sluice-overhead-us"]
            .to_str()
            .expect("ascii")
            .parse::<u64>()
            .is_ok()
    );

    let seen = mock.seen();
    assert_eq!(seen.len(), 1);
    let up = &seen[0].body;
    assert_eq!(
        up["model"], "mock-model",
        "the upstream gets its own model name"
    );
    assert!(
        up.get("user_id").is_none(),
        "user_id never reaches the upstream"
    );
    for field in [
        "messages",
        "response_format",
        "tools",
        "temperature",
        "stop",
        "n",
    ] {
        assert_eq!(
            up[field], body[field],
            "`{field}` reaches the upstream untouched"
        );
    }
    assert_eq!(seen[0].headers["authorization"], "Bearer sk-upstream");
}

#[tokio::test]
async fn streams_are_framed_forwarded_and_carry_metadata_last() {
    let Env { mock, gw } = env().await;
    // Bare path, no usage asked: the usage chunk is removed, metadata still comes last.
    let (status, headers, text) =
        post(&gw, "/chat/completions", Some(KEY), chat("gpt-test", true)).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(headers["content-type"], "text/event-stream");
    assert_eq!(sse_data(&text).last().map(String::as_str), Some("[DONE]"));
    let chunks = sse_chunks(&text);
    assert_eq!(joined_content(&chunks), "Hello from mock");
    let last = chunks.last().expect("chunks");
    assert_eq!(last["choices"], json!([]));
    assert_eq!(last["sluice"]["provider"], "mock");
    assert!(
        chunks.iter().all(|c| c["usage"].is_null()),
        "no usage unless asked"
    );
    assert_eq!(mock.seen()[0].body["stream_options"]["include_usage"], true);

    // Usage asked for: it comes in the last chunk, with the metadata.
    let mut body = chat("gpt-test", true);
    body["stream_options"] = json!({ "include_usage": true });
    let (_, _, text) = post(&gw, "/v1/chat/completions", Some(KEY), body).await;
    let chunks = sse_chunks(&text);
    let last = chunks.last().expect("chunks");
    assert_eq!(last["usage"]["completion_tokens"], USAGE.1);
    assert_eq!(last["sluice"]["model"], "mock-model");
    assert_eq!(chunks.iter().filter(|c| !c["usage"].is_null()).count(), 1);
}

#[tokio::test]
async fn the_offline_echo_model_streams_and_answers() {
    let Env { gw, .. } = env().await;
    let (status, _, text) = post(&gw, "/v1/chat/completions", Some(KEY), chat("echo", false)).await;
    assert_eq!(status, 200, "{text}");
    let v: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(v["choices"][0]["message"]["content"], "hi");
    let (status, _, text) = post(&gw, "/v1/chat/completions", Some(KEY), chat("echo", true)).await;
    assert_eq!(status, 200);
    assert_eq!(joined_content(&sse_chunks(&text)), "hi");
}

#[tokio::test]
async fn a_stream_that_breaks_off_ends_with_an_error_event() {
    let Env { gw, .. } = env().await;
    let (status, _, text) = post(
        &gw,
        "/v1/chat/completions",
        Some(KEY),
        chat("mock-broken", true),
    )
    .await;
    assert_eq!(status, 200);
    let data = sse_data(&text);
    assert!(
        !data.iter().any(|d| d == "[DONE]"),
        "a broken stream must not look complete: {text}"
    );
    let last: Value = serde_json::from_str(data.last().expect("events")).expect("json");
    assert_eq!(last["error"]["type"], "upstream_error", "{text}");
}

#[tokio::test]
async fn a_stream_without_its_end_or_with_an_error_event_does_not_end_normally() {
    let Env { gw, .. } = env().await;
    // Ended cleanly but without `[DONE]`: cut short, so it ends with an error event.
    let (status, _, text) = post(
        &gw,
        "/v1/chat/completions",
        Some(KEY),
        chat("mock-truncated", true),
    )
    .await;
    assert_eq!(status, 200);
    let data = sse_data(&text);
    assert!(!data.iter().any(|d| d == "[DONE]"), "{text}");
    let last: Value = serde_json::from_str(data.last().expect("events")).expect("json");
    assert!(
        last["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("ended before"),
        "{text}"
    );

    // An error event from the upstream is the stream's last event.
    let (status, _, text) = post(
        &gw,
        "/v1/chat/completions",
        Some(KEY),
        chat("mock-inband-error", true),
    )
    .await;
    assert_eq!(status, 200);
    let data = sse_data(&text);
    let last: Value = serde_json::from_str(data.last().expect("events")).expect("json");
    assert_eq!(last["error"]["message"], "overloaded", "{text}");
    assert!(!data.iter().any(|d| d == "[DONE]"), "{text}");
}

#[tokio::test]
async fn the_error_table() {
    let Env { gw, .. } = env().await;
    let cases: Vec<(&str, Option<&str>, Value, u16, &str)> = vec![
        (
            "no key",
            None,
            chat("gpt-test", false),
            401,
            "invalid_api_key",
        ),
        (
            "wrong key",
            Some("sk-wrong"),
            chat("gpt-test", false),
            401,
            "invalid_api_key",
        ),
        (
            "unknown model",
            Some(KEY),
            chat("nope", false),
            404,
            "model_not_found",
        ),
        (
            "model not allowed for the key",
            Some("sk-limited"),
            chat("gpt-test", false),
            404,
            "model_not_found",
        ),
        (
            "missing model",
            Some(KEY),
            json!({ "messages": [] }),
            400,
            "missing_model",
        ),
        (
            "unreachable upstream",
            Some(KEY),
            chat("dead-model", false),
            502,
            "upstream_unreachable",
        ),
        (
            "slow upstream",
            Some(KEY),
            chat("mock-slow", false),
            504,
            "upstream_timeout",
        ),
        (
            "upstream 429 passes through",
            Some(KEY),
            chat("mock-429", false),
            429,
            "rate_limit_exceeded",
        ),
        (
            "upstream HTML 500",
            Some(KEY),
            chat("mock-500-html", false),
            502,
            "bad_upstream_response",
        ),
        (
            "upstream invalid JSON",
            Some(KEY),
            chat("mock-bad-json", false),
            502,
            "bad_upstream_response",
        ),
        (
            "provider without its key",
            Some(KEY),
            chat("keyless-model", false),
            503,
            "provider_not_configured",
        ),
    ];
    for (what, key, body, want_status, want_code) in cases {
        let (status, headers, text) = post(&gw, "/v1/chat/completions", key, body).await;
        assert_eq!(status, want_status, "{what}: {text}");
        let e = error_of(&text);
        assert_eq!(e["code"], want_code, "{what}: {text}");
        assert!(headers.contains_key("x-request-id"), "{what}");
        if status >= 500 {
            assert!(
                !text.contains("stack trace"),
                "{what}: 5xx bodies leak nothing: {text}"
            );
        }
        if status == 429 {
            assert_eq!(e["retry_after"], 7, "{what}");
            assert_eq!(headers["retry-after"], "7");
        }
    }

    // Malformed JSON and an oversized body.
    let resp = client()
        .post(gw.at("/v1/chat/completions"))
        .bearer_auth(KEY)
        .body("{not json")
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 400);
    assert_eq!(
        error_of(&resp.text().await.expect("body"))["code"],
        "invalid_json"
    );
    let big = json!({ "model": "gpt-test", "messages": [{ "role": "user", "content": "x".repeat(70_000) }] });
    let (status, _, text) = post(&gw, "/v1/chat/completions", Some(KEY), big).await;
    assert_eq!(status, 413, "{text}");
    assert_eq!(error_of(&text)["code"], "request_too_large");

    // Unknown paths are OpenAI-shaped 404s.
    let resp = client()
        .get(gw.at("/v1/nothing-here"))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 404);
    error_of(&resp.text().await.expect("body"));
}

#[tokio::test]
async fn models_lists_only_what_the_key_may_use() {
    let Env { gw, .. } = env().await;
    let list = |key: &'static str| {
        let url = gw.at("/v1/models");
        async move {
            let v: Value = client()
                .get(url)
                .bearer_auth(key)
                .send()
                .await
                .expect("req")
                .json()
                .await
                .expect("json");
            let mut ids: Vec<String> = v["data"]
                .as_array()
                .expect("data")
                .iter()
                .filter_map(|m| m["id"].as_str().map(str::to_string))
                .collect();
            ids.sort();
            ids
        }
    };
    let all = list(KEY).await;
    assert!(
        all.contains(&"gpt-test".to_string()) && all.contains(&"echo".to_string()),
        "{all:?}"
    );
    assert_eq!(list("sk-limited").await, vec!["echo".to_string()]);
    let resp = client()
        .get(gw.at("/models/gpt-test"))
        .bearer_auth("sk-limited")
        .send()
        .await
        .expect("req");
    assert_eq!(resp.status(), 404);
    let resp = client()
        .get(gw.at("/v1/models/echo"))
        .bearer_auth("sk-limited")
        .send()
        .await
        .expect("req");
    assert_eq!(resp.status(), 200);
    let resp = client().get(gw.at("/v1/models")).send().await.expect("req");
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn embeddings_pass_through() {
    let Env { mock, gw } = env().await;
    let (status, _, text) = post(
        &gw,
        "/v1/embeddings",
        Some(KEY),
        json!({ "model": "gpt-test", "input": "abc", "user_id": "u" }),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let v: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(v["data"][0]["embedding"], json!([0.6, 0.8]));
    let seen = mock.seen();
    assert_eq!(seen[0].path, "/v1/embeddings");
    assert!(seen[0].body.get("user_id").is_none());
}

#[test]
fn bad_configs_are_refused_with_file_key_and_reason() {
    let (ok, err) = Gateway::refuse("[server]\nlisten = \"127.0.0.1:0\"\ncolour = \"red\"\n");
    assert!(!ok);
    assert!(
        err.contains("gateway.toml") && err.contains("colour"),
        "{err}"
    );
    let (ok, err) = Gateway::refuse("[[models]]\nname = \"m\"\nprovider = \"nobody\"\n");
    assert!(!ok);
    assert!(
        err.contains("models[0].provider") && err.contains("nobody"),
        "{err}"
    );
    let (ok, err) = Gateway::refuse(
        "[[plugins]]\nname = \"p\"\nstage = \"policy\"\nsource = \"missing.wasm\"\n",
    );
    assert!(!ok);
    assert!(
        err.contains("plugin `p`") && err.contains("missing.wasm"),
        "{err}"
    );
}
