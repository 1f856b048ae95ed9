//! The wasmtime engine, the linker every plugin is instantiated through, and the compiled-component
//! cache.

use crate::capabilities::PluginState;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// One epoch tick: deadlines are counted in these.
pub const EPOCH_TICK: Duration = Duration::from_millis(1);

/// Sizes of the instance pool, fixed for the life of the process.
#[derive(Debug, Clone)]
pub struct RuntimeLimits {
    /// Where compiled components are kept between runs (`<data_dir>/compiled`); none keeps them
    /// in memory only.
    pub cache_dir: Option<std::path::PathBuf>,
    /// Plugin instances alive at once (fresh ones in flight plus warm ones in pools).
    pub max_instances: u32,
    /// The largest memory any plugin may be given, in bytes.
    pub max_memory_bytes: usize,
}

impl Default for RuntimeLimits {
    fn default() -> Self {
        RuntimeLimits {
            cache_dir: None,
            max_instances: 1000,
            max_memory_bytes: 256 << 20,
        }
    }
}

/// The engine and everything tied to it. Shared by every pipeline generation.
pub struct Runtime {
    /// The engine every plugin is compiled for.
    pub engine: Engine,
    /// The linker holding the host's imports (WASI, `host`, `kv`).
    pub linker: Linker<PluginState>,
    /// The pool sizes.
    pub limits: RuntimeLimits,
    cache: Mutex<HashMap<[u8; 32], Component>>,
}

/// The content hash that keys the compiled-component cache.
pub fn content_hash(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

impl Runtime {
    /// Builds the engine (component model, pooling allocator, epoch interruption), the linker with
    /// the host's imports, and starts the epoch ticker.
    pub fn new(limits: RuntimeLimits) -> anyhow::Result<Arc<Runtime>> {
        let mut pool = PoolingAllocationConfig::default();
        let n = limits.max_instances;
        pool.total_component_instances(n)
            // A Rust component instantiates its main module plus small shim modules (4 core
            // instances); componentize-js needs 4, componentize-py 14 (CPython, libc, shims).
            .total_core_instances(n.saturating_mul(16))
            .total_memories(n.saturating_mul(2))
            .total_tables(n.saturating_mul(4))
            // Async calls run on fiber stacks, one per instance in a call.
            .total_stacks(n)
            .max_memory_size(limits.max_memory_bytes)
            .max_memories_per_component(4)
            .max_tables_per_component(8);
        let mut cfg = Config::new();
        cfg.wasm_component_model(true)
            .epoch_interruption(true)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&cfg).map_err(|e| anyhow::anyhow!("wasmtime engine: {e}"))?;

        let mut linker: Linker<PluginState> = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(|e| anyhow::anyhow!("linking WASI: {e}"))?;
        crate::capabilities::add_to_linker(&mut linker)?;

        let ticker = engine.weak();
        std::thread::Builder::new()
            .name("sluice-epoch".into())
            .spawn(move || {
                while let Some(engine) = ticker.upgrade() {
                    engine.increment_epoch();
                    drop(engine);
                    std::thread::sleep(EPOCH_TICK);
                }
            })?;

        Ok(Arc::new(Runtime {
            engine,
            linker,
            limits,
            cache: Mutex::new(HashMap::new()),
        }))
    }

    /// Compiles `bytes` as a component, or returns the cached compile of the same content (from
    /// memory, else from the on-disk cache). Compiling takes ~100 ms: call it off the request path.
    pub fn compile(&self, bytes: &[u8]) -> Result<(Component, [u8; 32]), wasmtime::Error> {
        let hash = content_hash(bytes);
        if let Some(c) = self.cached(&hash) {
            return Ok((c, hash));
        }
        let file = self
            .limits
            .cache_dir
            .as_ref()
            .map(|d| d.join(format!("{}.cwasm", hex::encode(hash))));
        let component = match file.as_deref().and_then(|f| self.load_compiled(f)) {
            Some(c) => c,
            None => {
                let c = Component::new(&self.engine, bytes)?;
                if let Some(f) = &file {
                    store_compiled(&c, f);
                }
                c
            }
        };
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(hash, component.clone());
        Ok((component, hash))
    }

    /// Drops compiled components whose hash is not in `live` (after a reload swapped them out).
    pub fn retain_compiled(&self, live: &[[u8; 32]]) {
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .retain(|h, _| live.contains(h));
    }

    /// A compiled component from the disk cache; None if absent or built by another engine.
    fn load_compiled(&self, file: &std::path::Path) -> Option<Component> {
        if !file.is_file() {
            return None;
        }
        // SAFETY: the file was written by `store_compiled` (wasmtime's own `serialize`) into the
        // gateway's data folder, named by the sha256 of the component it was compiled from, and
        // wasmtime checks its header (version, settings) against this engine. The data folder is
        // as trusted as the config and the key database beside it.
        #[allow(unsafe_code)]
        let loaded = unsafe { Component::deserialize_file(&self.engine, file) };
        match loaded {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::info!(file = %file.display(), error = %e, "compiled cache entry unusable; compiling again");
                None
            }
        }
    }

    fn cached(&self, hash: &[u8; 32]) -> Option<Component> {
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(hash)
            .cloned()
    }
}

/// Writes `component` to the disk cache (write, then rename: readers never see half a file).
fn store_compiled(component: &Component, file: &std::path::Path) {
    let result = component
        .serialize()
        .map_err(|e| e.to_string())
        .and_then(|bytes| {
            if let Some(dir) = file.parent() {
                std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
            }
            let tmp = file.with_extension(format!("tmp{}", std::process::id()));
            std::fs::write(&tmp, bytes).map_err(|e| e.to_string())?;
            std::fs::rename(&tmp, file).map_err(|e| e.to_string())
        });
    if let Err(e) = result {
        tracing::warn!(file = %file.display(), error = %e, "cannot write the compiled cache");
    }
}
