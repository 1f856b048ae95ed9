//! Calendar windows and rolling buckets at chosen instants.

use sluice_budgets::{Budget, Period, Scope, Window, rfc3339, utc_ms};

fn window(p: &str, at: u64) -> (String, String, String) {
    let Window {
        start_ms,
        end_ms,
        label,
    } = Period::parse(p).expect("period").window_at(at);
    (rfc3339(start_ms), rfc3339(end_ms), label)
}

fn w(start: &str, end: &str, label: &str) -> (String, String, String) {
    (start.into(), end.into(), label.into())
}

#[test]
fn days() {
    let at = utc_ms(2026, 12, 31, 23, 59, 59) + 999;
    assert_eq!(
        window("day", at),
        w("2026-12-31T00:00:00Z", "2027-01-01T00:00:00Z", "2026-12-31")
    );
    assert_eq!(
        window("day", utc_ms(2027, 1, 1, 0, 0, 0)),
        w("2027-01-01T00:00:00Z", "2027-01-02T00:00:00Z", "2027-01-01")
    );
    assert_eq!(
        window("day", utc_ms(2028, 2, 29, 12, 0, 0)),
        w("2028-02-29T00:00:00Z", "2028-03-01T00:00:00Z", "2028-02-29")
    );
}

#[test]
fn iso_weeks_start_on_monday() {
    // Wednesday 2026-12-30: the week from Monday 2026-12-28 (ISO week 53 of 2026).
    assert_eq!(
        window("week", utc_ms(2026, 12, 30, 15, 0, 0)),
        w("2026-12-28T00:00:00Z", "2027-01-04T00:00:00Z", "2026-W53")
    );
    // Sunday 23:59:59 is still that week; Monday 00:00 starts the next.
    assert_eq!(
        window("week", utc_ms(2027, 1, 3, 23, 59, 59)).0,
        "2026-12-28T00:00:00Z"
    );
    assert_eq!(
        window("week", utc_ms(2027, 1, 4, 0, 0, 0)),
        w("2027-01-04T00:00:00Z", "2027-01-11T00:00:00Z", "2027-W01")
    );
    // Thursday 2025-01-01 belongs to week 1 of 2025, from Monday 2024-12-30.
    assert_eq!(
        window("week", utc_ms(2025, 1, 1, 8, 0, 0)),
        w("2024-12-30T00:00:00Z", "2025-01-06T00:00:00Z", "2025-W01")
    );
    // Across a leap day.
    assert_eq!(
        window("week", utc_ms(2028, 2, 29, 0, 0, 0)),
        w("2028-02-28T00:00:00Z", "2028-03-06T00:00:00Z", "2028-W09")
    );
}

#[test]
fn months() {
    assert_eq!(
        window("month", utc_ms(2026, 12, 31, 23, 59, 0)),
        w("2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z", "2026-12")
    );
    assert_eq!(
        window("month", utc_ms(2027, 1, 1, 0, 0, 0)),
        w("2027-01-01T00:00:00Z", "2027-02-01T00:00:00Z", "2027-01")
    );
    // Leap February: 29 days.
    assert_eq!(
        window("month", utc_ms(2028, 2, 29, 23, 0, 0)),
        w("2028-02-01T00:00:00Z", "2028-03-01T00:00:00Z", "2028-02")
    );
    // Common February, 30- and 31-day months.
    assert_eq!(
        window("month", utc_ms(2027, 2, 28, 23, 59, 59)).1,
        "2027-03-01T00:00:00Z"
    );
    assert_eq!(
        window("month", utc_ms(2026, 4, 30, 12, 0, 0)).1,
        "2026-05-01T00:00:00Z"
    );
    assert_eq!(
        window("month", utc_ms(2026, 3, 31, 12, 0, 0)).1,
        "2026-04-01T00:00:00Z"
    );
    // The counter-key example: 2025-12 starts at 1764547200000.
    let m = Period::Month.window_at(utc_ms(2025, 12, 15, 0, 0, 0));
    assert_eq!(
        (m.start_ms, m.end_ms),
        (1_764_547_200_000, 1_767_225_600_000)
    );
}

#[test]
fn rolling_windows_are_24_buckets() {
    let p = Period::parse("24h").expect("24h");
    let at = utc_ms(2027, 1, 1, 10, 30, 0);
    let win = p.window_at(at);
    assert_eq!(rfc3339(win.start_ms), "2026-12-31T11:00:00Z");
    assert_eq!(rfc3339(win.end_ms), "2027-01-01T11:00:00Z");
    assert_eq!(win.label, "rolling 24h");
    let slot = p.slot_at(at);
    assert_eq!(rfc3339(slot.start_ms), "2027-01-01T10:00:00Z");
    assert_eq!(rfc3339(slot.resets_at_ms), "2027-01-02T10:00:00Z");
    // A bucket's counters expire an hour after its end plus the window.
    assert_eq!(rfc3339(slot.expires_at_ms), "2027-01-02T12:00:00Z");
    assert_eq!(p.prior_buckets(slot.start_ms).len(), 23);
    let seven = Period::parse("7d").expect("7d");
    assert_eq!(seven.bucket_ms(), Some(7 * 3_600_000));
    // Calendar counters expire an hour after their period.
    let day = Period::Day.slot_at(at);
    assert_eq!(rfc3339(day.expires_at_ms), "2027-01-02T01:00:00Z");
}

#[test]
fn window_keys_name_every_counter_of_the_window() {
    let month = Budget {
        scope: Scope::User {
            key_id: "k|1".into(),
            user_id: "a/b".into(),
        },
        period: Period::Month,
        limit_nanos: 1,
    };
    assert_eq!(
        month.window_keys(utc_ms(2025, 12, 15, 0, 0, 0)),
        vec![(
            "t|user|k%7C1/a%2Fb|month|1764547200000".to_string(),
            "s|user|k%7C1/a%2Fb|month|1764547200000".to_string()
        )]
    );
    let rolling = Budget {
        scope: Scope::Key {
            key_id: "k1".into(),
        },
        period: Period::parse("24h").expect("24h"),
        limit_nanos: 1,
    };
    let keys = rolling.window_keys(utc_ms(2027, 1, 1, 10, 30, 0));
    assert_eq!(keys.len(), 24);
    assert_eq!(
        keys[0].1,
        format!("s|key|k1|24h|{}", utc_ms(2027, 1, 1, 10, 0, 0))
    );
    assert_eq!(
        keys[23].0,
        format!("t|key|k1|24h|{}", utc_ms(2026, 12, 31, 11, 0, 0))
    );
}
