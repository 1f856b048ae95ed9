//! The data each plugin store carries: the plugin's shared environment (name, config, the backends
//! of its capabilities) and the instance's memory cap. The capability glue (`host`, `kv`, `keys`)
//! is implemented on [`PluginState`] in the folder of each capability.

use super::kv::Kv;
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
    pub kv: Arc<Kv>,
    /// The prefix that namespaces this plugin's keys.
    pub kv_prefix: String,
    /// Managed API keys, for the `keys` import.
    pub keys: Option<KeyStore>,
    /// The pipeline's price table, for the `prices` import.
    pub prices: Arc<super::PriceTable>,
    /// Where `host.notify` events go.
    pub events: Arc<dyn super::Events>,
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

    /// `key` in this plugin's namespace of the shared `kv` store.
    pub(super) fn kv_key(&self, key: &str) -> String {
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
