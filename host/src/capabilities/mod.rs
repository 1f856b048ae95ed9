//! What plugins may touch. Each capability is a WIT import with its host glue and its backend:
//! [`host`] (log, clock, the plugin's config, events for webhooks through [`Events`]), [`kv`]
//! (namespaced values and counters), [`prices`] (the gateway's price table) and [`keys`] (managed
//! API keys, for auth plugins). Plugins get nothing else: no files, network or
//! environment. A backend can move to a shared store (Redis, Postgres) without a plugin changing.

mod events;
pub mod host;
pub mod keys;
pub mod kv;
pub mod prices;
pub mod state;
mod v01;

pub use events::{Events, NoEvents};
pub use kv::{Kv, KvStore, KvUnavailable, MemoryKv, WindowCount};
pub use prices::{ModelPrice, PriceTable};
pub use state::{MemoryCap, PluginEnv, PluginState};

use crate::pipeline::bindings::{host_if, keys_if, kv_if, prices_if};
use std::sync::Arc;
use wasmtime::component::{HasSelf, Linker};

/// The backends of the capabilities, shared by every pipeline the gateway builds.
#[derive(Clone)]
pub struct Backends {
    /// The `kv` store.
    pub kv: Arc<Kv>,
    /// Managed keys, for auth plugins' `keys` import.
    pub keys: Option<crate::store::KeyStore>,
    /// Where `host.notify` events go.
    pub events: Arc<dyn Events>,
}

/// Adds every capability import to `linker`.
pub fn add_to_linker(linker: &mut Linker<PluginState>) -> anyhow::Result<()> {
    host_if::add_to_linker::<_, HasSelf<_>>(linker, |s| s)
        .map_err(|e| anyhow::anyhow!("linking sluice:plugin/host: {e}"))?;
    kv_if::add_to_linker::<_, HasSelf<_>>(linker, |s| s)
        .map_err(|e| anyhow::anyhow!("linking sluice:plugin/kv: {e}"))?;
    keys_if::add_to_linker::<_, HasSelf<_>>(linker, |s| s)
        .map_err(|e| anyhow::anyhow!("linking sluice:plugin/keys: {e}"))?;
    prices_if::add_to_linker::<_, HasSelf<_>>(linker, |s| s)
        .map_err(|e| anyhow::anyhow!("linking sluice:plugin/prices: {e}"))?;
    v01::add_to_linker(linker)
}
