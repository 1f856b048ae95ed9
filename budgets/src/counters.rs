//! The store the algorithm runs against, and the record a reservation leaves for reconciliation.

use crate::period::Period;
use crate::scope::{Budget, Scope};
use serde::{Deserialize, Serialize};

/// How long a reservation's record is kept for its reconciliation.
pub const RECORD_TTL_MS: u64 = 86_400_000;

/// Atomic counters and short-lived records: the plugin's `kv` store, or a fake in tests.
pub trait Counters {
    /// Atomically adds `delta` to the counter `key` and returns its new value. A counter that
    /// does not exist (or has expired) starts from 0 and lives until `expires_at_ms`; an
    /// existing one keeps its expiry.
    fn add(&self, key: &str, delta: i64, expires_at_ms: u64) -> i64;
    /// The counter's value; 0 when it does not exist.
    fn get(&self, key: &str) -> i64;
    /// Stores `value` under `key` for `ttl_ms`.
    fn put_record(&self, key: &str, value: &[u8], ttl_ms: u64);
    /// Reads and deletes the record under `key`.
    fn take_record(&self, key: &str) -> Option<Vec<u8>>;
}

/// The name of the reservation record of a request: `r|<request id>`.
pub fn record_key(request_id: &str) -> String {
    format!("r|{request_id}")
}

/// One budget a reservation touched, as stored in its record (a JSON list of them).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Held {
    /// The total counter (reserved + spent).
    #[serde(rename = "t")]
    pub total_key: String,
    /// The spent counter.
    #[serde(rename = "s")]
    pub spent_key: String,
    /// Both counters' expiry.
    #[serde(rename = "x")]
    pub expires_at_ms: u64,
    /// What was reserved, in nano-USD.
    #[serde(rename = "r")]
    pub reserved_nanos: i64,
    /// The budget's limit, in nano-USD.
    #[serde(rename = "l")]
    pub limit_nanos: i64,
    /// The scope's kind.
    #[serde(rename = "k")]
    pub kind: String,
    /// The scope's id (the key id for a user).
    #[serde(rename = "i")]
    pub id: String,
    /// The user id of a user scope.
    #[serde(rename = "u", default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The period's label.
    #[serde(rename = "p")]
    pub period: String,
    /// Start of the slot the counters belong to (the period, or the rolling bucket).
    #[serde(rename = "a")]
    pub slot_start_ms: u64,
    /// Start of the window.
    #[serde(rename = "b")]
    pub window_start_ms: u64,
    /// End of the period, or when the bucket leaves the rolling window.
    #[serde(rename = "e")]
    pub resets_at_ms: u64,
}

impl Held {
    /// What a reservation of `reserved_nanos` against `budget` at `now_ms` holds.
    pub fn new(budget: &Budget, now_ms: u64, reserved_nanos: i64) -> Held {
        let slot = budget.period.slot_at(now_ms);
        let (total_key, spent_key) = budget.counter_keys(slot.start_ms);
        let (kind, id, user_id) = budget.scope.parts();
        Held {
            total_key,
            spent_key,
            expires_at_ms: slot.expires_at_ms,
            reserved_nanos,
            limit_nanos: budget.limit_nanos,
            kind: kind.to_string(),
            id,
            user_id,
            period: budget.period.label(),
            slot_start_ms: slot.start_ms,
            window_start_ms: slot.window_start_ms,
            resets_at_ms: slot.resets_at_ms,
        }
    }

    /// The scope and period, if the record names valid ones.
    pub fn budget_parts(&self) -> Option<(Scope, Period)> {
        let scope = Scope::from_parts(&self.kind, self.id.clone(), self.user_id.clone())?;
        let period = Period::parse(&self.period).ok()?;
        Some((scope, period))
    }

    /// The spent counters of the rolling window's older buckets (none for calendar periods).
    pub fn prior_spent_keys(&self, period: &Period) -> Vec<String> {
        let Some((prefix, _)) = self.spent_key.rsplit_once('|') else {
            return Vec::new();
        };
        period
            .prior_buckets(self.slot_start_ms)
            .into_iter()
            .map(|start| format!("{prefix}|{start}"))
            .collect()
    }
}

/// The record of a reservation, as stored.
pub(crate) fn encode(held: &[Held]) -> Vec<u8> {
    serde_json::to_vec(held).unwrap_or_default()
}

/// A stored record; None when it cannot be read.
pub(crate) fn decode(bytes: &[u8]) -> Option<Vec<Held>> {
    serde_json::from_slice(bytes).ok()
}
