//! The Files API against the real binary: uploads stream to disk (a 100 MB upload does not raise
//! the gateway's memory by 100 MB), owners' quotas, expiry and the sweeper, and chat `file_id`
//! parts inlined for their owner only. The SDK's view is in tests/sdk/test_files.py.

mod common;

use common::mock::Mock;
use common::{Gateway, client, key_hash};
use serde_json::{Value, json};
use std::time::Duration;

const ANN: &str = "sk-files-ann";
const BOB: &str = "sk-files-bob";
const BOUNDARY: &str = "sluice-test-boundary";

fn config(files: &str, mock: Option<&Mock>) -> String {
    let provider = match mock {
        Some(m) => format!(
            "[[providers]]\nname = \"mock\"\nadapter = \"openai\"\nbase_url = \"{}/v1\"\n\n\
             [[models]]\nname = \"mock-model\"\nprovider = \"mock\"\n",
            m.url
        ),
        None => common::ECHO.to_string(),
    };
    format!(
        r#"
[files]
{files}

[[plugins]]
name = "auth"
stage = "auth"
source = "builtin:key-auth"
[[plugins.config.keys]]
id = "ann"
owner = "ann"
sha256 = "{ann}"
[[plugins.config.keys]]
id = "bob"
owner = "bob"
sha256 = "{bob}"

{provider}
"#,
        ann = key_hash(ANN),
        bob = key_hash(BOB),
    )
}

/// The head and tail of a multipart body with `purpose` and a `file` part.
fn multipart(purpose: &str, filename: &str) -> (String, String) {
    let head = format!(
        "--{BOUNDARY}\r\ncontent-disposition: form-data; name=\"purpose\"\r\n\r\n{purpose}\r\n\
         --{BOUNDARY}\r\ncontent-disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\
         content-type: application/octet-stream\r\n\r\n"
    );
    (head, format!("\r\n--{BOUNDARY}--\r\n"))
}

async fn upload(gw: &Gateway, key: &str, purpose: &str, name: &str, data: &[u8]) -> (u16, Value) {
    let (head, tail) = multipart(purpose, name);
    let body = [head.as_bytes(), data, tail.as_bytes()].concat();
    let r = client()
        .post(gw.at("/v1/files"))
        .bearer_auth(key)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body)
        .send()
        .await
        .expect("upload");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn vm_hwm_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

#[tokio::test]
async fn a_100_mb_upload_streams_to_disk() {
    let gw = Gateway::start(&config("", None));
    let before = vm_hwm_kb(gw.pid());
    let (head, tail) = multipart("user_data", "big.bin");
    const MB: usize = 1 << 20;
    let chunks = futures::stream::iter(
        std::iter::once(bytes::Bytes::from(head))
            .chain((0..100).map(|_| bytes::Bytes::from(vec![7u8; MB])))
            .chain(std::iter::once(bytes::Bytes::from(tail)))
            .map(Ok::<_, std::io::Error>),
    );
    let r = client()
        .post(gw.at("/v1/files"))
        .bearer_auth(ANN)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .expect("upload");
    assert_eq!(r.status(), 200);
    let f: Value = r.json().await.expect("file object");
    assert_eq!(f["bytes"], 100 * MB);
    let grown_mb = (vm_hwm_kb(gw.pid()).saturating_sub(before)) / 1024;
    eprintln!("a 100 MB upload raised the gateway's peak memory by {grown_mb} MB");
    assert!(
        grown_mb < 40,
        "the gateway's peak memory grew by {grown_mb} MB"
    );
    let on_disk = gw
        .path()
        .join("data/files")
        .join(f["id"].as_str().expect("id"));
    assert_eq!(
        std::fs::metadata(on_disk).expect("stored").len(),
        100 * MB as u64
    );
}

