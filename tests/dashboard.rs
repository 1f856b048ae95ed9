//! The usage dashboard's API: a key sees its own usage only, the admin key sees every key, and
//! the page is served from the binary with a policy that forbids any other origin.

mod common;

use common::{Gateway, KEY, client, key_hash};
use serde_json::{Value, json};

const OTHER: &str = "sk-other-key";
const ADMIN: &str = "admin-secret";

fn config() -> String {
    format!(
        r#"
[[plugins]]
name = "auth"
stage = "auth"
source = "builtin:key-auth"
[[plugins.config.keys]]
id = "mine"
sha256 = "{}"
models = ["echo"]
[[plugins.config.keys]]
id = "theirs"
sha256 = "{}"
{}"#,
        key_hash(KEY),
        key_hash(OTHER),
        common::ECHO
    )
}

async fn chat(gw: &Gateway, key: &str, user: &str, model: &str) -> u16 {
    client()
        .post(gw.at("/v1/chat/completions"))
        .bearer_auth(key)
        .json(&json!({"model": model, "user_id": user, "messages": [{"role": "user", "content": "a b c"}]}))
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}

async fn summary(gw: &Gateway, key: &str, query: &str) -> (u16, Value) {
    let resp = client()
        .get(gw.at(&format!("/dashboard/api/summary?{query}")))
        .bearer_auth(key)
        .send()
        .await
        .expect("summary");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn groups(v: &Value) -> Vec<(String, u64)> {
    v["groups"]
        .as_array()
        .map(|g| {
            g.iter()
                .map(|r| {
                    (
                        r["group"].as_str().unwrap_or_default().to_string(),
                        r["requests"].as_u64().unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn each_key_sees_its_own_usage_and_the_admin_sees_all() {
    let gw = Gateway::start_with(&config(), &[("SLUICE_ADMIN_KEY", ADMIN)]);
    for (key, user, n) in [(KEY, "u1", 3), (KEY, "u2", 2), (OTHER, "u3", 4)] {
        for _ in 0..n {
            assert_eq!(chat(&gw, key, user, "echo").await, 200);
        }
    }
    // A model the key may not use: an error in its usage.
    assert_eq!(chat(&gw, KEY, "u2", "no-such-model").await, 404);

    let (status, mine) = summary(&gw, KEY, "since=1h&group_by=user").await;
    assert_eq!(status, 200, "{mine}");
    assert_eq!(mine["scope"], json!({"kind": "key", "key_id": "mine"}));
    assert_eq!(
        groups(&mine),
        [("u1".to_string(), 3), ("u2".to_string(), 3)]
    );
    assert_eq!(mine["totals"]["requests"], 6);
    assert_eq!(mine["totals"]["errors"], 1);
    assert_eq!(mine["recent_errors"].as_array().map(Vec::len), Some(1));
    assert_eq!(mine["recent_errors"][0]["status"], 404);
    let series: u64 = mine["series"]
        .as_array()
        .expect("series")
        .iter()
        .map(|p| p["requests"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(series, 6, "the series holds every request of the window");
    assert_eq!(mine["top_users"][0]["group"], "u1");

    let (_, theirs) = summary(&gw, OTHER, "since=1h&group_by=user").await;
    assert_eq!(
        groups(&theirs),
        [("u3".to_string(), 4)],
        "no row of another key"
    );
    assert_eq!(theirs["recent_errors"], json!([]));

    let (status, all) = summary(&gw, ADMIN, "since=24h&group_by=key").await;
    assert_eq!(status, 200);
    assert_eq!(all["scope"], json!({"kind": "all"}));
    assert_eq!(
        groups(&all),
        [("mine".to_string(), 6), ("theirs".to_string(), 4)]
    );
    let (_, by_model) = summary(&gw, ADMIN, "since=7d&group_by=model").await;
    assert!(groups(&by_model).contains(&("echo".to_string(), 9)));
    let (_, by_provider) = summary(&gw, ADMIN, "since=30d&group_by=provider").await;
    assert!(groups(&by_provider).contains(&("echo".to_string(), 9)));

    assert_eq!(summary(&gw, "sk-wrong", "since=1h").await.0, 401);
    assert_eq!(summary(&gw, KEY, "since=forever").await.0, 400);
    assert_eq!(summary(&gw, KEY, "group_by=prompt").await.0, 400);

    let live: Value = client()
        .get(gw.at("/dashboard/api/live"))
        .bearer_auth(KEY)
        .send()
        .await
        .expect("live")
        .json()
        .await
        .expect("json");
    assert!(
        live["rps"].as_f64().is_some_and(|r| r > 0.0 && r <= 0.6),
        "{live}"
    );
}

#[tokio::test]
async fn the_page_is_served_from_the_binary_and_may_load_nothing_else() {
    let gw = Gateway::start(&config());
    let resp = client()
        .get(gw.at("/dashboard"))
        .send()
        .await
        .expect("page");
    assert_eq!(resp.status(), 200);
    let csp = resp.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_string();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("connect-src 'self'"),
        "{csp}"
    );
    let html = resp.text().await.expect("html");
    assert!(
        html.contains("<html")
            || html.contains("<!doctype html>")
            || html.contains("<!DOCTYPE html>")
    );
    for external in ["http://", "https://", "//cdn"] {
        assert!(
            !html.contains(&format!("src=\"{external}")),
            "no external script: {external}"
        );
        assert!(
            !html.contains(&format!("href=\"{external}")),
            "no external style: {external}"
        );
    }
}
