//! The MCP gateway against the project's mock Streamable HTTP server: auth and access, the
//! transport's header checks, gateway sessions bound to keys, the MCP policy stage (the built-in
//! `mcp-tools`: hidden tools, denied calls, a per-key call rate), streams passed through with
//! their event ids, a server that dies mid-stream, and a usage row per `tools/call`.

mod common;

use common::mcp_client::{McpClient, VERSION};
use common::mcp_mock::McpMock;
use common::{Gateway, KEY, key_hash};
use serde_json::{Value, json};

const ADMIN: &str = "sk-admin-key";
const LIMITED: &str = "sk-limited";
const SLOW: &str = "sk-slow-caller";
const ADMIN_API: &str = "admin-secret";

/// Keys: KEY (team `eng`), ADMIN (team `admins`), LIMITED (only the server `other`), SLOW (two
/// tool calls a minute). `mcp-tools` hides `delete_*` from everyone but admins.
fn config(mock_url: &str) -> String {
    format!(
        r#"
[mcp]
allowed_origins = ["https://app.example"]

[[mcp_servers]]
name = "docs"
url = "{mock_url}"
headers = {{ "x-team" = "research" }}
api_key_env = "DOCS_MCP_KEY"

[[mcp_servers]]
name = "other"
url = "{mock_url}"

[[plugins]]
name = "auth"
stage = "auth"
source = "builtin:key-auth"
[[plugins.config.keys]]
id = "eng-key"
team = "eng"
sha256 = "{k}"
[[plugins.config.keys]]
id = "admin-key"
team = "admins"
sha256 = "{a}"
[[plugins.config.keys]]
id = "limited-key"
sha256 = "{l}"
mcp_servers = ["other"]
[[plugins.config.keys]]
id = "slow-key"
sha256 = "{s}"
attributes = {{ mcp_calls_per_minute = 2 }}

[[plugins]]
name = "mcp-tools"
stage = "mcp-policy"
source = "builtin:mcp-tools"
[[plugins.config.rules]]
teams = ["admins"]
allow = ["*"]
[[plugins.config.rules]]
deny = ["delete_*"]
"#,
        k = key_hash(KEY),
        a = key_hash(ADMIN),
        l = key_hash(LIMITED),
        s = key_hash(SLOW),
    )
}

async fn setup() -> (McpMock, Gateway) {
    let mock = McpMock::start().await;
    let gw = Gateway::start_with(
        &config(&mock.url),
        &[
            ("DOCS_MCP_KEY", "docs-token"),
            ("SLUICE_ADMIN_KEY", ADMIN_API),
        ],
    );
    (mock, gw)
}

fn init_body() -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": VERSION, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}})
}

#[tokio::test]
async fn keys_servers_and_origins_are_checked_before_the_server() {
    let (mock, gw) = setup().await;
    let anon = McpClient::new(&gw.url, "docs", "");
    let r = anon
        .raw(reqwest::Method::POST)
        .body("{}")
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 401);
    let unknown = McpClient::new(&gw.url, "nope", KEY)
        .post(None, &init_body())
        .await;
    assert_eq!(unknown.status, 404, "{}", unknown.raw);
    let limited = McpClient::new(&gw.url, "docs", LIMITED)
        .post(None, &init_body())
        .await;
    assert_eq!(limited.status, 403, "{}", limited.raw);
    let ok = McpClient::new(&gw.url, "other", LIMITED)
        .post(None, &init_body())
        .await;
    assert_eq!(ok.status, 200, "{}", ok.raw);
    let docs = McpClient::new(&gw.url, "docs", KEY);
    let evil = docs
        .post_with(None, &init_body(), &[("origin", "https://evil.example")])
        .await;
    assert_eq!(evil.status, 403, "{}", evil.raw);
    let good = docs
        .post_with(None, &init_body(), &[("origin", "https://app.example")])
        .await;
    assert_eq!(good.status, 200, "{}", good.raw);
    // Only the two accepted initializations reached the server.
    assert_eq!(mock.seen().len(), 2);
    // Both paths serve it.
    let v1 = McpClient::new(&format!("{}/v1", gw.url), "docs", KEY)
        .post(None, &init_body())
        .await;
    assert_eq!(v1.status, 200);
}

