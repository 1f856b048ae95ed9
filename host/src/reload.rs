//! Hot reload: a file watch on the config and plugin files, SIGHUP and `POST /admin/reload` all
//! lead to [`Gateway::reload`], which builds a whole new pipeline off the request path and swaps
//! it in atomically. Requests in flight (open streams included) finish on the pipeline they
//! started with. A reload that fails changes nothing.

use crate::config::{Config, FileWatch};
use crate::pipeline::Pipeline;
use crate::state::{Gateway, ReloadReport, ReloadState};
use crate::time::now_ms;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// What a reload builds: the pipeline, the restart-only changes, the listener's certificate.
type Next = (
    Pipeline,
    Vec<String>,
    Option<Arc<rustls::sign::CertifiedKey>>,
);

/// How long to wait for more file events before reloading (editors write in several steps).
const DEBOUNCE: Duration = Duration::from_millis(100);

impl Gateway {
    /// Reloads the config file and every plugin, and swaps the new pipeline in. Reloads run one at
    /// a time. Returns the new generation, or the reason nothing changed.
    pub async fn reload(&self, trigger: &'static str) -> Result<u64, String> {
        let _one_at_a_time = self.reload_lock.lock().await;
        let started = Instant::now();
        let current = self.pipeline.load_full();
        let (result, certificate) = match self.build_next(&current).await {
            Ok((pipeline, restart, certificate)) => (Ok((pipeline, restart)), certificate),
            Err(e) => (Err(e), None),
        };
        let outcome = self.record(result, &current, trigger, started);
        crate::telemetry::record::reload(outcome.is_ok());
        if outcome.is_ok() {
            // New connections get the certificate read with this config; open ones keep theirs.
            if let (Some(tls), Some(certificate)) = (&self.tls, certificate) {
                tls.replace(certificate);
            }
            // MCP servers follow the config: new ones start, removed or changed ones stop.
            let config = Arc::clone(&self.pipeline.load().config);
            crate::telemetry::record::set_enabled(config.telemetry.metrics);
            self.webhooks.apply(&config.webhooks);
            self.seed_budgets().await;
            self.mcp
                .apply(&config.mcp, &config.mcp_servers, &config.file)
                .await;
        }
        outcome
    }

    /// Swaps a new pipeline in, or keeps the current one; records the outcome either way.
    fn record(
        &self,
        result: Result<(Pipeline, Vec<String>), String>,
        current: &Pipeline,
        trigger: &'static str,
        started: Instant,
    ) -> Result<u64, String> {
        let mut state = self.reload_state();
        let report = |ok, generation, error| ReloadReport {
            at_ms: now_ms(),
            trigger,
            ok,
            generation,
            error,
            duration_ms: started.elapsed().as_millis() as u64,
        };
        match result {
            Ok((pipeline, restart)) => {
                let generation = pipeline.generation;
                let files = pipeline.config.watched_files();
                let live: Vec<[u8; 32]> = pipeline.plugin_hashes();
                self.pipeline.store(Arc::new(pipeline));
                self.runtime.retain_compiled(&live);
                if let Some(w) = state.watch.as_mut() {
                    w.set(files);
                }
                for change in &restart {
                    tracing::warn!(change = %change, "this setting changed but takes effect only on restart");
                }
                state.restart_required = restart;
                state.last = Some(report(true, generation, None));
                tracing::info!(
                    generation,
                    trigger,
                    ms = started.elapsed().as_millis() as u64,
                    "reloaded"
                );
                Ok(generation)
            }
            Err(e) => {
                tracing::error!(error = %e, trigger, "reload rejected; the previous pipeline keeps serving");
                state.last = Some(report(false, current.generation, Some(e.clone())));
                Err(e)
            }
        }
    }

    /// The next pipeline, the restart-only changes, and the listener's certificate read again
    /// (when the listener serves TLS): all of them load, or the reload is rejected.
    async fn build_next(&self, current: &Pipeline) -> Result<Next, String> {
        let config = Config::load(&current.config.file).map_err(|e| e.to_string())?;
        let restart = self.first_config.restart_changes(&config);
        let certificate = match (&self.tls, config.tls_files()) {
            (Some(_), Some((cert, key))) => Some(
                crate::http::tls::certified_key(&cert, &key)
                    .map_err(|e| format!("{}: {}: {e}", config.file.display(), e.key()))?,
            ),
            _ => None,
        };
        let pipeline = Pipeline::build(
            config,
            &self.runtime,
            &self.backends,
            current.generation + 1,
        )
        .await
        .map_err(|e| e.to_string())?;
        Ok((pipeline, restart, certificate))
    }

    /// The reload bookkeeping.
    pub fn reload_state(&self) -> std::sync::MutexGuard<'_, ReloadState> {
        self.reload
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Starts the triggers: the file watch and SIGHUP. Changes are debounced, then reloaded.
pub fn spawn_triggers(gw: Arc<Gateway>) -> notify::Result<()> {
    let (tx, mut rx) = mpsc::unbounded_channel::<()>();
    let mut watch = FileWatch::new(tx)?;
    watch.set(gw.pipeline.load().config.watched_files());
    gw.reload_state().watch = Some(watch);

    let (sig_tx, mut sig_rx) = mpsc::unbounded_channel::<()>();
    #[cfg(unix)]
    if let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        tokio::spawn(async move {
            while hup.recv().await.is_some() {
                let _ = sig_tx.send(());
            }
        });
    }
    #[cfg(not(unix))]
    drop(sig_tx);

    tokio::spawn(async move {
        loop {
            let trigger = tokio::select! {
                Some(()) = rx.recv() => "file",
                Some(()) = sig_rx.recv() => "signal",
                else => break,
            };
            // Let a burst of events settle, then reload once for all of them.
            while let Ok(Some(())) = tokio::time::timeout(DEBOUNCE, rx.recv()).await {}
            let _ = gw.reload(trigger).await;
        }
    });
    Ok(())
}
