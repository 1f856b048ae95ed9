//! Three replicas' worth of shared stores for tests/shared_stores.rs: a fresh PostgreSQL
//! database, a Redis, one files folder and the mock upstream, the config every replica runs, and
//! a load that records which replica answered each request (by its request id).

use super::mock::Mock;
use super::postgres::{fresh_database, query};
use super::redis::Redis;
use super::{Gateway, KEY, client, key_hash};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The admin API key of the replicas.
pub const ADMIN: &str = "sk-admin-shared";

/// The stores every replica shares, and the config they all run.
pub struct Shared {
    pub db_url: String,
    _redis: Redis,
    pub files: tempfile::TempDir,
    pub mock: Mock,
}

impl Shared {
    pub async fn new() -> Shared {
        Shared {
            db_url: fresh_database(),
            _redis: Redis::start(),
            files: tempfile::tempdir().expect("dir"),
            mock: Mock::start().await,
        }
    }

    pub fn config(&self) -> String {
        format!(
            r#"
[storage]
backend = "postgres"
url = "{db}"
data_dir = "{data}"
pool_size = 4

[kv]
backend = "redis"
url = "{redis}"

[batches]
per_batch_concurrency = 4
lease_s = 3

[[plugins]]
name = "auth"
stage = "auth"
source = "builtin:key-auth"
[[plugins.config.keys]]
id = "test"
sha256 = "{hash}"

[[plugins]]
name = "limits"
stage = "policy"
source = "builtin:rate-limit"
[plugins.config]
rpm = 1000000

[[providers]]
name = "mock"
adapter = "openai"
base_url = "{mock}/v1"

[[models]]
name = "gpt-test"
provider = "mock"
upstream_model = "mock-model"

[[models]]
name = "slow"
provider = "mock"
upstream_model = "mock-50ms"
"#,
            db = self.db_url,
            data = self.files.path().display(),
            redis = self._redis.url(),
            hash = key_hash(KEY),
            mock = self.mock.url,
        )
    }

    pub fn replica(&self) -> Gateway {
        Gateway::start_with(&self.config(), &[("SLUICE_ADMIN_KEY", ADMIN)])
    }

    /// A replica whose key may make `rpm` requests a minute.
    pub fn limited_replica(&self, rpm: u64) -> Gateway {
        let cfg = self
            .config()
            .replace("rpm = 1000000", &format!("rpm = {rpm}"));
        Gateway::start_with(&cfg, &[("SLUICE_ADMIN_KEY", ADMIN)])
    }

    /// The request ids of the usage rows written so far.
    pub fn rows(&self) -> Vec<String> {
        query(&self.db_url, "SELECT request_id FROM usage ORDER BY id")
    }
}

/// A response the load saw: the replica it came from, its request id, and when it ended.
#[derive(Debug, Clone)]
pub struct Seen {
    pub replica: usize,
    pub request_id: String,
    pub at: Instant,
}

/// Sends chats one after another over the replicas whose URL is set, until `stop`.
async fn load(
    urls: Arc<std::sync::Mutex<Vec<Option<String>>>>,
    stop: Arc<AtomicBool>,
) -> Vec<Seen> {
    let mut seen = Vec::new();
    let mut i = 0usize;
    while !stop.load(Ordering::SeqCst) {
        i += 1;
        let target = {
            let urls = urls.lock().expect("urls");
            let live: Vec<(usize, String)> = urls
                .iter()
                .enumerate()
                .filter_map(|(n, u)| u.clone().map(|u| (n, u)))
                .collect();
            live.get(i % live.len().max(1)).cloned()
        };
        let Some((replica, url)) = target else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let sent = client()
            .post(format!("{url}/v1/chat/completions"))
            .bearer_auth(KEY)
            .json(&json!({"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}))
            .send()
            .await;
        // A replica going away refuses or drops the connection: no answer, no row.
        if let Ok(r) = sent
            && let Some(id) = r
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
        {
            let request_id = id.to_string();
            if r.bytes().await.is_ok() {
                seen.push(Seen {
                    replica,
                    request_id,
                    at: Instant::now(),
                });
            }
        }
    }
    seen
}

pub fn start_load(
    urls: &Arc<std::sync::Mutex<Vec<Option<String>>>>,
    clients: usize,
) -> (Arc<AtomicBool>, Vec<tokio::task::JoinHandle<Vec<Seen>>>) {
    let stop = Arc::new(AtomicBool::new(false));
    let tasks = (0..clients)
        .map(|_| tokio::spawn(load(Arc::clone(urls), Arc::clone(&stop))))
        .collect();
    (stop, tasks)
}

pub async fn stop_load(
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<Vec<Seen>>>,
) -> Vec<Seen> {
    stop.store(true, Ordering::SeqCst);
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("load task"));
    }
    all
}

/// Waits until the rows stop growing (every replica's writer has flushed) and returns them.
pub async fn settled_rows(shared: &Shared) -> Vec<String> {
    let mut last = shared.rows();
    loop {
        tokio::time::sleep(Duration::from_millis(600)).await;
        let now = shared.rows();
        if now.len() == last.len() {
            return now;
        }
        last = now;
    }
}
