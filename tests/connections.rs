//! Client connections against the real binary: half-open connections are closed after the header
//! read timeout, idle ones after the idle timeout, the connection cap holds, and SIGTERM drains
//! for a bounded time, closes what is left and still writes every usage row.

mod common;

use common::mock::Mock;
use common::{ECHO, Gateway, KEY, auth_section};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

/// The host and port of a gateway URL.
fn addr(gw: &Gateway) -> String {
    gw.url.trim_start_matches("http://").to_string()
}

/// Whether the server closes `conn` within `within` (reads until EOF or a reset).
fn closed_within(conn: &mut TcpStream, within: Duration) -> bool {
    conn.set_read_timeout(Some(within)).expect("timeout");
    let mut buf = [0u8; 4096];
    loop {
        match conn.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false, // timed out: still open
        }
    }
}

fn config(server: &str) -> String {
    format!("[server]\n{server}\n{}{ECHO}", auth_section(&[]))
}

#[test]
fn half_open_connections_are_closed_after_the_header_timeout() {
    let gw = Gateway::start(&config("header_read_timeout_ms = 300"));
    let mut held: Vec<TcpStream> = (0..50)
        .map(|_| {
            let mut c = TcpStream::connect(addr(&gw)).expect("connect");
            // A request head that never ends.
            c.write_all(b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n")
                .expect("write");
            c
        })
        .collect();
    for c in &mut held {
        assert!(
            closed_within(c, Duration::from_secs(10)),
            "a half-open connection was kept open"
        );
    }
    // The gateway still serves.
    let mut c = TcpStream::connect(addr(&gw)).expect("connect");
    c.write_all(b"GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .expect("write");
    let mut text = String::new();
    c.read_to_string(&mut text).expect("read");
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
}

#[test]
fn idle_connections_are_closed_after_the_idle_timeout() {
    let gw = Gateway::start(&config(
        "header_read_timeout_ms = 30000\nidle_timeout_ms = 300",
    ));
    let mut c = TcpStream::connect(addr(&gw)).expect("connect");
    c.write_all(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
        .expect("write");
    let mut buf = [0u8; 1024];
    let n = c.read(&mut buf).expect("response");
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    // Kept alive, then idle: closed.
    assert!(closed_within(&mut c, Duration::from_secs(10)));
}

/// With four serving threads (four listeners on the port) the cap holds over all of them, and the
/// slot that frees goes to the waiting client whichever listener the kernel queued it on.
#[test]
fn the_connection_cap_holds_new_clients_until_one_closes() {
    let gw = Gateway::start(&config(
        "header_read_timeout_ms = 60000\nmax_connections = 2\nthreads = 4",
    ));
    let mut held: Vec<TcpStream> = (0..2)
        .map(|_| {
            let c = TcpStream::connect(addr(&gw)).expect("connect");
            c.set_nodelay(true).expect("nodelay");
            c
        })
        .collect();
    // Give the gateway a moment to accept both.
    std::thread::sleep(Duration::from_millis(200));
    let mut third = TcpStream::connect(addr(&gw)).expect("the kernel queues it");
    third
        .write_all(b"GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .expect("write");
    third
        .set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    let mut buf = [0u8; 1024];
    assert!(
        third.read(&mut buf).is_err(),
        "a third connection was served past the cap of 2"
    );
    drop(held.pop());
    third
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let n = third.read(&mut buf).expect("served once a slot freed");
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_drains_for_a_bounded_time_and_keeps_every_usage_row() {
    let mock = Mock::start().await;
    let text = format!(
        r#"
[server]
shutdown_drain_ms = 300
header_read_timeout_ms = 60000
{auth}
[[providers]]
name = "mock"
adapter = "openai"
base_url = "{url}/v1"

[[models]]
name = "slow"
provider = "mock"
upstream_model = "mock-slow"
"#,
        auth = auth_section(&[]),
        url = mock.url
    );
    let mut gw = Gateway::start(&text);
    // A half-open connection, which used to keep the drain waiting forever.
    let mut half_open = TcpStream::connect(addr(&gw)).expect("connect");
    half_open
        .write_all(b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n")
        .expect("write");
    // A request in flight that needs 3 s, ten times the drain.
    let slow = tokio::spawn(
        common::client()
            .post(gw.at("/v1/chat/completions"))
            .bearer_auth(KEY)
            .json(&serde_json::json!({
                "model": "slow", "messages": [{ "role": "user", "content": "hi" }] }))
            .send(),
    );
    while mock.seen().is_empty() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (clean, gw) = tokio::task::spawn_blocking(move || (gw.terminate(), gw))
        .await
        .expect("terminate");
    assert!(clean, "the gateway exits cleanly on SIGTERM");
    assert!(
        slow.await.expect("task").is_err(),
        "the slow request was cut at the end of the drain"
    );
    // Its usage row was written: one request, one error (499).
    let out = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(["usage", "--group-by", "model", "--config"])
        .arg(gw.path().join("gateway.toml"))
        .output()
        .expect("sluice usage");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let row = text
        .lines()
        .find(|l| l.starts_with("slow "))
        .unwrap_or_else(|| panic!("no row for the cut request:\n{text}"));
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(&cols[1..3], ["1", "1"], "{row}");
}