#[tokio::test]
async fn transport_headers_are_checked() {
    let (_mock, gw) = setup().await;
    let c = McpClient::new(&gw.url, "docs", KEY);
    let sid = c.initialize().await;
    let ping = json!({"jsonrpc": "2.0", "id": 9, "method": "ping"});
    let only_json = c
        .post_with(Some(&sid), &ping, &[("accept", "application/json")])
        .await;
    assert_eq!(only_json.status, 400, "{}", only_json.raw);
    let text = c
        .post_with(Some(&sid), &ping, &[("content-type", "text/plain")])
        .await;
    assert_eq!(text.status, 400, "{}", text.raw);
    let old = c
        .post_with(Some(&sid), &ping, &[("mcp-protocol-version", "1999-01-01")])
        .await;
    assert_eq!(old.status, 400);
    assert_eq!(old.last()["error"]["code"], -32022);
    // A 2026-07-28 client is told which revisions the gateway speaks, so it can negotiate.
    let new = c
        .post_with(
            None,
            &json!({"jsonrpc": "2.0", "id": 1, "method": "server/discover"}),
            &[("mcp-protocol-version", "2026-07-28")],
        )
        .await;
    assert_eq!(new.status, 400);
    assert_eq!(new.last()["error"]["data"]["requested"], "2026-07-28");
    assert!(
        new.last()["error"]["data"]["supported"]
            .as_array()
            .is_some_and(|s| s.contains(&json!(VERSION)))
    );
    let batch = c.post(Some(&sid), &json!([ping])).await;
    assert_eq!(batch.status, 400);
    let no_session = c.post(None, &ping).await;
    assert_eq!(no_session.status, 400);
    let get = c
        .raw(reqwest::Method::GET)
        .header("accept", "application/json")
        .header("mcp-session-id", &sid)
        .send()
        .await
        .expect("get");
    assert_eq!(get.status(), 400);
    // Asked for a revision it does not speak, `initialize` negotiates down to one it does.
    let mut body = init_body();
    body["params"]["protocolVersion"] = json!("2026-07-28");
    let a = c.post(None, &body).await;
    assert_eq!(a.last()["result"]["protocolVersion"], VERSION);
}

#[tokio::test]
async fn sessions_are_the_gateways_own_and_bound_to_their_key() {
    let (mock, gw) = setup().await;
    let c = McpClient::new(&gw.url, "docs", KEY);
    let sid = c.initialize().await;
    assert_eq!(sid.len(), 48, "unguessable: 24 random bytes");
    assert!(
        !sid.starts_with("up-"),
        "the server's id never reaches the client"
    );
    let a = c.call_tool(&sid, 2, "echo", json!({"text": "hi"})).await;
    assert_eq!(a.last()["result"]["content"][0]["text"], "hi", "{}", a.raw);
    // The server saw its own session id, the configured header and the token from the env.
    let seen = mock.seen();
    let call = seen
        .iter()
        .find(|s| s.method == "tools/call")
        .expect("call seen");
    assert_eq!(call.headers["mcp-session-id"], "up-1");
    assert_eq!(call.headers["x-team"], "research");
    assert_eq!(call.headers["authorization"], "Bearer docs-token");
    assert_eq!(call.headers["mcp-protocol-version"], VERSION);
    assert!(call.headers.get("x-sluice-key").is_none());
    // Another key cannot use it, even knowing the id; an unknown id is 404 too.
    let other = McpClient::new(&gw.url, "docs", ADMIN);
    assert_eq!(
        other.call_tool(&sid, 3, "echo", json!({})).await.status,
        404
    );
    assert_eq!(
        c.call_tool(&"0".repeat(48), 4, "echo", json!({}))
            .await
            .status,
        404
    );
    // Nor on another server.
    let elsewhere = McpClient::new(&gw.url, "other", KEY);
    assert_eq!(
        elsewhere.call_tool(&sid, 5, "echo", json!({})).await.status,
        404
    );
    // GET without a stream on the server: 405; with Last-Event-ID: resumed through the gateway.
    let get = |last: Option<&str>| {
        let mut r = c
            .raw(reqwest::Method::GET)
            .header("accept", "text/event-stream")
            .header("mcp-session-id", &sid);
        if let Some(l) = last {
            r = r.header("last-event-id", l);
        }
        r.send()
    };
    assert_eq!(get(None).await.expect("get").status(), 405);
    let resumed = common::mcp_client::read(get(Some("ev-7")).await.expect("get")).await;
    assert_eq!(resumed.event_ids, vec![Some("ev-7-next".to_string())]);
    assert_eq!(resumed.messages[0]["params"]["data"], "replayed after ev-7");
    // DELETE ends both sides.
    let del = c
        .raw(reqwest::Method::DELETE)
        .header("mcp-session-id", &sid)
        .send()
        .await
        .expect("delete");
    assert_eq!(del.status(), 200);
    for _ in 0..50 {
        if mock.sessions().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        mock.sessions().is_empty(),
        "the server's session was deleted"
    );
    assert_eq!(c.call_tool(&sid, 6, "echo", json!({})).await.status, 404);
}

