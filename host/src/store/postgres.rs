//! The PostgreSQL engine: a pool of `tokio-postgres` connections driven by a small runtime of the
//! store's own, so that the synchronous store API works from any thread that may block (the
//! gateway's blocking threads, the `sluice keys` command's main thread, tests).
//!
//! Connections are plain TCP (`NoTls`): TLS to the database is not supported yet, so the
//! database should be reached over loopback or a private network.

use super::db::{PgError, StoreError};
use super::sql::{Row, Value};
use bytes::BytesMut;
use deadpool_postgres::{
    GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod, Transaction,
};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres::NoTls;
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};

/// A pool of connections to one PostgreSQL database.
///
/// Every method blocks the calling thread until the database answers (with
/// [`tokio::runtime::Handle::block_on`] on the store's own runtime): call them from a blocking
/// thread (`tokio::task::spawn_blocking`) or outside any runtime, never on an async worker thread,
/// where `block_on` panics.
#[derive(Clone)]
pub(super) struct PgDb {
    pool: Pool,
    rt: Arc<OwnRuntime>,
    /// The database as errors name it: no password.
    target: Arc<str>,
}

/// The runtime that drives the connections. Dropped without waiting (the last [`PgDb`] may be
/// dropped on an async thread, where waiting for a runtime to stop panics).
struct OwnRuntime(Option<tokio::runtime::Runtime>);

impl Drop for OwnRuntime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// `postgres://user@host:port/dbname` of `config`: what errors and logs may show.
pub(super) fn target(config: &tokio_postgres::Config) -> String {
    let user = config.get_user().unwrap_or("");
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => String::new(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let db = config.get_dbname().unwrap_or(user);
    let at = if user.is_empty() { "" } else { "@" };
    format!("postgres://{user}{at}{host}:{port}/{db}")
}

impl PgDb {
    /// A pool of at most `pool_size` connections to the database `config` names, with the
    /// schema migrated (see [`super::pg_schema`]). Connects once to migrate, so a database that
    /// cannot be reached is an error here.
    pub(super) fn connect(
        config: tokio_postgres::Config,
        pool_size: usize,
    ) -> Result<PgDb, StoreError> {
        let target: Arc<str> = target(&config).into();
        let setup = |reason: String| StoreError::Postgres {
            target: target.to_string(),
            error: PgError::Setup(reason),
        };
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("sluice-postgres")
            .enable_all()
            .build()
            .map_err(|e| setup(format!("cannot start the database runtime: {e}")))?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(pool_size.max(1))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .create_timeout(Some(Duration::from_secs(10)))
            .wait_timeout(Some(Duration::from_secs(30)))
            .recycle_timeout(Some(Duration::from_secs(5)))
            .build()
            .map_err(|e| setup(e.to_string()))?;
        let db = PgDb {
            pool,
            rt: Arc::new(OwnRuntime(Some(rt))),
            target,
        };
        let applied = db.run(async |pool: &Pool| {
            let mut client = pool.get().await?;
            Ok(super::pg_schema::migrate(&mut client).await?)
        })?;
        if !applied.is_empty() {
            tracing::info!(database = %db.target, versions = ?applied, "database schema migrated");
        }
        Ok(db)
    }

    /// Runs `f` with the pool on the store's runtime, blocking until it is done.
    fn run<R>(&self, f: impl AsyncFnOnce(&Pool) -> Result<R, PgError>) -> Result<R, StoreError> {
        self.block_on(f(&self.pool))
    }

    fn block_on<R>(&self, fut: impl Future<Output = Result<R, PgError>>) -> Result<R, StoreError> {
        let Some(rt) = &self.rt.0 else {
            return Err(self.error(PgError::Setup("the database runtime has stopped".into())));
        };
        rt.handle().block_on(fut).map_err(|e| self.error(e))
    }

    fn error(&self, error: PgError) -> StoreError {
        StoreError::Postgres {
            target: self.target.to_string(),
            error,
        }
    }

    /// Runs one statement on a pooled connection; returns the rows it changed.
    pub(super) fn execute(&self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        self.run(async |pool: &Pool| execute(&pool.get().await?, sql, params).await)
    }

    /// Runs one statement once for each parameter list (pipelined); returns the rows changed.
    pub(super) fn execute_many(&self, sql: &str, rows: &[Vec<Value>]) -> Result<u64, StoreError> {
        self.run(async |pool: &Pool| execute_many(&pool.get().await?, sql, rows).await)
    }

    /// Runs a query on a pooled connection; returns every row.
    pub(super) fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        self.run(async |pool: &Pool| query(&pool.get().await?, sql, params).await)
    }

    /// Runs `f` in a transaction on one connection: committed when `f` succeeds, rolled back
    /// when it fails.
    pub(super) fn transaction<R>(
        &self,
        f: impl FnOnce(&PgTx<'_>) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let mut client = self.block_on(async { Ok(self.pool.get().await?) })?;
        let tx = self.block_on(async { Ok(client.transaction().await?) })?;
        let result = f(&PgTx { tx: &tx, db: self });
        match result {
            Ok(r) => self.block_on(async { Ok(tx.commit().await?) }).map(|()| r),
            Err(e) => {
                // A failed rollback leaves the connection closed; the pool then drops it.
                let _ = self.block_on(async { Ok(tx.rollback().await?) });
                Err(e)
            }
        }
    }
}

/// A transaction in progress (see [`PgDb::transaction`]).
pub(super) struct PgTx<'a> {
    tx: &'a Transaction<'a>,
    db: &'a PgDb,
}

