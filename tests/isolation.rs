//! A plugin that traps, loops forever or eats memory fails only its own request: concurrent good
//! requests succeed and the gateway keeps serving.

mod common;

use common::{Gateway, KEY, auth_section, client};
use serde_json::{Value, json};

fn config(on_error: &str) -> String {
    format!(
        r#"
{auth}
[[plugins]]
name = "chaos"
stage = "policy"
source = "chaos.wasm"
timeout_ms = 50
memory_mb = 16
on_error = "{on_error}"
{echo}"#,
        auth = auth_section(&[]),
        echo = common::ECHO,
    )
}

fn start(on_error: &str) -> Gateway {
    Gateway::start_with_plugins(
        &config(on_error),
        &[("sluice_test_chaos.wasm", "chaos.wasm")],
        &[],
    )
}

async fn call(
    url: String,
    chaos: &'static str,
    stream: bool,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let resp = client()
        .post(url)
        .bearer_auth(KEY)
        .header("x-chaos", chaos)
        .json(&json!({ "model": "echo", "stream": stream, "messages": [{ "role": "user", "content": "ping" }] }))
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("body");
    let body = if stream && status == 200 {
        json!({ "stream": text })
    } else {
        serde_json::from_str(&text).expect("json")
    };
    (status, body, headers)
}

#[tokio::test]
async fn a_failing_plugin_fails_only_its_own_request() {
    let gw = start("fail-closed");
    let url = gw.at("/v1/chat/completions");
    let mut tasks = Vec::new();
    for i in 0..40 {
        let chaos = match i % 10 {
            0 => "trap",
            3 => "loop",
            6 => "oom",
            _ => "none",
        };
        tasks.push(tokio::spawn(
            call(url.clone(), chaos, i % 2 == 1).then_tag(chaos),
        ));
    }
    let mut good = 0;
    for t in tasks {
        let (chaos, (status, body, headers)) = t.await.expect("task");
        match chaos {
            "none" => {
                assert_eq!(status, 200, "{body}");
                assert_eq!(headers["x-chaos-seen"], "1");
                good += 1;
            }
            "trap" => {
                assert_eq!(status, 500, "{body}");
                assert_eq!(body["error"]["code"], "plugin_failed");
                assert!(
                    body["error"]["message"]
                        .as_str()
                        .expect("message")
                        .contains("chaos")
                );
            }
            "loop" => {
                assert_eq!(status, 503, "{body}");
                assert_eq!(body["error"]["code"], "plugin_timeout");
            }
            "oom" => {
                assert_eq!(status, 500, "{body}");
                assert_eq!(body["error"]["code"], "plugin_out_of_memory");
            }
            _ => unreachable!(),
        }
    }
    assert_eq!(good, 28);
    // Still serving, and a denial is an ordinary OpenAI error.
    let (status, _, _) = call(url.clone(), "none", false).await;
    assert_eq!(status, 200);
    let (status, body, _) = call(url, "deny", false).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["type"], "permission_error");
}

#[tokio::test]
async fn a_fail_open_plugin_is_skipped_when_it_fails() {
    let gw = start("fail-open");
    let url = gw.at("/v1/chat/completions");
    for chaos in ["trap", "loop", "oom"] {
        let (status, body, headers) = call(url.clone(), chaos, false).await;
        assert_eq!(status, 200, "{chaos}: {body}");
        assert!(!headers.contains_key("x-chaos-seen"));
        assert_eq!(body["choices"][0]["message"]["content"], "ping");
    }
}

/// Pairs a future's output with a tag.
trait ThenTag: std::future::Future + Sized {
    fn then_tag(
        self,
        tag: &'static str,
    ) -> impl std::future::Future<Output = (&'static str, Self::Output)> {
        async move { (tag, self.await) }
    }
}

impl<F: std::future::Future> ThenTag for F {}
