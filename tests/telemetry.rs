//! What the gateway tells about itself: `/metrics` after a seeded run holds exactly the requests
//! and tokens sent (and plugin failures, rate-limit denials, streams), the scrape can ask for a
//! token or live on a listener of its own, and JSON logs carry one access line per request
//! without the prompt.

mod common;

use common::{Gateway, KEY, auth_section, client};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

fn config(extra: &str) -> String {
    format!(
        r#"
{extra}
{auth}
[[plugins]]
name = "chaos"
stage = "policy"
source = "chaos.wasm"
timeout_ms = 50
memory_mb = 16
{echo}"#,
        auth = auth_section(&[]),
        echo = common::ECHO,
    )
}

/// The samples of a scrape: series (name with labels, as written) to value.
fn samples(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            Some((series.to_string(), value.parse().ok()?))
        })
        .collect()
}

/// The value of the series whose name is `name` and whose labels include every one of `labels`
/// (summed over the others).
fn value(s: &HashMap<String, f64>, name: &str, labels: &[&str]) -> f64 {
    s.iter()
        .filter(|(k, _)| k.split('{').next() == Some(name) && labels.iter().all(|l| k.contains(l)))
        .map(|(_, v)| v)
        .sum()
}

async fn chat(gw: &Gateway, chaos: &str, stream: bool, model: &str) -> (u16, Value) {
    let resp = client()
        .post(gw.at("/v1/chat/completions"))
        .bearer_auth(KEY)
        .header("x-chaos", chaos)
        .json(
            &json!({"model": model, "stream": stream, "stream_options": {"include_usage": true},
            "messages": [{"role": "user", "content": "one two three four five six seven eight"}]}),
        )
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    let usage = if stream {
        common::sse_chunks(&text)
            .into_iter()
            .find(|c| c["usage"].is_object())
            .map(|c| c["usage"].clone())
            .unwrap_or(Value::Null)
    } else {
        serde_json::from_str::<Value>(&text)
            .map(|v| v["usage"].clone())
            .unwrap_or(Value::Null)
    };
    (status, usage)
}

