//! After the call: charge what the request cost, give back the rest of its reservation, and
//! report thresholds the charge crossed.

use crate::civil::rfc3339;
use crate::config::Config;
use crate::counters::{Counters, Held, decode, record_key};
use crate::money::{format_limit, format_usd, nanos_to_usd};
use crate::period::Period;
use crate::scope::{Scope, Subject, applicable};
use serde_json::json;

/// The kind of the webhook event a threshold crossing sends.
pub const THRESHOLD_EVENT: &str = "budget.threshold";

/// A finished request, as far as budgets are concerned.
#[derive(Clone, Copy, Debug)]
pub struct Completion<'a> {
    /// The request's id (names its reservation record).
    pub request_id: &'a str,
    /// Whose budgets apply (used when the reservation record is gone).
    pub subject: Subject<'a>,
}

/// A budget's spend crossed one of the config's thresholds. Exactly one request per crossing
/// reports it: the one whose charge moved the budget's spent counter past the mark.
#[derive(Clone, Debug, PartialEq)]
pub struct ThresholdEvent {
    /// The budget's scope.
    pub scope: Scope,
    /// Its period.
    pub period: Period,
    /// The fraction crossed (`0.8`).
    pub threshold: f64,
    /// The budget's limit, in nano-USD.
    pub limit_nanos: i64,
    /// What the budget has spent in its window, this request included, in nano-USD.
    pub spent_nanos: i64,
    /// Start of the period (for a rolling window, of its oldest bucket).
    pub period_start_ms: u64,
    /// When the period resets (for a rolling window, when this request's bucket leaves it).
    pub resets_at_ms: u64,
    /// The request whose charge crossed it.
    pub request_id: String,
    /// The request's key.
    pub key_id: String,
    /// The key's team.
    pub team: Option<String>,
    /// The request's end user.
    pub user_id: Option<String>,
    /// The model the client asked for.
    pub model: String,
}

impl ThresholdEvent {
    /// The event's data for [`THRESHOLD_EVENT`] webhooks.
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "scope": self.scope.kind(),
            "id": self.scope.id(),
            "key_id": self.key_id,
            "team": self.team,
            "user_id": self.user_id,
            "model": self.model,
            "period": self.period.label(),
            "threshold": self.threshold,
            "limit_usd": nanos_to_usd(self.limit_nanos),
            "spent_usd": nanos_to_usd(self.spent_nanos),
            "period_start": rfc3339(self.period_start_ms),
            "resets_at": rfc3339(self.resets_at_ms),
            "request_id": self.request_id,
        })
    }

    /// A log line for it.
    pub fn message(&self) -> String {
        format!(
            "budget threshold crossed: {} has spent ${} of its ${} {} budget ({}% threshold; \
             resets {}; request {})",
            self.scope.describe(),
            format_usd(self.spent_nanos, 4),
            format_limit(self.limit_nanos),
            self.period.adjective(),
            (self.threshold * 10_000.0).round() / 100.0,
            rfc3339(self.resets_at_ms),
            self.request_id,
        )
    }
}

/// What [`reconcile`] did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReconcileOutcome {
    /// The threshold crossings to report.
    pub events: Vec<ThresholdEvent>,
    /// Warnings to log (an unreadable reservation record).
    pub warnings: Vec<String>,
    /// Whether the reservation record was found (false: the budgets were recomputed).
    pub had_record: bool,
}

/// Charges a finished request `actual_nanos` (asked only when a budget applies; 0 for a failed
/// or refused call) at `now_ms`.
///
/// It reads and deletes the reservation record; for each budget it held, it adds `actual −
/// reserved` to the total counter it reserved in (the same period or bucket, even if that has
/// since ended) and `actual` to the spent counter next to it, and reports each threshold that add
/// crossed. With no record (expired, or never written), the budgets that apply now are charged
/// `actual` in their current periods. When no budget applies now, nothing is read or written.
pub fn reconcile<C: Counters + ?Sized>(
    config: &Config,
    counters: &C,
    completion: &Completion,
    actual_nanos: impl FnOnce() -> i64,
    now_ms: u64,
) -> ReconcileOutcome {
    // Attributes that were ignored were already reported by `reserve`.
    let budgets = applicable(config, &completion.subject);
    let mut out = ReconcileOutcome::default();
    if budgets.is_empty() {
        return out;
    }
    let actual = actual_nanos().max(0);
    let record = counters
        .take_record(&record_key(completion.request_id))
        .map(|bytes| decode(&bytes));
    let held = match record {
        Some(Some(held)) => {
            out.had_record = true;
            held
        }
        Some(None) => {
            out.warnings.push(format!(
                "request {}: unreadable budget reservation record; charging the current periods",
                completion.request_id
            ));
            budgets.iter().map(|b| Held::new(b, now_ms, 0)).collect()
        }
        None => budgets.iter().map(|b| Held::new(b, now_ms, 0)).collect(),
    };
    for h in &held {
        let delta = actual.saturating_sub(h.reserved_nanos);
        if delta != 0 {
            counters.add(&h.total_key, delta, h.expires_at_ms);
        }
        if actual == 0 {
            continue;
        }
        let bucket_spent = counters.add(&h.spent_key, actual, h.expires_at_ms);
        if config.thresholds.is_empty() || h.limit_nanos <= 0 {
            continue;
        }
        let Some((scope, period)) = h.budget_parts() else {
            continue;
        };
        let after = h
            .prior_spent_keys(&period)
            .iter()
            .fold(bucket_spent, |sum, key| {
                sum.saturating_add(counters.get(key))
            });
        let before = after - actual;
        for &t in &config.thresholds {
            let mark = (t * h.limit_nanos as f64).round() as i64;
            if before < mark && after >= mark {
                out.events.push(ThresholdEvent {
                    scope: scope.clone(),
                    period,
                    threshold: t,
                    limit_nanos: h.limit_nanos,
                    spent_nanos: after,
                    period_start_ms: h.window_start_ms,
                    resets_at_ms: h.resets_at_ms,
                    request_id: completion.request_id.to_string(),
                    key_id: completion.subject.key_id.to_string(),
                    team: completion.subject.team.map(str::to_string),
                    user_id: completion.subject.user_id.map(str::to_string),
                    model: completion.subject.model.to_string(),
                });
            }
        }
    }
    out
}
