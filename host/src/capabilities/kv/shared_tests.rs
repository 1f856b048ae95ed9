//! The same tests on each `kv` backend: in memory, and on the Redis of `SLUICE_TEST_REDIS_URL`
//! (`scripts/services start` runs one; under `CI=true` a missing Redis fails these tests), each
//! test under a prefix of its own.

use super::*;
use crate::config::{KvBackend, KvConfig, OnUnavailable};
use crate::time::now_ms;
use std::sync::Arc;

/// The backends to test: memory, and Redis when one is configured.
fn backends() -> Vec<(&'static str, Kv)> {
    let mut out = vec![("memory", Kv::memory())];
    match std::env::var("SLUICE_TEST_REDIS_URL") {
        Ok(url) => out.push(("redis", redis_kv(&url, OnUnavailable::FailClosed))),
        Err(_) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("SLUICE_TEST_REDIS_URL is not set: run `eval \"$(scripts/services start)\"`")
        }
        Err(_) => eprintln!("SLUICE_TEST_REDIS_URL is not set: testing the memory backend only"),
    }
    out
}

fn redis_kv(url: &str, on_unavailable: OnUnavailable) -> Kv {
    Kv::from_config(
        &KvConfig {
            backend: KvBackend::Redis,
            url: Some(url.to_string()),
            prefix: format!("test:{:016x}:", rand::random::<u64>()),
            on_unavailable,
            timeout_ms: 2000,
        },
        2,
    )
    .expect("redis kv")
}

#[tokio::test]
async fn values_round_trip_and_expire() {
    for (name, kv) in backends() {
        kv.set("a", b"1".to_vec(), None).await.expect("set");
        assert_eq!(
            kv.get("a").await.expect("get"),
            Some(b"1".to_vec()),
            "{name}"
        );
        kv.set("b", b"2".to_vec(), Some(0)).await.expect("set");
        assert_eq!(kv.get("b").await.expect("get"), None, "{name}");
        kv.delete("a").await.expect("delete");
        assert_eq!(kv.get("a").await.expect("get"), None, "{name}");
        assert_eq!(kv.get("never").await.expect("get"), None, "{name}");
    }
}

#[tokio::test]
async fn counters_totals_and_kinds() {
    for (name, kv) in backends() {
        let w = 3_600_000;
        assert_eq!(kv.incr("c", 5, w).await.expect("incr").value, 5, "{name}");
        assert_eq!(kv.incr("c", -2, w).await.expect("incr").value, 3, "{name}");
        let r = kv.incr("c", 1, w).await.expect("incr");
        assert_eq!(r.value, 4, "{name}");
        assert!(r.ms_to_reset <= w && r.ms_to_reset > 0, "{name}: {r:?}");
        assert_eq!(
            kv.get("c").await.expect("get"),
            Some(b"4".to_vec()),
            "{name}"
        );
        // Another window length is another counter.
        assert_eq!(
            kv.incr("c", 1, w / 2).await.expect("incr").value,
            1,
            "{name}"
        );

        let later = now_ms() + 3_600_000;
        assert_eq!(kv.add("t", 5, later).await.expect("add"), 5, "{name}");
        assert_eq!(kv.add("t", -2, later + 99).await.expect("add"), 3, "{name}");
        assert_eq!(
            kv.get("t").await.expect("get"),
            Some(b"3".to_vec()),
            "{name}"
        );
        assert_eq!(
            kv.add("old", 7, now_ms() - 1).await.expect("add"),
            7,
            "{name}"
        );
        assert_eq!(
            kv.get("old").await.expect("get"),
            None,
            "{name}: born expired"
        );

        // A value written over a counter replaces it, and the other way round.
        kv.set("c", b"x".to_vec(), None).await.expect("set");
        assert_eq!(
            kv.get("c").await.expect("get"),
            Some(b"x".to_vec()),
            "{name}"
        );
        assert_eq!(kv.incr("c", 2, w).await.expect("incr").value, 2, "{name}");
        assert_eq!(kv.add("c", 1, later).await.expect("add"), 1, "{name}");

        assert!(
            kv.add_pair_if_absent("p1", "p2", 9, later)
                .await
                .expect("pair")
        );
        assert!(
            !kv.add_pair_if_absent("p1", "p2", 9, later)
                .await
                .expect("pair")
        );
        assert_eq!(
            kv.get("p2").await.expect("get"),
            Some(b"9".to_vec()),
            "{name}"
        );
    }
}

