//! Three gateway replicas sharing one PostgreSQL (keys, usage, files metadata, batches) and one
//! Redis (the plugins' counters), as `deploy/` runs them, with one files folder between them (the
//! shared volume). Usage adds up across a rolling restart under load; a replica SIGKILLed mid-load
//! costs only its in-flight requests (and the usage rows it had not yet written); a batch goes on
//! when a replica running its lines is killed, and no finished line runs twice; a revoked key is
//! refused by every replica at once.
//!
//! PostgreSQL: `SLUICE_TEST_POSTGRES_URL` (`scripts/services start`); Redis: the test's own.

mod common;

use common::cluster::{ADMIN, Seen, Shared, settled_rows, start_load, stop_load};
use common::files::{batch_lines, upload_file};
use common::{Gateway, KEY, client};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn usage_adds_up_across_a_rolling_restart_of_every_replica_under_load() {
    let shared = Shared::new().await;
    let mut gws: Vec<Option<Gateway>> = (0..3).map(|_| Some(shared.replica())).collect();
    let urls = Arc::new(std::sync::Mutex::new(
        gws.iter()
            .map(|g| g.as_ref().map(|g| g.url.clone()))
            .collect::<Vec<_>>(),
    ));
    let (stop, tasks) = start_load(&urls, 6);
    for (n, slot) in gws.iter_mut().enumerate() {
        tokio::time::sleep(Duration::from_millis(400)).await;
        // The load balancer stops sending to it, then it drains and stops (SIGTERM).
        urls.lock().expect("urls")[n] = None;
        let mut old = slot.take().expect("replica");
        // Blocking waits, off the runtime the load runs on.
        let new = tokio::task::spawn_blocking(move || {
            assert!(old.terminate(), "replica {n} did not stop cleanly");
            old.restart()
        })
        .await
        .expect("restart");
        urls.lock().expect("urls")[n] = Some(new.url.clone());
        *slot = Some(new);
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    let seen = stop_load(stop, tasks).await;
    let rows = settled_rows(&shared).await;
    assert!(seen.len() > 50, "the load ran: {}", seen.len());
    let mut answered: Vec<&str> = seen.iter().map(|s| s.request_id.as_str()).collect();
    let mut recorded: Vec<&str> = rows.iter().map(String::as_str).collect();
    answered.sort_unstable();
    recorded.sort_unstable();
    assert_eq!(recorded, answered, "one usage row per answered request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_replica_killed_mid_load_costs_only_its_in_flight_requests() {
    let shared = Shared::new().await;
    let mut gws: Vec<Gateway> = (0..3).map(|_| shared.replica()).collect();
    let urls = Arc::new(std::sync::Mutex::new(
        gws.iter().map(|g| Some(g.url.clone())).collect::<Vec<_>>(),
    ));
    let (stop, tasks) = start_load(&urls, 6);
    tokio::time::sleep(Duration::from_millis(800)).await;
    gws[1].kill();
    let killed_at = Instant::now();
    urls.lock().expect("urls")[1] = None;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let seen = stop_load(stop, tasks).await;
    let rows: std::collections::HashSet<String> = settled_rows(&shared).await.into_iter().collect();
    let missing: Vec<&Seen> = seen
        .iter()
        .filter(|s| !rows.contains(&s.request_id))
        .collect();
    // What the killed replica had answered but not yet written (its writer lingers up to 200 ms
    // over a batch of rows) is all that may be missing; the other replicas lose nothing.
    for m in &missing {
        assert_eq!(m.replica, 1, "a row of a live replica is missing: {m:?}");
        assert!(
            killed_at.duration_since(m.at) <= Duration::from_millis(400),
            "a row answered long before the kill is missing: {m:?}"
        );
    }
    let from_survivors = seen.iter().filter(|s| s.replica != 1).count();
    assert!(from_survivors > 20, "the survivors kept serving");
}

/// Uploads `n` lines for the model `slow` through `gw` and starts a batch of them.
async fn start_batch(gw: &Gateway, n: usize) -> String {
    let (status, file) = upload_file(
        gw,
        KEY,
        "batch",
        "in.jsonl",
        batch_lines(n, "slow").as_bytes(),
    )
    .await;
    assert_eq!(status, 200, "{file}");
    let batch: Value = client()
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
        .expect("batch");
    batch["id"].as_str().expect("batch id").to_string()
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

#[tokio::test]
async fn a_batch_goes_on_when_a_replica_running_its_lines_is_killed() {
    let shared = Shared::new().await;
    let mut gws: Vec<Gateway> = (0..3).map(|_| shared.replica()).collect();
    let id = start_batch(&gws[0], 60).await;
    // Every replica takes leases on lines of the batch; kill one once lines are done.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let b = get(&gws[1], &format!("/v1/batches/{id}")).await;
        if b["request_counts"]["completed"].as_u64().unwrap_or(0) >= 8 {
            break;
        }
        assert!(Instant::now() < deadline, "the batch did not start: {b}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    gws[0].kill();
    let deadline = Instant::now() + Duration::from_secs(90);
    let b = loop {
        let b = get(&gws[2], &format!("/v1/batches/{id}")).await;
        if b["status"] == "completed" {
            break b;
        }
        assert!(Instant::now() < deadline, "the batch did not finish: {b}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(b["request_counts"]["completed"], 60, "{b}");
    assert_eq!(b["request_counts"]["failed"], 0, "{b}");
    let output = client()
        .get(gws[1].at(&format!(
            "/v1/files/{}/content",
            b["output_file_id"].as_str().expect("out")
        )))
        .bearer_auth(KEY)
        .send()
        .await
        .expect("output")
        .text()
        .await
        .expect("text");
    let mut per_line: HashMap<String, usize> = HashMap::new();
    for l in output.lines() {
        let v: Value = serde_json::from_str(l).expect("output line");
        *per_line
            .entry(v["custom_id"].as_str().expect("id").into())
            .or_default() += 1;
    }
    assert_eq!(per_line.len(), 60);
    assert!(per_line.values().all(|n| *n == 1), "{per_line:?}");
    // Lines the killed replica had in flight may run again elsewhere; none that had finished.
    let mut calls: HashMap<String, usize> = HashMap::new();
    for s in shared.mock.seen() {
        let text = s.body["messages"][0]["content"]
            .as_str()
            .unwrap_or_default();
        *calls.entry(text.to_string()).or_default() += 1;
    }
    let repeated = calls.values().filter(|n| **n > 1).count();
    assert!(
        repeated <= 4,
        "only the killed replica's in-flight lines (at most 4) run twice: {calls:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_requests_over_three_replicas_on_both_stores_let_exactly_ten_through() {
    let shared = Shared::new().await;
    let gws: Vec<Gateway> = (0..3).map(|_| shared.limited_replica(10)).collect();
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let url = gws[i % 3].at("/v1/chat/completions");
            tokio::spawn(async move {
                client()
                    .post(url)
                    .bearer_auth(KEY)
                    .json(&json!({"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}))
                    .send()
                    .await
                    .expect("chat")
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.expect("task"));
    }
    let count = |s: u16| statuses.iter().filter(|x| **x == s).count();
    assert_eq!((count(200), count(429)), (10, 40), "{statuses:?}");
    // Every answer is in the shared usage table, the refused ones too.
    let rows = settled_rows(&shared).await;
    assert_eq!(rows.len(), 50);
}

#[tokio::test]
async fn a_key_revoked_on_one_replica_is_refused_by_every_replica_within_a_second() {
    let shared = Shared::new().await;
    let gws: Vec<Gateway> = (0..3).map(|_| shared.replica()).collect();
    let created: Value = client()
        .post(gws[0].at("/admin/keys"))
        .bearer_auth(ADMIN)
        .json(&json!({ "owner": "ann" }))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    let (secret, id) = (
        created["key"].as_str().expect("secret").to_string(),
        created["record"]["id"].as_str().expect("id").to_string(),
    );
    let chat = |gw: &Gateway| {
        let (url, secret) = (gw.at("/v1/chat/completions"), secret.clone());
        async move {
            client()
                .post(url)
                .bearer_auth(secret)
                .json(
                    &json!({"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}),
                )
                .send()
                .await
                .expect("chat")
                .status()
                .as_u16()
        }
    };
    for gw in &gws {
        assert_eq!(
            chat(gw).await,
            200,
            "a key made on one replica works on all"
        );
    }
    let r = client()
        .delete(gws[2].at(&format!("/admin/keys/{id}")))
        .bearer_auth(ADMIN)
        .send()
        .await
        .expect("revoke");
    assert!(r.status().is_success(), "{}", r.status());
    let revoked_at = Instant::now();
    for gw in &gws {
        let deadline = revoked_at + Duration::from_secs(1);
        while chat(gw).await != 401 {
            assert!(
                Instant::now() < deadline,
                "a replica still accepts the revoked key"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
