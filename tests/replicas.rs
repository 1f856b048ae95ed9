//! Several gateway replicas sharing one Redis for the plugins' `kv`: limits hold over all of them
//! together, survive a replica's crash, and Redis restarting under load costs only the requests
//! made while it was down (503 `kv_unavailable`, or let through with `on_unavailable =
//! "fail-open"`), with no gateway restart. Each test runs its own Redis (`common::redis`).

mod common;

use common::mock::Mock;
use common::redis::Redis;
use common::{Gateway, KEY, client, key_hash};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Key-auth with KEY carrying `attrs`, rate-limit, the mock provider, and `[kv]` on `redis`.
fn config(mock: &Mock, redis: &Redis, attrs: &str, on_unavailable: &str) -> String {
    format!(
        r#"
[kv]
backend = "redis"
url = "{redis}"
on_unavailable = "{on_unavailable}"

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

[[providers]]
name = "mock"
adapter = "openai"
base_url = "{mock}/v1"

[[models]]
name = "gpt-test"
provider = "mock"
upstream_model = "mock-model"
"#,
        redis = redis.url(),
        hash = key_hash(KEY),
        mock = mock.url,
    )
}

fn replicas(n: usize, config: &str) -> Vec<Gateway> {
    (0..n).map(|_| Gateway::start(config)).collect()
}

fn body() -> Value {
    json!({"model": "gpt-test", "max_tokens": 3, "messages": [{"role": "user", "content": "hi"}]})
}

/// Sends `count` requests at once, spread round robin over `gateways`; their statuses, and the
/// error codes of the refused ones.
async fn burst(gateways: &[Gateway], count: usize) -> Vec<(u16, Option<String>)> {
    let tasks: Vec<_> = (0..count)
        .map(|i| {
            let url = gateways[i % gateways.len()].at("/v1/chat/completions");
            tokio::spawn(async move { send(&url).await })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("task"));
    }
    out
}

async fn send(url: &str) -> (u16, Option<String>) {
    let r = client()
        .post(url)
        .bearer_auth(KEY)
        .json(&body())
        .send()
        .await
        .expect("request");
    let status = r.status().as_u16();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    let code = v["error"]["code"].as_str().map(str::to_string);
    (status, code)
}

fn count(results: &[(u16, Option<String>)], status: u16) -> usize {
    results.iter().filter(|(s, _)| *s == status).count()
}

