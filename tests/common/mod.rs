//! Shared by the integration tests: the real `sluice` binary spawned on 127.0.0.1:0 with a config
//! of the test's own, and a mock OpenAI upstream the project owns.
#![allow(dead_code, missing_docs)]

pub mod certs;
pub mod cluster;
pub mod evil;
pub mod files;
pub mod mcp_client;
pub mod mcp_mock;
pub mod mock;
pub mod postgres;
pub mod redis;
pub mod upload_mock;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The offline `echo` provider and its model `echo`, for config tails.
pub const ECHO: &str = r#"
[[providers]]
name = "echo"
adapter = "echo"

[[models]]
name = "echo"
provider = "echo"
"#;

/// The demo key of the test configs.
pub const KEY: &str = "sk-test-key";

/// sha256 of [`KEY`].
pub fn key_hash(secret: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(secret.as_bytes()))
}

/// The folder with the built test plugins (`sluice_test_chaos.wasm`, ...).
pub fn plugin_dir() -> PathBuf {
    PathBuf::from(env!("SLUICE_PLUGIN_DIR"))
}

/// A running gateway. Killed on drop.
pub struct Gateway {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The folder holding its config (and anything the test puts beside it).
    pub dir: tempfile::TempDir,
    /// The shared stores it runs on (see [`shared_stores_env`]), kept for a restart.
    shared_env: Vec<(String, String)>,
}

/// With `SLUICE_TEST_SHARED_STORES=1` (the second pass of `scripts/test`), every gateway the
/// suites start keeps its records in a fresh PostgreSQL database and its plugins' counters in the
/// run's Redis under a prefix of its own, through the environment variables that override
/// `[storage]` and `[kv]`: the suites' own configs do not change.
fn shared_stores_env() -> Vec<(String, String)> {
    if std::env::var("SLUICE_TEST_SHARED_STORES").as_deref() != Ok("1") {
        return Vec::new();
    }
    let redis = std::env::var("SLUICE_TEST_REDIS_URL")
        .expect("SLUICE_TEST_SHARED_STORES=1 needs SLUICE_TEST_REDIS_URL (scripts/services start)");
    vec![
        ("SLUICE_STORAGE_BACKEND".into(), "postgres".into()),
        ("SLUICE_STORAGE_URL".into(), postgres::fresh_database()),
        ("SLUICE_KV_BACKEND".into(), "redis".into()),
        ("SLUICE_KV_URL".into(), redis),
        (
            "SLUICE_KV_PREFIX".into(),
            format!("it{:016x}:", rand::random::<u64>()),
        ),
    ]
}

/// True when the suites run on the shared stores (some checks read SQLite's file directly).
pub fn on_shared_stores() -> bool {
    std::env::var("SLUICE_TEST_SHARED_STORES").as_deref() == Ok("1")
}

impl Gateway {
    /// Writes `config` to a fresh folder and starts the gateway on it.
    pub fn start(config: &str) -> Gateway {
        Gateway::start_with(config, &[])
    }

