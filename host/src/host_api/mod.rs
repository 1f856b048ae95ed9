//! Capabilities the host gives to plugins: logging, the clock, the plugin's own config and a
//! key-value store with windowed counters. Plugins get nothing else: no files, network or
//! environment.

mod kv;

pub use kv::{KvStore, MemoryKv, WindowCount};

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch (0 if the clock is before it).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}
