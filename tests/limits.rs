//! Keys, rate limits, cost and usage records, end to end.

mod common;

use common::mock::{Mock, USAGE};
use common::{Gateway, KEY, client, joined_content, key_hash, sse_chunks};
use serde_json::{Value, json};
use std::time::Duration;

const ADMIN: &str = "sk-admin-limits";

/// A config with the mock provider, key-auth (KEY with `attrs`), rate-limit and cost plugins.
fn config(mock: &Mock, attrs: &str, limits: &str, data_dir: &str) -> String {
    format!(
        r#"
[storage]
data_dir = "{data_dir}"

[[plugins]]
name = "auth"
stage = "auth"
source = "builtin:key-auth"
[[plugins.config.keys]]
id = "test"
sha256 = "{hash}"
attributes = {{ {attrs} }}

[[plugins]]
name = "limits"
stage = "policy"
source = "builtin:rate-limit"
[plugins.config]
{limits}

[[plugins]]
name = "cost"
stage = "enrich"
source = "builtin:cost"
[pricing.models."mock-model"]
input = 2.0
output = 8.0
cached_input = 0.5

[[providers]]
name = "mock"
adapter = "openai"
base_url = "{mock}/v1"

[[providers]]
name = "echo"
adapter = "echo"

[[models]]
name = "gpt-test"
provider = "mock"
upstream_model = "mock-model"

[[models]]
name = "echo"
provider = "echo"
"#,
        hash = key_hash(KEY),
        mock = mock.url
    )
}

async fn chat(gw: &Gateway, key: &str, body: Value) -> reqwest::Response {
    client()
        .post(gw.at("/v1/chat/completions"))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .expect("request")
}

fn body(model: &str, stream: bool, user: &str) -> Value {
    json!({ "model": model, "stream": stream, "user_id": user, "max_tokens": 3,
            "stream_options": { "include_usage": true },
            "messages": [{ "role": "user", "content": "hello there" }] })
}

async fn admin_get(gw: &Gateway, path: &str) -> Value {
    client()
        .get(gw.at(path))
        .bearer_auth(ADMIN)
        .send()
        .await
        .expect("req")
        .json()
        .await
        .expect("json")
}

