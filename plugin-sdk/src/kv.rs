//! A key-value store shared by every instance of this plugin.
//!
//! Each plugin has its own namespace. The store lives in the gateway's memory by default and can
//! be backed by a shared store, so that counters hold across gateway replicas.

use crate::bindings::sluice::plugin0_2_0::kv as imp;

/// Result of [`incr`]: the counter after the increment and the time left in its window.
pub use imp::WindowCount;

/// Reads the value stored under `key`.
pub fn get(key: &str) -> Option<Vec<u8>> {
    imp::get(key)
}

/// Stores `value` under `key`, for `ttl_ms` milliseconds if given.
pub fn set(key: &str, value: &[u8], ttl_ms: Option<u64>) {
    imp::set(key, value, ttl_ms)
}

/// Deletes `key`.
pub fn delete(key: &str) {
    imp::delete(key)
}

/// Atomically adds `delta` to the counter `key`, which resets every `window_ms` milliseconds
/// (fixed windows aligned to the Unix epoch). Returns the counter's new value.
///
/// ```no_run
/// let hits = sluice_plugin_sdk::kv::incr("requests:key-1", 1, 60_000);
/// if hits.value > 100 {
///     let retry_after_s = hits.ms_to_reset.div_ceil(1000);
///     # let _ = retry_after_s;
/// }
/// ```
pub fn incr(key: &str, delta: i64, window_ms: u64) -> WindowCount {
    imp::incr(key, delta, window_ms)
}

/// Atomically adds `delta` to the counter `key`, which lives until `expires_at_ms` (ms since the
/// Unix epoch; a counter created earlier keeps its expiry). Returns the counter's new value.
/// Name the counter by its period (`spend|2026-12`) to count over calendar months or weeks.
pub fn add(key: &str, delta: i64, expires_at_ms: u64) -> i64 {
    imp::add(key, delta, expires_at_ms)
}
