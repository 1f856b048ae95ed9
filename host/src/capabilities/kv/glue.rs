//! The `kv` import: every key is put in the calling plugin's namespace before it reaches the
//! backend. The functions are async (Redis is a round trip away) and trappable: a store that
//! cannot be reached while `[kv] on_unavailable = "fail-closed"` fails the plugin's call, which
//! the stage answers with 503 `kv_unavailable`.

use super::super::state::PluginState;
use super::{Reservation, Reserved, WindowCount};
use crate::pipeline::bindings::kv_if;

impl kv_if::Host for PluginState {
    async fn get(&mut self, key: String) -> wasmtime::Result<Option<Vec<u8>>> {
        Ok(self.env.kv.get(&self.kv_key(&key)).await?)
    }

    async fn set(
        &mut self,
        key: String,
        value: Vec<u8>,
        ttl_ms: Option<u64>,
    ) -> wasmtime::Result<()> {
        Ok(self.env.kv.set(&self.kv_key(&key), value, ttl_ms).await?)
    }

    async fn delete(&mut self, key: String) -> wasmtime::Result<()> {
        Ok(self.env.kv.delete(&self.kv_key(&key)).await?)
    }

    async fn add(&mut self, key: String, delta: i64, expires_at_ms: u64) -> wasmtime::Result<i64> {
        Ok(self
            .env
            .kv
            .add(&self.kv_key(&key), delta, expires_at_ms)
            .await?)
    }

    async fn incr(
        &mut self,
        key: String,
        delta: i64,
        window_ms: u64,
    ) -> wasmtime::Result<kv_if::WindowCount> {
        let c = self
            .env
            .kv
            .incr(&self.kv_key(&key), delta, window_ms)
            .await?;
        Ok(wit_count(c))
    }

    async fn reserve(
        &mut self,
        items: Vec<kv_if::Reservation>,
        window_ms: u64,
    ) -> wasmtime::Result<kv_if::Reserved> {
        let items: Vec<Reservation> = items
            .into_iter()
            .map(|r| Reservation {
                key: self.kv_key(&r.key),
                amount: r.amount,
                limit: r.limit,
            })
            .collect();
        Ok(match self.env.kv.reserve(&items, window_ms).await? {
            Reserved::Granted(counts) => {
                kv_if::Reserved::Granted(counts.into_iter().map(wit_count).collect())
            }
            Reserved::Refused { index, would_reach } => kv_if::Reserved::Refused(kv_if::Refusal {
                index: u32::try_from(index).unwrap_or(u32::MAX),
                would_reach: wit_count(would_reach),
            }),
        })
    }

    async fn incr_all(
        &mut self,
        deltas: Vec<(String, i64)>,
        window_ms: u64,
    ) -> wasmtime::Result<Vec<kv_if::WindowCount>> {
        let deltas: Vec<(String, i64)> = deltas
            .into_iter()
            .map(|(k, d)| (self.kv_key(&k), d))
            .collect();
        let counts = self.env.kv.incr_all(&deltas, window_ms).await?;
        Ok(counts.into_iter().map(wit_count).collect())
    }
}

fn wit_count(c: WindowCount) -> kv_if::WindowCount {
    kv_if::WindowCount {
        value: c.value,
        ms_to_reset: c.ms_to_reset,
    }
}
