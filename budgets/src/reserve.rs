//! Before the call: reserve the request's worst case against every budget that applies.

use crate::civil::rfc3339;
use crate::config::{Config, Unpriced};
use crate::counters::{Counters, Held, RECORD_TTL_MS, encode, record_key};
use crate::money::{Price, format_limit, format_remaining, format_usd, worst_case_nanos};
use crate::scope::{Budget, Subject, applicable_with_warnings, counter_keys};

/// Header: the limit of the tightest budget, in USD (`50.00`).
pub const HEADER_LIMIT: &str = "x-sluice-budget-limit-usd";
/// Header: what is left of it after this request's reservation, in USD with 6 decimals.
pub const HEADER_REMAINING: &str = "x-sluice-budget-remaining-usd";
/// Header: when it resets (RFC 3339 UTC; for a rolling window, when the current bucket leaves it).
pub const HEADER_RESET: &str = "x-sluice-budget-reset";
/// Header: whose budget it is (`key:k1`, `team:research`, `user:k1/u-7`, `model:gpt-4o`).
pub const HEADER_SCOPE: &str = "x-sluice-budget-scope";

/// A request about to go upstream, as far as budgets are concerned.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// The request's id (names its reservation record).
    pub request_id: &'a str,
    /// Whose budgets apply.
    pub subject: Subject<'a>,
    /// The host's estimate of prompt tokens.
    pub est_prompt_tokens: u32,
    /// `max_tokens`, if the request sets it.
    pub max_tokens: Option<u32>,
    /// Number of choices (`n`).
    pub n: u32,
}

/// How much room a budget has after a reservation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Headroom {
    /// The budget.
    pub budget: Budget,
    /// Its limit minus its total (spent and reserved), in nano-USD; never negative.
    pub remaining_nanos: i64,
    /// When it resets: the period's end, or when the current bucket leaves the rolling window.
    pub resets_at_ms: u64,
}

impl Headroom {
    /// The `x-sluice-budget-*` headers that describe it.
    pub fn headers(&self) -> Vec<(String, String)> {
        vec![
            (HEADER_LIMIT.into(), format_limit(self.budget.limit_nanos)),
            (
                HEADER_REMAINING.into(),
                format_remaining(self.remaining_nanos),
            ),
            (HEADER_RESET.into(), rfc3339(self.resets_at_ms)),
            (HEADER_SCOPE.into(), self.budget.scope.label()),
        ]
    }
}

/// A request that would overrun a budget.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exceeded {
    /// The budget it would overrun (the first, in the order of [`crate::applicable`]).
    pub budget: Budget,
    /// What the budget's total (spent and reserved) was before this request, in nano-USD.
    pub used_nanos: i64,
    /// The request's worst case, in nano-USD.
    pub worst_case_nanos: i64,
    /// When room frees up: the period's end, or when the oldest bucket of the rolling window
    /// that holds spend leaves it.
    pub resets_at_ms: u64,
    /// Seconds until then (at least 1).
    pub retry_after_s: u32,
    /// The message for the client.
    pub message: String,
}

/// What [`reserve`] decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reservation {
    /// No budget applies: nothing was counted, and there are no headers to add.
    Unlimited,
    /// Reserved against every budget that applies; `tightest` has the least room left.
    Allowed {
        /// The worst case reserved against each budget, in nano-USD (0 for unpriced models).
        worst_case_nanos: i64,
        /// The budget with the least room left (its headers go on the response).
        tightest: Headroom,
    },
    /// A budget would be overrun: 429 `insufficient_quota`. Nothing stays reserved.
    Exceeded(Exceeded),
    /// The model has no price, a budget applies and the config says `unpriced = "deny"`: 403
    /// `model_not_priced`.
    ModelNotPriced {
        /// The model.
        model: String,
        /// The message for the client.
        message: String,
    },
}

/// [`Reservation`] and the warnings of key attributes that were ignored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReserveOutcome {
    /// The decision.
    pub reservation: Reservation,
    /// Warnings to log.
    pub warnings: Vec<String>,
}

/// Reserves `request`'s worst case against every budget that applies to it, at `now_ms`.
///
/// For each budget in turn it adds the worst case to the budget's total counter (reserved +
/// spent) with one atomic [`Counters::add`]; if the window's total is then over the limit it
/// undoes that add and every earlier one and denies. A request that reserves nothing (an unpriced
/// model) is denied once a budget is used up (its total at or over the limit). Otherwise it stores the reservation's
/// record (`r|<request id>`) for [`crate::reconcile`]. `price` (the model's price, None when it
/// has none) is asked only when a budget applies.
pub fn reserve<C: Counters + ?Sized>(
    config: &Config,
    counters: &C,
    request: &Request,
    price: impl FnOnce() -> Option<Price>,
    now_ms: u64,
) -> ReserveOutcome {
    let (budgets, warnings) = applicable_with_warnings(config, &request.subject);
    let reservation = reserve_budgets(config, counters, request, &budgets, price, now_ms);
    ReserveOutcome {
        reservation,
        warnings,
    }
}