#[tokio::test]
async fn policies_hide_deny_and_limit_tools() {
    let (mock, gw) = setup().await;
    let eng = McpClient::new(&gw.url, "docs", KEY);
    let sid = eng.initialize().await;
    let names = eng.tool_names(&sid).await;
    assert_eq!(
        names,
        ["echo", "slow_progress", "die_mid_stream", "leak_secret"],
        "pages filtered, cursor kept"
    );
    let denied = eng.call_tool(&sid, 2, "delete_file", json!({})).await;
    assert_eq!(
        denied.status, 200,
        "a policy denial is a JSON-RPC error, not an HTTP one"
    );
    assert_eq!(denied.last()["error"]["code"], -32003);
    assert_eq!(denied.last()["id"], 2);
    assert!(
        !mock
            .seen()
            .iter()
            .any(|s| s.body["params"]["name"] == "delete_file")
    );

    let admin = McpClient::new(&gw.url, "docs", ADMIN);
    let asid = admin.initialize().await;
    assert!(
        admin
            .tool_names(&asid)
            .await
            .contains(&"delete_file".to_string())
    );
    let ok = admin.call_tool(&asid, 2, "delete_file", json!({})).await;
    assert_eq!(ok.last()["result"]["content"][0]["text"], "deleted");

    let slow = McpClient::new(&gw.url, "docs", SLOW);
    let ssid = slow.initialize().await;
    // The rate counts in fixed minutes: keep the three calls clear of a minute's end.
    let into_minute = common::now_ms() % 60_000;
    if into_minute > 58_000 {
        tokio::time::sleep(std::time::Duration::from_millis(60_500 - into_minute)).await;
    }
    for id in 1..=2 {
        let a = slow
            .call_tool(&ssid, id, "echo", json!({"text": "x"}))
            .await;
        assert!(a.last()["result"].is_object(), "{}", a.raw);
    }
    let over = slow.call_tool(&ssid, 3, "echo", json!({"text": "x"})).await;
    assert_eq!(over.status, 200);
    assert_eq!(over.last()["error"]["code"], -32004);
    assert!(
        over.last()["error"]["data"]["retry_after"]
            .as_u64()
            .is_some_and(|s| (1..=60).contains(&s))
    );
    // Other keys have their own rate.
    assert!(
        eng.call_tool(&sid, 3, "echo", json!({"text": "y"}))
            .await
            .last()["result"]
            .is_object()
    );
}

