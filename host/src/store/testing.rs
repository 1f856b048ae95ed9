//! Databases for store tests. Every store test runs on SQLite, and on PostgreSQL when
//! `SLUICE_TEST_POSTGRES_URL` names a server to create scratch databases on (an admin URL such as
//! `postgres://postgres@127.0.0.1:55432/postgres`): each test gets a fresh database of its own,
//! dropped when the test ends, so tests run in parallel.
//!
//! Without the variable the PostgreSQL variants say they were skipped and pass, except under CI
//! (`CI=true`), where they fail: CI starts PostgreSQL with the project's scripts.

use super::Db;
use tempfile::TempDir;

/// The admin URL the PostgreSQL variants create their databases with.
pub(crate) const POSTGRES_ENV: &str = "SLUICE_TEST_POSTGRES_URL";

/// A database for one test and a folder beside it (file contents go there).
pub(crate) struct TestDb {
    /// The database.
    pub db: Db,
    /// The folder (with SQLite, the database file is in it).
    pub dir: TempDir,
    /// The PostgreSQL database, dropped after `db`.
    scratch: Option<Scratch>,
}

impl TestDb {
    /// Another handle on the same database, as a second gateway would open it.
    pub fn reopen(&self) -> Db {
        match &self.scratch {
            None => Db::open(self.dir.path()).expect("reopen sqlite"),
            Some(s) => {
                let config = s.config();
                off_runtime(move || Db::open_postgres_config(config, 4)).expect("reopen postgres")
            }
        }
    }
}

/// A fresh SQLite database in a temporary folder.
pub(crate) fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Db::open(dir.path()).expect("open sqlite");
    TestDb {
        db,
        dir,
        scratch: None,
    }
}

/// The admin connection settings, or None when the PostgreSQL variants are skipped (a failure
/// under CI).
pub(crate) fn admin() -> Option<tokio_postgres::Config> {
    match std::env::var(POSTGRES_ENV) {
        Ok(url) if !url.trim().is_empty() => Some(url.parse().expect("SLUICE_TEST_POSTGRES_URL")),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => panic!(
            "{POSTGRES_ENV} is not set: the PostgreSQL store tests need a server. Start one with \
             the project's scripts (scripts/services) and export the admin URL they print"
        ),
        _ => {
            eprintln!(
                "skipped: set {POSTGRES_ENV} (such as postgres://postgres@127.0.0.1:55432/postgres) \
                 to run the store tests on PostgreSQL"
            );
            None
        }
    }
}

/// A fresh, empty PostgreSQL database (no schema yet) and its connection settings; None when
/// skipped (see [`admin`]). The database is dropped with the [`Scratch`].
pub(crate) fn empty_postgres() -> Option<(Scratch, tokio_postgres::Config)> {
    let scratch = Scratch::create(admin()?);
    let config = scratch.config();
    Some((scratch, config))
}

/// A fresh PostgreSQL database with the schema in place; None when skipped (see [`admin`]).
pub(crate) fn postgres() -> Option<TestDb> {
    let scratch = Scratch::create(admin()?);
    let config = scratch.config();
    let db = off_runtime(move || Db::open_postgres_config(config, 4)).expect("open postgres");
    Some(TestDb {
        db,
        dir: tempfile::tempdir().expect("tempdir"),
        scratch: Some(scratch),
    })
}

/// Runs `f` on a thread of its own: blocking calls are then safe from async tests too.
pub(crate) fn off_runtime<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    match std::thread::spawn(f).join() {
        Ok(r) => r,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// A scratch database `sluice_t_<random>` on the admin URL's server, dropped with this.
pub(crate) struct Scratch {
    admin: tokio_postgres::Config,
    name: String,
}

impl Scratch {
    fn create(admin: tokio_postgres::Config) -> Scratch {
        let name = format!("sluice_t_{:016x}", rand::random::<u64>());
        admin_sql(&admin, format!("CREATE DATABASE {name}"));
        Scratch { admin, name }
    }

    fn config(&self) -> tokio_postgres::Config {
        let mut c = self.admin.clone();
        c.dbname(&self.name);
        c
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // FORCE: connections of the test's pools may linger for a moment.
        admin_sql(
            &self.admin,
            format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

/// Runs `sql` on the admin database, on a thread and runtime of its own.
fn admin_sql(admin: &tokio_postgres::Config, sql: String) {
    let admin = admin.clone();
    off_runtime(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let (client, conn) = admin
                .connect(tokio_postgres::NoTls)
                .await
                .expect("connect to SLUICE_TEST_POSTGRES_URL");
            tokio::spawn(conn);
            client.batch_execute(&sql).await.expect("admin statement");
        });
    });
}

/// Makes the tests of a store run on both engines: for `fn NAME(t: TestDb)` (or an
/// `async fn`, with its test attribute), a module `NAME` with tests `sqlite` and `postgres`.
macro_rules! on_both_engines {
    ($(#[$attr:meta])+ async fn $name:ident) => {
        mod $name {
            $(#[$attr])+
            async fn sqlite() {
                super::$name($crate::store::testing::sqlite()).await
            }
            $(#[$attr])+
            async fn postgres() {
                if let Some(t) = $crate::store::testing::postgres() {
                    super::$name(t).await
                }
            }
        }
    };
    (fn $name:ident) => {
        mod $name {
            #[test]
            fn sqlite() {
                super::$name($crate::store::testing::sqlite())
            }
            #[test]
            fn postgres() {
                if let Some(t) = $crate::store::testing::postgres() {
                    super::$name(t)
                }
            }
        }
    };
}
pub(crate) use on_both_engines;
