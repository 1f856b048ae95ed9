//! Batches against the real binary and the mock upstream: a SIGKILL mid-batch and a restart run
//! no recorded line twice, cancel stops new lines and keeps the partial results, and every line
//! writes a usage row tagged with its batch. The SDK's view is in tests/sdk/test_batches.py.

mod common;

use common::mock::Mock;
use common::{Gateway, KEY, auth_section, client};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

const BOUNDARY: &str = "sluice-batch-boundary";

fn config(mock: &Mock, per_batch: usize) -> String {
    config_with(mock, &format!("per_batch_concurrency = {per_batch}"))
}

fn config_with(mock: &Mock, batches: &str) -> String {
    format!(
        r#"
[batches]
{batches}
{auth}
[[providers]]
name = "mock"
adapter = "openai"
base_url = "{url}/v1"

[[providers]]
name = "no-retries"
adapter = "openai"
base_url = "{url}/v1"
retries = 0

[[models]]
name = "slow"
provider = "mock"
upstream_model = "mock-50ms"

[[models]]
name = "limited"
provider = "no-retries"
upstream_model = "mock-429-first"
"#,
        auth = auth_section(&[]),
        url = mock.url
    )
}

/// Uploads `n` chat lines (`line-0`...) for the model `slow` and starts a batch of them.
async fn start_batch(gw: &Gateway, n: usize) -> String {
    let batch = create_batch(gw, n, "slow").await;
    assert_eq!(batch["status"], "in_progress", "{batch}");
    batch["id"].as_str().expect("id").to_string()
}

/// Uploads `n` chat lines (`line-0`...) for `model` and asks for a batch of them.
async fn create_batch(gw: &Gateway, n: usize, model: &str) -> Value {
    let mut jsonl = String::new();
    for i in 0..n {
        let line = json!({ "custom_id": format!("line-{i}"), "method": "POST",
            "url": "/v1/chat/completions",
            "body": { "model": model, "messages": [{ "role": "user", "content": format!("line-{i}") }] } });
        jsonl.push_str(&format!("{line}\n"));
    }
    let body = format!(
        "--{BOUNDARY}\r\ncontent-disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n\
         --{BOUNDARY}\r\ncontent-disposition: form-data; name=\"file\"; filename=\"in.jsonl\"\r\n\r\n\
         {jsonl}\r\n--{BOUNDARY}--\r\n"
    );
    let file: Value = client()
        .post(gw.at("/v1/files"))
        .bearer_auth(KEY)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body)
        .send()
        .await
        .expect("upload")
        .json()
        .await
        .expect("file");
    client()
        .post(gw.at("/v1/batches"))
        .bearer_auth(KEY)
        .json(
            &json!({ "input_file_id": file["id"], "endpoint": "/v1/chat/completions",
                       "completion_window": "24h" }),
        )
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("batch")
}

async fn get(gw: &Gateway, path: &str) -> Value {
    client()
        .get(gw.at(path))
        .bearer_auth(KEY)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json")
}

