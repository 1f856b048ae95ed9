//! The gateway's shared state: the pipeline serving now (swapped by reloads), the Wasm runtime,
//! the stores, outbound HTTP, and the tasks that outlive a response (streams, completion hooks).

use crate::capabilities::Kv;
use crate::config::Config;
use crate::config::FileWatch;
use crate::mcp::McpHub;
use crate::pipeline::Pipeline;
use crate::pipeline::engine::{Runtime, RuntimeLimits};
use crate::store::{BatchStore, Db, FileStore, KeyStore, ResponseStore, UsageWriter};
use crate::upstream::UpstreamClient;
use arc_swap::ArcSwap;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use std::sync::Arc;
use tokio_util::task::TaskTracker;

/// Everything a request needs, shared by all requests.
pub struct Gateway {
    /// The pipeline now serving; a reload swaps it.
    pub pipeline: ArcSwap<Pipeline>,
    /// The Wasm runtime (engine, linker, compiled-component cache).
    pub runtime: Arc<Runtime>,
    /// The backends of the plugins' capabilities (`kv`, `keys`, events), outliving reloads.
    pub backends: crate::capabilities::Backends,
    /// `[[webhooks]]`: where plugins' events go.
    pub webhooks: Arc<crate::webhooks::Webhooks>,
    /// Outbound HTTP.
    pub upstream: UpstreamClient,
    /// The database (keys, usage).
    pub db: Db,
    /// Managed keys.
    pub keys: KeyStore,
    /// Uploaded files.
    pub files: FileStore,
    /// File contents: the data folder, or an S3-compatible object store (`[files] store`).
    pub contents: crate::store::Contents,
    /// Where multipart uploads of the audio and image endpoints are spooled while their request
    /// runs (`<data_dir>/uploads`).
    pub uploads_dir: std::path::PathBuf,
    /// Batches and their lines.
    pub batches: BatchStore,
    /// Responses kept for `POST /responses` (`store: true`).
    pub responses: ResponseStore,
    /// Batch lines that may run at once, over every batch (`batches.concurrency`).
    pub batch_slots: tokio::sync::Semaphore,
    /// Batch lines that may run at once while interactive traffic is busy
    /// (`batches.concurrency_when_busy`).
    pub batch_slots_busy: tokio::sync::Semaphore,
    /// Interactive requests in flight, for batches to give way to.
    pub interactive: Interactive,
    /// Batches being run now, each with its cancel flag (set by `POST /batches/{id}/cancel`).
    pub batch_runs:
        std::sync::Mutex<std::collections::HashMap<String, Arc<std::sync::atomic::AtomicBool>>>,
    /// Where usage rows go.
    pub usage: UsageWriter,
    /// The MCP servers and the client sessions with them.
    pub mcp: Arc<McpHub>,
    /// Tasks that outlive their response (streams, `on-complete` hooks): shutdown waits for them
    /// before the last usage rows are written.
    pub tasks: TaskTracker,
    /// TLS on the listener (`[server] tls_cert`, `tls_key`); a reload replaces its certificate.
    pub tls: Option<crate::http::tls::ListenerTls>,
    /// The config the process started with (restart-only settings are compared to it).
    pub(crate) first_config: Config,
    /// The admin API key (`SLUICE_ADMIN_KEY`); without one the admin API is off.
    pub(crate) admin_key: Option<String>,
    pub(crate) reload: std::sync::Mutex<ReloadState>,
    pub(crate) reload_lock: tokio::sync::Mutex<()>,
}

/// The outcome of the last reload attempt.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReloadReport {
    /// When it finished (ms since the Unix epoch).
    pub at_ms: u64,
    /// What triggered it: `file`, `signal` or `admin`.
    pub trigger: &'static str,
    /// Whether the new pipeline is serving.
    pub ok: bool,
    /// The generation serving after the attempt.
    pub generation: u64,
    /// Why it failed.
    pub error: Option<String>,
    /// How long building the pipeline took.
    pub duration_ms: u64,
}

