//! Tests of the in-memory `kv` backend.
use super::*;
use std::sync::Arc;

#[test]
fn values_round_trip_and_expire() {
    let kv = MemoryKv::default();
    kv.set("a", b"1".to_vec(), None);
    assert_eq!(kv.get("a"), Some(b"1".to_vec()));
    kv.set("b", b"2".to_vec(), Some(0));
    assert_eq!(kv.get("b"), None);
    kv.delete("a");
    assert_eq!(kv.get("a"), None);
}

#[test]
fn counters_add_within_a_window() {
    let kv = MemoryKv::default();
    let w = 3_600_000;
    assert_eq!(kv.incr("c", 5, w).value, 5);
    assert_eq!(kv.incr("c", -2, w).value, 3);
    let r = kv.incr("c", 1, w);
    assert_eq!(r.value, 4);
    assert!(r.ms_to_reset <= w && r.ms_to_reset > 0);
}

#[test]
fn totals_add_until_they_expire_and_keep_their_first_expiry() {
    let kv = MemoryKv::default();
    let later = now_ms() + 3_600_000;
    assert_eq!(kv.add("t", 5, later), 5);
    assert_eq!(kv.add("t", -2, later + 99), 3);
    assert_eq!(kv.get("t"), Some(b"3".to_vec()));
    // An expired total starts again, with the new expiry.
    assert_eq!(kv.add("old", 7, now_ms() - 1), 7);
    assert_eq!(kv.get("old"), None, "born expired");
    assert_eq!(kv.add("old", 1, later), 1);
}

#[test]
fn concurrent_increments_are_atomic() {
    let kv = Arc::new(MemoryKv::default());
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let kv = Arc::clone(&kv);
            std::thread::spawn(move || {
                for _ in 0..1000 {
                    kv.incr("n", 1, 3_600_000);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread");
    }
    assert_eq!(kv.incr("n", 0, 3_600_000).value, 8000);
}

fn res(key: &str, amount: i64, limit: i64) -> Reservation {
    Reservation {
        key: key.into(),
        amount,
        limit,
    }
}

#[test]
fn reservations_are_all_or_nothing() {
    let kv = MemoryKv::default();
    let w = 3_600_000;
    kv.incr("tokens", 90, w);
    match kv.reserve(&[res("requests", 1, 10), res("tokens", 5, 100)], w) {
        Reserved::Granted(v) => {
            assert_eq!(v.iter().map(|c| c.value).collect::<Vec<_>>(), [1, 95])
        }
        other => panic!("{other:?}"),
    }
    // The second would pass its limit: neither is added.
    match kv.reserve(&[res("requests", 1, 10), res("tokens", 6, 100)], w) {
        Reserved::Refused { index, would_reach } => {
            assert_eq!((index, would_reach.value), (1, 101));
            assert!(would_reach.ms_to_reset > 0 && would_reach.ms_to_reset <= w);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(kv.incr("requests", 0, w).value, 1);
    assert_eq!(kv.incr("tokens", 0, w).value, 95);
    // A key listed twice counts both; amounts of 0 or less are never refused.
    assert!(matches!(
        kv.reserve(&[res("requests", 5, 10), res("requests", 5, 10)], w),
        Reserved::Refused { index: 1, .. }
    ));
    assert!(matches!(
        kv.reserve(&[res("tokens", -95, 0), res("requests", 0, 0)], w),
        Reserved::Granted(_)
    ));
    let back = kv.incr_all(&[("tokens".into(), 3), ("requests".into(), -1)], w);
    assert_eq!(back.iter().map(|c| c.value).collect::<Vec<_>>(), [3, 0]);
}

#[test]
fn concurrent_reservations_never_pass_a_limit() {
    let kv = Arc::new(MemoryKv::default());
    let w = 3_600_000;
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let kv = Arc::clone(&kv);
            std::thread::spawn(move || {
                let mut granted = 0;
                for i in 0..500 {
                    // Keys in many shards, in a different order per thread.
                    let mut items = vec![
                        res("shared", 1, 1000),
                        res(&format!("k{}", i % 7), 1, 1_000_000),
                    ];
                    if t % 2 == 1 {
                        items.reverse();
                    }
                    if matches!(kv.reserve(&items, w), Reserved::Granted(_)) {
                        granted += 1;
                    }
                }
                granted
            })
        })
        .collect();
    let granted: i64 = threads.into_iter().map(|t| t.join().expect("thread")).sum();
    assert_eq!(granted, 1000, "exactly the limit, from 4,000 tries");
    assert_eq!(kv.incr("shared", 0, w).value, 1000);
}