#[tokio::test]
async fn owners_have_quotas_and_uploads_need_a_key_first() {
    let gw = Gateway::start_with(
        &config("max_owner_bytes = 1500", None),
        &[("SLUICE_ADMIN_KEY", "admin-secret")],
    );
    let (status, _) = upload(&gw, ANN, "user_data", "a.txt", &[1; 1000]).await;
    assert_eq!(status, 200);
    let (status, e) = upload(&gw, ANN, "user_data", "b.txt", &[1; 1000]).await;
    assert_eq!(status, 413, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("1500"),
        "{e}"
    );
    // Another owner has a quota of their own.
    let (status, _) = upload(&gw, BOB, "user_data", "b.txt", &[1; 1000]).await;
    assert_eq!(status, 200);
    // Admins see each owner's files, with their owner.
    let listed: Value = client()
        .get(gw.at("/admin/files?owner=bob"))
        .bearer_auth("admin-secret")
        .send()
        .await
        .expect("admin list")
        .json()
        .await
        .expect("json");
    let owners: Vec<&str> = listed["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|f| f["owner"].as_str())
        .collect();
    assert_eq!(owners, ["bob"], "{listed}");
    // No key: 401, whatever the body.
    let (status, _) = upload(&gw, "sk-nobody", "user_data", "c.txt", b"x").await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn expired_files_are_gone_and_swept() {
    let gw = Gateway::start(&config("sweep_interval_s = 1", None));
    let (_, f) = upload(&gw, ANN, "batch", "old.jsonl", b"{}\n").await;
    let id = f["id"].as_str().expect("id").to_string();
    assert_eq!(
        f["expires_at"],
        f["created_at"].as_u64().expect("t") + 30 * 86_400
    );
    // Age the file by hand, as a clock would in 30 days.
    let db = rusqlite::Connection::open(gw.path().join("data/sluice.db")).expect("db");
    db.execute("UPDATE files SET expires_at = 1 WHERE id = ?1", [&id])
        .expect("age");
    let r = client()
        .get(gw.at(&format!("/v1/files/{id}")))
        .bearer_auth(ANN)
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 404);
    let bytes = gw.path().join("data/files").join(&id);
    for _ in 0..100 {
        if !bytes.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!bytes.exists(), "the sweeper removed the bytes");
}

#[tokio::test]
async fn chat_file_ids_are_inlined_for_their_owner_only() {
    let mock = Mock::start().await;
    let gw = Gateway::start(&config("", Some(&mock)));
    let (_, f) = upload(&gw, ANN, "user_data", "brief.pdf", b"%PDF-1.4 tiny").await;
    let id = f["id"].as_str().expect("id");
    let chat = |key: &'static str| {
        client()
            .post(gw.at("/v1/chat/completions"))
            .bearer_auth(key)
            .json(
                &json!({ "model": "mock-model", "messages": [{ "role": "user", "content": [
                    { "type": "text", "text": "summarise" },
                    { "type": "file", "file": { "file_id": id } },
                ]}]}),
            )
            .send()
    };
    let r = chat(ANN).await.expect("chat");
    assert_eq!(r.status(), 200);
    let seen = &mock.seen()[0].body;
    let file = &seen["messages"][0]["content"][1]["file"];
    assert_eq!(file["filename"], "brief.pdf");
    assert_eq!(
        file["file_data"],
        "data:application/pdf;base64,JVBERi0xLjQgdGlueQ=="
    );
    assert!(file.get("file_id").is_none());
    // Bob cannot use Ann's file: 404, and nothing goes upstream.
    let r = chat(BOB).await.expect("chat");
    assert_eq!(r.status(), 404);
    assert_eq!(mock.seen().len(), 1);

    // A stored file over the 10 MB limit of file parts is refused before any upstream call.
    let (_, big) = upload(&gw, ANN, "user_data", "big.pdf", &vec![b'x'; 11 << 20]).await;
    let r = client()
        .post(gw.at("/v1/chat/completions"))
        .bearer_auth(ANN)
        .json(
            &json!({ "model": "mock-model", "messages": [{ "role": "user", "content": [
            { "type": "file", "file": { "file_id": big["id"] } } ]}]}),
        )
        .send()
        .await
        .expect("chat");
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.expect("json");
    assert_eq!(e["error"]["code"], "file_too_large", "{e}");
    assert_eq!(mock.seen().len(), 1);
}
