//! The data each plugin store carries, and the host side of the `host` and `kv` imports.

use super::bindings::{host_if, keys_if, kv_if};
use crate::host_api::{KvStore, now_ms};
use crate::store::KeyStore;
use std::sync::Arc;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// What a plugin's instances share: its name, config and key-value namespace.
pub struct PluginEnv {
    /// The plugin's name from the config (used in logs and errors).
    pub name: Arc<str>,
    /// The plugin's config table as JSON.
    pub config_json: Arc<str>,
    /// The key-value store.
    pub kv: Arc<dyn KvStore>,
    /// The prefix that namespaces this plugin's keys.
    pub kv_prefix: String,
    /// Managed API keys, for the `keys` import.
    pub keys: Option<KeyStore>,
}

/// Memory cap of one instance. Unlike `StoreLimits`, it remembers that the cap was hit, so a
/// trap that follows can be reported as memory exhaustion.
pub struct MemoryCap {
    /// The cap.
    pub max_bytes: usize,
    /// Set when a grow past the cap was refused.
    pub exceeded: bool,
}

impl wasmtime::ResourceLimiter for MemoryCap {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_bytes {
            self.exceeded = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}

/// The data of one plugin store.
pub struct PluginState {
    /// The plugin's shared environment.
    pub env: Arc<PluginEnv>,
    /// The instance's memory cap.
    pub cap: MemoryCap,
    wasi: WasiCtx,
    table: ResourceTable,
}

impl PluginState {
    /// A state with an empty WASI context: no files, no environment, no network, no stdio.
    pub fn new(env: Arc<PluginEnv>, max_memory_bytes: usize) -> Self {
        PluginState {
            env,
            cap: MemoryCap {
                max_bytes: max_memory_bytes,
                exceeded: false,
            },
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
        }
    }

    fn key(&self, key: &str) -> String {
        let mut k = String::with_capacity(self.env.kv_prefix.len() + key.len());
        k.push_str(&self.env.kv_prefix);
        k.push_str(key);
        k
    }
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl host_if::Host for PluginState {
    fn log(&mut self, level: host_if::Level, message: String) {
        let plugin = &*self.env.name;
        match level {
            host_if::Level::Trace => tracing::trace!(plugin, "{message}"),
            host_if::Level::Debug => tracing::debug!(plugin, "{message}"),
            host_if::Level::Info => tracing::info!(plugin, "{message}"),
            host_if::Level::Warn => tracing::warn!(plugin, "{message}"),
            host_if::Level::Error => tracing::error!(plugin, "{message}"),
        }
    }

    fn now_ms(&mut self) -> u64 {
        now_ms()
    }

    fn config(&mut self) -> String {
        self.env.config_json.to_string()
    }
}

impl kv_if::Host for PluginState {
    fn get(&mut self, key: String) -> Option<Vec<u8>> {
        self.env.kv.get(&self.key(&key))
    }

    fn set(&mut self, key: String, value: Vec<u8>, ttl_ms: Option<u64>) {
        self.env.kv.set(&self.key(&key), value, ttl_ms)
    }

    fn delete(&mut self, key: String) {
        self.env.kv.delete(&self.key(&key))
    }

    fn incr(&mut self, key: String, delta: i64, window_ms: u64) -> kv_if::WindowCount {
        let r = self.env.kv.incr(&self.key(&key), delta, window_ms);
        kv_if::WindowCount {
            value: r.value,
            ms_to_reset: r.ms_to_reset,
        }
    }
}

impl keys_if::Host for PluginState {
    fn lookup(&mut self, sha256_hex: String) -> Option<keys_if::KeyRecord> {
        let store = self.env.keys.as_ref()?;
        let record = match store.lookup(&sha256_hex.to_ascii_lowercase()) {
            Ok(r) => r?,
            Err(e) => {
                // Fail closed: an unreadable key store authenticates nobody.
                tracing::error!(error = %e, "key lookup failed");
                return None;
            }
        };
        Some(keys_if::KeyRecord {
            id: record.id,
            owner: record.owner,
            team: record.team,
            models: record.models,
            attributes: record.attributes.into_iter().collect(),
            expires_at_ms: record.expires_ms,
            revoked: record.revoked_ms.is_some(),
        })
    }
}