/// Reload bookkeeping kept by the gateway.
#[derive(Default)]
pub struct ReloadState {
    /// The last attempt.
    pub last: Option<ReloadReport>,
    /// Changed settings that need a restart to take effect.
    pub restart_required: Vec<String>,
    pub(crate) watch: Option<FileWatch>,
}

/// Removes expired files and stored responses every `files.sweep_interval_s`, for as long as the
/// gateway lives.
fn spawn_file_sweeper(gw: std::sync::Weak<Gateway>) {
    tokio::spawn(async move {
        loop {
            let Some(g) = gw.upgrade() else { return };
            let every = g.pipeline.load().config.files.sweep_interval_s;
            let files = g.files.clone();
            let responses = g.responses.clone();
            let contents = g.contents.clone();
            drop(g);
            let now = crate::time::now_ms() / 1000;
            let swept =
                tokio::task::spawn_blocking(move || (files.sweep(now), responses.sweep(now))).await;
            match swept {
                Ok((files, responses)) => {
                    match files {
                        Ok(ids) => {
                            for id in &ids {
                                contents.remove(id).await;
                            }
                            if !ids.is_empty() {
                                tracing::info!(files = ids.len(), "removed expired files");
                            }
                        }
                        Err(e) => tracing::warn!(error = %e, "file sweep failed"),
                    }
                    match responses {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(responses = n, "removed expired responses"),
                        Err(e) => tracing::warn!(error = %e, "response sweep failed"),
                    }
                }
                Err(e) => tracing::warn!(error = %e, "sweep task failed"),
            }
            tokio::time::sleep(std::time::Duration::from_secs(every)).await;
        }
    });
}

/// Interactive requests in flight, and when the last one ended.
#[derive(Default)]
pub struct Interactive {
    in_flight: std::sync::atomic::AtomicUsize,
    last_ms: std::sync::atomic::AtomicU64,
}

/// An interactive request in flight; it ends when this drops.
pub struct InFlight<'a>(&'a Interactive);

impl Interactive {
    /// An interactive request starts.
    pub fn enter(&self) -> InFlight<'_> {
        self.in_flight
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        InFlight(self)
    }

    /// Whether interactive requests are in flight, or one ended within `window_ms`.
    pub fn busy(&self, window_ms: u64) -> bool {
        use std::sync::atomic::Ordering::Relaxed;
        self.in_flight.load(Relaxed) > 0
            || crate::time::now_ms().saturating_sub(self.last_ms.load(Relaxed)) < window_ms
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        use std::sync::atomic::Ordering::Relaxed;
        self.0.last_ms.store(crate::time::now_ms(), Relaxed);
        self.0.in_flight.fetch_sub(1, Relaxed);
    }
}

/// The state handlers receive.
pub type AppState = Arc<Gateway>;

