//! Plugins that return well-typed nonsense (the `nonsense` test adapter): the request gets a 500
//! that names the plugin and says what was wrong, a usage row, and nothing else changes: the
//! next request is served.

mod common;

use common::mock::Mock;
use common::{Gateway, KEY, auth_section, client, plugin_dir};
use serde_json::{Value, json};

fn config(mock: &Mock, dir: &std::path::Path) -> String {
    std::fs::copy(
        plugin_dir().join("sluice_test_nonsense.wasm"),
        dir.join("nonsense.wasm"),
    )
    .expect("copy the nonsense plugin");
    format!(
        r#"
{auth}
[[plugins]]
name = "nonsense"
stage = "adapter"
source = "nonsense.wasm"

[[providers]]
name = "mock"
adapter = "nonsense"
base_url = "{url}/v1"
retries = 0

[[models]]
name = "m"
provider = "mock"
"#,
        auth = auth_section(&[]),
        url = mock.url
    )
}

async fn chat(gw: &Gateway, kind: &str) -> reqwest::Response {
    client()
        .post(gw.at("/v1/chat/completions"))
        .bearer_auth(KEY)
        .header("x-nonsense", kind)
        .json(&json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("an answer")
}

#[tokio::test]
async fn nonsense_from_a_plugin_is_a_500_naming_it() {
    let mock = Mock::start().await;
    let dir = tempfile::tempdir().expect("dir");
    let text = config(&mock, dir.path());
    std::fs::write(dir.path().join("gateway.toml"), text).expect("config");
    let gw = Gateway::start_in(dir, &[]);
    for (kind, says) in [
        ("method", "method"),
        ("header-name", "header"),
        ("header-value", "header"),
        ("path", "not a valid URL"),
        ("status", "status 1000"),
        ("deny-200", "status 200"),
    ] {
        let r = chat(&gw, kind).await;
        assert_eq!(r.status(), 500, "{kind}");
        let v: Value = r.json().await.expect("JSON error");
        let m = v["error"]["message"].as_str().unwrap_or_default();
        assert!(m.contains("`nonsense`"), "{kind}: {m}");
        assert!(m.contains(says), "{kind}: {m}");
    }
    // Nothing else changed: a sensible request goes through.
    let r = chat(&gw, "none").await;
    assert_eq!(r.status(), 200);
    assert!(
        mock.seen()
            .iter()
            .all(|s| s.path.ends_with("/chat/completions"))
    );
    // One row per request, 500s included.
    assert_eq!(
        common::usage_statuses(gw.path(), "status = 500", 6)
            .await
            .len(),
        6
    );
}
