//! The reload diff: what a reload reads, and which changed settings only a restart applies.

use super::Config;
use std::path::PathBuf;

impl Config {
    /// Every file this config depends on: itself and its plugins' `.wasm` files.
    pub fn watched_files(&self) -> Vec<PathBuf> {
        std::iter::once(self.file.clone())
            .chain(self.plugins.iter().filter_map(|p| p.path(&self.file)))
            .chain(self.pricing_file.clone())
            .chain(self.providers.iter().filter_map(|p| {
                let dir = self
                    .file
                    .parent()
                    .unwrap_or_else(|| std::path::Path::new("."));
                p.ca_file.as_ref().map(|f| dir.join(f))
            }))
            .chain(self.tls_files().into_iter().flat_map(|(c, k)| [c, k]))
            .collect()
    }

    /// The listener's certificate and key files (`[server] tls_cert`, `tls_key`), resolved
    /// against the config file's folder, when TLS is on.
    pub fn tls_files(&self) -> Option<(PathBuf, PathBuf)> {
        let dir = self
            .file
            .parent()
            .unwrap_or_else(|| std::path::Path::new("."));
        match (&self.server.tls_cert, &self.server.tls_key) {
            (Some(c), Some(k)) => Some((dir.join(c), dir.join(k))),
            _ => None,
        }
    }

    /// Settings that only take effect on restart and differ between `self` and `new`, as
    /// `key: old -> new` lines.
    pub fn restart_changes(&self, new: &Config) -> Vec<String> {
        let mut out = Vec::new();
        let (old_s, new_s) = (&self.server, &new.server);
        let tls = |c: &Config| if c.tls_files().is_some() { "on" } else { "off" };
        if tls(self) != tls(new) {
            out.push(format!("server TLS: {} -> {}", tls(self), tls(new)));
        }
        if old_s.listen != new_s.listen {
            out.push(format!(
                "server.listen: {} -> {}",
                old_s.listen, new_s.listen
            ));
        }
        for (key, old, new) in [
            (
                "server.header_read_timeout_ms",
                old_s.header_read_timeout_ms,
                new_s.header_read_timeout_ms,
            ),
            (
                "server.idle_timeout_ms",
                old_s.idle_timeout_ms,
                new_s.idle_timeout_ms,
            ),
            (
                "server.max_connections",
                old_s.max_connections as u64,
                new_s.max_connections as u64,
            ),
            (
                "server.shutdown_drain_ms",
                old_s.shutdown_drain_ms,
                new_s.shutdown_drain_ms,
            ),
            (
                "batches.concurrency",
                self.batches.concurrency as u64,
                new.batches.concurrency as u64,
            ),
            (
                "batches.concurrency_when_busy",
                self.batches.concurrency_when_busy as u64,
                new.batches.concurrency_when_busy as u64,
            ),
        ] {
            if old != new {
                out.push(format!("{key}: {old} -> {new}"));
            }
        }
        if self.telemetry.metrics_listen != new.telemetry.metrics_listen {
            out.push(format!(
                "telemetry.metrics_listen: {:?} -> {:?}",
                self.telemetry.metrics_listen, new.telemetry.metrics_listen
            ));
        }
        let (ot, nt) = (&self.telemetry, &new.telemetry);
        if (
            &ot.otlp_endpoint,
            ot.otlp_protocol,
            ot.trace_sample_ratio,
            &ot.service_name,
        ) != (
            &nt.otlp_endpoint,
            nt.otlp_protocol,
            nt.trace_sample_ratio,
            &nt.service_name,
        ) {
            out.push("telemetry (traces)".into());
        }
        if self.log != new.log {
            out.push(format!("log: {:?} -> {:?}", self.log, new.log));
        }
        if self.runtime != new.runtime {
            out.push(format!("runtime: {:?} -> {:?}", self.runtime, new.runtime));
        }
        let (f, nf) = (&self.files, &new.files);
        if (f.store, &f.bucket, &f.prefix, &f.endpoint, &f.region)
            != (nf.store, &nf.bucket, &nf.prefix, &nf.endpoint, &nf.region)
        {
            out.push("files (store, bucket, prefix, endpoint, region)".into());
        }
        if self.kv != new.kv {
            out.push("kv (backend, url, prefix, on_unavailable, timeout_ms)".into());
        }
        if self.data_dir() != new.data_dir() {
            out.push(format!(
                "storage.data_dir: {} -> {}",
                self.data_dir().display(),
                new.data_dir().display()
            ));
        }
        let (os, ns) = (&self.storage, &new.storage);
        if os.backend != ns.backend {
            out.push(format!(
                "storage.backend: {} -> {}",
                os.backend.as_str(),
                ns.backend.as_str()
            ));
        }
        if os.url != ns.url {
            // Not shown: a URL may hold a password.
            out.push("storage.url: changed".into());
        }
        if os.pool_size != ns.pool_size {
            out.push(format!(
                "storage.pool_size: {} -> {}",
                os.pool_size, ns.pool_size
            ));
        }
        out
    }
}
