//! Reserve and reconcile against a fake store: denials, refunds, lost records, headers.

mod common;

use common::{FakeCounters, attrs, config, reconcile_at, reserve_at, subject};
use sluice_budgets::{
    Completion, Counters, Exceeded, Headroom, Request, Reservation, Subject, reconcile, record_key,
    reserve, utc_ms,
};

const MAY_15: u64 = 1_778_846_400_000; // 2026-05-15T12:00:00Z

fn allowed(r: &Reservation) -> &Headroom {
    match r {
        Reservation::Allowed { tightest, .. } => tightest,
        other => panic!("expected Allowed, got {other:?}"),
    }
}

fn exceeded(r: &Reservation) -> &Exceeded {
    match r {
        Reservation::Exceeded(e) => e,
        other => panic!("expected Exceeded, got {other:?}"),
    }
}

#[test]
fn no_budget_no_traffic() {
    let c = config("{}");
    let kv = FakeCounters::at(MAY_15);
    let a = attrs(&[]);
    let mut asked = false;
    let request = Request {
        request_id: "r1",
        subject: subject("k1", &a),
        est_prompt_tokens: 10,
        max_tokens: None,
        n: 1,
    };
    let out = reserve(
        &c,
        &kv,
        &request,
        || {
            asked = true;
            None
        },
        MAY_15,
    );
    assert_eq!(out.reservation, Reservation::Unlimited);
    assert!(!asked, "no price lookup without a budget");
    let done = Completion {
        request_id: "r1",
        subject: subject("k1", &a),
    };
    let out = reconcile(&c, &kv, &done, || panic!("no cost lookup"), MAY_15);
    assert!(out.events.is_empty());
    assert!(kv.keys().is_empty());
    assert_eq!(kv.record_count(), 0);
}

