//! The default `kv` backend: in process memory, sharded, with expiry swept as shards grow.

use super::store::{KvStore, WindowCount};
use crate::time::now_ms;
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;

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
    fn shard(&self, key: &str) -> std::sync::MutexGuard<'_, Shard> {
        let i = (self.hasher.hash_one(key) as usize) % SHARDS;
        // A poisoned shard only means another thread panicked mid-update of plain data.
        self.shards[i]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn with_shard<R>(&self, key: &str, f: impl FnOnce(&mut HashMap<String, Entry>, u64) -> R) -> R {
        let now = now_ms();
        let mut shard = self.shard(key);
        if shard.map.len() >= shard.next_sweep {
            shard.map.retain(|_, e| !e.expired(now));
            shard.next_sweep = (shard.map.len() * 2).max(SWEEP_EVERY);
        }
        f(&mut shard.map, now)
    }
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
        self.with_shard(key, |map, now| {
            let start = now - now % window_ms;
            let entry = map.entry(key.to_string()).or_insert(Entry::Counter {
                window_start: start,
                window_ms,
                value: 0,
            });
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
            WindowCount {
                value,
                ms_to_reset: start + window_ms - now,
            }
        })
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn values_round_trip_and_expire() {
        let kv = MemoryKv::default();
        kv.set("a", b"1".to_vec(), None);
        assert_eq!(kv.get("a"), Some(b"1".to_vec()));
        kv.set("b", b"2".to_vec(), Some(0));
        assert_eq!(kv.get("b"), None);
        kv.delete("a");
        assert_eq!(kv.get("a"), None);
    }

    #[test]
    fn counters_add_within_a_window() {
        let kv = MemoryKv::default();
        let w = 3_600_000;
        assert_eq!(kv.incr("c", 5, w).value, 5);
        assert_eq!(kv.incr("c", -2, w).value, 3);
        let r = kv.incr("c", 1, w);
        assert_eq!(r.value, 4);
        assert!(r.ms_to_reset <= w && r.ms_to_reset > 0);
    }

    #[test]
    fn totals_add_until_they_expire_and_keep_their_first_expiry() {
        let kv = MemoryKv::default();
        let later = now_ms() + 3_600_000;
        assert_eq!(kv.add("t", 5, later), 5);
        assert_eq!(kv.add("t", -2, later + 99), 3);
        assert_eq!(kv.get("t"), Some(b"3".to_vec()));
        // An expired total starts again, with the new expiry.
        assert_eq!(kv.add("old", 7, now_ms() - 1), 7);
        assert_eq!(kv.get("old"), None, "born expired");
        assert_eq!(kv.add("old", 1, later), 1);
    }

    #[test]
    fn concurrent_increments_are_atomic() {
        let kv = Arc::new(MemoryKv::default());
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let kv = Arc::clone(&kv);
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        kv.incr("n", 1, 3_600_000);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        assert_eq!(kv.incr("n", 0, 3_600_000).value, 8000);
    }
}
