//! The database file and the store's error type.

use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A store error.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("database {path}: {source}")]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// The error.
        #[source]
        source: rusqlite::Error,
    },
    /// The data folder could not be created.
    #[error("cannot create the data folder {path}: {source}")]
    Folder {
        /// The folder.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A request was invalid.
    #[error("{0}")]
    Invalid(String),
    /// Stored data could not be read back.
    #[error("corrupt record: {0}")]
    Corrupt(String),
}

/// The database: one connection shared behind a lock (reads are microseconds; writes are batched).
#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
    path: PathBuf,
}

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
    const ADDED: [(&str, &str, &str); 4] = [
        ("usage", "batch_id", "TEXT"),
        ("keys", "mcp_servers", "TEXT NOT NULL DEFAULT '[]'"),
        ("usage", "audio_seconds", "REAL NOT NULL DEFAULT 0"),
        ("usage", "team", "TEXT"),
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

impl Db {
    /// Opens (creating if needed) `sluice.db` in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Db, StoreError> {
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
        Ok(Db {
            conn: Arc::new(Mutex::new(conn)),
            path,
        })
    }

    /// Runs `f` with the connection.
    pub fn with<R>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<R>,
    ) -> Result<R, StoreError> {
        let mut conn = self
            .conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut conn).map_err(|source| StoreError::Sqlite {
            path: self.path.clone(),
            source,
        })
    }
}
