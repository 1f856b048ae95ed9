//! The default `kv` backend: in process memory, sharded, with expiry swept as shards grow.

use super::store::{KvStore, Reservation, Reserved, WindowCount};
use crate::time::now_ms;
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Mutex, MutexGuard};

enum Entry {
    Value {
        bytes: Vec<u8>,
        expires_at: Option<u64>,
    },
    Counter {
        window_start: u64,
        window_ms: u64,
        value: i64,
    },
    Total {
        value: i64,
        expires_at: u64,
    },
}

impl Entry {
    fn expired(&self, now: u64) -> bool {
        match self {
            Entry::Value { expires_at, .. } => expires_at.is_some_and(|t| t <= now),
            Entry::Counter {
                window_start,
                window_ms,
                ..
            } => window_start.saturating_add(*window_ms) <= now,
            Entry::Total { expires_at, .. } => *expires_at <= now,
        }
    }
}

const SHARDS: usize = 32;
/// A shard is swept of expired entries when it grows past this many entries since its last sweep.
const SWEEP_EVERY: usize = 4096;

struct Shard {
    map: HashMap<String, Entry>,
    next_sweep: usize,
}

/// The default store: in process memory, sharded to keep lock contention low. Expired entries are
/// swept as shards grow, so memory stays bounded by the live keys.
pub struct MemoryKv {
    shards: Vec<Mutex<Shard>>,
    hasher: RandomState,
}

impl Default for MemoryKv {
    fn default() -> Self {
        MemoryKv {
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(Shard {
                        map: HashMap::new(),
                        next_sweep: SWEEP_EVERY,
                    })
                })
                .collect(),
            hasher: RandomState::new(),
        }
    }
}

impl MemoryKv {
    fn index(&self, key: &str) -> usize {
        (self.hasher.hash_one(key) as usize) % SHARDS
    }

    /// Shard `i`, locked, swept of expired entries if it has grown since its last sweep.
    fn lock(&self, i: usize, now: u64) -> MutexGuard<'_, Shard> {
        // A poisoned shard only means another thread panicked mid-update of plain data.
        let mut shard = self.shards[i]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if shard.map.len() >= shard.next_sweep {
            shard.map.retain(|_, e| !e.expired(now));
            shard.next_sweep = (shard.map.len() * 2).max(SWEEP_EVERY);
        }
        shard
    }

    fn with_shard<R>(&self, key: &str, f: impl FnOnce(&mut HashMap<String, Entry>, u64) -> R) -> R {
        let now = now_ms();
        let mut shard = self.lock(self.index(key), now);
        f(&mut shard.map, now)
    }

    /// The shards holding `keys`, locked in index order (so that two callers never wait on each
    /// other), and for each key the position of its shard in the returned list.
    fn lock_all<'k>(
        &self,
        keys: impl Iterator<Item = &'k str>,
        now: u64,
    ) -> (Vec<MutexGuard<'_, Shard>>, Vec<usize>) {
        let of_key: Vec<usize> = keys.map(|k| self.index(k)).collect();
        let mut order = of_key.clone();
        order.sort_unstable();
        order.dedup();
        let guards = order.iter().map(|&i| self.lock(i, now)).collect();
        let slots = of_key
            .iter()
            .map(|i| order.binary_search(i).unwrap_or_default())
            .collect();
        (guards, slots)
    }
}

/// The window of `window_ms` that holds `now`: its start and the milliseconds left in it.
fn window(now: u64, window_ms: u64) -> (u64, u64) {
    let start = now - now % window_ms;
    (start, start + window_ms - now)
}

/// The value of the windowed counter `key` in the window starting at `start` (0 if it has none).
fn counted(map: &HashMap<String, Entry>, key: &str, start: u64, window_ms: u64) -> i64 {
    match map.get(key) {
        Some(Entry::Counter {
            window_start,
            window_ms: w,
            value,
        }) if *window_start == start && *w == window_ms => *value,
        _ => 0,
    }
}

