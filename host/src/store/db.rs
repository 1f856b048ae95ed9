//! The database, whichever engine holds it, and the store's error type.
//!
//! [`Db`] runs the statements of [`super::sql`] on SQLite (one file, the default) or PostgreSQL
//! (a pool; several gateways may share the database). The stores use it through [`Exec`], which
//! [`Tx`] (a transaction) implements too.

use super::postgres::{PgDb, PgTx};
use super::sql::{Row, Value};
use super::sqlite;
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
    /// PostgreSQL failed (or could not be reached).
    #[error("database {target}: {error}")]
    Postgres {
        /// The database, as `postgres://user@host:port/name`: never its password.
        target: String,
        /// What failed; its message carries its causes (the server's own message included).
        error: PgError,
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

/// What went wrong with PostgreSQL. Messages name no password (the URL is never part of one).
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    /// The server refused a statement, or the connection failed.
    #[error("{}", crate::error::error_chain(.0))]
    Client(#[from] tokio_postgres::Error),
    /// No connection could be had from the pool (the server is unreachable, or every
    /// connection stayed busy too long).
    #[error("{}", crate::error::error_chain(.0))]
    Pool(#[from] deadpool_postgres::PoolError),
    /// The URL or the pool is unusable.
    #[error("{0}")]
    Setup(String),
}

/// Which engine a [`Db`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// One SQLite file.
    Sqlite,
    /// A PostgreSQL database.
    Postgres,
}

/// The database. Cloning is cheap (the clones share the connection or the pool).
///
/// Every method blocks until the database answers: the host calls them on blocking threads
/// (`tokio::task::spawn_blocking`) or outside any runtime (the CLI), never on an async worker
/// thread: with PostgreSQL, a call there panics (it waits with `Handle::block_on` on the store's
/// own runtime).
#[derive(Clone)]
pub struct Db {
    inner: Inner,
}

#[derive(Clone)]
enum Inner {
    /// One connection shared behind a lock (reads are microseconds; writes are batched).
    Sqlite {
        conn: Arc<Mutex<Connection>>,
        path: PathBuf,
    },
    Postgres(PgDb),
}

/// Running statements: on the database (each statement on its own) or in a transaction.
pub trait Exec {
    /// Runs one statement (`$1, $2, ...` placeholders); returns the rows it changed.
    fn execute(&self, sql: &str, params: &[Value]) -> Result<u64, StoreError>;

    /// Runs one statement once for each parameter list; returns the rows changed in all.
    fn execute_many(&self, sql: &str, rows: &[Vec<Value>]) -> Result<u64, StoreError>;

    /// Runs a query; returns every row.
    fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError>;

    /// The first row of a query, if any.
    fn query_opt(&self, sql: &str, params: &[Value]) -> Result<Option<Row>, StoreError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// The first row of a query; none is an error.
    fn query_one(&self, sql: &str, params: &[Value]) -> Result<Row, StoreError> {
        self.query_opt(sql, params)?
            .ok_or_else(|| StoreError::Corrupt("a query that yields a row yielded none".into()))
    }
}

impl Db {
    /// Opens (creating if needed) the SQLite database `sluice.db` in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Db, StoreError> {
        let (conn, path) = sqlite::open(data_dir)?;
        Ok(Db {
            inner: Inner::Sqlite {
                conn: Arc::new(Mutex::new(conn)),
                path,
            },
        })
    }

    /// Connects to the PostgreSQL database at `url` (`postgres://user:pass@host:port/db`) with
    /// a pool of at most `pool_size` connections, and brings its schema up to date. Without TLS:
    /// reach the database over loopback or a private network.
    pub fn open_postgres(url: &str, pool_size: usize) -> Result<Db, StoreError> {
        let config = url
            .parse::<tokio_postgres::Config>()
            .map_err(|e| StoreError::Postgres {
                target: "(storage.url)".into(),
                error: PgError::Setup(crate::error::error_chain(&e)),
            })?;
        Db::open_postgres_config(config, pool_size)
    }

    /// [`Db::open_postgres`] with the connection settings already parsed.
    pub fn open_postgres_config(
        config: tokio_postgres::Config,
        pool_size: usize,
    ) -> Result<Db, StoreError> {
        Ok(Db {
            inner: Inner::Postgres(PgDb::connect(config, pool_size)?),
        })
    }

    /// The database `config`'s `[storage]` names: SQLite in the data folder, or PostgreSQL at
    /// its URL (`SLUICE_STORAGE_URL` overriding the file's).
    pub fn from_config(config: &crate::config::Config) -> Result<Db, StoreError> {
        match config.storage.backend {
            crate::config::StorageBackend::Sqlite => Db::open(&config.data_dir()),
            crate::config::StorageBackend::Postgres => {
                let url = config.storage.url().ok_or_else(|| {
                    StoreError::Invalid("storage.url: PostgreSQL needs a URL".into())
                })?;
                Db::open_postgres(&url, config.storage.pool_size)
            }
        }
    }

    /// The engine this database runs on.
    pub fn engine(&self) -> Engine {
        match self.inner {
            Inner::Sqlite { .. } => Engine::Sqlite,
            Inner::Postgres(_) => Engine::Postgres,
        }
    }

    /// Runs `f` in a transaction: committed when `f` returns Ok, rolled back otherwise.
    pub fn transaction<R>(
        &self,
        f: impl FnOnce(&Tx<'_>) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        match &self.inner {
            Inner::Sqlite { conn, path } => {
                let mut conn = lock(conn);
                let err = |source| StoreError::Sqlite {
                    path: path.clone(),
                    source,
                };
                let tx = conn.transaction().map_err(err)?;
                let r = f(&Tx(TxInner::Sqlite(&tx, path)))?;
                tx.commit().map_err(err)?;
                Ok(r)
            }
            Inner::Postgres(pg) => pg.transaction(|tx| f(&Tx(TxInner::Postgres(tx)))),
        }
    }

    fn sqlite<R>(
        conn: &Mutex<Connection>,
        path: &Path,
        f: impl FnOnce(&Connection) -> rusqlite::Result<R>,
    ) -> Result<R, StoreError> {
        f(&lock(conn)).map_err(|source| StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        })
    }
}

