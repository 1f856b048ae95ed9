//! File contents in an S3-compatible object store (`[files] store = "s3"`), against moto's S3
//! server on loopback (`SLUICE_MOTO_SERVER`, which scripts/test points at the venv's
//! `moto_server`): an upload lands in the bucket and nowhere on the gateway's disk, downloads and
//! batches read it from there, a batch writes its output there, and a delete removes the object.

mod common;

use common::files::{batch_lines, upload_file};
use common::{Gateway, KEY, auth_section, client};
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BUCKET: &str = "sluice-files";

/// moto's S3 server on a free port; killed on drop.
struct Moto {
    child: Child,
    url: String,
}

impl Moto {
    fn start() -> Moto {
        let bin = std::env::var("SLUICE_MOTO_SERVER")
            .unwrap_or_else(|_| format!("{}/../.venv/bin/moto_server", env!("CARGO_MANIFEST_DIR")));
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("port")
            .port();
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin} ({e}): run scripts/python-env"));
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto_server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    /// The keys in the bucket (a ListObjectsV2 answer's `<Key>`s).
    async fn keys(&self) -> Vec<String> {
        let text = client()
            .get(format!("{}/{BUCKET}?list-type=2", self.url))
            .send()
            .await
            .expect("moto list")
            .text()
            .await
            .expect("text");
        text.split("<Key>")
            .skip(1)
            .filter_map(|k| k.split("</Key>").next().map(str::to_string))
            .collect()
    }

    /// The object at `key` of the bucket: its status and bytes (moto does not check signatures).
    async fn object(&self, key: &str) -> (u16, Vec<u8>) {
        let r = client()
            .get(format!("{}/{BUCKET}/{key}", self.url))
            .send()
            .await
            .expect("moto get");
        let status = r.status().as_u16();
        (status, r.bytes().await.expect("bytes").to_vec())
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn config(moto: &Moto) -> String {
    format!(
        r#"
[files]
store = "s3"
bucket = "{BUCKET}"
prefix = "sluice/"
endpoint = "{url}"
region = "us-east-1"
{auth}
[[providers]]
name = "echo"
adapter = "echo"

[[models]]
name = "echo"
provider = "echo"
"#,
        url = moto.url,
        auth = auth_section(&[]),
    )
}

async fn upload(gw: &Gateway, jsonl: &str) -> Value {
    let (status, file) = upload_file(gw, KEY, "batch", "in.jsonl", jsonl.as_bytes()).await;
    assert_eq!(status, 200, "{file}");
    file
}

async fn content(gw: &Gateway, id: &str) -> (u16, String) {
    let r = client()
        .get(gw.at(&format!("/v1/files/{id}/content")))
        .bearer_auth(KEY)
        .send()
        .await
        .expect("content");
    (r.status().as_u16(), r.text().await.expect("text"))
}

#[tokio::test]
async fn file_contents_live_in_the_bucket() {
    let moto = Moto::start();
    let made = client()
        .put(format!("{}/{BUCKET}", moto.url))
        .send()
        .await
        .expect("create bucket");
    assert!(made.status().is_success(), "{}", made.status());
    let gw = Gateway::start_with(
        &config(&moto),
        &[
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
        ],
    );
    let jsonl = batch_lines(3, "echo");
    let file = upload(&gw, &jsonl).await;
    let id = file["id"].as_str().expect("id").to_string();
    let (status, stored) = moto.object(&format!("sluice/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(
        String::from_utf8_lossy(&stored),
        jsonl,
        "the bucket holds the bytes"
    );
    let local: Vec<_> = std::fs::read_dir(gw.path().join("data/files"))
        .expect("files folder")
        .collect();
    assert!(local.is_empty(), "nothing stays on the gateway's disk");
    assert_eq!(content(&gw, &id).await, (200, jsonl.clone()));

    // A batch reads its input from the bucket and writes its output there.
    let batch: Value = client()
        .post(gw.at("/v1/batches"))
        .bearer_auth(KEY)
        .json(&json!({"input_file_id": id, "endpoint": "/v1/chat/completions", "completion_window": "24h"}))
        .send()
        .await
        .expect("batch")
        .json()
        .await
        .expect("json");
    let batch_id = batch["id"].as_str().expect("batch id").to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    let done = loop {
        let b: Value = client()
            .get(gw.at(&format!("/v1/batches/{batch_id}")))
            .bearer_auth(KEY)
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        if b["status"] == "completed" {
            break b;
        }
        assert!(Instant::now() < deadline, "batch did not finish: {b}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let out_id = done["output_file_id"].as_str().expect("output");
    let (status, out) = content(&gw, out_id).await;
    assert_eq!(status, 200);
    assert_eq!(out.lines().count(), 3, "{out}");
    assert!(moto.keys().await.contains(&format!("sluice/{out_id}")));

    // Deleting the file removes the object.
    let r = client()
        .delete(gw.at(&format!("/v1/files/{id}")))
        .bearer_auth(KEY)
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status(), 200);
    assert!(!moto.keys().await.contains(&format!("sluice/{id}")));
    assert_eq!(content(&gw, &id).await.0, 404);
}

#[tokio::test]
async fn an_unreachable_object_store_is_a_clear_503_not_a_lost_file() {
    let moto = Moto::start();
    let url = moto.url.clone();
    drop(moto);
    let cfg = config(&Moto {
        child: Command::new("true").spawn().expect("true"),
        url,
    });
    let gw = Gateway::start_with(
        &cfg,
        &[
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
        ],
    );
    let (status, v) = upload_file(&gw, KEY, "batch", "in.jsonl", b"{}").await;
    assert_eq!(status, 503);
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("try again")),
        "{v}"
    );
    let list: Value = client()
        .get(gw.at("/v1/files"))
        .bearer_auth(KEY)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(
        list["data"].as_array().map(Vec::len),
        Some(0),
        "no record without its bytes"
    );
}
