//! # sluice-budgets
//!
//! Spend caps in USD for the Sluice gateway: per key, per end user of a key, per team and per
//! model (over all keys); over a UTC day, an ISO week (from Monday 00:00 UTC), a calendar month
//! (UTC) or a rolling window (`24h`, `7d`, `90m`, counted in 24 buckets). This crate is the pure
//! part of the `budget` plugin, and what the host uses to report spend against budgets:
//!
//! - [`Config`]: the plugin's config (`[plugins.config]`), parsed and validated
//!   ([`Config::from_json`], [`Config::from_value`], or serde);
//! - [`applicable`]: the [`Budget`]s that apply to a principal and model ([`Subject`]);
//! - [`Period::window_at`]: the start and end of a budget's current period ([`Window`]);
//! - [`Budget::label`], [`Scope::label`], [`Period::label`]: how budgets are named;
//! - [`reserve`] and [`reconcile`]: the plugin's algorithm, written against [`Counters`] (the
//!   plugin's `kv` store) with the clock passed in.
//!
//! **Money** is integer nano-USD (`round(usd × 1e9)`), so counters add exactly.
//!
//! **Counters.** Each budget has two counters per period (per bucket for a rolling window),
//! named by scope, id, period and the period's (or bucket's) start in ms:
//! `t|key|k1|month|1764547200000` holds the total (reserved + spent) and
//! `s|key|k1|month|1764547200000` what was spent (it only grows). Scopes are `key|<key>`,
//! `user|<key>/<user>`, `team|<team>`, `model|<model>`, with `%`, `|` and `/` in ids escaped as
//! `%25`, `%7C`, `%2F`. A calendar period's counters expire an hour after it ends; a rolling
//! bucket's an hour after its end plus the window's length. A reservation is remembered under
//! `r|<request id>` for 24 hours.
//!
//! **Reserve, then reconcile.** Before the call, [`reserve`] adds the request's worst case to
//! each budget's total with one atomic add, and undoes everything if a budget would go over: no
//! amount of concurrency or streaming can overrun a budget. After the call, [`reconcile`] charges
//! the real cost and gives back the rest; because the spent counter only grows and each add is
//! atomic, exactly one request crosses each threshold of a period, and reports it.

mod civil;
mod config;
mod counters;
mod money;
mod period;
mod reconcile;
mod reserve;
mod scope;

pub use civil::{DAY_MS, civil_from_days, days_from_civil, rfc3339, utc_ms};
pub use config::{Config, ConfigError, Limits, MAX_BUDGET_USD, Unpriced};
pub use counters::{Counters, RECORD_TTL_MS, record_key};
pub use money::{
    NANOS_PER_USD, Price, format_limit, format_remaining, format_usd, nanos_to_usd, usd_to_nanos,
    worst_case_nanos,
};
pub use period::{COUNTER_GRACE_MS, Period, ROLLING_BUCKETS, Slot, Unit, Window};
pub use reconcile::{Completion, ReconcileOutcome, THRESHOLD_EVENT, ThresholdEvent, reconcile};
pub use reserve::{
    Exceeded, HEADER_LIMIT, HEADER_REMAINING, HEADER_RESET, HEADER_SCOPE, Headroom, Request,
    Reservation, ReserveOutcome, reserve,
};
pub use scope::{Budget, Scope, Subject, applicable, applicable_with_warnings, counter_keys};