/// Polls batch `id` until `done` holds (at most 60 s).
async fn wait_for(gw: &Gateway, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..1200 {
        let b = get(gw, &format!("/v1/batches/{id}")).await;
        if done(&b) {
            return b;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("batch {id} did not get there in time");
}

/// How many times the mock saw each line.
fn calls(mock: &Mock) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for s in mock.seen() {
        let text = s.body["messages"][0]["content"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        *out.entry(text).or_insert(0) += 1;
    }
    out
}

async fn output_ids(gw: &Gateway, file_id: &Value) -> Vec<String> {
    let text = client()
        .get(gw.at(&format!(
            "/v1/files/{}/content",
            file_id.as_str().expect("id")
        )))
        .bearer_auth(KEY)
        .send()
        .await
        .expect("content")
        .text()
        .await
        .expect("text");
    text.lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("output line");
            v["custom_id"].as_str().expect("custom_id").to_string()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_gateway_resumes_without_running_a_recorded_line_again() {
    let mock = Mock::start().await;
    let mut gw = Gateway::start(&config(&mock, 4));
    let id = start_batch(&gw, 60).await;
    wait_for(&gw, &id, |b| {
        b["request_counts"]["completed"].as_u64() >= Some(12)
    })
    .await;
    gw.kill();
    // What was durable when it died.
    let db = rusqlite::Connection::open(gw.path().join("data/sluice.db")).expect("db");
    let recorded: HashSet<String> = db
        .prepare("SELECT custom_id FROM batch_lines WHERE batch_id = ?1 AND result IS NOT NULL")
        .expect("query")
        .query_map([&id], |r| r.get(0))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("ids");
    drop(db);
    assert!(
        recorded.len() >= 12 && recorded.len() < 60,
        "{}",
        recorded.len()
    );

    let gw = gw.restart();
    let b = wait_for(&gw, &id, |b| b["status"] == "completed").await;
    assert_eq!(b["request_counts"]["completed"], 60, "{b}");
    let mut ids = output_ids(&gw, &b["output_file_id"]).await;
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 60, "every line once in the output");
    let calls = calls(&mock);
    for line in &recorded {
        assert_eq!(
            calls.get(line),
            Some(&1),
            "{line} ran again after the restart"
        );
    }
    // Only lines in flight at the kill (at most 4) ran twice.
    let twice = calls.values().filter(|&&n| n > 1).count();
    assert!(twice <= 4, "{twice} lines ran twice");
}

#[tokio::test(flavor = "multi_thread")]
async fn cancel_stops_new_lines_and_keeps_what_ran() {
    let mock = Mock::start().await;
    let gw = Gateway::start(&config(&mock, 2));
    let id = start_batch(&gw, 40).await;
    wait_for(&gw, &id, |b| {
        b["request_counts"]["completed"].as_u64() >= Some(4)
    })
    .await;
    let r: Value = client()
        .post(gw.at(&format!("/v1/batches/{id}/cancel")))
        .bearer_auth(KEY)
        .send()
        .await
        .expect("cancel")
        .json()
        .await
        .expect("json");
    assert!(
        r["status"] == "cancelling" || r["status"] == "cancelled",
        "{r}"
    );
    let b = wait_for(&gw, &id, |b| b["status"] == "cancelled").await;
    let done = b["request_counts"]["completed"].as_u64().expect("count");
    assert!((4..40).contains(&done), "{b}");
    assert_eq!(
        output_ids(&gw, &b["output_file_id"]).await.len() as u64,
        done
    );
    // Nothing more goes upstream once it is cancelled.
    let seen = mock.seen().len();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(mock.seen().len(), seen);
    assert_eq!(seen as u64, done);
    // Every line that ran has a usage row tagged with the batch.
    let mut gw = gw;
    assert!(gw.terminate());
    let db = rusqlite::Connection::open(gw.path().join("data/sluice.db")).expect("db");
    let rows: u64 = db
        .query_row(
            "SELECT COUNT(*) FROM usage WHERE batch_id = ?1 AND status = 200",
            [&id],
            |r| r.get(0),
        )
        .expect("usage");
    assert_eq!(rows, done);
}

#[tokio::test(flavor = "multi_thread")]
async fn lines_left_when_the_window_ends_fail_as_expired() {
    let mock = Mock::start().await;
    let gw = Gateway::start(&config(&mock, 8));
    // More lines than the runner takes at a time (256), so it looks at the window again.
    let id = start_batch(&gw, 300).await;
    wait_for(&gw, &id, |b| {
        b["request_counts"]["completed"].as_u64() >= Some(8)
    })
    .await;
    // End the window now, as 24 hours would.
    let db = rusqlite::Connection::open(gw.path().join("data/sluice.db")).expect("db");
    db.execute(
        "UPDATE batches SET object = json_set(object, '$.expires_at', 1) WHERE id = ?1",
        [&id],
    )
    .expect("end the window");
    let b = wait_for(&gw, &id, |b| b["status"] == "expired").await;
    let (done, failed) = (
        b["request_counts"]["completed"]
            .as_u64()
            .expect("completed"),
        b["request_counts"]["failed"].as_u64().expect("failed"),
    );
    assert_eq!(done + failed, 300, "{b}");
    assert!(failed > 0 && b["expired_at"].is_u64(), "{b}");
    let errors = client()
        .get(gw.at(&format!(
            "/v1/files/{}/content",
            b["error_file_id"].as_str().expect("error file")
        )))
        .bearer_auth(KEY)
        .send()
        .await
        .expect("content")
        .text()
        .await
        .expect("text");
    let first: Value = serde_json::from_str(errors.lines().next().expect("a line")).expect("json");
    assert_eq!(first["error"]["code"], "batch_expired");
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limited_lines_wait_for_their_window_instead_of_failing() {
    let mock = Mock::start().await;
    let gw = Gateway::start(&config(&mock, 4));
    let batch = create_batch(&gw, 3, "limited").await;
    let id = batch["id"].as_str().expect("id");
    let b = wait_for(&gw, id, |b| b["status"] == "completed").await;
    assert_eq!(b["request_counts"]["completed"], 3, "{b}");
    assert_eq!(b["request_counts"]["failed"], 0, "{b}");
    // Each line was refused once (429, retry-after 1), waited, and ran again.
    assert!(calls(&mock).values().all(|&n| n == 2), "{:?}", calls(&mock));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_owner_has_a_cap_on_batches_in_progress() {
    let mock = Mock::start().await;
    let gw = Gateway::start(&config_with(
        &mock,
        "max_active_per_owner = 1\nper_batch_concurrency = 1",
    ));
    let first = start_batch(&gw, 40).await;
    let second = create_batch(&gw, 1, "slow").await;
    assert_eq!(
        second["error"]["code"], "too_many_active_batches",
        "{second}"
    );
    assert!(
        second["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains('1')
    );
    // Once the first is done, the owner may start another.
    wait_for(&gw, &first, |b| b["status"] == "completed").await;
    let third = create_batch(&gw, 1, "slow").await;
    assert_eq!(third["status"], "in_progress", "{third}");
}