    /// Like [`Gateway::start`], with extra environment variables.
    pub fn start_with(config: &str, env: &[(&str, &str)]) -> Gateway {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("gateway.toml"), config).expect("write config");
        Gateway::start_in(dir, env)
    }

    /// Writes `config` beside copies of built test plugins, given as (built file, name in the
    /// config's folder), and starts the gateway on it.
    pub fn start_with_plugins(
        config: &str,
        plugins: &[(&str, &str)],
        env: &[(&str, &str)],
    ) -> Gateway {
        let dir = tempfile::tempdir().expect("temp dir");
        for (built, name) in plugins {
            std::fs::copy(plugin_dir().join(built), dir.path().join(name))
                .expect("copy a test plugin");
        }
        std::fs::write(dir.path().join("gateway.toml"), config).expect("write config");
        Gateway::start_in(dir, env)
    }

    /// Starts the gateway on `dir/gateway.toml`.
    pub fn start_in(dir: tempfile::TempDir, env: &[(&str, &str)]) -> Gateway {
        Gateway::spawn(dir, env, shared_stores_env(), false)
    }

    /// Like [`Gateway::start`], run from the config's folder as `--config gateway.toml` (a path
    /// without a folder part, as an operator in that folder would type it).
    pub fn start_from_its_folder(config: &str) -> Gateway {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("gateway.toml"), config).expect("write config");
        Gateway::spawn(dir, &[], shared_stores_env(), true)
    }

    fn spawn(
        dir: tempfile::TempDir,
        env: &[(&str, &str)],
        shared_env: Vec<(String, String)>,
        relative: bool,
    ) -> Gateway {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sluice"));
        let config = if relative {
            cmd.current_dir(dir.path());
            PathBuf::from("gateway.toml")
        } else {
            dir.path().join("gateway.toml")
        };
        cmd.arg("serve")
            .arg("--config")
            .arg(config)
            .env("SLUICE_LISTEN", "127.0.0.1:0")
            .env("SLUICE_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in &shared_env {
            cmd.env(k, v);
            if k == "SLUICE_STORAGE_URL" {
                // For the checks that read the records directly (`usage_statuses`).
                std::fs::write(dir.path().join(".storage_url"), v).expect("write .storage_url");
            }
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn sluice");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            while let Some(Ok(line)) = lines.next() {
                if let Some(url) = line.strip_prefix("sluice listening on ") {
                    let _ = tx.send(url.to_string());
                }
            }
        });
        let url = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                let status = child.wait().ok();
                panic!("the gateway did not start (exit: {status:?})");
            }
        };
        Gateway {
            child,
            url,
            dir,
            shared_env,
        }
    }

    /// Tries to start a gateway that should refuse its config; returns its exit status and stderr.
    pub fn refuse(config: &str) -> (bool, String) {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("gateway.toml"), config).expect("write config");
        let out = Command::new(env!("CARGO_BIN_EXE_sluice"))
            .arg("serve")
            .arg("--config")
            .arg(dir.path().join("gateway.toml"))
            .env("SLUICE_LISTEN", "127.0.0.1:0")
            .output()
            .expect("run sluice");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Kills the process at once (SIGKILL), as a crash would, and waits for it to go.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts a new gateway process on this one's folder (config and data), after it stopped.
    pub fn restart(mut self) -> Gateway {
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().expect("temp dir"));
        Gateway::spawn(dir, &[], std::mem::take(&mut self.shared_env), false)
    }

    /// Sends SIGTERM and waits (at most 30 s) for the process to exit; true if it exited cleanly.
    pub fn terminate(&mut self) -> bool {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// The gateway's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The config folder.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `url` + `path`.
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP client for tests.
pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// The auth plugin section accepting [`KEY`] for every model and `sk-limited` for `limited_to`.
pub fn auth_section(limited_to: &[&str]) -> String {
    let models: Vec<String> = limited_to.iter().map(|m| format!("\"{m}\"")).collect();
    format!(
        r#"
[[plugins]]
name = "auth"
stage = "auth"
source = "builtin:key-auth"
[[plugins.config.keys]]
id = "test"
sha256 = "{}"
[[plugins.config.keys]]
id = "limited"
sha256 = "{}"
models = [{}]
"#,
        key_hash(KEY),
        key_hash("sk-limited"),
        models.join(", ")
    )
}

/// Parses an SSE body into its `data:` payloads.
pub fn sse_data(body: &str) -> Vec<String> {
    body.split("\n\n")
        .filter_map(|e| {
            let data: Vec<&str> = e.lines().filter_map(|l| l.strip_prefix("data: ")).collect();
            (!data.is_empty()).then(|| data.join("\n"))
        })
        .collect()
}

/// The JSON chunks of an SSE body (all but `[DONE]`).
pub fn sse_chunks(body: &str) -> Vec<serde_json::Value> {
    sse_data(body)
        .into_iter()
        .filter(|d| d != "[DONE]")
        .map(|d| serde_json::from_str(&d).expect("chunk is JSON"))
        .collect()
}

/// The content of the deltas of choice 0.
pub fn joined_content(chunks: &[serde_json::Value]) -> String {
    chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect()
}

/// Usage totals of an in-process gateway since it started, grouped by `group_by` (`key`, `user`
/// or `model`), after the queued rows are written.
pub async fn usage_totals(
    gw: &sluice::state::AppState,
    group_by: &str,
) -> Vec<sluice::store::UsageTotals> {
    gw.usage.flush().await;
    sluice::store::query_usage(
        &gw.db,
        &sluice::store::UsageQuery {
            group_by: group_by.into(),
            since_ms: 0,
            until_ms: u64::MAX,
            key_id: None,
        },
    )
    .expect("usage totals")
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The statuses of the usage rows in the database of the gateway configured in `dir` that
/// `filter` (an SQL condition on the `usage` table) selects, in the order written, once there
/// are `count` of them: the writer batches rows, so this waits for them (10 s at most, then
/// answers what is there).
pub async fn usage_statuses(dir: &Path, filter: &str, count: usize) -> Vec<i64> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let sql = format!("SELECT status FROM usage WHERE {filter} ORDER BY id");
    let shared = std::fs::read_to_string(dir.join(".storage_url")).ok();
    loop {
        let found: Vec<i64> = match &shared {
            Some(url) => postgres::query(url, &sql)
                .iter()
                .filter_map(|s| s.trim().parse().ok())
                .collect(),
            None => rusqlite::Connection::open(dir.join("data/sluice.db"))
                .and_then(|db| {
                    let mut q = db.prepare(&sql)?;
                    q.query_map([], |r| r.get(0))?.collect()
                })
                .unwrap_or_default(),
        };
        if found.len() >= count || std::time::Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