impl PgTx<'_> {
    /// Runs one statement in the transaction.
    pub(super) fn execute(&self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        self.db.block_on(execute(self.tx, sql, params))
    }

    /// Runs one statement once for each parameter list (pipelined) in the transaction.
    pub(super) fn execute_many(&self, sql: &str, rows: &[Vec<Value>]) -> Result<u64, StoreError> {
        self.db.block_on(execute_many(self.tx, sql, rows))
    }

    /// Runs a query in the transaction.
    pub(super) fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        self.db.block_on(query(self.tx, sql, params))
    }
}

fn refs(params: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

async fn execute(c: &impl GenericClient, sql: &str, params: &[Value]) -> Result<u64, PgError> {
    let stmt = c.prepare_cached(sql).await?;
    Ok(c.execute(&stmt, &refs(params)).await?)
}

async fn execute_many(
    c: &impl GenericClient,
    sql: &str,
    rows: &[Vec<Value>],
) -> Result<u64, PgError> {
    let stmt = c.prepare_cached(sql).await?;
    let params: Vec<_> = rows.iter().map(|r| refs(r)).collect();
    // Polled together, the statements go out back to back on the one connection.
    let counts = futures::future::try_join_all(params.iter().map(|p| c.execute(&stmt, p))).await?;
    Ok(counts.iter().sum())
}

async fn query(c: &impl GenericClient, sql: &str, params: &[Value]) -> Result<Vec<Row>, PgError> {
    let stmt = c.prepare_cached(sql).await?;
    let columns: Arc<[String]> = stmt
        .columns()
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    let rows = c.query(&stmt, &refs(params)).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let values = (0..columns.len())
            .map(|i| r.try_get::<_, Value>(i))
            .collect::<Result<Vec<_>, _>>()?;
        out.push(Row::new(Arc::clone(&columns), values));
    }
    Ok(out)
}

type BoxError = Box<dyn std::error::Error + Sync + Send>;

fn mismatch(value: &Value, ty: &Type) -> BoxError {
    format!("cannot bind {value:?} to a parameter of type {ty}").into()
}

/// A value is written as the type PostgreSQL inferred for its parameter: an integer bound where
/// the statement wants `INT4` or `DOUBLE PRECISION` is sent as one (out of range: an error).
impl ToSql for Value {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match (self, ty) {
            (Value::Null, _) => Ok(IsNull::Yes),
            (Value::Int(i), &Type::INT8) => i.to_sql(ty, out),
            (Value::Int(i), &Type::INT4) => i32::try_from(*i)?.to_sql(ty, out),
            (Value::Int(i), &Type::INT2) => i16::try_from(*i)?.to_sql(ty, out),
            (Value::Int(i), &Type::FLOAT8) => (*i as f64).to_sql(ty, out),
            (Value::Int(i), &Type::FLOAT4) => (*i as f32).to_sql(ty, out),
            (Value::Int(i), &Type::BOOL) => (*i != 0).to_sql(ty, out),
            (Value::Real(f), &Type::FLOAT8) => f.to_sql(ty, out),
            (Value::Real(f), &Type::FLOAT4) => (*f as f32).to_sql(ty, out),
            (Value::Int(_) | Value::Real(_), t) if is_text(t) => {
                let text = match self {
                    Value::Int(i) => i.to_string(),
                    Value::Real(f) => f.to_string(),
                    _ => String::new(),
                };
                text.as_str().to_sql(ty, out)
            }
            (Value::Text(s), t) if is_text(t) => s.as_str().to_sql(ty, out),
            (v, t) => Err(mismatch(v, t)),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn is_text(ty: &Type) -> bool {
    matches!(
        *ty,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN
    )
}

/// Integer, float, boolean (as 0 or 1) and text columns are read; any other type is an error
/// (a query casts such a column: `CAST(SUM(x) AS BIGINT)`).
impl<'a> FromSql<'a> for Value {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Value, BoxError> {
        Ok(match *ty {
            Type::INT8 => Value::Int(i64::from_sql(ty, raw)?),
            Type::INT4 => Value::Int(i32::from_sql(ty, raw)?.into()),
            Type::INT2 => Value::Int(i16::from_sql(ty, raw)?.into()),
            Type::FLOAT8 => Value::Real(f64::from_sql(ty, raw)?),
            Type::FLOAT4 => Value::Real(f32::from_sql(ty, raw)?.into()),
            Type::BOOL => Value::Int(bool::from_sql(ty, raw)?.into()),
            ref t if is_text(t) => Value::Text(String::from_sql(ty, raw)?),
            _ => {
                return Err(format!(
                    "the store reads no column of type {ty}: cast it to BIGINT, DOUBLE PRECISION or TEXT"
                )
                .into());
            }
        })
    }

    fn from_sql_null(_: &Type) -> Result<Value, BoxError> {
        Ok(Value::Null)
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}
