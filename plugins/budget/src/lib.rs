//! `budget`: spend caps in USD per key, per team, per end user (`user_id` of a key) and per model
//! (over all keys), over a UTC day, an ISO week (from Monday 00:00 UTC), a calendar month (UTC) or
//! a rolling window (`24h`, `7d`, `90m`).
//!
//! Before the upstream call the plugin *reserves* the request's worst case (estimated prompt
//! tokens at the input price, plus `max_tokens` or `default_max_tokens` times `n` at the output
//! price, from the gateway's price table) against every budget that applies, with atomic adds to
//! the host's counters. A budget that would go over undoes the reservation and answers 429
//! `insufficient_quota` with `retry_after` (seconds until the budget resets). After the call
//! `on-complete` *reconciles*: it charges what the call cost (the figure the cost plugin shows)
//! and gives back the rest, so neither concurrency nor streaming can overrun a budget. Counters
//! live in the host's `kv` capability, so a shared store makes budgets hold across replicas.
//!
//! ```toml
//! [[plugins]]
//! name = "budget"
//! stage = "policy"
//! source = "builtin:budget"
//! [plugins.config]
//! key = { month = 50 }            # USD per key; a key's attributes `budget_usd_<period>` override per period
//! user = { day = 1 }              # per (key, user_id); attributes `user_budget_usd_<period>` override
//! team = { month = 500 }          # per team (principal.team), unless `teams.<name>` gives its own table
//! thresholds = [0.8]              # fractions of a budget whose crossing fires an event (default [0.8])
//! default_max_tokens = 1024       # worst-case output tokens when a request sets no max_tokens
//! unpriced = "allow"              # or "deny": refuse (403) a model with no price while a budget applies
//! [plugins.config.teams.research]
//! month = 2000
//! [plugins.config.models."gpt-4o"]  # per model, over all keys (the name the client asked for)
//! day = 100
//! ```
//!
//! A period table maps periods (`day`, `week`, `month`, or a rolling `<n>m`, `<n>h`, `<n>d` from
//! 1m to 366d) to USD; 0 is no budget, and several periods may apply at once
//! (`{ day = 2, month = 30 }`). Attribute values are strings (`budget_usd_month = "50"`); one
//! that is not a number of USD is ignored with a warning.
//!
//! A request let through carries the tightest budget (the least left after its reservation) in
//! `x-sluice-budget-limit-usd`, `x-sluice-budget-remaining-usd`, `x-sluice-budget-reset` (RFC
//! 3339) and `x-sluice-budget-scope` (`key:k1`, `team:research`, `user:k1/u-7`, `model:gpt-4o`).
//! When a charge crosses a threshold, the plugin logs a warning and sends a `budget.threshold`
//! event to the operator's webhooks, once per crossing. The algorithm lives in the pure crate
//! `sluice-budgets`, which the host also uses to report spend against budgets.

use sluice_budgets::{
    self as budgets, Completion, Config, Counters, Price, Request, Reservation, Subject,
};
use sluice_plugin_sdk::{
    Allow, Decision, ErrorBody, Level, LlmMeta, Outcome, Plugin, Policy, Principal, RequestCtx, kv,
    log, notify, prices,
};

/// [`Counters`] over the host's `kv` store.
struct KvCounters;

impl Counters for KvCounters {
    fn add(&self, key: &str, delta: i64, expires_at_ms: u64) -> i64 {
        kv::add(key, delta, expires_at_ms)
    }

    fn get(&self, key: &str) -> i64 {
        kv::get(key).map(|v| parse_counter(&v)).unwrap_or(0)
    }

    fn put_record(&self, key: &str, value: &[u8], ttl_ms: u64) {
        kv::set(key, value, Some(ttl_ms));
    }

    fn take_record(&self, key: &str) -> Option<Vec<u8>> {
        let value = kv::get(key)?;
        kv::delete(key);
        Some(value)
    }
}

