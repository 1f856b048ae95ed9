//! The MCP gateway in front of a stdio server it starts itself (`tests/common/mcp_stdio.py`): a
//! process per session, progress and server-to-client requests routed to the right exchange, a
//! crashing server (its session ends with 404, a new session gets a restarted server), and a
//! reload that removes a server (its sessions end).

mod common;

use common::mcp_client::{McpClient, read};
use common::{Gateway, KEY, auth_section};
use futures::StreamExt;
use serde_json::{Value, json};
use std::time::Duration;

fn config(with_server: bool) -> String {
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/common/mcp_stdio.py");
    let server = format!(
        r#"
[[mcp_servers]]
name = "local"
command = "python3"
args = ["-u", "{}"]
max_processes = 4
"#,
        script.display()
    );
    format!(
        "{}{}",
        auth_section(&[]),
        if with_server { server.as_str() } else { "" }
    )
}

#[tokio::test]
async fn a_stdio_server_serves_a_session_with_progress_and_server_requests() {
    let gw = Gateway::start(&config(true));
    let c = McpClient::new(&gw.url, "local", KEY);
    let sid = c.initialize().await;
    assert_eq!(c.tool_names(&sid).await, ["echo", "ask_client", "crash"]);
    let echo = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
        "params": {"name": "echo", "arguments": {"text": "hi"}, "_meta": {"progressToken": 11}}});
    let a = c.post(Some(&sid), &echo).await;
    assert_eq!(
        a.messages[0]["method"], "notifications/progress",
        "{}",
        a.raw
    );
    assert_eq!(a.messages[0]["params"]["progressToken"], 11);
    assert_eq!(a.last()["result"]["content"][0]["text"], "hi");

    // A server request made while answering a call reaches the client on that call's stream;
    // the client's answer (a POST of its own) reaches the server, which then answers the call.
    let resp = common::client()
        .post(&c.url)
        .bearer_auth(KEY)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .header("mcp-session-id", &sid)
        .body(
            json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call",
            "params": {"name": "ask_client", "arguments": {}}})
            .to_string(),
        )
        .send()
        .await
        .expect("call");
    let mut body = resp.bytes_stream();
    let mut text = String::new();
    while !text.contains("\n\n") {
        let chunk = tokio::time::timeout(Duration::from_secs(10), body.next())
            .await
            .expect("the server request arrives")
            .expect("more body")
            .expect("chunk");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    let request: Value =
        serde_json::from_str(text.trim().trim_start_matches("data: ")).expect("json");
    assert_eq!(request["method"], "sampling/createMessage");
    let answer = json!({"jsonrpc": "2.0", "id": request["id"], "result": {"role": "assistant",
        "content": {"type": "text", "text": "yes"}, "model": "m"}});
    assert_eq!(c.post(Some(&sid), &answer).await.status, 202);
    let mut rest = String::new();
    while let Ok(Some(Ok(chunk))) = tokio::time::timeout(Duration::from_secs(10), body.next()).await
    {
        rest.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(rest.contains("client said: yes"), "{rest}");

    let ping = c
        .post(
            Some(&sid),
            &json!({"jsonrpc": "2.0", "id": 5, "method": "ping"}),
        )
        .await;
    assert_eq!(ping.last()["result"], json!({}));
    let del = c
        .raw(reqwest::Method::DELETE)
        .header("mcp-session-id", &sid)
        .send()
        .await
        .expect("delete");
    assert_eq!(del.status(), 200);
    assert_eq!(
        c.post(
            Some(&sid),
            &json!({"jsonrpc": "2.0", "id": 6, "method": "ping"})
        )
        .await
        .status,
        404
    );
}

#[tokio::test]
async fn sessions_have_their_own_process_and_a_crash_ends_only_its_session() {
    let gw = Gateway::start(&config(true));
    let c = McpClient::new(&gw.url, "local", KEY);
    let pid_of =
        |a: &common::mcp_client::Answer| a.last()["result"]["serverInfo"]["version"].clone();
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let first = c.post(None, &init).await;
    let second = c.post(None, &init).await;
    let (s1, s2) = (
        first.session.clone().expect("sid"),
        second.session.clone().expect("sid"),
    );
    assert_ne!(pid_of(&first), pid_of(&second), "a process per session");

    let started = std::time::Instant::now();
    let crashed = c.call_tool(&s1, 1, "crash", json!({})).await;
    assert!(started.elapsed() < Duration::from_secs(10), "no hang");
    assert_eq!(crashed.last()["id"], 1, "{}", crashed.raw);
    assert_eq!(crashed.last()["error"]["code"], -32603);
    assert_eq!(
        c.call_tool(&s1, 2, "echo", json!({"text": "x"}))
            .await
            .status,
        404
    );
    // The other session's process is untouched.
    assert_eq!(
        c.call_tool(&s2, 3, "echo", json!({"text": "ok"}))
            .await
            .last()["result"]["content"][0]["text"],
        "ok"
    );
    // A new session gets a fresh process.
    let third = c.post(None, &init).await;
    assert_eq!(third.status, 200, "{}", third.raw);
    assert_ne!(pid_of(&third), pid_of(&first));
}

#[tokio::test]
async fn a_reload_that_removes_a_server_ends_its_sessions() {
    let gw = Gateway::start_with(&config(true), &[("SLUICE_ADMIN_KEY", "admin-secret")]);
    let c = McpClient::new(&gw.url, "local", KEY);
    let sid = c.initialize().await;
    std::fs::write(gw.path().join("gateway.toml"), config(false)).expect("write config");
    let reload = common::client()
        .post(format!("{}/admin/reload", gw.url))
        .bearer_auth("admin-secret")
        .send()
        .await
        .expect("reload");
    assert_eq!(reload.status(), 200);
    let a = c
        .post(
            Some(&sid),
            &json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}),
        )
        .await;
    assert_eq!(a.status, 404, "{}", a.raw);
    let again = read(
        common::client()
            .post(&c.url)
            .bearer_auth(KEY)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .expect("post"),
    )
    .await;
    assert_eq!(again.status, 404);
}

/// `sluice serve --config gateway.toml` from the config's folder: the stdio server starts in that
/// folder (a config path without a folder part once gave it an empty working directory).
#[tokio::test]
async fn a_stdio_server_starts_when_the_config_path_has_no_folder() {
    let gw = Gateway::start_from_its_folder(&config(true));
    let c = McpClient::new(&gw.url, "local", KEY);
    let sid = c.initialize().await;
    assert_eq!(c.tool_names(&sid).await, ["echo", "ask_client", "crash"]);
}
