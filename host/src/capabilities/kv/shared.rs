//! [`Kv`]: the store behind the `kv` import, in process memory or on Redis, and what a call gets
//! while Redis cannot be reached (`[kv] on_unavailable`).

use super::memory::MemoryKv;
use super::redis::{KvUnavailable, RedisKv};
use super::store::{KvStore, Reservation, Reserved, WindowCount};
use crate::config::{KvBackend, KvConfig, OnUnavailable};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

enum Backend {
    Memory(MemoryKv),
    Redis(Box<RedisKv>),
}

/// The `kv` store of a gateway, shared by every plugin (each in its own namespace).
pub struct Kv {
    backend: Backend,
    on_unavailable: OnUnavailable,
    /// When the last "unavailable" warning was logged (ms since the epoch), to log one a second.
    last_warning_ms: AtomicU64,
}

/// A call's answer, or why there is none.
pub type KvResult<T> = Result<T, KvUnavailable>;

impl Kv {
    /// An in-memory store (one process).
    pub fn memory() -> Kv {
        Kv::with(
            Backend::Memory(MemoryKv::default()),
            OnUnavailable::FailClosed,
        )
    }

    /// The store `[kv]` asks for, for a gateway of `threads` serving threads. Redis is connected
    /// to on first use, from each thread.
    pub fn from_config(config: &KvConfig, threads: usize) -> Result<Kv, KvUnavailable> {
        let backend = match config.backend {
            KvBackend::Memory => Backend::Memory(MemoryKv::default()),
            KvBackend::Redis => {
                let url = config.effective_url().ok_or_else(|| KvUnavailable {
                    reason: "no Redis URL".into(),
                })?;
                Backend::Redis(Box::new(RedisKv::new(
                    &url,
                    &config.prefix,
                    Duration::from_millis(config.timeout_ms),
                    threads,
                )?))
            }
        };
        Ok(Kv::with(backend, config.on_unavailable))
    }

    fn with(backend: Backend, on_unavailable: OnUnavailable) -> Kv {
        Kv {
            backend,
            on_unavailable,
            last_warning_ms: AtomicU64::new(0),
        }
    }

    /// Checks that the backend answers (always true in memory).
    pub async fn ping(&self) -> KvResult<()> {
        match &self.backend {
            Backend::Memory(_) => Ok(()),
            Backend::Redis(r) => r.ping().await,
        }
    }

    /// The backend's name, for logs.
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Memory(_) => "memory",
            Backend::Redis(_) => "redis",
        }
    }

    /// Applies `on_unavailable` to a failed call: the neutral answer when failing open, else the
    /// error (which fails the plugin's request with 503).
    fn settle<T>(&self, result: KvResult<T>, neutral: impl FnOnce() -> T) -> KvResult<T> {
        let Err(e) = result else { return result };
        let now = crate::time::now_ms();
        let last = self.last_warning_ms.load(Ordering::Relaxed);
        let open = self.on_unavailable == OnUnavailable::FailOpen;
        if now.saturating_sub(last) >= 1000
            && self
                .last_warning_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(error = %e, fail_open = open, "kv call failed");
        }
        crate::telemetry::record::kv_unavailable(if open { "open" } else { "failed" });
        if open { Ok(neutral()) } else { Err(e) }
    }

    /// Reads a value.
    pub async fn get(&self, key: &str) -> KvResult<Option<Vec<u8>>> {
        match &self.backend {
            Backend::Memory(m) => Ok(m.get(key)),
            Backend::Redis(r) => self.settle(r.get(key).await, || None),
        }
    }

    /// Writes a value, expiring after `ttl_ms` if given.
    pub async fn set(&self, key: &str, value: Vec<u8>, ttl_ms: Option<u64>) -> KvResult<()> {
        match &self.backend {
            Backend::Memory(m) => {
                m.set(key, value, ttl_ms);
                Ok(())
            }
            Backend::Redis(r) => self.settle(r.set(key, value, ttl_ms).await, || ()),
        }
    }

    /// Deletes a value.
    pub async fn delete(&self, key: &str) -> KvResult<()> {
        match &self.backend {
            Backend::Memory(m) => {
                m.delete(key);
                Ok(())
            }
            Backend::Redis(r) => self.settle(r.delete(key).await, || ()),
        }
    }

    /// Adds to a windowed counter.
    pub async fn incr(&self, key: &str, delta: i64, window_ms: u64) -> KvResult<WindowCount> {
        match &self.backend {
            Backend::Memory(m) => Ok(m.incr(key, delta, window_ms)),
            Backend::Redis(r) => {
                let counted = r.incr_all(&[(key.to_string(), delta)], window_ms).await;
                let one = counted.and_then(|mut v| {
                    v.pop().ok_or_else(|| KvUnavailable {
                        reason: "incr: no value".into(),
                    })
                });
                self.settle(one, || neutral_count(delta, window_ms))
            }
        }
    }

    /// Adds to a total that lives until `expires_at_ms`.
    pub async fn add(&self, key: &str, delta: i64, expires_at_ms: u64) -> KvResult<i64> {
        match &self.backend {
            Backend::Memory(m) => Ok(m.add(key, delta, expires_at_ms)),
            Backend::Redis(r) => self.settle(r.add(key, delta, expires_at_ms).await, || delta),
        }
    }

    /// Adds `delta` to the totals `first` and `second` (as [`Kv::add`]) if `first` is absent: one
    /// atomic step on Redis, so replicas that start together seed a budget once. True if added.
    pub async fn add_pair_if_absent(
        &self,
        first: &str,
        second: &str,
        delta: i64,
        expires_at_ms: u64,
    ) -> KvResult<bool> {
        match &self.backend {
            Backend::Memory(m) => {
                if m.get(first).is_some() {
                    return Ok(false);
                }
                m.add(first, delta, expires_at_ms);
                m.add(second, delta, expires_at_ms);
                Ok(true)
            }
            Backend::Redis(r) => {
                r.add_pair_if_absent(first, second, delta, expires_at_ms)
                    .await
            }
        }
    }

    /// Adds every amount if none would pass its limit, else none (see [`KvStore::reserve`]).
    pub async fn reserve(&self, items: &[Reservation], window_ms: u64) -> KvResult<Reserved> {
        match &self.backend {
            Backend::Memory(m) => Ok(m.reserve(items, window_ms)),
            Backend::Redis(r) => self.settle(r.reserve(items, window_ms).await, || {
                Reserved::Granted(
                    items
                        .iter()
                        .map(|i| neutral_count(i.amount, window_ms))
                        .collect(),
                )
            }),
        }
    }

    /// Adds each delta to its windowed counter, in one step.
    pub async fn incr_all(
        &self,
        deltas: &[(String, i64)],
        window_ms: u64,
    ) -> KvResult<Vec<WindowCount>> {
        match &self.backend {
            Backend::Memory(m) => Ok(m.incr_all(deltas, window_ms)),
            Backend::Redis(r) => self.settle(r.incr_all(deltas, window_ms).await, || {
                deltas
                    .iter()
                    .map(|(_, d)| neutral_count(*d, window_ms))
                    .collect()
            }),
        }
    }
}

/// What a counter reads when failing open: as if it had just started with this amount.
fn neutral_count(delta: i64, window_ms: u64) -> WindowCount {
    WindowCount {
        value: delta,
        ms_to_reset: window_ms,
    }
}

#[cfg(test)]
#[path = "shared_tests.rs"]
mod tests;
