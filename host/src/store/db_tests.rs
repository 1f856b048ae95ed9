//! Tests of the database layer itself: migrations on both engines, values bound and read back,
//! transactions, and several handles (gateways) on one database.

use super::sql::{Value, params};
use super::testing::{self, TestDb, off_runtime, on_both_engines};
use super::{Db, Engine, Exec, FileRecord, FileStore, KeyStore, NewKey, StoreError};

#[test]
fn an_old_sqlite_database_gets_the_columns_added_since() {
    let dir = tempfile::tempdir().expect("dir");
    {
        let conn = rusqlite::Connection::open(dir.path().join("sluice.db")).expect("open");
        conn.execute_batch(
            "CREATE TABLE keys (id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, owner TEXT NOT NULL,
                 team TEXT, models TEXT NOT NULL DEFAULT '[]', attributes TEXT NOT NULL DEFAULT '{}',
                 created_ms INTEGER NOT NULL, expires_ms INTEGER, revoked_ms INTEGER);
             CREATE TABLE usage (id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL,
                 request_id TEXT NOT NULL, key_id TEXT, user_id TEXT, endpoint TEXT NOT NULL,
                 model TEXT NOT NULL, served_model TEXT NOT NULL, provider TEXT NOT NULL,
                 status INTEGER NOT NULL, prompt_tokens INTEGER NOT NULL,
                 completion_tokens INTEGER NOT NULL, cached_tokens INTEGER NOT NULL,
                 cost_usd REAL NOT NULL, latency_ms INTEGER NOT NULL, overhead_us INTEGER NOT NULL);
             INSERT INTO keys (id, hash, owner, created_ms) VALUES ('old', 'h', 'ann', 1);",
        )
        .expect("old schema");
    }
    let db = Db::open(dir.path()).expect("open and migrate");
    assert_eq!(db.engine(), Engine::Sqlite);
    let keys = KeyStore::new(db.clone());
    let old = keys.lookup("h").expect("lookup").expect("kept");
    assert_eq!((old.id.as_str(), old.mcp_servers.len()), ("old", 0));
    let row = db
        .query_one(
            "SELECT COUNT(*), COALESCE(SUM(audio_seconds), 0) FROM usage WHERE team IS NULL AND batch_id IS NULL",
            &[],
        )
        .expect("new columns");
    assert_eq!(row.get::<i64>(0).expect("count"), 0);
    Db::open(dir.path()).expect("opening again changes nothing");
}

#[test]
fn migrations_run_once_when_replicas_start_together() {
    let Some((_scratch, config)) = testing::empty_postgres() else {
        return;
    };
    let starts: Vec<_> = (0..3)
        .map(|_| {
            let config = config.clone();
            std::thread::spawn(move || Db::open_postgres_config(config, 2))
        })
        .collect();
    let dbs: Vec<Db> = starts
        .into_iter()
        .map(|s| s.join().expect("thread").expect("open"))
        .collect();
    let versions = |db: &Db| -> Vec<i64> {
        db.query(
            "SELECT version FROM sluice_schema_migrations ORDER BY version",
            &[],
        )
        .expect("versions")
        .iter()
        .map(|r| r.get(0).expect("version"))
        .collect()
    };
    assert_eq!(versions(&dbs[0]), [1, 2]);
    assert_eq!(dbs[0].engine(), Engine::Postgres);
    let again = off_runtime(move || Db::open_postgres_config(config, 1)).expect("reopen");
    assert_eq!(versions(&again), [1, 2], "opening again applies nothing");
    KeyStore::new(dbs[1].clone())
        .create(NewKey {
            owner: "ann".into(),
            ..NewKey::default()
        })
        .expect("the schema works");
    assert_eq!(KeyStore::new(dbs[2].clone()).list().expect("list").len(), 1);
}

