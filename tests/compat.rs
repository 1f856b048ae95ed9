//! Plugins built against the frozen contract sluice:plugin@0.1.0 keep loading and working beside
//! 0.2.0 ones. `sluice-test-v01` (tests/plugins/v01) serves every stage at once: auth, a policy,
//! an adapter that answers by itself, and an enrich plugin that reports its cost the 0.1 way.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{plugin_dir, sse_chunks, sse_data};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sluice::config::Config;
use sluice::state::{AppState, Gateway};
use tower::ServiceExt;

const V01_KEY: &str = "sk-v01";

async fn gateway() -> (AppState, tempfile::TempDir) {
    let wasm = plugin_dir().join("sluice_test_v01.wasm");
    let wasm = wasm.display();
    let text = format!(
        r#"
[[plugins]]
name = "v01-auth"
stage = "auth"
source = "{wasm}"

[[plugins]]
name = "v01-policy"
stage = "policy"
source = "{wasm}"

[[plugins]]
name = "v01-adapter"
stage = "adapter"
source = "{wasm}"

[[plugins]]
name = "v01-enrich"
stage = "enrich"
source = "{wasm}"

[[providers]]
name = "old"
adapter = "v01-adapter"
base_url = "http://127.0.0.1:1"

[[models]]
name = "v01-model"
provider = "old"
upstream_model = "served-by-v01"
"#
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("gateway.toml");
    std::fs::write(&file, text).expect("write config");
    let config = Config::load(&file).expect("valid config");
    (Gateway::start(config).await.expect("gateway"), dir)
}

fn chat(key: &str) -> axum::http::request::Builder {
    Request::post("/v1/chat/completions")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {key}"))
}

fn body(stream: bool) -> Body {
    Body::from(
        json!({ "model": "v01-model", "stream": stream, "user_id": "old-timer",
                "messages": [{ "role": "user", "content": "hi" }] })
        .to_string(),
    )
}

async fn send(gw: &AppState, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
    let resp = sluice::app(gw.clone())
        .oneshot(req)
        .await
        .expect("infallible");
    let (parts, b) = resp.into_parts();
    let bytes = b.collect().await.expect("body").to_bytes();
    (
        parts.status,
        parts.headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

#[tokio::test]
async fn a_01_plugin_serves_every_stage() {
    let (gw, _dir) = gateway().await;
    // Auth: its own key only.
    let (status, _, _) = send(&gw, chat("sk-other").body(body(false)).expect("req")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, headers, text) = send(&gw, chat(V01_KEY).body(body(false)).expect("req")).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let v: Value = serde_json::from_str(&text).expect("json");
    // The adapter answered, from the body the host prepared for it.
    assert_eq!(v["choices"][0]["message"]["content"], "v01 says: hi");
    assert_eq!(v["model"], "served-by-v01");
    // The policy saw the 0.1 endpoint name, the model and the body.
    assert_eq!(headers["x-v01-policy"], "chat.completions");
    assert_eq!(v["sluice"]["v01_model"], "v01-model");
    assert!(v["sluice"]["v01_body_bytes"].as_u64().unwrap_or(0) > 0);
    // The enrich plugin ran, with its header and metadata.
    assert_eq!(headers["x-v01-enrich"], "yes");
    assert_eq!(v["sluice"]["v01_enriched"], true);

    // Denied by the policy: its own error.
    let (status, _, text) = send(
        &gw,
        chat(V01_KEY)
            .header("x-v01-deny", "1")
            .body(body(false))
            .expect("req"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let v: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(v["error"]["code"], "v01_denied");
}

#[tokio::test]
async fn a_01_stream_and_a_01_cost_reach_the_usage_rows() {
    let (gw, _dir) = gateway().await;
    let (status, _, text) = send(&gw, chat(V01_KEY).body(body(true)).expect("req")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sse_data(&text).last().map(String::as_str), Some("[DONE]"));
    let content: String = sse_chunks(&text)
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(content, "v01 says: hi");

    let rows = common::usage_totals(&gw, "user").await;
    let row = rows.iter().find(|r| r.group == "old-timer").expect("a row");
    // Usage read from the stream's usage chunk; the cost the 0.1 plugin reported as metadata.
    assert_eq!((row.prompt_tokens, row.completion_tokens), (3, 4));
    assert!((row.cost_usd - 0.25).abs() < 1e-9, "{}", row.cost_usd);
}
