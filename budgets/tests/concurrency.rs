//! Many threads against a tiny budget: reservations keep it from being overrun.

mod common;

use common::{FakeCounters, attrs, config, reconcile_at, reserve_at, subject};
use sluice_budgets::{Reservation, utc_ms};
use std::sync::atomic::{AtomicUsize, Ordering};

const THREADS: usize = 16;
const REQUESTS: usize = 20;
const WORST: i64 = 1_000_000; // 0.001 USD: 1000 output tokens at 1000 nano-USD
const ACTUAL: i64 = 700_000; // 0.0007 USD
const LIMIT: i64 = 10_500_000; // 0.0105 USD

/// Requests allowed one at a time from an empty budget: each needs its worst case free on top of
/// what was already spent, so k are allowed while (k − 1) × actual + worst ≤ limit.
fn arithmetic() -> usize {
    ((LIMIT - WORST) / ACTUAL + 1) as usize
}

fn run_one(c: &sluice_budgets::Config, kv: &FakeCounters, id: &str, now: u64) -> bool {
    let a = attrs(&[]);
    match reserve_at(c, kv, id, subject("k1", &a), 1000, now).reservation {
        Reservation::Allowed {
            worst_case_nanos, ..
        } => {
            assert_eq!(worst_case_nanos, WORST);
            reconcile_at(c, kv, id, subject("k1", &a), ACTUAL, now);
            true
        }
        Reservation::Exceeded(e) => {
            assert!(e.retry_after_s >= 1);
            false
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn sixteen_threads_cannot_overrun_a_tiny_budget() {
    assert_eq!(arithmetic(), 14);
    let c = config(r#"{"key": {"month": 0.0105}}"#);
    let now = utc_ms(2027, 6, 10, 12, 0, 0);
    let kv = FakeCounters::at(now);
    let allowed = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let (c, kv, allowed) = (&c, &kv, &allowed);
            scope.spawn(move || {
                for i in 0..REQUESTS {
                    if run_one(c, kv, &format!("t{t}-{i}"), now) {
                        allowed.fetch_add(1, Ordering::SeqCst);
                    }
                }
            });
        }
    });
    let allowed = allowed.into_inner();
    let spent = kv.sum("s|key|k1|month|");
    let total = kv.sum("t|key|k1|month|");
    // Never more than the arithmetic allows; spent stays within the budget plus one request's
    // reconciliation error (none here: every request costs less than its worst case).
    assert!(allowed <= arithmetic(), "{allowed} allowed");
    assert_eq!(spent, allowed as i64 * ACTUAL);
    assert!(spent <= LIMIT + (ACTUAL - WORST).max(0), "spent {spent}");
    // Every reservation was reconciled: nothing stays held, no record is left.
    assert_eq!(total, spent);
    assert_eq!(kv.record_count(), 0);
    // Racing reservations can only make the threads more cautious, never less: one at a time,
    // what is left of the budget takes exactly the rest of the arithmetic's count.
    let mut more = 0;
    while run_one(&c, &kv, &format!("after-{more}"), now) {
        more += 1;
    }
    assert_eq!(
        allowed + more,
        arithmetic(),
        "{allowed} concurrent + {more} after"
    );
    assert_eq!(kv.sum("s|key|k1|month|"), arithmetic() as i64 * ACTUAL);
}

#[test]
fn sequential_requests_get_exactly_the_arithmetic() {
    let c = config(r#"{"key": {"month": 0.0105}}"#);
    let now = utc_ms(2027, 6, 10, 12, 0, 0);
    let kv = FakeCounters::at(now);
    let allowed = (0..THREADS * REQUESTS)
        .filter(|i| run_one(&c, &kv, &format!("r{i}"), now))
        .count();
    assert_eq!(allowed, arithmetic());
    assert_eq!(kv.sum("s|key|k1|month|"), 9_800_000);
}

#[test]
fn concurrent_reservations_alone_never_exceed_the_limit() {
    // Held without reconciling: at most floor(limit / worst) reservations fit, whatever the
    // interleaving, and the counter never ends above the limit.
    let c = config(r#"{"key": {"month": 0.0105}, "user": {"day": 1}}"#);
    let now = utc_ms(2027, 6, 10, 12, 0, 0);
    let kv = FakeCounters::at(now);
    let held = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let (c, kv, held) = (&c, &kv, &held);
            scope.spawn(move || {
                let a = attrs(&[]);
                for i in 0..REQUESTS {
                    let s = sluice_budgets::Subject {
                        user_id: Some("u"),
                        ..subject("k1", &a)
                    };
                    if let Reservation::Allowed { .. } =
                        reserve_at(c, kv, &format!("t{t}-{i}"), s, 1000, now).reservation
                    {
                        held.fetch_add(1, Ordering::SeqCst);
                    }
                }
            });
        }
    });
    let held = held.into_inner() as i64;
    assert!(held <= LIMIT / WORST, "{held} held");
    assert_eq!(kv.sum("t|key|k1|month|"), held * WORST);
    assert_eq!(
        kv.sum("t|user|k1/u|day|"),
        held * WORST,
        "denied requests undid their user reservation"
    );
}
