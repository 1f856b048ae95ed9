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

/// A counter [`reserve`] adds to: `amount` more, unless that takes it past `limit`.
pub use imp::Reservation;

/// What [`reserve`] did: [`Reserved::Granted`] with every counter's new value, or
/// [`Reserved::Refused`] naming the first reservation that would pass its limit (nothing added).
pub use imp::{Refusal, Reserved};

/// Adds every reservation's amount to its windowed counter (as [`incr`], windows of
/// `window_ms`) if none would pass its limit, and else adds none, in one atomic step: a rate
/// limiter checks all its limits with one call, and they hold across gateway replicas sharing
/// the store. Amounts of 0 or less are never refused.
///
/// ```no_run
/// use sluice_plugin_sdk::kv::{reserve, Reservation, Reserved};
/// let items = [
///     Reservation { key: "rpm|key-1".into(), amount: 1, limit: 60 },
///     Reservation { key: "tpm|key-1".into(), amount: 500, limit: 10_000 },
/// ];
/// match reserve(&items, 60_000) {
///     Reserved::Granted(counts) => { let _requests_this_minute = counts[0].value; }
///     Reserved::Refused(r) => { let _retry_after_ms = r.would_reach.ms_to_reset; }
/// }
/// ```
pub fn reserve(items: &[Reservation], window_ms: u64) -> Reserved {
    imp::reserve(items, window_ms)
}

/// Adds each delta to its windowed counter (as [`incr`]) in one call, and returns the new values
/// in order.
pub fn incr_all(deltas: &[(String, i64)], window_ms: u64) -> Vec<WindowCount> {
    imp::incr_all(deltas, window_ms)
}