impl Gateway {
    /// Builds the runtime and the first pipeline from `config`.
    pub async fn start(config: Config) -> anyhow::Result<AppState> {
        // TLS first: a certificate that does not load stops the start before anything else.
        let tls = match config.tls_files() {
            Some((cert, key)) => Some(
                crate::http::tls::ListenerTls::load(&cert, &key)
                    .map_err(|e| anyhow::anyhow!("{}: {}: {e}", config.file.display(), e.key()))?,
            ),
            None => None,
        };
        let runtime = Runtime::new(RuntimeLimits {
            cache_dir: Some(config.data_dir().join("compiled")),
            max_instances: config.runtime.max_instances,
            max_memory_bytes: config.runtime.max_plugin_memory_mb << 20,
        })?;
        let kv = Arc::new(
            Kv::from_config(&config.kv, crate::http::cores::count(config.server.threads))
                .map_err(|e| anyhow::anyhow!("{}: key `kv.url`: {e}", config.file.display()))?,
        );
        if let Err(e) = kv.ping().await {
            // Not fatal: calls wait for Redis as `[kv] on_unavailable` says, and it reconnects.
            tracing::warn!(error = %e, "the kv store does not answer yet");
        }
        let first_config = config.clone();
        // Off the async workers: PostgreSQL's connect and migrations block.
        let db = {
            let config = config.clone();
            tokio::task::spawn_blocking(move || Db::from_config(&config)).await??
        };
        let keys = KeyStore::new(db.clone());
        let files = FileStore::new(db.clone(), &config.data_dir());
        let batches = BatchStore::new(db.clone());
        let responses = ResponseStore::new(db.clone());
        std::fs::create_dir_all(files.dir())?;
        let contents = crate::store::Contents::from_config(&config.files, files.dir())
            .map_err(|e| anyhow::anyhow!("{}: [files]: {e}", config.file.display()))?;
        let uploads_dir = config.data_dir().join("uploads");
        std::fs::create_dir_all(&uploads_dir)?;
        crate::endpoints::llm::sweep_uploads(&uploads_dir);
        let batch_slots = tokio::sync::Semaphore::new(config.batches.concurrency);
        let batch_slots_busy = tokio::sync::Semaphore::new(config.batches.concurrency_when_busy);
        let upstream = UpstreamClient::new(crate::http::cores::count(config.server.threads))
            .map_err(|e| anyhow::anyhow!("cannot set up the upstream clients: {e}"))?;
        let mcp = McpHub::new(upstream.clone());
        mcp.apply(&config.mcp, &config.mcp_servers, &config.file)
            .await;
        crate::telemetry::record::set_enabled(config.telemetry.metrics);
        let tasks = TaskTracker::new();
        let webhooks = crate::webhooks::Webhooks::new(upstream.http(), tasks.clone());
        webhooks.apply(&config.webhooks);
        let backends = crate::capabilities::Backends {
            kv,
            keys: Some(keys.clone()),
            events: webhooks.clone(),
        };
        let pipeline = Pipeline::build(config, &runtime, &backends, 1).await?;
        let gw = Arc::new(Gateway {
            pipeline: ArcSwap::from_pointee(pipeline),
            runtime,
            backends,
            webhooks,
            upstream,
            mcp,
            first_config,
            usage: UsageWriter::start(db.clone()),
            db,
            keys,
            files,
            contents,
            uploads_dir,
            batches,
            responses,
            batch_runs: Default::default(),
            batch_slots,
            batch_slots_busy,
            interactive: Interactive::default(),
            tasks,
            tls,
            admin_key: std::env::var("SLUICE_ADMIN_KEY")
                .ok()
                .filter(|k| !k.is_empty()),
            reload: Default::default(),
            reload_lock: tokio::sync::Mutex::new(()),
        });
        spawn_file_sweeper(Arc::downgrade(&gw));
        gw.seed_budgets().await;
        Ok(gw)
    }
}

impl Gateway {
    /// Gives the `budget` plugins' counters the spend so far of each current period, from the
    /// usage rows, where they have not counted it (at start: all of them). See
    /// [`crate::budgets::seed`].
    pub async fn seed_budgets(&self) {
        let config = Arc::clone(&self.pipeline.load().config);
        let (db, keys, kv) = (
            self.db.clone(),
            self.keys.clone(),
            Arc::clone(&self.backends.kv),
        );
        let now = crate::time::now_ms();
        let seeds =
            tokio::task::spawn_blocking(move || crate::budgets::seeds(&config, &db, &keys, now))
                .await;
        let seeds = match seeds {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "budgets could not read the usage records");
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, "budget seeding task failed");
                return;
            }
        };
        match crate::budgets::seed(&kv, &seeds).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(counters = n, "budgets resumed from the usage records"),
            Err(e) => tracing::warn!(error = %e, "budgets could not be resumed into the kv store"),
        }
    }
}

/// A fresh request id: `req_` and 24 hex digits.
pub fn new_request_id() -> String {
    format!("req_{:024x}", rand::random::<u128>() >> 32)
}

/// Adds `(name, value)` pairs to `headers`, skipping any that are not valid HTTP.
pub fn add_headers(headers: &mut HeaderMap, pairs: &[(String, String)]) {
    for (k, v) in pairs {
        if let (Ok(k), Ok(v)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            headers.insert(k, v);
        }
    }
}
