//! The example policy plugin from examples/, loaded from its `.wasm` file as an operator would.

mod common;

use common::{Gateway, KEY, auth_section, client, plugin_dir};
use serde_json::{Value, json};

fn config(plugin_config: &str) -> String {
    let wasm = plugin_dir().join("sluice_example_max_tokens.wasm");
    format!(
        r#"
{auth}
[[plugins]]
name = "max-tokens"
stage = "policy"
source = "{wasm}"
[plugins.config]
{plugin_config}
{echo}"#,
        auth = auth_section(&[]),
        wasm = wasm.display(),
        echo = common::ECHO,
    )
}

#[tokio::test]
async fn the_example_policy_caps_max_tokens_and_requires_a_user() {
    let gw = Gateway::start(&config("max_tokens = 5\nrequire_user_id = true"));
    let send = |body: Value| {
        let url = gw.at("/v1/chat/completions");
        async move {
            let r = client()
                .post(url)
                .bearer_auth(KEY)
                .json(&body)
                .send()
                .await
                .expect("request");
            let status = r.status().as_u16();
            let limit = r
                .headers()
                .get("x-max-tokens-limit")
                .map(|v| v.to_str().unwrap_or("").to_string());
            (status, limit, r.json::<Value>().await.expect("json"))
        }
    };
    let msg = json!([{ "role": "user", "content": "hello" }]);
    let (status, _, body) = send(json!({ "model": "echo", "messages": msg })).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["param"], "user_id");
    let (status, _, body) =
        send(json!({ "model": "echo", "messages": msg, "user_id": "u1", "max_tokens": 6 })).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["param"], "max_tokens");
    let (status, limit, body) =
        send(json!({ "model": "echo", "messages": msg, "user_id": "u1", "max_tokens": 5 })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(limit.as_deref(), Some("5"));
    assert_eq!(body["sluice"]["max_tokens_limit"], 5);
}

#[test]
fn a_config_the_plugin_rejects_stops_the_load_and_names_the_plugin() {
    let (ok, err) = Gateway::refuse(&config("max_tokens = \"lots\""));
    assert!(!ok);
    assert!(
        err.contains("plugin `max-tokens`") && err.contains("rejected its config"),
        "{err}"
    );
}