#[test]
fn reservation_then_refund() {
    let c = config(r#"{"key": {"month": 0.01}}"#);
    let kv = FakeCounters::at(MAY_15);
    let a = attrs(&[]);
    // Worst case 4000 tokens × 1000 = 0.004 USD.
    let out = reserve_at(&c, &kv, "r1", subject("k1", &a), 4000, MAY_15);
    let room = allowed(&out.reservation);
    assert_eq!(room.remaining_nanos, 6_000_000);
    let headers = room.headers();
    assert_eq!(
        headers[0],
        ("x-sluice-budget-limit-usd".into(), "0.01".into())
    );
    assert_eq!(
        headers[1],
        ("x-sluice-budget-remaining-usd".into(), "0.006000".into())
    );
    assert_eq!(
        headers[2],
        (
            "x-sluice-budget-reset".into(),
            "2026-06-01T00:00:00Z".into()
        )
    );
    assert_eq!(
        headers[3],
        ("x-sluice-budget-scope".into(), "key:k1".into())
    );
    let month_start = utc_ms(2026, 5, 1, 0, 0, 0);
    let total = format!("t|key|k1|month|{month_start}");
    let spent = format!("s|key|k1|month|{month_start}");
    assert_eq!(kv.sum(&total), 4_000_000);
    assert_eq!(
        kv.keys()[0].1,
        utc_ms(2026, 6, 1, 1, 0, 0),
        "expiry = period end + 1h"
    );
    assert_eq!(kv.record_count(), 1);

    // It cost 0.0015: the rest comes back, and the spend is recorded.
    reconcile_at(&c, &kv, "r1", subject("k1", &a), 1_500_000, MAY_15 + 1000);
    assert_eq!(kv.sum(&total), 1_500_000);
    assert_eq!(kv.sum(&spent), 1_500_000);
    assert_eq!(kv.record_count(), 0, "the record is taken");

    // A call that costs more than reserved (an unpriced alias served by a priced model) is
    // charged in full.
    allowed(&reserve_at(&c, &kv, "r2", subject("k1", &a), 1000, MAY_15).reservation);
    reconcile_at(&c, &kv, "r2", subject("k1", &a), 2_000_000, MAY_15);
    assert_eq!(kv.sum(&total), 3_500_000);
    assert_eq!(kv.sum(&spent), 3_500_000);
}

#[test]
fn a_denied_request_leaves_nothing_reserved() {
    let c = config(r#"{"key": {"day": 1, "month": 0.01}, "user": {"day": 0.005}}"#);
    let kv = FakeCounters::at(MAY_15);
    let a = attrs(&[]);
    let s = Subject {
        user_id: Some("u-7"),
        ..subject("k1", &a)
    };
    let first = reserve_at(&c, &kv, "r1", s, 4000, MAY_15);
    assert_eq!(
        allowed(&first.reservation).budget.scope.label(),
        "user:k1/u-7",
        "tightest"
    );
    let before = kv.keys().len();
    let sums = |kv: &FakeCounters| (kv.sum("t|key|"), kv.sum("t|user|"));
    assert_eq!(sums(&kv), (8_000_000, 4_000_000));
    // The key's budgets take another 0.004; the user's (0.001 left) does not.
    let out = reserve_at(&c, &kv, "r2", s, 4000, MAY_15);
    let e = exceeded(&out.reservation);
    assert_eq!(e.budget.scope.label(), "user:k1/u-7");
    assert_eq!(
        e.message,
        "Budget exceeded: user u-7 of key k1 has used $0.0040 of its $0.005 daily budget \
         (resets 2026-05-16T00:00:00Z). This request could cost up to $0.0040."
    );
    assert_eq!(e.retry_after_s, 12 * 3600);
    assert_eq!(sums(&kv), (8_000_000, 4_000_000), "every add was undone");
    assert_eq!(kv.keys().len(), before);
    assert_eq!(kv.record_count(), 1, "only the first request's record");
}

#[test]
fn a_lost_record_still_charges() {
    let c = config(r#"{"key": {"month": 1}, "team": {"week": 10}}"#);
    let kv = FakeCounters::at(MAY_15);
    let a = attrs(&[]);
    let s = Subject {
        team: Some("ops"),
        ..subject("k1", &a)
    };
    allowed(&reserve_at(&c, &kv, "r1", s, 4000, MAY_15).reservation);
    kv.clear_records(); // expired
    let out = reconcile_at(&c, &kv, "r1", s, 1_000_000, MAY_15);
    assert!(!out.had_record);
    // The reservation stays counted (it cannot be found), and the cost is charged too.
    assert_eq!(kv.sum("t|key|"), 5_000_000);
    assert_eq!(kv.sum("s|key|"), 1_000_000);
    assert_eq!(kv.sum("s|team|ops|week|"), 1_000_000);
    // A record that cannot be read is treated the same, with a warning.
    kv.put_record(&record_key("r2"), b"not json", 1000);
    let out = reconcile_at(&c, &kv, "r2", s, 1_000_000, MAY_15);
    assert_eq!(out.warnings.len(), 1);
    assert_eq!(kv.sum("s|key|"), 2_000_000);
}

#[test]
fn reconciliation_uses_the_period_it_reserved_in() {
    let c = config(r#"{"key": {"day": 1}}"#);
    let kv = FakeCounters::at(0);
    let a = attrs(&[]);
    let late = utc_ms(2026, 5, 15, 23, 59, 59);
    kv.set_now(late);
    allowed(&reserve_at(&c, &kv, "r1", subject("k1", &a), 4000, late).reservation);
    // It finishes after midnight: the refund and charge go to May 15.
    let next = utc_ms(2026, 5, 16, 0, 0, 30);
    kv.set_now(next);
    reconcile_at(&c, &kv, "r1", subject("k1", &a), 1_000_000, next);
    let may15 = utc_ms(2026, 5, 15, 0, 0, 0);
    assert_eq!(kv.sum(&format!("t|key|k1|day|{may15}")), 1_000_000);
    assert_eq!(kv.sum(&format!("s|key|k1|day|{may15}")), 1_000_000);
    assert_eq!(
        kv.sum(&format!("t|key|k1|day|{}", utc_ms(2026, 5, 16, 0, 0, 0))),
        0
    );
}

#[test]
fn unpriced_models() {
    let a = attrs(&[]);
    let request = Request {
        request_id: "r1",
        subject: subject("k1", &a),
        est_prompt_tokens: 10,
        max_tokens: None,
        n: 1,
    };
    let kv = FakeCounters::at(MAY_15);
    let deny = config(r#"{"key": {"month": 1}, "unpriced": "deny"}"#);
    match reserve(&deny, &kv, &request, || None, MAY_15).reservation {
        Reservation::ModelNotPriced { model, message } => {
            assert_eq!(model, "m");
            assert!(message.contains("`m`"), "{message}");
        }
        other => panic!("expected ModelNotPriced, got {other:?}"),
    }
    assert!(kv.keys().is_empty());
    // Allowed: nothing reserved, but the budget's counters are read, and a used-up budget
    // refuses even requests that reserve nothing.
    let allow = config(r#"{"key": {"month": 1}}"#);
    let out = reserve(&allow, &kv, &request, || None, MAY_15);
    assert_eq!(allowed(&out.reservation).remaining_nanos, 1_000_000_000);
    reconcile_at(&allow, &kv, "r1", subject("k1", &a), 1_000_000_000, MAY_15);
    let out = reserve(
        &allow,
        &kv,
        &Request {
            request_id: "r2",
            ..request
        },
        || None,
        MAY_15,
    );
    let e = exceeded(&out.reservation);
    assert!(e.message.starts_with("Budget exceeded: key k1 has used $1.0000 of its $1.00 monthly budget (resets 2026-06-01T00:00:00Z)."), "{}", e.message);
}

#[test]
fn model_and_team_budgets_are_shared_across_keys() {
    let c = config(r#"{"models": {"m": {"day": 0.005}}}"#);
    let kv = FakeCounters::at(MAY_15);
    let a = attrs(&[]);
    allowed(&reserve_at(&c, &kv, "r1", subject("k1", &a), 3000, MAY_15).reservation);
    let out = reserve_at(&c, &kv, "r2", subject("k2", &a), 3000, MAY_15);
    let e = exceeded(&out.reservation);
    assert_eq!(e.budget.scope.label(), "model:m");
    assert!(
        e.message
            .starts_with("Budget exceeded: model m has used $0.0030 of its $0.005 daily budget")
    );
    let ok = reserve_at(&c, &kv, "r3", subject("k2", &a), 2000, MAY_15);
    assert_eq!(allowed(&ok.reservation).remaining_nanos, 0);
    assert_eq!(allowed(&ok.reservation).headers()[1].1, "0.000000");
}