#[tokio::test]
async fn streams_pass_through_and_a_dying_server_ends_them_with_an_error() {
    let (_mock, gw) = setup().await;
    let c = McpClient::new(&gw.url, "docs", KEY);
    let sid = c.initialize().await;
    let body = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
        "params": {"name": "slow_progress", "arguments": {}, "_meta": {"progressToken": "tok"}}});
    let a = c.post(Some(&sid), &body).await;
    assert!(a.content_type.starts_with("text/event-stream"), "{a:?}");
    let methods: Vec<&str> = a
        .messages
        .iter()
        .map(|m| m["method"].as_str().unwrap_or("answer"))
        .collect();
    assert_eq!(
        methods,
        ["notifications/progress", "notifications/progress", "answer"]
    );
    assert_eq!(a.messages[0]["params"]["progressToken"], "tok");
    assert_eq!(
        a.event_ids,
        [
            Some("ev-1".into()),
            Some("ev-2".into()),
            Some("ev-3".into())
        ]
    );
    assert_eq!(a.last()["id"], 7);

    let started = std::time::Instant::now();
    let dead = c.call_tool(&sid, 8, "die_mid_stream", json!({})).await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "no hang"
    );
    assert_eq!(dead.messages[0]["method"], "notifications/progress");
    assert_eq!(dead.last()["id"], 8);
    assert_eq!(dead.last()["error"]["code"], -32603, "{}", dead.raw);
    // The session survives its server's broken stream.
    assert!(
        c.call_tool(&sid, 9, "echo", json!({"text": "still"}))
            .await
            .last()["result"]
            .is_object()
    );
}

/// `/admin/usage` grouped by `group_by`, over the last hour.
async fn usage_by(gw: &Gateway, group_by: &str) -> Value {
    common::client()
        .get(format!(
            "{}/admin/usage?group_by={group_by}&since=1h",
            gw.url
        ))
        .bearer_auth(ADMIN_API)
        .send()
        .await
        .expect("usage")
        .json()
        .await
        .expect("json")
}

#[tokio::test]
async fn every_tool_call_leaves_a_usage_row() {
    let (_mock, gw) = setup().await;
    let c = McpClient::new(&gw.url, "docs", KEY);
    let sid = c.initialize().await;
    let with_user = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "echo", "arguments": {"text": "a"}, "_meta": {"user_id": "alice"}}});
    assert!(c.post(Some(&sid), &with_user).await.last()["result"].is_object());
    c.call_tool(&sid, 3, "delete_file", json!({})).await;
    c.call_tool(&sid, 4, "die_mid_stream", json!({})).await;
    c.post(
        Some(&sid),
        &json!({"jsonrpc": "2.0", "id": 5, "method": "ping"}),
    )
    .await;
    let usage = usage_by(&gw, "model").await;
    let mut tools: Vec<(String, u64)> = usage["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|r| {
            (
                r["group"].as_str().unwrap_or_default().to_string(),
                r["requests"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    tools.sort();
    assert_eq!(
        tools,
        [
            ("delete_file".to_string(), 1),
            ("die_mid_stream".to_string(), 1),
            ("echo".to_string(), 1)
        ],
        "{usage}"
    );
    let users = usage_by(&gw, "user").await;
    assert!(
        users["data"]
            .as_array()
            .expect("data")
            .iter()
            .any(|r| r["group"] == "alice"),
        "{users}"
    );
}

#[tokio::test]
async fn idle_sessions_expire() {
    let mock = McpMock::start().await;
    let cfg = config(&mock.url).replace("[mcp]\n", "[mcp]\nsession_idle_timeout_ms = 400\n");
    let gw = Gateway::start(&cfg);
    let c = McpClient::new(&gw.url, "docs", KEY);
    let sid = c.initialize().await;
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    for _ in 0..3 {
        // Use keeps it alive.
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert_eq!(c.post(Some(&sid), &ping).await.status, 200);
    }
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    assert_eq!(c.post(Some(&sid), &ping).await.status, 404);
}