fn reserve_budgets<C: Counters + ?Sized>(
    config: &Config,
    counters: &C,
    request: &Request,
    budgets: &[Budget],
    price: impl FnOnce() -> Option<Price>,
    now_ms: u64,
) -> Reservation {
    if budgets.is_empty() {
        return Reservation::Unlimited;
    }
    let worst = match price() {
        Some(p) => worst_case_nanos(
            &p,
            request.est_prompt_tokens,
            request.max_tokens,
            request.n,
            config.default_max_tokens,
        ),
        None if config.unpriced == Unpriced::Deny => {
            let model = request.subject.model.to_string();
            let message = format!(
                "The model `{model}` has no price, so its cost cannot be held against this \
                 request's budget."
            );
            return Reservation::ModelNotPriced { model, message };
        }
        None => 0,
    };
    let mut held: Vec<Held> = Vec::with_capacity(budgets.len());
    let mut tightest: Option<Headroom> = None;
    for budget in budgets {
        let h = Held::new(budget, now_ms, worst);
        let bucket_total = counters.add(&h.total_key, worst, h.expires_at_ms);
        // Older buckets of a rolling window, newest first: (start, total).
        let prior: Vec<(u64, i64)> = budget
            .period
            .prior_buckets(h.slot_start_ms)
            .into_iter()
            .map(|start| {
                let (total_key, _) = counter_keys(&budget.scope, &budget.period, start);
                (start, counters.get(&total_key))
            })
            .collect();
        let window_total = prior
            .iter()
            .fold(bucket_total, |sum, (_, v)| sum.saturating_add(*v));
        let limit = budget.limit_nanos;
        // Over the limit, or (for a request that reserves nothing) a budget already used up.
        if window_total > limit || (worst == 0 && window_total >= limit) {
            for undo in held.iter().chain(std::iter::once(&h)) {
                if worst != 0 {
                    counters.add(&undo.total_key, -worst, undo.expires_at_ms);
                }
            }
            let oldest_with_spend = prior
                .iter()
                .rev()
                .find(|(_, v)| *v > 0)
                .map(|(start, _)| *start)
                .or((bucket_total - worst > 0).then_some(h.slot_start_ms));
            let resets_at_ms = match (budget.period.rolling_ms(), oldest_with_spend) {
                (Some(window), Some(start)) => start + window,
                _ => h.resets_at_ms,
            };
            return Reservation::Exceeded(exceeded(
                budget,
                window_total - worst,
                worst,
                resets_at_ms,
                now_ms,
            ));
        }
        let room = Headroom {
            budget: budget.clone(),
            remaining_nanos: (limit - window_total).max(0),
            resets_at_ms: h.resets_at_ms,
        };
        if tightest
            .as_ref()
            .is_none_or(|t| room.remaining_nanos < t.remaining_nanos)
        {
            tightest = Some(room);
        }
        held.push(h);
    }
    counters.put_record(
        &record_key(request.request_id),
        &encode(&held),
        RECORD_TTL_MS,
    );
    match tightest {
        Some(tightest) => Reservation::Allowed {
            worst_case_nanos: worst,
            tightest,
        },
        None => Reservation::Unlimited,
    }
}

fn exceeded(budget: &Budget, used: i64, worst: i64, resets_at_ms: u64, now_ms: u64) -> Exceeded {
    let used = used.max(0);
    let retry = resets_at_ms.saturating_sub(now_ms).div_ceil(1000).max(1);
    let mut message = format!(
        "Budget exceeded: {} has used ${} of its ${} {} budget (resets {}).",
        budget.scope.describe(),
        format_usd(used, 4),
        format_limit(budget.limit_nanos),
        budget.period.adjective(),
        rfc3339(resets_at_ms),
    );
    if used < budget.limit_nanos && worst > 0 {
        message.push_str(&format!(
            " This request could cost up to ${}.",
            format_usd(worst, 4)
        ));
    }
    Exceeded {
        budget: budget.clone(),
        used_nanos: used,
        worst_case_nanos: worst,
        resets_at_ms,
        retry_after_s: u32::try_from(retry).unwrap_or(u32::MAX),
        message,
    }
}
