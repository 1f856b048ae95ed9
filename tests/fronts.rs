//! The front doors in the real gateway: Anthropic's Messages API and OpenAI's Responses API,
//! translated to an OpenAI-shaped provider (the project's mock) and passed through untranslated
//! to a provider that speaks them (a Messages/Responses mock in this file), with errors in the
//! client's API's shape and responses kept per owner.

mod common;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Bytes;
use common::mock::Mock;
use common::{Gateway, KEY, auth_section, client, sse_data};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// One request the native mock saw: its path, headers and body.
type Seen = Arc<Mutex<Vec<(String, HeaderMap, Value)>>>;

/// A provider that speaks Messages (`/v1/messages`) and Responses (`/v1/responses`) itself.
struct Native {
    url: String,
    seen: Seen,
}

const MESSAGE: &str = r#"{"id":"msg_native","type":"message","role":"assistant","model":"claude-up",
 "content":[{"type":"text","text":"native hello"}],"stop_reason":"end_turn","stop_sequence":null,
 "usage":{"input_tokens":20,"output_tokens":4,"cache_read_input_tokens":5,"cache_creation_input_tokens":0}}"#;

const MESSAGE_STREAM: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_s\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-up\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":20,\"output_tokens\":1}}}\n\n\
event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n\
event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"native \"}}\n\n\
event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"stream\"}}\n\n\
event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n\
event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":6}}\n\n\
event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

impl Native {
    async fn start() -> Native {
        let seen: Seen = Arc::default();
        let app = Router::new()
            .route("/v1/messages", post(messages))
            .route("/v1/responses", post(responses))
            .with_state(Arc::clone(&seen));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Native { url, seen }
    }

    fn seen(&self) -> Vec<(String, HeaderMap, Value)> {
        self.seen.lock().expect("lock").clone()
    }
}

fn note(seen: &Seen, path: &str, headers: HeaderMap, body: &Bytes) -> Value {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    seen.lock()
        .expect("lock")
        .push((path.into(), headers, v.clone()));
    v
}

async fn messages(State(seen): State<Seen>, headers: HeaderMap, body: Bytes) -> Response {
    let v = note(&seen, "/v1/messages", headers, &body);
    if v["stream"] == json!(true) {
        return ([("content-type", "text/event-stream")], MESSAGE_STREAM).into_response();
    }
    ([("content-type", "application/json")], MESSAGE).into_response()
}

async fn responses(State(seen): State<Seen>, headers: HeaderMap, body: Bytes) -> Response {
    note(&seen, "/v1/responses", headers, &body);
    axum::Json(json!({
        "id": "resp_native1", "object": "response", "created_at": 1, "status": "completed",
        "model": "gpt-up", "output": [{"id": "msg_1", "type": "message", "role": "assistant",
        "status": "completed", "content": [{"type": "output_text", "text": "native answer",
        "annotations": []}]}],
        "usage": {"input_tokens": 7, "input_tokens_details": {"cached_tokens": 0},
                  "output_tokens": 2, "output_tokens_details": {"reasoning_tokens": 0},
                  "total_tokens": 9},
    }))
    .into_response()
}

/// Models: `gpt` (the OpenAI-shaped mock, chat only: Messages and Responses are translated),
/// `claude` (the native mock through the anthropic adapter: Messages pass through), `oai` (the
/// native mock through an openai adapter with `native_responses`: Responses pass through).
fn config(mock: &Mock, native: &Native, extra: &str) -> String {
    format!(
        r#"{auth}
{extra}
[[providers]]
name = "mock"
adapter = "openai"
base_url = "{mock}/v1"
retries = 0

[[providers]]
name = "claude-up"
adapter = "anthropic"
base_url = "{native}/v1"
api_key_env = "FRONTS_ANTHROPIC_KEY"
retries = 0

[[plugins]]
name = "openai-native"
stage = "adapter"
source = "builtin:openai"
[plugins.config]
native_responses = true

[[providers]]
name = "oai-up"
adapter = "openai-native"
base_url = "{native}/v1"
retries = 0

[[models]]
name = "gpt"
provider = "mock"

[[models]]
name = "claude"
provider = "claude-up"
upstream_model = "claude-up"

[[models]]
name = "oai"
provider = "oai-up"
upstream_model = "gpt-up"
"#,
        auth = auth_section(&["claude", "oai", "gpt"]),
        mock = mock.url,
        native = native.url,
    )
}