/// Adds `delta` to the windowed counter `key` (a new window, or another kind of entry, starts
/// from 0).
fn bump(
    map: &mut HashMap<String, Entry>,
    key: &str,
    delta: i64,
    window_ms: u64,
    now: u64,
) -> WindowCount {
    let (start, ms_to_reset) = window(now, window_ms);
    // Looked up first: a counter that exists (the usual case) costs no key allocation.
    if !map.contains_key(key) {
        map.insert(
            key.to_string(),
            Entry::Counter {
                window_start: start,
                window_ms,
                value: 0,
            },
        );
    }
    let Some(entry) = map.get_mut(key) else {
        return WindowCount {
            value: delta,
            ms_to_reset,
        };
    };
    let value = match entry {
        Entry::Counter {
            window_start,
            window_ms: w,
            value,
        } if *window_start == start && *w == window_ms => {
            *value = value.saturating_add(delta);
            *value
        }
        other => {
            *other = Entry::Counter {
                window_start: start,
                window_ms,
                value: delta,
            };
            delta
        }
    };
    WindowCount { value, ms_to_reset }
}

impl KvStore for MemoryKv {
    fn get(&self, key: &str) -> Option<Vec<u8>> {
        self.with_shard(key, |map, now| match map.get(key) {
            Some(Entry::Value { bytes, expires_at }) if !expires_at.is_some_and(|t| t <= now) => {
                Some(bytes.clone())
            }
            Some(Entry::Counter {
                window_start,
                window_ms,
                value,
            }) if window_start.saturating_add(*window_ms) > now => {
                Some(value.to_string().into_bytes())
            }
            Some(Entry::Total { value, expires_at }) if *expires_at > now => {
                Some(value.to_string().into_bytes())
            }
            _ => None,
        })
    }

    fn set(&self, key: &str, value: Vec<u8>, ttl_ms: Option<u64>) {
        self.with_shard(key, |map, now| {
            let expires_at = ttl_ms.map(|t| now.saturating_add(t));
            map.insert(
                key.to_string(),
                Entry::Value {
                    bytes: value,
                    expires_at,
                },
            );
        });
    }

    fn delete(&self, key: &str) {
        self.with_shard(key, |map, _| {
            map.remove(key);
        });
    }

    fn incr(&self, key: &str, delta: i64, window_ms: u64) -> WindowCount {
        let window_ms = window_ms.max(1);
        self.with_shard(key, |map, now| bump(map, key, delta, window_ms, now))
    }

    fn add(&self, key: &str, delta: i64, expires_at_ms: u64) -> i64 {
        self.with_shard(key, |map, now| {
            let entry = map.entry(key.to_string()).or_insert(Entry::Total {
                value: 0,
                expires_at: expires_at_ms,
            });
            match entry {
                Entry::Total { value, expires_at } if *expires_at > now => {
                    *value = value.saturating_add(delta);
                    *value
                }
                other => {
                    *other = Entry::Total {
                        value: delta,
                        expires_at: expires_at_ms,
                    };
                    delta
                }
            }
        })
    }

    fn reserve(&self, items: &[Reservation], window_ms: u64) -> Reserved {
        let window_ms = window_ms.max(1);
        let now = now_ms();
        let (mut shards, slots) = self.lock_all(items.iter().map(|r| r.key.as_str()), now);
        let (start, ms_to_reset) = window(now, window_ms);
        for (n, r) in items.iter().enumerate() {
            if r.amount <= 0 {
                continue;
            }
            // A key listed twice counts what the earlier entries would add.
            let before: i64 = items[..n]
                .iter()
                .filter(|e| e.key == r.key)
                .fold(0i64, |sum, e| sum.saturating_add(e.amount));
            let reach = counted(&shards[slots[n]].map, &r.key, start, window_ms)
                .saturating_add(before)
                .saturating_add(r.amount);
            if reach > r.limit {
                return Reserved::Refused {
                    index: n,
                    would_reach: WindowCount {
                        value: reach,
                        ms_to_reset,
                    },
                };
            }
        }
        Reserved::Granted(
            items
                .iter()
                .zip(&slots)
                .map(|(r, &slot)| bump(&mut shards[slot].map, &r.key, r.amount, window_ms, now))
                .collect(),
        )
    }

    fn incr_all(&self, deltas: &[(String, i64)], window_ms: u64) -> Vec<WindowCount> {
        let window_ms = window_ms.max(1);
        let now = now_ms();
        let (mut shards, slots) = self.lock_all(deltas.iter().map(|(k, _)| k.as_str()), now);
        deltas
            .iter()
            .zip(&slots)
            .map(|((key, delta), &slot)| bump(&mut shards[slot].map, key, *delta, window_ms, now))
            .collect()
    }
}

#[cfg(test)]
#[path = "memory_tests.rs"]
mod tests;
