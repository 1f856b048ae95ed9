//! Budgets free up when their period ends: calendar periods at midnight UTC, rolling windows
//! bucket by bucket.

mod common;

use common::{FakeCounters, attrs, config, reconcile_at, reserve_at, subject};
use sluice_budgets::{Reservation, rfc3339, utc_ms};

/// One request of worst case `max_tokens` × 1000 nano-USD that costs `actual`; whether it was
/// allowed, and the denial's (retry_after, message).
fn spend(
    c: &sluice_budgets::Config,
    kv: &FakeCounters,
    id: &str,
    max_tokens: u32,
    actual: i64,
    now: u64,
) -> Result<i64, (u32, String)> {
    kv.set_now(now);
    let a = attrs(&[]);
    match reserve_at(c, kv, id, subject("k1", &a), max_tokens, now).reservation {
        Reservation::Allowed { tightest, .. } => {
            reconcile_at(c, kv, id, subject("k1", &a), actual, now);
            Ok(tightest.remaining_nanos)
        }
        Reservation::Exceeded(e) => Err((e.retry_after_s, e.message)),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn day_and_month_budgets_reset_at_midnight_utc() {
    let c = config(r#"{"key": {"day": 0.01, "month": 0.01}}"#);
    let kv = FakeCounters::default();
    let eve = utc_ms(2026, 12, 31, 23, 59, 0);
    // Ten requests of 0.001 use both budgets up.
    for i in 0..10 {
        assert!(
            spend(&c, &kv, &format!("a{i}"), 1000, 1_000_000, eve).is_ok(),
            "{i}"
        );
    }
    let (retry, message) = spend(&c, &kv, "a10", 1000, 1_000_000, eve).expect_err("denied");
    assert_eq!(retry, 60);
    assert_eq!(
        message,
        "Budget exceeded: key k1 has used $0.0100 of its $0.01 daily budget \
         (resets 2027-01-01T00:00:00Z)."
    );
    let last_second = utc_ms(2026, 12, 31, 23, 59, 59) + 999;
    let (retry, _) = spend(&c, &kv, "a11", 1000, 1_000_000, last_second).expect_err("denied");
    assert_eq!(retry, 1, "at least 1 s");
    // The new year starts a new day and a new month.
    let new_year = utc_ms(2027, 1, 1, 0, 0, 0);
    assert_eq!(
        spend(&c, &kv, "b0", 1000, 1_000_000, new_year),
        Ok(9_000_000)
    );
}

#[test]
fn a_month_budget_holds_until_the_month_ends() {
    let c = config(r#"{"key": {"month": 0.005}}"#);
    let kv = FakeCounters::default();
    spend(&c, &kv, "a", 5000, 5_000_000, utc_ms(2026, 12, 2, 9, 0, 0)).expect("allowed");
    let (retry, message) =
        spend(&c, &kv, "b", 1, 1000, utc_ms(2026, 12, 31, 0, 0, 0)).expect_err("denied");
    assert_eq!(retry, 86_400);
    assert!(
        message.contains("monthly budget (resets 2027-01-01T00:00:00Z)"),
        "{message}"
    );
    assert!(spend(&c, &kv, "c", 5000, 1, utc_ms(2027, 1, 1, 0, 0, 0)).is_ok());
}

#[test]
fn a_rolling_window_frees_spend_bucket_by_bucket() {
    let c = config(r#"{"key": {"24h": 0.01}}"#);
    let kv = FakeCounters::default();
    let t0 = utc_ms(2027, 3, 1, 0, 0, 0);
    let h = 3_600_000;
    // 0.006 at 00:10 (bucket 0), 0.004 at 05:30 (bucket 5): the window is full.
    spend(&c, &kv, "a", 6000, 6_000_000, t0 + 10 * 60_000).expect("allowed");
    assert_eq!(
        spend(&c, &kv, "b", 4000, 4_000_000, t0 + 5 * h + 30 * 60_000),
        Ok(0)
    );
    // Full until bucket 0 leaves the window at t0 + 24h.
    let (retry, message) = spend(&c, &kv, "c", 1, 1000, t0 + 6 * h).expect_err("denied");
    assert_eq!(u64::from(retry), 18 * 3600);
    assert_eq!(
        message,
        format!(
            "Budget exceeded: key k1 has used $0.0100 of its $0.01 rolling 24h budget (resets {}).",
            rfc3339(t0 + 24 * h)
        )
    );
    let (retry, _) = spend(&c, &kv, "d", 1, 1000, t0 + 24 * h - 1000).expect_err("denied");
    assert_eq!(retry, 1);
    // At t0 + 24h the 0.006 of bucket 0 is free again, and no more.
    assert_eq!(spend(&c, &kv, "e", 6000, 6_000_000, t0 + 24 * h), Ok(0));
    let (retry, _) = spend(&c, &kv, "f", 1, 1000, t0 + 24 * h).expect_err("denied");
    assert_eq!(u64::from(retry), 5 * 3600, "until bucket 5 leaves");
    // At t0 + 29h bucket 5's 0.004 is free.
    assert_eq!(spend(&c, &kv, "g", 4000, 4_000_000, t0 + 29 * h), Ok(0));
    // The headers' reset is when the current bucket leaves the window.
    let a = attrs(&[]);
    kv.set_now(t0 + 48 * h + 90 * 60_000);
    match reserve_at(
        &c,
        &kv,
        "h",
        subject("k1", &a),
        1,
        t0 + 48 * h + 90 * 60_000,
    )
    .reservation
    {
        Reservation::Allowed { tightest, .. } => {
            assert_eq!(tightest.headers()[2].1, rfc3339(t0 + 73 * h));
        }
        other => panic!("unexpected {other:?}"),
    }
}
