//! Tests of the batch store, on both engines.

use super::testing::{TestDb, on_both_engines};
use super::{Batch, BatchStore, Creator, PendingLine, RequestCounts};
use serde_json::json;

fn batch(id: &str, created_at: u64, status: &str) -> Batch {
    Batch {
        id: id.into(),
        object: "batch".into(),
        endpoint: "/v1/chat/completions".into(),
        errors: None,
        input_file_id: "file-1".into(),
        completion_window: "24h".into(),
        status: status.into(),
        output_file_id: None,
        error_file_id: None,
        created_at,
        in_progress_at: None,
        expires_at: None,
        finalizing_at: None,
        completed_at: None,
        failed_at: None,
        expired_at: None,
        cancelling_at: None,
        cancelled_at: None,
        request_counts: RequestCounts::default(),
        metadata: None,
        usage: None,
    }
}

fn creator(owner: &str) -> Creator {
    Creator {
        key_id: format!("key-{owner}"),
        owner: owner.into(),
        team: None,
        models: vec![],
        attributes: vec![("rpm".into(), "5".into())],
        output_expires_s: Some(60),
    }
}

fn lines(n: usize) -> Vec<(String, String)> {
    (1..=n)
        .map(|i| (format!("c{i}"), format!(r#"{{"n":{i}}}"#)))
        .collect()
}

on_both_engines!(fn lines_run_once_and_are_counted);
fn lines_run_once_and_are_counted(t: TestDb) {
    let store = BatchStore::new(t.db.clone());
    store
        .insert(&batch("b1", 10, "in_progress"), &creator("ann"), &lines(3))
        .expect("insert");
    let got = store.get(Some("ann"), "b1").expect("get").expect("found");
    assert_eq!(
        got.request_counts,
        RequestCounts {
            total: 3,
            completed: 0,
            failed: 0
        }
    );
    assert_eq!(store.get(Some("bob"), "b1").expect("get"), None);
    assert!(store.get(None, "b1").expect("get").is_some());
    assert_eq!(store.creator("b1").expect("creator"), Some(creator("ann")));
    assert_eq!(store.active().expect("active"), ["b1"]);
    assert_eq!(store.active_count("ann").expect("count"), 1);
    assert_eq!(store.active_count("bob").expect("count"), 0);

    let pending = store.pending("b1", 2).expect("pending");
    assert_eq!(
        pending[0],
        PendingLine {
            line: 1,
            custom_id: "c1".into(),
            body: r#"{"n":1}"#.into()
        }
    );
    assert_eq!(pending.len(), 2);
    store
        .record("b1", 1, &json!({"ok": 1}), false)
        .expect("record");
    store
        .record("b1", 2, &json!({"bad": 2}), true)
        .expect("record");
    // A recorded line keeps its first result.
    store
        .record("b1", 1, &json!({"again": 1}), true)
        .expect("record");
    let left: Vec<u64> = store
        .pending("b1", 10)
        .expect("pending")
        .iter()
        .map(|l| l.line)
        .collect();
    assert_eq!(left, [3]);
    assert_eq!(
        store.results("b1").expect("results"),
        [
            (r#"{"ok":1}"#.to_string(), false),
            (r#"{"bad":2}"#.to_string(), true)
        ]
    );
    let got = store.get(None, "b1").expect("get").expect("found");
    assert_eq!(
        got.request_counts,
        RequestCounts {
            total: 3,
            completed: 1,
            failed: 1
        }
    );

    let mut done = got.clone();
    done.status = "completed".into();
    store.update(&done).expect("update");
    assert!(store.active().expect("active").is_empty());
    assert_eq!(
        store.get(None, "b1").expect("get").map(|b| b.status),
        Some("completed".into())
    );
    assert!(store.creator("nope").expect("creator").is_none());
}

on_both_engines!(fn owners_page_through_their_batches_newest_first);
fn owners_page_through_their_batches_newest_first(t: TestDb) {
    let store = BatchStore::new(t.db.clone());
    for (i, id) in ["b1", "b2", "b3"].iter().enumerate() {
        store
            .insert(
                &batch(id, 10 + i as u64, "validating"),
                &creator("ann"),
                &[],
            )
            .expect("insert");
    }
    store
        .insert(&batch("x1", 20, "validating"), &creator("bob"), &lines(1))
        .expect("insert");
    let ids = |page: &[Batch]| page.iter().map(|b| b.id.clone()).collect::<Vec<_>>();
    let (page, more) = store.list("ann", None, 2).expect("list");
    assert_eq!((ids(&page), more), (vec!["b3".into(), "b2".into()], true));
    let (page, more) = store.list("ann", Some("b2"), 2).expect("list");
    assert_eq!((ids(&page), more), (vec!["b1".to_string()], false));
    let (page, _) = store.list("ann", Some("x1"), 2).expect("list");
    assert!(page.is_empty(), "another owner's batch is no cursor");
    assert_eq!(store.active().expect("active"), ["b1", "b2", "b3", "x1"]);
    let without_lines = store.get(None, "b1").expect("get").expect("found");
    assert_eq!(without_lines.request_counts, RequestCounts::default());
}

on_both_engines!(fn leases_split_lines_between_holders_and_expire);
fn leases_split_lines_between_holders_and_expire(t: TestDb) {
    let store = BatchStore::new(t.db.clone());
    store
        .insert(&batch("b3", 10, "in_progress"), &creator("ann"), &lines(5))
        .expect("insert");
    let numbers = |v: &[PendingLine]| v.iter().map(|l| l.line).collect::<Vec<_>>();
    // Two holders take different lines; a holder takes its own leased lines back.
    let a = store.claim("b3", "a", 2, 1_000, 31_000).expect("claim a");
    assert_eq!(numbers(&a), [1, 2]);
    let b = store.claim("b3", "b", 2, 1_000, 31_000).expect("claim b");
    assert_eq!(numbers(&b), [3, 4]);
    assert_eq!(
        numbers(&store.claim("b3", "a", 9, 2_000, 32_000).expect("again")),
        [1, 2, 5]
    );
    // `b` renews; `a`'s leases run out and `c` takes them over, never a recorded line.
    assert_eq!(store.renew("b3", "b", 60_000).expect("renew"), 2);
    store
        .record("b3", 1, &json!({"ok": 1}), false)
        .expect("record");
    let c = store.claim("b3", "c", 9, 40_000, 70_000).expect("claim c");
    assert_eq!(
        numbers(&c),
        [2, 5],
        "a's expired leases, not b's renewed ones, nor line 1"
    );
    assert!(
        store
            .claim("b3", "d", 9, 41_000, 71_000)
            .expect("none")
            .is_empty()
    );
    // One holder finishes the batch.
    assert!(store.claim_batch("b3", "a", 1_000, 5_000).expect("batch a"));
    assert!(!store.claim_batch("b3", "b", 2_000, 6_000).expect("batch b"));
    assert!(store.claim_batch("b3", "a", 2_000, 6_000).expect("a again"));
    assert!(
        store
            .claim_batch("b3", "b", 7_000, 9_000)
            .expect("after expiry")
    );
    assert!(store.shared() == matches!(t.db.engine(), super::Engine::Postgres));
}