on_both_engines!(fn values_round_trip_and_transactions_roll_back);
fn values_round_trip_and_transactions_roll_back(t: TestDb) {
    let db = &t.db;
    db.execute(
        "CREATE TABLE t (i BIGINT, f DOUBLE PRECISION, s TEXT, n BIGINT)",
        &[],
    )
    .expect("create");
    let n = db
        .execute(
            "INSERT INTO t (i, f, s, n) VALUES ($1, $2, $3, $4)",
            params![i64::MIN, 0.25, "héllo '$1'", None::<i64>],
        )
        .expect("insert");
    assert_eq!(n, 1);
    let row = db
        .query_one(
            "SELECT i, f, s, n FROM t WHERE s = $1",
            params!["héllo '$1'"],
        )
        .expect("row");
    assert_eq!(row.get::<i64>("i").expect("i"), i64::MIN);
    assert_eq!(row.get::<f64>("f").expect("f"), 0.25);
    assert_eq!(row.get::<String>(2).expect("s"), "héllo '$1'");
    assert_eq!(row.value("n"), Some(&Value::Null));
    // An integer where the statement wants a float is one.
    let row = db
        .query_one("SELECT f * $1 FROM t", params![2i64])
        .expect("float param");
    assert_eq!(row.get::<f64>(0).expect("product"), 0.5);

    let failed = db.transaction(|tx| {
        tx.execute("INSERT INTO t (i) VALUES ($1)", params![7i64])?;
        assert_eq!(
            tx.query_one("SELECT COUNT(*) FROM t", &[])?.get::<i64>(0)?,
            2,
            "seen inside the transaction"
        );
        Err::<(), _>(StoreError::Invalid("stop".into()))
    });
    assert!(matches!(failed, Err(StoreError::Invalid(_))));
    let count = |db: &Db| {
        db.query_one("SELECT COUNT(*) FROM t", &[])
            .and_then(|r| r.get::<i64>(0))
            .expect("count")
    };
    assert_eq!(count(db), 1, "rolled back");
    db.transaction(|tx| {
        tx.lock("t")?;
        tx.execute_many(
            "INSERT INTO t (i) VALUES ($1)",
            &[vec![Value::Int(1)], vec![Value::Int(2)]],
        )
    })
    .expect("commit");
    assert_eq!(count(db), 3);
    assert!(
        db.query_opt("SELECT i FROM t WHERE i = 99", &[])
            .expect("none")
            .is_none()
    );
    let bad = db.query("SELECT nope FROM t", &[]).expect_err("bad column");
    assert!(bad.to_string().contains("nope"), "{bad}");
}

on_both_engines!(fn an_owners_quota_holds_when_gateways_upload_at_once);
/// Eight uploads of 10 bytes against a quota of 40, through two handles: exactly four pass.
fn an_owners_quota_holds_when_gateways_upload_at_once(t: TestDb) {
    let handles = [t.db.clone(), t.reopen()];
    let uploads: Vec<_> = (0..8)
        .map(|i| {
            let store = FileStore::new(handles[i % 2].clone(), t.dir.path());
            std::thread::spawn(move || {
                let f = FileRecord {
                    id: format!("f{i}"),
                    object: "file",
                    bytes: 10,
                    created_at: 1,
                    expires_at: None,
                    filename: "a.jsonl".into(),
                    purpose: "batch".into(),
                    status: "processed",
                    owner: "ann".into(),
                    content_type: "application/jsonl".into(),
                };
                store.insert_within(&f, 40, 1).expect("insert")
            })
        })
        .collect();
    let passed = uploads
        .into_iter()
        .map(|u| u.join().expect("thread"))
        .filter(|passed| *passed)
        .count();
    assert_eq!(passed, 4);
}

#[test]
fn a_database_that_cannot_be_reached_is_named_without_its_password() {
    let e = off_runtime(|| Db::open_postgres("postgres://sluice:hunter2@127.0.0.1:1/records", 1))
        .err()
        .expect("nothing listens on port 1");
    let text = e.to_string();
    assert!(
        text.contains("postgres://sluice@127.0.0.1:1/records") && !text.contains("hunter2"),
        "{text}"
    );
    let e = Db::open_postgres("postgres://sluice:hunter2@h:port/x", 1)
        .err()
        .expect("bad url");
    assert!(!e.to_string().contains("hunter2"), "{e}");
}

#[test]
fn postgres_binds_a_value_as_the_type_it_inferred() {
    let Some(t) = testing::postgres() else {
        return;
    };
    let db = &t.db;
    let row = db
        .query_one(
            "SELECT CAST($1 AS INTEGER) + 1, CAST($2 AS DOUBLE PRECISION), CAST($3 AS TEXT)",
            params![41i64, 3i64, 5i64],
        )
        .expect("int4, float8 and text parameters");
    assert_eq!(row.get::<i64>(0).expect("int4"), 42);
    assert_eq!(row.get::<f64>(1).expect("float8"), 3.0);
    assert_eq!(row.get::<String>(2).expect("text"), "5");
    let e = db
        .query_one("SELECT CAST($1 AS INTEGER)", params![1i64 << 40])
        .expect_err("out of range");
    assert!(e.to_string().contains("parameter"), "{e}");
    let e = db
        .query_one("SELECT SUM(x) FROM (VALUES (CAST(1 AS BIGINT))) v(x)", &[])
        .expect_err("NUMERIC is not read");
    assert!(e.to_string().contains("cast it"), "{e}");
}
