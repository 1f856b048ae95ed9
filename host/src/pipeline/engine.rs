//! The wasmtime engine, the linker every plugin is instantiated through, and the compiled-component
//! cache.

use super::bindings::{host_if, keys_if, kv_if};
use super::state::PluginState;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// One epoch tick: deadlines are counted in these.
pub const EPOCH_TICK: Duration = Duration::from_millis(1);

/// Sizes of the instance pool, fixed for the life of the process.
#[derive(Debug, Clone)]
pub struct RuntimeLimits {
    /// Plugin instances alive at once (fresh ones in flight plus warm ones in pools).
    pub max_instances: u32,
    /// The largest memory any plugin may be given, in bytes.
    pub max_memory_bytes: usize,
}

impl Default for RuntimeLimits {
    fn default() -> Self {
        RuntimeLimits {
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
            // A Rust component instantiates its main module plus small shim modules.
            .total_core_instances(n.saturating_mul(4))
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
        host_if::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)
            .map_err(|e| anyhow::anyhow!("linking sluice:plugin/host: {e}"))?;
        kv_if::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)
            .map_err(|e| anyhow::anyhow!("linking sluice:plugin/kv: {e}"))?;
        keys_if::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)
            .map_err(|e| anyhow::anyhow!("linking sluice:plugin/keys: {e}"))?;

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

    /// Compiles `bytes` as a component, or returns the cached compile of the same content.
    /// Compiling takes ~100 ms: call it off the request path.
    pub fn compile(&self, bytes: &[u8]) -> Result<(Component, [u8; 32]), wasmtime::Error> {
        let hash = content_hash(bytes);
        if let Some(c) = self.cached(&hash) {
            return Ok((c, hash));
        }
        let component = Component::new(&self.engine, bytes)?;
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

    fn cached(&self, hash: &[u8; 32]) -> Option<Component> {
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(hash)
            .cloned()
    }
}