fn start(config: &str) -> Gateway {
    Gateway::start_with(config, &[("FRONTS_ANTHROPIC_KEY", "sk-ant-up")])
}

async fn post_json(gw: &Gateway, path: &str, key: Option<&str>, body: &Value) -> (u16, String) {
    let mut req = client().post(gw.at(path)).json(body);
    if let Some(key) = key {
        req = req
            .header("x-api-key", key)
            .header("anthropic-version", "2023-06-01")
            .header("anthropic-beta", "tools-2024-05-16");
    }
    let resp = req.send().await.expect("request");
    (resp.status().as_u16(), resp.text().await.expect("body"))
}

fn ask(model: &str, stream: bool) -> Value {
    json!({"model": model, "max_tokens": 100, "stream": stream,
           "system": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
           "messages": [{"role": "user", "content": "Hi there"}]})
}

#[tokio::test]
async fn messages_are_translated_for_an_openai_shaped_provider() {
    let (mock, native) = (Mock::start().await, Native::start().await);
    let gw = start(&config(&mock, &native, ""));
    let (status, body) = post_json(&gw, "/v1/messages", Some(KEY), &ask("gpt", false)).await;
    assert_eq!(status, 200, "{body}");
    let m: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(m["type"], "message");
    assert_eq!(m["role"], "assistant");
    assert_eq!(m["content"][0]["type"], "text");
    assert!(
        m["content"][0]["text"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    assert_eq!(m["stop_reason"], "end_turn");
    // The mock reports 11 prompt tokens, 2 of them cached, and 3 completion tokens.
    assert_eq!(m["usage"]["input_tokens"], 9);
    assert_eq!(m["usage"]["cache_read_input_tokens"], 2);
    assert_eq!(m["usage"]["output_tokens"], 3);
    assert!(m["sluice"]["request_id"].is_string(), "{m}");
    let seen = mock.seen();
    let sent = &seen.last().expect("the provider was called").body;
    assert_eq!(
        sent["messages"][0],
        json!({"role": "system", "content": "Be brief."})
    );
    assert_eq!(sent["messages"][1]["role"], "user");
    assert_eq!(sent["max_tokens"], 100);

    // A stream: Anthropic's event sequence, the text whole, the usage at the end.
    let (status, body) = post_json(&gw, "/v1/messages", Some(KEY), &ask("gpt", true)).await;
    assert_eq!(status, 200, "{body}");
    let names: Vec<&str> = body
        .split("\n\n")
        .filter_map(|e| e.lines().find_map(|l| l.strip_prefix("event: ")))
        .collect();
    assert_eq!(names.first(), Some(&"message_start"), "{body}");
    assert_eq!(names.get(1), Some(&"ping"), "{body}");
    assert_eq!(
        &names[names.len() - 2..],
        ["message_delta", "message_stop"],
        "{body}"
    );
    let events: Vec<Value> = sse_data(&body)
        .iter()
        .map(|d| serde_json::from_str(d).expect("event is JSON"))
        .collect();
    let text: String = events
        .iter()
        .filter(|e| e["type"] == "content_block_delta")
        .filter_map(|e| e["delta"]["text"].as_str())
        .collect();
    assert_eq!(text, "Hello from mock");
    let delta = events
        .iter()
        .find(|e| e["type"] == "message_delta")
        .expect("message_delta");
    assert_eq!(delta["usage"]["output_tokens"], 3, "{delta}");
    assert_eq!(delta["delta"]["stop_reason"], "end_turn");
}

#[tokio::test]
async fn messages_pass_through_to_a_provider_that_speaks_them() {
    let (mock, native) = (Mock::start().await, Native::start().await);
    let gw = start(&config(&mock, &native, ""));
    let mut req = ask("claude", false);
    req["top_k"] = json!(5);
    let (status, body) = post_json(&gw, "/v1/messages", Some(KEY), &req).await;
    assert_eq!(status, 200, "{body}");
    let m: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(m["id"], "msg_native");
    assert_eq!(m["content"][0]["text"], "native hello");
    let (path, headers, sent) = native.seen().pop().expect("the provider was called");
    assert_eq!(path, "/v1/messages");
    let mut expected = req.clone();
    expected["model"] = json!("claude-up");
    assert_eq!(
        sent, expected,
        "the body passes untranslated (top_k, cache_control kept)"
    );
    assert_eq!(headers["anthropic-version"], "2023-06-01");
    assert_eq!(headers["anthropic-beta"], "tools-2024-05-16");
    assert_eq!(headers["x-api-key"], "sk-ant-up");

    let (status, body) = post_json(&gw, "/v1/messages", Some(KEY), &ask("claude", true)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body, MESSAGE_STREAM,
        "the provider's events pass as they are"
    );
}

#[tokio::test]
async fn a_guard_closes_the_native_lane() {
    let (mock, native) = (Mock::start().await, Native::start().await);
    let guard = "\n[[plugins]]\nname = \"guard\"\nstage = \"guard\"\nsource = \"guard.wasm\"\n";
    let gw = Gateway::start_with_plugins(
        &config(&mock, &native, guard),
        &[("sluice_test_guard.wasm", "guard.wasm")],
        &[("FRONTS_ANTHROPIC_KEY", "sk-ant-up")],
    );
    let (status, body) = post_json(&gw, "/v1/messages", Some(KEY), &ask("claude", false)).await;
    assert_eq!(status, 200, "{body}");
    let m: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(m["content"][0]["text"], "native hello");
    assert_eq!(m["usage"]["input_tokens"], 20);
    let (_, _, sent) = native.seen().pop().expect("the provider was called");
    // Translated there and back: the adapter built this body from the chat completion.
    assert_eq!(sent["system"], "Be brief.", "{sent}");
}

#[tokio::test]
async fn messages_errors_are_anthropic_shaped() {
    let (mock, native) = (Mock::start().await, Native::start().await);
    let gw = start(&config(&mock, &native, ""));
    let (status, body) = post_json(&gw, "/v1/messages", None, &ask("gpt", false)).await;
    assert_eq!(status, 401);
    let e: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(e["type"], "error");
    assert_eq!(e["error"]["type"], "authentication_error", "{e}");

    let mut req = ask("gpt", false);
    req["top_k"] = json!(3);
    let (status, body) = post_json(&gw, "/v1/messages", Some(KEY), &req).await;
    assert_eq!(status, 400, "{body}");
    let e: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(e["error"]["type"], "invalid_request_error");
    assert!(
        e["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("top_k")),
        "{e}"
    );

    let (status, body) = post_json(&gw, "/v1/messages", Some(KEY), &ask("nope", false)).await;
    assert_eq!(status, 404, "{body}");
    let e: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(e["error"]["type"], "not_found_error");

    let (status, body) = post_json(
        &gw,
        "/v1/messages/count_tokens",
        Some(KEY),
        &ask("gpt", false),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let short: Value = serde_json::from_str(&body).expect("json");
    let mut long = ask("gpt", false);
    long["messages"][0]["content"] = json!("word ".repeat(400));
    let (_, body) = post_json(&gw, "/v1/messages/count_tokens", Some(KEY), &long).await;
    let long: Value = serde_json::from_str(&body).expect("json");
    assert!(
        long["input_tokens"].as_u64() > short["input_tokens"].as_u64(),
        "{short} {long}"
    );
    let (status, _) = post_json(&gw, "/v1/messages/count_tokens", None, &ask("gpt", false)).await;
    assert_eq!(status, 401);
}

async fn get(gw: &Gateway, path: &str, key: &str, delete: bool) -> (u16, String) {
    let req = if delete {
        client().delete(gw.at(path))
    } else {
        client().get(gw.at(path))
    };
    let resp = req.bearer_auth(key).send().await.expect("request");
    (resp.status().as_u16(), resp.text().await.expect("body"))
}

async fn respond(gw: &Gateway, key: &str, body: Value) -> Value {
    let resp = client()
        .post(gw.at("/v1/responses"))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status().as_u16(), 200);
    resp.json().await.expect("json")
}

#[tokio::test]
async fn responses_are_kept_per_owner_and_continue_conversations() {
    let (mock, native) = (Mock::start().await, Native::start().await);
    let gw = start(&config(&mock, &native, ""));
    // `claude` is translated: Responses -> chat -> the anthropic adapter -> Messages.
    let first = respond(
        &gw,
        KEY,
        json!({"model": "claude", "input": "Hello", "instructions": "Be kind."}),
    )
    .await;
    assert_eq!(first["object"], "response");
    assert_eq!(first["status"], "completed");
    assert_eq!(first["output"][0]["content"][0]["text"], "native hello");
    assert_eq!(first["usage"]["input_tokens"], 25);
    let id = first["id"].as_str().expect("id").to_string();

    let (status, body) = get(&gw, &format!("/v1/responses/{id}"), KEY, false).await;
    assert_eq!(status, 200, "{body}");
    let kept: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(kept["id"], first["id"]);
    assert_eq!(kept["output"], first["output"]);
    // Another owner sees nothing: not the response, not its conversation.
    let (status, _) = get(&gw, &format!("/v1/responses/{id}"), "sk-limited", false).await;
    assert_eq!(status, 404);
    let resp = client()
        .post(gw.at("/v1/responses"))
        .bearer_auth("sk-limited")
        .json(&json!({"model": "claude", "input": "more", "previous_response_id": id}))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status().as_u16(), 404);

    let second = respond(
        &gw,
        KEY,
        json!({"model": "claude", "input": "And now?", "previous_response_id": id}),
    )
    .await;
    let (_, _, sent) = native.seen().pop().expect("the provider was called");
    let turns: Vec<(&str, String)> = sent["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| (m["role"].as_str().unwrap_or(""), m["content"].to_string()))
        .collect();
    assert_eq!(turns.len(), 3, "{sent}");
    assert!(
        turns[0].1.contains("Hello") && turns[1].1.contains("native hello"),
        "{sent}"
    );
    assert!(turns[2].1.contains("And now?"), "{sent}");
    // Instructions apply to the request that gives them; they do not carry over.
    assert!(sent.get("system").is_none(), "{sent}");

    let (status, _) = get(&gw, &format!("/v1/responses/{id}"), "sk-limited", true).await;
    assert_eq!(status, 404);
    let (status, body) = get(&gw, &format!("/v1/responses/{id}"), KEY, true).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = get(&gw, &format!("/v1/responses/{id}"), KEY, false).await;
    assert_eq!(status, 404);
    // The second response is still there, but its conversation lost its start: continuing it
    // is refused rather than sent upstream without that start.
    let resp = client()
        .post(gw.at("/v1/responses"))
        .bearer_auth(KEY)
        .json(&json!({"model": "claude", "input": "more", "previous_response_id": second["id"]}))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status().as_u16(), 400);
    let e: Value = resp.json().await.expect("json");
    assert_eq!(e["error"]["code"], "conversation_incomplete", "{e}");

    let unstored = respond(
        &gw,
        KEY,
        json!({"model": "claude", "input": "x", "store": false}),
    )
    .await;
    let (status, _) = get(
        &gw,
        &format!("/v1/responses/{}", unstored["id"].as_str().unwrap_or("")),
        KEY,
        false,
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn responses_pass_through_with_the_history_in_their_input() {
    let (mock, native) = (Mock::start().await, Native::start().await);
    let gw = start(&config(&mock, &native, ""));
    let first = respond(&gw, KEY, json!({"model": "oai", "input": "Hello"})).await;
    assert_eq!(first["id"], "resp_native1");
    respond(
        &gw,
        KEY,
        json!({"model": "oai", "input": "Again", "previous_response_id": "resp_native1"}),
    )
    .await;
    let (path, _, sent) = native.seen().pop().expect("the provider was called");
    assert_eq!(path, "/v1/responses");
    assert_eq!(sent["model"], "gpt-up");
    assert!(sent.get("previous_response_id").is_none(), "{sent}");
    let input = sent["input"].as_array().expect("input");
    assert_eq!(input.len(), 3, "{sent}");
    assert_eq!(input[1]["content"][0]["text"], "native answer");
}