async fn scrape(url: &str, token: Option<&str>) -> (u16, String) {
    let mut req = client().get(format!("{url}/metrics"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("scrape");
    (resp.status().as_u16(), resp.text().await.expect("text"))
}

#[tokio::test]
async fn a_seeded_run_shows_exactly_what_was_sent() {
    let gw = Gateway::start_with_plugins(
        &config(""),
        &[("sluice_test_chaos.wasm", "chaos.wasm")],
        &[],
    );
    let (mut prompt, mut completion) = (0.0, 0.0);
    for stream in [false, false, false, true, true] {
        let (status, usage) = chat(&gw, "", stream, "echo").await;
        assert_eq!(status, 200);
        prompt += usage["prompt_tokens"].as_f64().expect("prompt tokens");
        completion += usage["completion_tokens"]
            .as_f64()
            .expect("completion tokens");
    }
    assert_eq!(chat(&gw, "ratelimit", false, "echo").await.0, 429);
    assert_eq!(chat(&gw, "trap", false, "echo").await.0, 500);
    assert_eq!(chat(&gw, "", false, "no-such-model").await.0, 404);

    let (status, text) = scrape(&gw.url, None).await;
    assert_eq!(status, 200);
    assert!(text.ends_with("# EOF\n"), "OpenMetrics text");
    let s = samples(&text);
    let ok = [
        "endpoint=\"chat.completions\"",
        "model=\"echo\"",
        "status=\"200\"",
        "key_id=\"test\"",
    ];
    assert_eq!(value(&s, "sluice_requests_total", &ok), 5.0, "{text}");
    assert_eq!(value(&s, "sluice_requests_total", &["status=\"429\""]), 1.0);
    assert_eq!(value(&s, "sluice_requests_total", &["status=\"500\""]), 1.0);
    assert_eq!(
        value(
            &s,
            "sluice_requests_total",
            &["status=\"404\"", "model=\"unknown\""]
        ),
        1.0,
        "made-up models are not labels"
    );
    assert!(!text.contains("no-such-model"));
    let tokens = |kind: &str, part: &str| {
        value(
            &s,
            &format!("gen_ai_client_token_usage_{part}"),
            &[
                &format!("gen_ai_token_type=\"{kind}\""),
                "gen_ai_operation_name=\"chat\"",
                "gen_ai_request_model=\"echo\"",
                "gen_ai_provider_name=\"echo\"",
            ],
        )
    };
    assert_eq!(tokens("input", "sum"), prompt);
    assert_eq!(tokens("output", "sum"), completion);
    assert_eq!(tokens("input", "count"), 5.0);
    assert_eq!(
        value(
            &s,
            "gen_ai_client_operation_duration_seconds_count",
            &["error_type=\"\""]
        ),
        5.0
    );
    assert_eq!(
        value(&s, "gen_ai_server_time_to_first_token_seconds_count", &[]),
        2.0,
        "two streams"
    );
    assert_eq!(value(&s, "sluice_open_streams", &[]), 0.0);
    assert_eq!(
        value(&s, "sluice_rate_limited_total", &["key_id=\"test\""]),
        1.0
    );
    assert_eq!(
        value(
            &s,
            "sluice_plugin_failures_total",
            &["plugin=\"chaos\"", "stage=\"policy\"", "kind=\"trap\""]
        ),
        1.0
    );
    // Every request but the unknown model's reached it (7 calls), and the 5 that succeeded call
    // its `on-complete` too, off the response path: wait for those.
    let mut calls = value(
        &s,
        "sluice_plugin_call_duration_seconds_count",
        &["plugin=\"chaos\""],
    );
    for _ in 0..50 {
        if calls == 12.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        let again = samples(&scrape(&gw.url, None).await.1);
        calls = value(
            &again,
            "sluice_plugin_call_duration_seconds_count",
            &["plugin=\"chaos\""],
        );
    }
    assert_eq!(calls, 12.0);
    assert!(value(&s, "sluice_overhead_seconds_count", &[]) >= 7.0);
    assert!(
        !text.contains("user_id") && !text.contains("req_"),
        "no user or request ids as labels"
    );
}

#[tokio::test]
async fn the_scrape_can_need_a_token_and_have_a_listener_of_its_own() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let extra = format!(
        "[telemetry]\nmetrics_listen = \"127.0.0.1:{port}\"\nmetrics_token_env = \"SCRAPE_TOKEN\""
    );
    let gw = Gateway::start_with_plugins(
        &config(&extra),
        &[("sluice_test_chaos.wasm", "chaos.wasm")],
        &[("SCRAPE_TOKEN", "scrape-secret")],
    );
    assert_eq!(chat(&gw, "", false, "echo").await.0, 200);
    assert_eq!(
        scrape(&gw.url, Some("scrape-secret")).await.0,
        404,
        "not on the main listener"
    );
    let metrics_url = format!("http://127.0.0.1:{port}");
    assert_eq!(scrape(&metrics_url, None).await.0, 401);
    assert_eq!(scrape(&metrics_url, Some("wrong")).await.0, 401);
    let (status, text) = scrape(&metrics_url, Some("scrape-secret")).await;
    assert_eq!(status, 200);
    assert_eq!(
        value(
            &samples(&text),
            "sluice_requests_total",
            &["status=\"200\""]
        ),
        1.0
    );
}

#[tokio::test]
async fn json_logs_have_one_access_line_per_request_without_the_prompt() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("gateway.toml"),
        format!(
            "[log]\nformat = \"json\"\n{}{}",
            auth_section(&[]),
            common::ECHO
        ),
    )
    .expect("config");
    let mut child = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .arg("serve")
        .arg("--config")
        .arg(dir.path().join("gateway.toml"))
        .env("SLUICE_LISTEN", "127.0.0.1:0")
        .env("SLUICE_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let url = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|l| l.strip_prefix("sluice listening on ").map(str::to_string))
        .expect("listening line");
    let secret_prompt = "the-prompt-must-not-be-logged";
    for user in ["alice", "bob"] {
        let r = client()
            .post(format!("{url}/v1/chat/completions"))
            .bearer_auth(KEY)
            .json(&json!({"model": "echo", "user_id": user,
                "messages": [{"role": "user", "content": secret_prompt}]}))
            .send()
            .await
            .expect("request");
        assert_eq!(r.status(), 200);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let _ = child.wait();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr)
        .expect("read stderr");
    let lines: Vec<Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).expect("every log line is JSON"))
        .collect();
    let access: Vec<&Value> = lines
        .iter()
        .filter(|l| l["target"] == "sluice::access")
        .collect();
    assert_eq!(access.len(), 2, "{stderr}");
    for (line, user) in access.iter().zip(["alice", "bob"]) {
        assert_eq!(line["user_id"], user);
        assert_eq!(line["key_id"], "test");
        assert_eq!(line["model"], "echo");
        assert_eq!(line["status"], 200);
        assert!(
            line["request_id"]
                .as_str()
                .is_some_and(|r| r.starts_with("req_"))
        );
        assert!(line["prompt_tokens"].as_u64().is_some() && line["overhead_us"].as_u64().is_some());
    }
    assert!(!stderr.contains(secret_prompt), "no prompt in the logs");
    assert!(!stderr.contains(KEY), "no secret in the logs");
}