fn res(key: &str, amount: i64, limit: i64) -> Reservation {
    Reservation {
        key: key.into(),
        amount,
        limit,
    }
}

#[tokio::test]
async fn reserve_is_all_or_nothing() {
    for (name, kv) in backends() {
        let w = 60_000;
        let got = kv
            .reserve(&[res("r", 1, 2), res("tok", 100, 150)], w)
            .await
            .expect("reserve");
        let Reserved::Granted(counts) = got else {
            panic!("{name}: refused {got:?}")
        };
        assert_eq!(counts.iter().map(|c| c.value).collect::<Vec<_>>(), [1, 100]);
        // The second would pass its limit: nothing is added, and it says which and by how much.
        let got = kv
            .reserve(&[res("r", 1, 2), res("tok", 100, 150)], w)
            .await
            .expect("reserve");
        match got {
            Reserved::Refused { index, would_reach } => {
                assert_eq!((index, would_reach.value), (1, 200), "{name}");
                assert!(would_reach.ms_to_reset <= w, "{name}");
            }
            other => panic!("{name}: {other:?}"),
        }
        assert_eq!(
            kv.get("r").await.expect("get"),
            Some(b"1".to_vec()),
            "{name}"
        );
        // A key listed twice counts what its earlier entry adds; a zero amount is never refused.
        let twice = kv
            .reserve(&[res("d", 2, 3), res("d", 2, 3)], w)
            .await
            .expect("reserve");
        assert!(
            matches!(twice, Reserved::Refused { index: 1, .. }),
            "{name}: {twice:?}"
        );
        let zero = kv.reserve(&[res("r", 0, 0)], w).await.expect("reserve");
        assert!(matches!(zero, Reserved::Granted(_)), "{name}: {zero:?}");

        let counts = kv
            .incr_all(&[("r".into(), -1), ("tok".into(), 7)], w)
            .await
            .expect("incr_all");
        assert_eq!(counts.iter().map(|c| c.value).collect::<Vec<_>>(), [0, 107]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_reservations_never_pass_the_limit() {
    for (name, kv) in backends() {
        let kv = Arc::new(kv);
        let tasks: Vec<_> = (0..60)
            .map(|_| {
                let kv = Arc::clone(&kv);
                tokio::spawn(async move {
                    matches!(
                        kv.reserve(&[res("rpm", 1, 10), res("tpm", 50, 400)], 60_000)
                            .await
                            .expect("reserve"),
                        Reserved::Granted(_)
                    )
                })
            })
            .collect();
        let mut granted = 0;
        for t in tasks {
            granted += usize::from(t.await.expect("task"));
        }
        // 400 tokens at 50 each: the token limit binds first, at 8.
        assert_eq!(granted, 8, "{name}");
    }
}

#[tokio::test]
async fn an_unreachable_redis_fails_closed_or_open_as_configured() {
    // A port nothing listens on (bound, then closed).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let url = format!("redis://127.0.0.1:{port}/");
    let closed = redis_kv(&url, OnUnavailable::FailClosed);
    let err = closed.incr("c", 1, 1000).await.expect_err("no redis");
    assert!(err.to_string().contains("unavailable"), "{err}");
    assert!(closed.ping().await.is_err());
    let open = redis_kv(&url, OnUnavailable::FailOpen);
    assert_eq!(open.incr("c", 3, 1000).await.expect("open").value, 3);
    assert_eq!(open.get("c").await.expect("open"), None);
    let granted = open.reserve(&[res("r", 1, 0)], 1000).await.expect("open");
    assert!(matches!(granted, Reserved::Granted(_)), "{granted:?}");
}