#[tokio::test]
async fn fifty_concurrent_requests_against_a_limit_of_ten_let_exactly_ten_through() {
    let mock = Mock::start().await;
    let gw = Gateway::start_with(&config(&mock, r#"rpm = "10""#, "", "data"), &[]);
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let url = gw.at("/v1/chat/completions");
            tokio::spawn(async move {
                client()
                    .post(url)
                    .bearer_auth(KEY)
                    .json(&body("echo", i % 2 == 0, "u"))
                    .send()
                    .await
                    .expect("req")
            })
        })
        .collect();
    let (mut ok, mut limited) = (0, 0);
    for t in tasks {
        let r = t.await.expect("task");
        match r.status().as_u16() {
            200 => {
                assert_eq!(r.headers()["x-ratelimit-limit"], "10");
                let remaining: u32 = r.headers()["x-ratelimit-remaining"]
                    .to_str()
                    .expect("ascii")
                    .parse()
                    .expect("number");
                assert!(remaining < 10);
                ok += 1;
            }
            429 => {
                let retry: u32 = r.headers()["retry-after"]
                    .to_str()
                    .expect("ascii")
                    .parse()
                    .expect("number");
                assert!((1..=60).contains(&retry));
                let v: Value = r.json().await.expect("json");
                assert_eq!(v["error"]["code"], "rate_limit_exceeded");
                assert_eq!(v["error"]["retry_after"], retry);
                limited += 1;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!((ok, limited), (10, 40));
    let r = chat(&gw, KEY, body("echo", false, "u")).await;
    assert_eq!(r.status(), 429, "the request after the limit is refused");
}

#[tokio::test]
async fn a_token_limit_holds_when_replies_are_streamed() {
    // The mock answers 3 completion tokens; each request reserves max_tokens = 3.
    let mock = Mock::start().await;
    let gw = Gateway::start_with(&config(&mock, r#"tpm_out = "10""#, "", "data"), &[]);
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let r = chat(&gw, KEY, body("gpt-test", true, "u")).await;
        statuses.push(r.status().as_u16());
        let text = r.text().await.expect("body");
        if statuses.last() == Some(&200) {
            assert_eq!(joined_content(&sse_chunks(&text)), "Hello from mock");
        }
    }
    assert_eq!(
        statuses,
        vec![200, 200, 200, 429, 429],
        "3 streams of 3 tokens fit in 10; a 4th does not"
    );
    assert_eq!(
        mock.seen().len(),
        3,
        "refused requests never reach the upstream"
    );
}

#[tokio::test]
async fn streamed_and_unstreamed_calls_cost_and_record_the_same() {
    let mock = Mock::start().await;
    let gw = Gateway::start_with(
        &config(&mock, "", "", "data"),
        &[("SLUICE_ADMIN_KEY", ADMIN)],
    );
    let json_reply: Value = chat(&gw, KEY, body("gpt-test", false, "u-json"))
        .await
        .json()
        .await
        .expect("json");
    let stream_reply = chat(&gw, KEY, body("gpt-test", true, "u-stream")).await;
    let chunks = sse_chunks(&stream_reply.text().await.expect("body"));
    let last = chunks.last().expect("chunks");
    let expected = (f64::from(USAGE.0 as u32 - USAGE.2 as u32) * 2.0
        + USAGE.2 as f64 * 0.5
        + USAGE.1 as f64 * 8.0)
        / 1e6;
    let json_cost = json_reply["sluice"]["cost_usd"].as_f64().expect("cost");
    assert!(
        (json_cost - expected).abs() < 1e-12,
        "{json_cost} != {expected}"
    );
    assert_eq!(
        last["sluice"]["cost_usd"], json_reply["sluice"]["cost_usd"],
        "a stream costs the same"
    );
    for field in ["trace_id", "provider", "model", "latency_ms", "status"] {
        assert!(
            !last["sluice"][field].is_null(),
            "stream metadata lacks {field}: {last}"
        );
        assert!(
            !json_reply["sluice"][field].is_null(),
            "JSON metadata lacks {field}"
        );
    }
    assert_eq!(json_reply["sluice"]["status"], 200);

    let usage = admin_get(&gw, "/admin/usage?group_by=user&since=1h").await;
    let row = |user: &str| {
        usage["data"]
            .as_array()
            .expect("data")
            .iter()
            .find(|r| r["group"] == user)
            .cloned()
            .expect("row")
    };
    let (a, b) = (row("u-json"), row("u-stream"));
    for field in [
        "requests",
        "prompt_tokens",
        "completion_tokens",
        "cached_tokens",
        "cost_usd",
    ] {
        assert_eq!(a[field], b[field], "{field}: {a} vs {b}");
    }
    assert_eq!(a["prompt_tokens"], USAGE.0);
    assert_eq!(a["cached_tokens"], USAGE.2);
}

#[tokio::test]
async fn sigterm_under_load_loses_no_usage_row_and_rows_survive_a_restart() {
    let mock = Mock::start().await;
    let data = tempfile::tempdir().expect("data dir");
    let data_dir = data.path().display().to_string();
    let cfg = config(&mock, "", "", &data_dir);
    let mut gw = Gateway::start_with(&cfg, &[("SLUICE_ADMIN_KEY", ADMIN)]);
    let url = gw.at("/v1/chat/completions");
    // A bounded load: 8 workers, 300 requests at most, until the gateway goes away.
    let workers: Vec<_> = (0..8)
        .map(|w| {
            let url = url.clone();
            tokio::spawn(async move {
                let mut ok = 0u32;
                for i in 0..300 / 8 {
                    let r = client()
                        .post(&url)
                        .bearer_auth(KEY)
                        .json(&body("gpt-test", (w + i) % 2 == 0, "u"))
                        .send()
                        .await;
                    match r {
                        Ok(r) if r.status() == 200 => {
                            let _ = r.bytes().await;
                            ok += 1;
                        }
                        _ => break,
                    }
                }
                ok
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let clean = tokio::task::spawn_blocking(move || {
        let clean = gw.terminate();
        (clean, gw)
    })
    .await
    .expect("terminate");
    assert!(clean.0, "the gateway exits cleanly on SIGTERM");
    let mut served = 0;
    for w in workers {
        served += w.await.expect("worker");
    }
    let reached = mock.seen().len();
    assert!(reached > 0 && served as usize <= reached);

    // A new gateway on the same data folder sees every row.
    let gw2 = Gateway::start_with(&cfg, &[("SLUICE_ADMIN_KEY", ADMIN)]);
    let usage = admin_get(&gw2, "/admin/usage?group_by=model&since=1h").await;
    let rows = usage["data"].as_array().expect("data");
    let row = rows
        .iter()
        .find(|r| r["group"] == "gpt-test")
        .expect("gpt-test row");
    assert_eq!(
        row["requests"], reached as u64,
        "one usage row per upstream request: {usage}"
    );
    drop(clean.1);
}

#[tokio::test]
async fn managed_keys_revoked_expired_unknown_and_model_limited() {
    let mock = Mock::start().await;
    let gw = Gateway::start_with(
        &config(&mock, "", "", "data"),
        &[("SLUICE_ADMIN_KEY", ADMIN)],
    );
    let create = |body: Value| {
        let url = gw.at("/admin/keys");
        async move {
            let r = client()
                .post(url)
                .bearer_auth(ADMIN)
                .json(&body)
                .send()
                .await
                .expect("req");
            assert_eq!(r.status(), 201);
            let v: Value = r.json().await.expect("json");
            (
                v["key"].as_str().expect("secret").to_string(),
                v["record"]["id"].as_str().expect("id").to_string(),
            )
        }
    };
    let (limited, _) = create(json!({ "owner": "ann", "models": ["echo"] })).await;
    let (expiring, _) = create(json!({ "owner": "bob", "expires_in_s": 1 })).await;
    let (revoked, revoked_id) = create(json!({ "owner": "cy" })).await;

    // A key limited to some models: 404 for the others, which /models hides.
    assert_eq!(
        chat(&gw, &limited, body("echo", false, "u")).await.status(),
        200
    );
    let r = chat(&gw, &limited, body("gpt-test", false, "u")).await;
    assert_eq!(r.status(), 404);
    let models: Value = client()
        .get(gw.at("/v1/models"))
        .bearer_auth(&limited)
        .send()
        .await
        .expect("req")
        .json()
        .await
        .expect("json");
    let ids: Vec<&str> = models["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|m| m["id"].as_str())
        .collect();
    assert_eq!(ids, vec!["echo"]);

    // Revoked: 401 at once.
    assert_eq!(
        chat(&gw, &revoked, body("echo", false, "u")).await.status(),
        200
    );
    let r = client()
        .delete(gw.at(&format!("/admin/keys/{revoked_id}")))
        .bearer_auth(ADMIN)
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), 200);
    let r = chat(&gw, &revoked, body("echo", false, "u")).await;
    assert_eq!(r.status(), 401);
    let v: Value = r.json().await.expect("json");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("revoked"),
        "{v}"
    );

    // Expired and unknown: 401.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = chat(&gw, &expiring, body("echo", false, "u")).await;
    assert_eq!(r.status(), 401);
    let v: Value = r.json().await.expect("json");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("expired"),
        "{v}"
    );
    assert_eq!(
        chat(&gw, "sk-sluice-unknown", body("echo", false, "u"))
            .await
            .status(),
        401
    );

    // The list shows all three without secrets.
    let list = admin_get(&gw, "/admin/keys").await;
    assert_eq!(list["data"].as_array().map(Vec::len), Some(3));
    assert!(!list.to_string().contains(&limited));
}
