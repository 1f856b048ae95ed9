//! What plugins may touch. Each capability is a WIT import with its host glue and its backend:
//! [`host`] (log, clock, the plugin's config), [`kv`] (namespaced values and windowed counters) and
//! [`keys`] (managed API keys, for auth plugins). Plugins get nothing else: no files, network or
//! environment. A backend can move to a shared store (Redis, Postgres) without a plugin changing.

pub mod host;
pub mod keys;
pub mod kv;
pub mod state;
mod v01;

pub use kv::{KvStore, MemoryKv, WindowCount};
pub use state::{MemoryCap, PluginEnv, PluginState};

use crate::pipeline::bindings::{host_if, keys_if, kv_if};
use wasmtime::component::{HasSelf, Linker};

/// Adds every capability import to `linker`.
pub fn add_to_linker(linker: &mut Linker<PluginState>) -> anyhow::Result<()> {
    host_if::add_to_linker::<_, HasSelf<_>>(linker, |s| s)
        .map_err(|e| anyhow::anyhow!("linking sluice:plugin/host: {e}"))?;
    kv_if::add_to_linker::<_, HasSelf<_>>(linker, |s| s)
        .map_err(|e| anyhow::anyhow!("linking sluice:plugin/kv: {e}"))?;
    keys_if::add_to_linker::<_, HasSelf<_>>(linker, |s| s)
        .map_err(|e| anyhow::anyhow!("linking sluice:plugin/keys: {e}"))?;
    v01::add_to_linker(linker)
}