#[tokio::test]
async fn fifty_requests_over_three_replicas_against_a_limit_of_ten_let_exactly_ten_through() {
    let (mock, redis) = (Mock::start().await, Redis::start());
    let gws = replicas(3, &config(&mock, &redis, r#"rpm = "10""#, "fail-closed"));
    let results = burst(&gws, 50).await;
    assert_eq!((count(&results, 200), count(&results, 429)), (10, 40));
    assert!(
        results
            .iter()
            .filter(|(s, _)| *s == 429)
            .all(|(_, c)| c.as_deref() == Some("rate_limit_exceeded"))
    );
    assert_eq!(
        mock.seen().len(),
        10,
        "refused requests never reach the upstream"
    );
}

#[tokio::test]
async fn a_token_limit_holds_over_replicas_within_one_reservation() {
    // Each request reserves max_tokens = 3 output tokens; 10 fit three requests, not four.
    let (mock, redis) = (Mock::start().await, Redis::start());
    let gws = replicas(
        3,
        &config(&mock, &redis, r#"tpm_out = "10""#, "fail-closed"),
    );
    let results = burst(&gws, 20).await;
    assert_eq!(
        (count(&results, 200), count(&results, 429)),
        (3, 17),
        "{results:?}"
    );
    // After reconciliation (3 tokens used of each 3 reserved) the window is still full.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(send(&gws[1].at("/v1/chat/completions")).await.0, 429);
}

#[tokio::test]
async fn counters_outlive_a_replica_killed_and_restarted() {
    let (mock, redis) = (Mock::start().await, Redis::start());
    let cfg = config(&mock, &redis, r#"rpm = "3""#, "fail-closed");
    let mut gws = replicas(2, &cfg);
    for _ in 0..3 {
        assert_eq!(send(&gws[0].at("/v1/chat/completions")).await.0, 200);
    }
    gws[0].kill();
    let first = gws.remove(0).restart();
    assert_eq!(send(&first.at("/v1/chat/completions")).await.0, 429);
    assert_eq!(send(&gws[0].at("/v1/chat/completions")).await.0, 429);
}

/// Sends one request after another to the replicas for `for_how_long`; the statuses and codes.
async fn steady(gateways: &[Gateway], for_how_long: Duration) -> Vec<(u16, Option<String>)> {
    let end = Instant::now() + for_how_long;
    let mut out = Vec::new();
    let mut i = 0;
    while Instant::now() < end {
        let started = Instant::now();
        out.push(send(&gateways[i % gateways.len()].at("/v1/chat/completions")).await);
        // A call waits at most the kv deadline (40 ms) for Redis, never much longer.
        assert!(started.elapsed() < Duration::from_secs(3), "a request hung");
        i += 1;
    }
    out
}

#[tokio::test]
async fn redis_restarted_under_load_fails_closed_then_recovers_without_a_restart() {
    let (mock, mut redis) = (Mock::start().await, Redis::start());
    let gws = replicas(
        2,
        &config(&mock, &redis, r#"rpm = "100000""#, "fail-closed"),
    );
    let before = steady(&gws, Duration::from_millis(300)).await;
    assert!(before.iter().all(|(s, _)| *s == 200), "{before:?}");

    redis.kill();
    let down = steady(&gws, Duration::from_millis(1500)).await;
    assert!(!down.is_empty());
    for (status, code) in &down {
        assert_eq!(
            (*status, code.as_deref()),
            (503, Some("kv_unavailable")),
            "while Redis is down every limited request fails closed, clearly"
        );
    }

    redis.restart();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let after = steady(&gws, Duration::from_millis(200)).await;
        if after.iter().all(|(s, _)| *s == 200) {
            break;
        }
        assert!(
            after.iter().all(|(s, _)| matches!(s, 200 | 503)),
            "{after:?}"
        );
        assert!(
            Instant::now() < deadline,
            "the replicas did not reconnect to Redis"
        );
    }
}

#[tokio::test]
async fn redis_down_with_fail_open_lets_requests_through_uncounted() {
    let (mock, mut redis) = (Mock::start().await, Redis::start());
    let gws = replicas(2, &config(&mock, &redis, r#"rpm = "2""#, "fail-open"));
    redis.kill();
    let down = steady(&gws, Duration::from_millis(600)).await;
    assert!(down.len() > 2, "{down:?}");
    assert!(down.iter().all(|(s, _)| *s == 200), "{down:?}");
    redis.restart();
    // Back to counting, from an empty Redis: two pass, then the limit holds again.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !redis.ping() {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut statuses = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !statuses.ends_with(&[429]) {
        statuses.push(
            send(&gws[statuses.len() % 2].at("/v1/chat/completions"))
                .await
                .0,
        );
        assert!(
            Instant::now() < deadline,
            "the limit did not come back: {statuses:?}"
        );
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        1,
        "{statuses:?}"
    );
}

/// MCP sessions live on the replica that opened them (a stdio server is a process of that
/// replica): a load balancer routes `/mcp-servers/*/mcp` sticky (deploy/nginx.conf). A session
/// id taken to another replica is answered 404, which tells an MCP client to initialize again
/// (the spec's rule for a session the server does not know), and the new session works there.
#[tokio::test]
async fn an_mcp_session_belongs_to_its_replica_and_another_replica_says_404() {
    use common::mcp_client::McpClient;
    use common::mcp_mock::McpMock;
    let mock = McpMock::start().await;
    let cfg = format!(
        r#"
[[mcp_servers]]
name = "docs"
url = "{url}"

[[plugins]]
name = "auth"
stage = "auth"
source = "builtin:key-auth"
[[plugins.config.keys]]
id = "test"
sha256 = "{hash}"
"#,
        url = mock.url,
        hash = key_hash(KEY),
    );
    let gws = replicas(2, &cfg);
    let (a, b) = (
        McpClient::new(&gws[0].url, "docs", KEY),
        McpClient::new(&gws[1].url, "docs", KEY),
    );
    let session = a.initialize().await;
    assert!(!a.tool_names(&session).await.is_empty());
    let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}});
    let elsewhere = b.post(Some(&session), &list).await;
    assert_eq!(elsewhere.status, 404, "{}", elsewhere.raw);
    let again = b.initialize().await;
    assert_ne!(again, session);
    assert!(!b.tool_names(&again).await.is_empty());
    assert!(
        !a.tool_names(&session).await.is_empty(),
        "A's session goes on"
    );
}
