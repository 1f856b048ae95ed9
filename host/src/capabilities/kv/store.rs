//! The backend seam of the `kv` capability.

/// Result of a windowed increment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowCount {
    /// The counter's value after the increment.
    pub value: i64,
    /// Milliseconds until the window ends and the counter resets.
    pub ms_to_reset: u64,
}

/// A counter [`KvStore::reserve`] adds to, and the value it must not pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    /// The windowed counter (already namespaced).
    pub key: String,
    /// What to add.
    pub amount: i64,
    /// The largest value the counter may reach.
    pub limit: i64,
}

/// What [`KvStore::reserve`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reserved {
    /// Every amount was added: the counters' new values, in the order given.
    Granted(Vec<WindowCount>),
    /// Nothing was added: the reservation at `index` would have taken its counter to `would_reach`.
    Refused {
        /// The index of the first reservation that would pass its limit.
        index: usize,
        /// The value it would have reached, and the time left in its window.
        would_reach: WindowCount,
    },
}

/// A store plugins share through the `kv` import. Keys arrive already namespaced by plugin.
///
/// The trait is the seam for a shared backend (Redis) so that counters hold across replicas; the
/// plugin-facing interface does not change with the backend.
pub trait KvStore: Send + Sync {
    /// Reads a value.
    fn get(&self, key: &str) -> Option<Vec<u8>>;
    /// Writes a value, expiring after `ttl_ms` if given.
    fn set(&self, key: &str, value: Vec<u8>, ttl_ms: Option<u64>);
    /// Deletes a value.
    fn delete(&self, key: &str);
    /// Adds `delta` to the counter `key` in the fixed window of `window_ms` that holds now.
    fn incr(&self, key: &str, delta: i64, window_ms: u64) -> WindowCount;
    /// Adds `delta` to the counter `key`, which lives until `expires_at_ms` (set when the
    /// counter is created; an expired counter starts again from 0).
    fn add(&self, key: &str, delta: i64, expires_at_ms: u64) -> i64;
    /// Adds every amount to its windowed counter if none would pass its limit, else none: one
    /// atomic step, so that the limits hold for requests racing on every replica sharing the store.
    /// An amount of 0 or less is never refused.
    fn reserve(&self, items: &[Reservation], window_ms: u64) -> Reserved;
    /// Adds each delta to its windowed counter (as [`KvStore::incr`]), in one step.
    fn incr_all(&self, deltas: &[(String, i64)], window_ms: u64) -> Vec<WindowCount>;
}