fn lock(conn: &Mutex<Connection>) -> std::sync::MutexGuard<'_, Connection> {
    conn.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Exec for Db {
    fn execute(&self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        match &self.inner {
            Inner::Sqlite { conn, path } => {
                Db::sqlite(conn, path, |c| sqlite::execute(c, sql, params))
            }
            Inner::Postgres(pg) => pg.execute(sql, params),
        }
    }

    fn execute_many(&self, sql: &str, rows: &[Vec<Value>]) -> Result<u64, StoreError> {
        match &self.inner {
            Inner::Sqlite { conn, path } => {
                Db::sqlite(conn, path, |c| sqlite::execute_many(c, sql, rows))
            }
            Inner::Postgres(pg) => pg.execute_many(sql, rows),
        }
    }

    fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        match &self.inner {
            Inner::Sqlite { conn, path } => {
                Db::sqlite(conn, path, |c| sqlite::query(c, sql, params))
            }
            Inner::Postgres(pg) => pg.query(sql, params),
        }
    }
}

/// A transaction in progress (see [`Db::transaction`]).
pub struct Tx<'a>(TxInner<'a>);

enum TxInner<'a> {
    Sqlite(&'a Connection, &'a Path),
    Postgres(&'a PgTx<'a>),
}

impl Tx<'_> {
    /// Holds the lock named `name` until the transaction ends, so that transactions over the
    /// same thing (one owner's files, say) run one after the other, also on other gateways.
    /// SQLite runs one writer at a time anyway: there this does nothing.
    pub fn lock(&self, name: &str) -> Result<(), StoreError> {
        match &self.0 {
            TxInner::Sqlite(..) => Ok(()),
            TxInner::Postgres(tx) => {
                use sha2::Digest;
                let digest = sha2::Sha256::digest(name.as_bytes());
                let mut first = [0u8; 8];
                first.copy_from_slice(&digest[..8]);
                let key = i64::from_be_bytes(first);
                tx.execute("SELECT pg_advisory_xact_lock($1)", &[Value::Int(key)])
                    .map(|_| ())
            }
        }
    }

    fn sqlite<R>(
        conn: &Connection,
        path: &Path,
        f: impl FnOnce(&Connection) -> rusqlite::Result<R>,
    ) -> Result<R, StoreError> {
        f(conn).map_err(|source| StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        })
    }
}

impl Exec for Tx<'_> {
    fn execute(&self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        match &self.0 {
            TxInner::Sqlite(c, path) => Tx::sqlite(c, path, |c| sqlite::execute(c, sql, params)),
            TxInner::Postgres(tx) => tx.execute(sql, params),
        }
    }

    fn execute_many(&self, sql: &str, rows: &[Vec<Value>]) -> Result<u64, StoreError> {
        match &self.0 {
            TxInner::Sqlite(c, path) => Tx::sqlite(c, path, |c| sqlite::execute_many(c, sql, rows)),
            TxInner::Postgres(tx) => tx.execute_many(sql, rows),
        }
    }

    fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        match &self.0 {
            TxInner::Sqlite(c, path) => Tx::sqlite(c, path, |c| sqlite::query(c, sql, params)),
            TxInner::Postgres(tx) => tx.query(sql, params),
        }
    }
}
