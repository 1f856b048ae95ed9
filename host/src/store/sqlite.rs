//! The SQLite engine: one database file (`sluice.db`) in WAL mode, so the gateway and the
//! `sluice keys` / `sluice usage` commands can use it at the same time; its schema, and the
//! column migration that brings a database made by an older gateway up to it.

use super::db::StoreError;
use super::sql::{Row, Value, sqlite_placeholders};
use rusqlite::Connection;
use rusqlite::types::{ToSqlOutput, ValueRef};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS keys (
    id            TEXT PRIMARY KEY,
    hash          TEXT NOT NULL UNIQUE,
    owner         TEXT NOT NULL,
    team          TEXT,
    models        TEXT NOT NULL DEFAULT '[]',
    attributes    TEXT NOT NULL DEFAULT '{}',
    mcp_servers   TEXT NOT NULL DEFAULT '[]',
    created_ms    INTEGER NOT NULL,
    expires_ms    INTEGER,
    revoked_ms    INTEGER
);
CREATE TABLE IF NOT EXISTS usage (
    id                 INTEGER PRIMARY KEY,
    at_ms              INTEGER NOT NULL,
    request_id         TEXT NOT NULL,
    key_id             TEXT,
    user_id            TEXT,
    endpoint           TEXT NOT NULL,
    model              TEXT NOT NULL,
    served_model       TEXT NOT NULL,
    provider           TEXT NOT NULL,
    status             INTEGER NOT NULL,
    prompt_tokens      INTEGER NOT NULL,
    completion_tokens  INTEGER NOT NULL,
    cached_tokens      INTEGER NOT NULL,
    cost_usd           REAL NOT NULL,
    latency_ms         INTEGER NOT NULL,
    overhead_us        INTEGER NOT NULL,
    batch_id           TEXT,
    audio_seconds      REAL NOT NULL DEFAULT 0,
    team               TEXT
);
CREATE INDEX IF NOT EXISTS usage_at ON usage (at_ms);
CREATE TABLE IF NOT EXISTS files (
    id            TEXT PRIMARY KEY,
    owner         TEXT NOT NULL,
    filename      TEXT NOT NULL,
    purpose       TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    bytes         INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER
);
CREATE INDEX IF NOT EXISTS files_owner ON files (owner, created_at, id);
CREATE INDEX IF NOT EXISTS files_expiry ON files (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS batches (
    id            TEXT PRIMARY KEY,
    owner         TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    status        TEXT NOT NULL,
    -- The batch object (OpenAI's shape) and the creator's principal, as JSON.
    object        TEXT NOT NULL,
    principal     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS batches_owner ON batches (owner, created_at, id);
CREATE TABLE IF NOT EXISTS batch_lines (
    batch_id      TEXT NOT NULL,
    line          INTEGER NOT NULL,
    custom_id     TEXT NOT NULL,
    body          TEXT NOT NULL,
    -- NULL until the line ran; then its output line (JSON) and whether it failed.
    result        TEXT,
    failed        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (batch_id, line)
);
CREATE TABLE IF NOT EXISTS responses (
    id            TEXT PRIMARY KEY,
    owner         TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    -- The response this one continues (its conversation goes on from there).
    previous_id   TEXT,
    -- The Response object, and its own items (its request's input, then its output), as JSON.
    response      TEXT NOT NULL,
    items         TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS responses_expiry ON responses (expires_at);
"#;

/// Brings a database made by an older gateway up to [`SCHEMA`].
fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    // Columns added since the first schema: (table, column, definition).
    const ADDED: [(&str, &str, &str); 8] = [
        ("usage", "batch_id", "TEXT"),
        ("keys", "mcp_servers", "TEXT NOT NULL DEFAULT '[]'"),
        ("usage", "audio_seconds", "REAL NOT NULL DEFAULT 0"),
        ("usage", "team", "TEXT"),
        ("batch_lines", "lease_owner", "TEXT"),
        ("batch_lines", "lease_until_ms", "INTEGER"),
        ("batches", "lease_owner", "TEXT"),
        ("batches", "lease_until_ms", "INTEGER"),
    ];
    for (table, column, definition) in ADDED {
        let present: bool = conn.query_row(
            "SELECT COUNT(*) FROM pragma_table_info(?1) WHERE name = ?2",
            [table, column],
            |r| r.get::<_, i64>(0).map(|n| n > 0),
        )?;
        if !present {
            conn.execute_batch(&format!(
                "ALTER TABLE {table} ADD COLUMN {column} {definition};"
            ))?;
        }
    }
    Ok(())
}

/// Opens (creating if needed) `sluice.db` in `data_dir`, with the schema in place.
pub(super) fn open(data_dir: &Path) -> Result<(Connection, PathBuf), StoreError> {
    std::fs::create_dir_all(data_dir).map_err(|source| StoreError::Folder {
        path: data_dir.to_path_buf(),
        source,
    })?;
    let path = data_dir.join("sluice.db");
    let err = |source| StoreError::Sqlite {
        path: path.clone(),
        source,
    };
    let conn = Connection::open(&path).map_err(err)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(err)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(err)?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(err)?;
    conn.execute_batch(SCHEMA).map_err(err)?;
    migrate(&conn).map_err(err)?;
    Ok((conn, path))
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Int(i) => ValueRef::Integer(*i),
            Value::Real(f) => ValueRef::Real(*f),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
        }))
    }
}

fn value(v: ValueRef<'_>) -> rusqlite::Result<Value> {
    Ok(match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Real(f) => Value::Real(f),
        ValueRef::Text(t) => Value::Text(
            std::str::from_utf8(t)
                .map_err(rusqlite::Error::Utf8Error)?
                .to_string(),
        ),
        ValueRef::Blob(_) => {
            return Err(rusqlite::Error::InvalidColumnType(
                0,
                "(a blob)".into(),
                rusqlite::types::Type::Blob,
            ));
        }
    })
}

/// Runs one statement; returns the rows it changed.
pub(super) fn execute(conn: &Connection, sql: &str, params: &[Value]) -> rusqlite::Result<u64> {
    let mut stmt = conn.prepare_cached(&sqlite_placeholders(sql))?;
    stmt.execute(rusqlite::params_from_iter(params))
        .map(|n| n as u64)
}

/// Runs one statement once for each parameter list, prepared once; returns the rows changed.
pub(super) fn execute_many(
    conn: &Connection,
    sql: &str,
    rows: &[Vec<Value>],
) -> rusqlite::Result<u64> {
    let mut stmt = conn.prepare_cached(&sqlite_placeholders(sql))?;
    let mut changed = 0;
    for params in rows {
        changed += stmt.execute(rusqlite::params_from_iter(params))? as u64;
    }
    Ok(changed)
}

/// Runs a query; returns every row.
pub(super) fn query(conn: &Connection, sql: &str, params: &[Value]) -> rusqlite::Result<Vec<Row>> {
    let mut stmt = conn.prepare_cached(&sqlite_placeholders(sql))?;
    let columns: Arc<[String]> = stmt.column_names().into_iter().map(String::from).collect();
    let n = columns.len();
    let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let values = (0..n)
            .map(|i| r.get_ref(i).and_then(value))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        out.push(Row::new(Arc::clone(&columns), values));
    }
    Ok(out)
}
