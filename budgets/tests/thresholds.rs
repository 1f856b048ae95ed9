//! Threshold events fire once per crossing, per period, even when requests race.

mod common;

use common::{FakeCounters, attrs, config, reconcile_at, reserve_at, subject};
use sluice_budgets::{Reservation, Subject, ThresholdEvent, utc_ms};
use std::sync::Mutex;

/// Requests of worst case 0.1 that cost 0.07 until one is denied; the events they fired.
fn spend_until_denied(
    c: &sluice_budgets::Config,
    kv: &FakeCounters,
    day: u64,
) -> Vec<ThresholdEvent> {
    let a = attrs(&[]);
    let s = Subject {
        team: Some("ops"),
        user_id: Some("u-7"),
        ..subject("k1", &a)
    };
    let mut events = Vec::new();
    for i in 0..40 {
        let now = day + i * 60_000;
        kv.set_now(now);
        let id = format!("{day}-{i}");
        match reserve_at(c, kv, &id, s, 100_000, now).reservation {
            Reservation::Allowed { .. } => {
                events.extend(reconcile_at(c, kv, &id, s, 70_000_000, now).events);
            }
            Reservation::Exceeded(_) => return events,
            other => panic!("unexpected {other:?}"),
        }
    }
    panic!("never denied");
}

#[test]
fn each_threshold_fires_once_per_period() {
    let c = config(r#"{"key": {"day": 1}, "thresholds": [0.8, 0.5]}"#);
    let kv = FakeCounters::default();
    let day1 = utc_ms(2027, 1, 1, 9, 0, 0);
    let events = spend_until_denied(&c, &kv, day1);
    let got: Vec<(f64, i64, String)> = events
        .iter()
        .map(|e| (e.threshold, e.spent_nanos, e.request_id.clone()))
        .collect();
    // The 8th request (0.56) crosses 0.5; the 12th (0.84) crosses 0.8.
    assert_eq!(
        got,
        vec![
            (0.5, 560_000_000, format!("{day1}-7")),
            (0.8, 840_000_000, format!("{day1}-11")),
        ]
    );
    assert_eq!(
        events[1].to_json(),
        serde_json::json!({
            "scope": "key", "id": "k1", "key_id": "k1", "team": "ops", "user_id": "u-7",
            "model": "m", "period": "day", "threshold": 0.8, "limit_usd": 1.0,
            "spent_usd": 0.84, "period_start": "2027-01-01T00:00:00Z",
            "resets_at": "2027-01-02T00:00:00Z", "request_id": format!("{day1}-11"),
        })
    );
    assert!(
        events[1].message().contains("80% threshold"),
        "{}",
        events[1].message()
    );
    // The next day crosses them again, once each.
    let day2 = utc_ms(2027, 1, 2, 9, 0, 0);
    let events = spend_until_denied(&c, &kv, day2);
    let got: Vec<f64> = events.iter().map(|e| e.threshold).collect();
    assert_eq!(got, vec![0.5, 0.8]);
    assert_eq!(events[0].period_start_ms, utc_ms(2027, 1, 2, 0, 0, 0));
}

#[test]
fn one_charge_can_cross_several_thresholds_and_scopes() {
    let c = config(r#"{"key": {"day": 1}, "user": {"day": 0.1}, "thresholds": [0.5, 0.8, 1]}"#);
    let kv = FakeCounters::default();
    let now = utc_ms(2027, 1, 1, 9, 0, 0);
    kv.set_now(now);
    let a = attrs(&[]);
    let s = Subject {
        user_id: Some("u-7"),
        ..subject("k1", &a)
    };
    // No record (lost): 0.09 is charged to both budgets, crossing the user's 0.5 and 0.8.
    let events = reconcile_at(&c, &kv, "r1", s, 90_000_000, now).events;
    let got: Vec<(String, f64)> = events
        .iter()
        .map(|e| (e.scope.label(), e.threshold))
        .collect();
    assert_eq!(
        got,
        vec![("user:k1/u-7".into(), 0.5), ("user:k1/u-7".into(), 0.8)]
    );
    assert_eq!(events[0].to_json()["id"], "k1/u-7");
    // A failed call (no usage) costs nothing and fires nothing.
    assert!(reconcile_at(&c, &kv, "r2", s, 0, now).events.is_empty());
    // Going over the budget crosses 1.0 once.
    let events = reconcile_at(&c, &kv, "r3", s, 20_000_000, now).events;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].threshold, 1.0);
    assert!(
        reconcile_at(&c, &kv, "r4", s, 20_000_000, now)
            .events
            .is_empty()
    );
}

#[test]
fn rolling_windows_fire_again_after_spend_leaves_them() {
    let c = config(r#"{"key": {"1d": 1}, "thresholds": [0.5]}"#);
    let kv = FakeCounters::default();
    let a = attrs(&[]);
    let t0 = utc_ms(2027, 1, 1, 0, 0, 0);
    let h = 3_600_000;
    let mut fired = Vec::new();
    for (i, at) in [t0, t0 + h, t0 + 24 * h, t0 + 24 * h + 1_800_000]
        .into_iter()
        .enumerate()
    {
        kv.set_now(at);
        fired.push(
            reconcile_at(
                &c,
                &kv,
                &format!("r{i}"),
                subject("k1", &a),
                300_000_000,
                at,
            )
            .events
            .len(),
        );
    }
    // 0.3, then 0.6 (crosses 0.5); at t0 + 24h bucket 0 has left the window (0.3 left), so the
    // next 0.3 crosses again (0.6); then 0.9 crosses nothing.
    assert_eq!(fired, vec![0, 1, 1, 0]);
    kv.set_now(t0 + 60 * h);
    let events = reconcile_at(&c, &kv, "r9", subject("k1", &a), 600_000_000, t0 + 60 * h).events;
    assert_eq!(events.len(), 1, "a window that emptied crosses again");
    assert_eq!(events[0].to_json()["period"], "1d");
}

#[test]
fn concurrent_crossings_fire_once() {
    let c = config(r#"{"key": {"month": 0.2}, "thresholds": [0.5, 0.8]}"#);
    let kv = FakeCounters::default();
    let now = utc_ms(2027, 1, 15, 12, 0, 0);
    kv.set_now(now);
    let events = Mutex::new(Vec::new());
    let a = attrs(&[]);
    std::thread::scope(|scope| {
        for t in 0..16 {
            let (c, kv, events, a) = (&c, &kv, &events, &a);
            scope.spawn(move || {
                for i in 0..20 {
                    let id = format!("t{t}-{i}");
                    let s = subject("k1", a);
                    if let Reservation::Allowed { .. } =
                        reserve_at(c, kv, &id, s, 1000, now).reservation
                    {
                        let fired = reconcile_at(c, kv, &id, s, 700_000, now).events;
                        events.lock().expect("lock").extend(fired);
                    }
                }
            });
        }
    });
    let mut got: Vec<f64> = events
        .into_inner()
        .expect("lock")
        .iter()
        .map(|e| e.threshold)
        .collect();
    got.sort_by(f64::total_cmp);
    assert_eq!(got, vec![0.5, 0.8]);
    assert!(kv.sum("s|key|") >= 160_000_000, "0.8 was crossed");
}