/// A counter as `kv::get` returns it: its value in decimal text.
fn parse_counter(bytes: &[u8]) -> i64 {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

struct Budget(Config);

impl Plugin for Budget {
    type Config = serde_json::Value;

    fn new(config: serde_json::Value) -> Result<Self, String> {
        Config::from_value(&config)
            .map(Budget)
            .map_err(|e| e.to_string())
    }
}

fn subject<'a>(ctx: &'a RequestCtx, principal: &'a Principal) -> Subject<'a> {
    Subject {
        key_id: &principal.key_id,
        team: principal.team.as_deref(),
        attributes: &principal.attributes,
        user_id: ctx.user_id.as_deref(),
        model: &ctx.model,
    }
}

/// The decision for a reservation.
fn decision(reservation: Reservation) -> Decision {
    match reservation {
        Reservation::Unlimited => Decision::Continue(Allow::default()),
        Reservation::Allowed { tightest, .. } => Decision::Continue(Allow {
            headers: tightest.headers(),
            ..Allow::default()
        }),
        Reservation::Exceeded(e) => {
            let mut body = ErrorBody::new(
                429,
                "insufficient_quota",
                Some("insufficient_quota"),
                e.message,
            );
            body.retry_after = Some(e.retry_after_s);
            Decision::Deny(body)
        }
        Reservation::ModelNotPriced { message, .. } => Decision::Deny(
            ErrorBody::new(403, "permission_error", Some("model_not_priced"), message)
                .with_param("model"),
        ),
    }
}

impl Policy for Budget {
    fn on_request(
        &self,
        ctx: &RequestCtx,
        principal: &Principal,
        meta: &LlmMeta,
        _body: &[u8],
    ) -> Decision {
        let request = Request {
            request_id: &ctx.request_id,
            subject: subject(ctx, principal),
            est_prompt_tokens: meta.est_prompt_tokens,
            max_tokens: meta.max_tokens,
            n: meta.n,
        };
        let price = || {
            prices::lookup(&ctx.model).map(|p| Price {
                input: p.input,
                output: p.output,
            })
        };
        let out = budgets::reserve(
            &self.0,
            &KvCounters,
            &request,
            price,
            sluice_plugin_sdk::now_ms(),
        );
        for w in &out.warnings {
            log(Level::Warn, w);
        }
        decision(out.reservation)
    }

    fn on_complete(
        &self,
        ctx: &RequestCtx,
        principal: &Principal,
        _meta: &LlmMeta,
        outcome: &Outcome,
    ) {
        let completion = Completion {
            request_id: &ctx.request_id,
            subject: subject(ctx, principal),
        };
        let actual = || budgets::usd_to_nanos(prices::cost_of(ctx, outcome));
        let out = budgets::reconcile(
            &self.0,
            &KvCounters,
            &completion,
            actual,
            sluice_plugin_sdk::now_ms(),
        );
        for w in &out.warnings {
            log(Level::Warn, w);
        }
        for event in &out.events {
            log(Level::Warn, &event.message());
            notify(budgets::THRESHOLD_EVENT, &event.to_json());
        }
    }
}

sluice_plugin_sdk::export_policy!(Budget);
// It reads no request header: the host passes none.
sluice_plugin_sdk::reads_headers!();

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_budgets::{Exceeded, Headroom, Period, Scope};

    fn parse(json: &str) -> Result<Config, String> {
        sluice_plugin_sdk::from_config_json::<Budget>(json).map(|b| b.0)
    }

    fn key_budget() -> budgets::Budget {
        budgets::Budget {
            scope: Scope::Key {
                key_id: "k1".into(),
            },
            period: Period::Month,
            limit_nanos: 50_000_000_000,
        }
    }

    #[test]
    fn config_errors_name_the_field() {
        assert!(parse(r#"{"key": {"month": 50}}"#).is_ok());
        assert!(parse("").is_ok());
        let e = parse(r#"{"key": {"fortnight": 5}}"#).expect_err("unknown period");
        assert!(
            e.starts_with("budget config: key.fortnight: unknown period"),
            "{e}"
        );
        let e = parse(r#"{"budgets": {}}"#).expect_err("unknown field");
        assert!(
            e.starts_with("budget config: budgets: unknown field"),
            "{e}"
        );
    }

    #[test]
    fn counters_parse_decimal_text() {
        assert_eq!(parse_counter(b"1234"), 1234);
        assert_eq!(parse_counter(b"-5"), -5);
        assert_eq!(parse_counter(b"x"), 0);
    }

    #[test]
    fn denials_are_insufficient_quota_with_retry_after() {
        let d = decision(Reservation::Exceeded(Exceeded {
            budget: key_budget(),
            used_nanos: 49_990_000_000,
            worst_case_nanos: 20_000_000,
            resets_at_ms: 1_798_761_600_000,
            retry_after_s: 42,
            message: "Budget exceeded".into(),
        }));
        let Decision::Deny(e) = d else {
            panic!("expected a denial");
        };
        assert_eq!((e.status, e.type_.as_str()), (429, "insufficient_quota"));
        assert_eq!(e.code.as_deref(), Some("insufficient_quota"));
        assert_eq!(e.retry_after, Some(42));
        let d = decision(Reservation::ModelNotPriced {
            model: "m".into(),
            message: "no price".into(),
        });
        let Decision::Deny(e) = d else {
            panic!("expected a denial");
        };
        assert_eq!(
            (e.status, e.code.as_deref()),
            (403, Some("model_not_priced"))
        );
    }

    #[test]
    fn allowed_requests_carry_the_tightest_budget() {
        let d = decision(Reservation::Allowed {
            worst_case_nanos: 1,
            tightest: Headroom {
                budget: key_budget(),
                remaining_nanos: 6_123_456_789,
                resets_at_ms: 1_798_761_600_000,
            },
        });
        let Decision::Continue(allow) = d else {
            panic!("expected a continue");
        };
        let names: Vec<(&str, &str)> = allow
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            names,
            vec![
                ("x-sluice-budget-limit-usd", "50.00"),
                ("x-sluice-budget-remaining-usd", "6.123456"),
                ("x-sluice-budget-reset", "2027-01-01T00:00:00Z"),
                ("x-sluice-budget-scope", "key:k1"),
            ]
        );
        assert!(matches!(
            decision(Reservation::Unlimited),
            Decision::Continue(Allow { ref headers, .. }) if headers.is_empty()
        ));
    }
}
