//! The capability imports of contract 0.1.0: the same capabilities, under the old package
//! version, answered by the 0.2 glue.

use super::state::PluginState;
use crate::pipeline::bindings::{v1, v2};
use wasmtime::component::{HasSelf, Linker};

/// Adds the 0.1 imports to `linker`.
pub(super) fn add_to_linker(linker: &mut Linker<PluginState>) -> anyhow::Result<()> {
    v1::host_if::add_to_linker::<_, HasSelf<_>>(linker, |s| s)
        .map_err(|e| anyhow::anyhow!("linking sluice:plugin/host@0.1.0: {e}"))?;
    v1::kv_if::add_to_linker::<_, HasSelf<_>>(linker, |s| s)
        .map_err(|e| anyhow::anyhow!("linking sluice:plugin/kv@0.1.0: {e}"))?;
    v1::keys_if::add_to_linker::<_, HasSelf<_>>(linker, |s| s)
        .map_err(|e| anyhow::anyhow!("linking sluice:plugin/keys@0.1.0: {e}"))?;
    Ok(())
}

impl v1::host_if::Host for PluginState {
    fn log(&mut self, level: v1::host_if::Level, message: String) {
        use v1::host_if::Level as L1;
        use v2::host_if::Level as L2;
        let level = match level {
            L1::Trace => L2::Trace,
            L1::Debug => L2::Debug,
            L1::Info => L2::Info,
            L1::Warn => L2::Warn,
            L1::Error => L2::Error,
        };
        v2::host_if::Host::log(self, level, message)
    }

    fn now_ms(&mut self) -> u64 {
        v2::host_if::Host::now_ms(self)
    }

    fn config(&mut self) -> String {
        v2::host_if::Host::config(self)
    }
}

impl v1::kv_if::Host for PluginState {
    async fn get(&mut self, key: String) -> wasmtime::Result<Option<Vec<u8>>> {
        v2::kv_if::Host::get(self, key).await
    }

    async fn set(
        &mut self,
        key: String,
        value: Vec<u8>,
        ttl_ms: Option<u64>,
    ) -> wasmtime::Result<()> {
        v2::kv_if::Host::set(self, key, value, ttl_ms).await
    }

    async fn delete(&mut self, key: String) -> wasmtime::Result<()> {
        v2::kv_if::Host::delete(self, key).await
    }

    async fn incr(
        &mut self,
        key: String,
        delta: i64,
        window_ms: u64,
    ) -> wasmtime::Result<v1::kv_if::WindowCount> {
        let c = v2::kv_if::Host::incr(self, key, delta, window_ms).await?;
        Ok(v1::kv_if::WindowCount {
            value: c.value,
            ms_to_reset: c.ms_to_reset,
        })
    }
}

impl v1::keys_if::Host for PluginState {
    async fn lookup(&mut self, sha256_hex: String) -> Option<v1::keys_if::KeyRecord> {
        let r = v2::keys_if::Host::lookup(self, sha256_hex).await?;
        Some(v1::keys_if::KeyRecord {
            id: r.id,
            owner: r.owner,
            team: r.team,
            models: r.models,
            attributes: r.attributes,
            expires_at_ms: r.expires_at_ms,
            revoked: r.revoked,
        })
    }
}
