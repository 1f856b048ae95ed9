//! `[storage]`: where the gateway keeps its records (keys, usage, files' records, batches, stored
//! responses): SQLite in the data folder (the default, nothing to set up), or a PostgreSQL
//! database that several gateways share. File contents stay in the data folder either way.

use serde::Deserialize;
use std::path::PathBuf;

/// The environment variable that, when set (and not empty), overrides `[storage] url`, so the
/// database's password can stay out of the config file.
pub const STORAGE_URL_ENV: &str = "SLUICE_STORAGE_URL";

/// The engine that holds the records.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum StorageBackend {
    /// `sluice.db` in the data folder: one gateway.
    #[default]
    Sqlite,
    /// A PostgreSQL database (`url`): any number of gateways.
    Postgres,
}

impl StorageBackend {
    /// The name configs use.
    pub fn as_str(self) -> &'static str {
        match self {
            StorageBackend::Sqlite => "sqlite",
            StorageBackend::Postgres => "postgres",
        }
    }
}

/// `[storage]`. Its `Debug` form hides the URL (it may hold a password).
#[derive(Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// The data folder (relative to the config file): `sluice.db` with SQLite, file contents and
    /// compiled plugins with either backend.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// `sqlite` or `postgres`.
    #[serde(default)]
    pub backend: StorageBackend,
    /// PostgreSQL's URL, `postgres://user:pass@host:port/db` (read with `backend = "postgres"`
    /// only; `SLUICE_STORAGE_URL` overrides it).
    #[serde(default)]
    pub url: Option<String>,
    /// Connections to PostgreSQL one gateway keeps at most.
    #[serde(default = "default_pool_size")]
    pub pool_size: usize,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            data_dir: default_data_dir(),
            backend: StorageBackend::default(),
            url: None,
            pool_size: default_pool_size(),
        }
    }
}

impl std::fmt::Debug for StorageConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StorageConfig")
            .field("data_dir", &self.data_dir)
            .field("backend", &self.backend)
            .field("url", &self.url.as_ref().map(|_| "(hidden)"))
            .field("pool_size", &self.pool_size)
            .finish()
    }
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("data")
}
fn default_pool_size() -> usize {
    16
}

impl StorageConfig {
    /// PostgreSQL's URL: `SLUICE_STORAGE_URL` when set, else `url`.
    pub fn url(&self) -> Option<String> {
        resolve_url(
            self.url.as_deref(),
            std::env::var(STORAGE_URL_ENV).ok().as_deref(),
        )
    }
}

/// The URL in effect: the environment's when set and not empty, else the file's.
fn resolve_url(file: Option<&str>, env: Option<&str>) -> Option<String> {
    env.filter(|u| !u.trim().is_empty())
        .or(file)
        .map(str::to_string)
}

/// Checks `[storage]`, with `env_url` the value of `SLUICE_STORAGE_URL`. Reasons never quote the
/// URL (it may hold a password).
pub(super) fn validate(s: &StorageConfig, env_url: Option<&str>) -> Result<(), (String, String)> {
    let err = |key: &str, reason: String| Err((format!("storage.{key}"), reason));
    if s.pool_size == 0 {
        return err("pool_size", "must be at least 1".into());
    }
    match s.backend {
        // A url is only read with postgres (the configuration reference shows one beside the
        // default backend, as `[kv] url` beside `memory`).
        StorageBackend::Sqlite => Ok(()),
        StorageBackend::Postgres => {
            let Some(url) = resolve_url(s.url.as_deref(), env_url) else {
                return err(
                    "url",
                    format!(
                        "backend = \"postgres\" needs a URL like postgres://user:pass@host:5432/sluice \
                         (or {STORAGE_URL_ENV} in the environment)"
                    ),
                );
            };
            let from = if env_url.is_some_and(|u| !u.trim().is_empty()) {
                format!(" (from {STORAGE_URL_ENV})")
            } else {
                String::new()
            };
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return err(
                    "url",
                    format!("the URL{from} does not start with postgres:// or postgresql://"),
                );
            }
            let config = url.parse::<tokio_postgres::Config>().map_err(|e| {
                (
                    "storage.url".to_string(),
                    format!(
                        "the URL{from} is not valid: {}",
                        crate::error::error_chain(&e)
                    ),
                )
            })?;
            if config.get_ssl_mode() == tokio_postgres::config::SslMode::Require {
                return err(
                    "url",
                    format!(
                        "the URL{from} asks for sslmode=require, but TLS to PostgreSQL is not \
                         supported yet: reach the database over loopback or a private network"
                    ),
                );
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use std::path::Path;

    fn parse(storage: &str) -> Result<Config, String> {
        Config::parse(
            Path::new("/etc/sluice/gateway.toml"),
            &format!("[storage]\n{storage}\n"),
        )
        .map_err(|e| e.to_string())
    }

    fn check(storage: &str, env: Option<&str>) -> Result<(), (String, String)> {
        let s: StorageConfig = toml::from_str(storage).expect("toml");
        validate(&s, env)
    }

    #[test]
    fn sqlite_is_the_default_and_postgres_takes_a_url_and_a_pool_size() {
        let c = parse("").expect("valid");
        assert_eq!(c.storage.backend, StorageBackend::Sqlite);
        assert_eq!(c.storage.pool_size, 16);
        assert_eq!(c.storage.url, None);
        let c = parse(
            "backend = \"postgres\"\nurl = \"postgres://sluice:secret@127.0.0.1:5432/sluice\"\npool_size = 4",
        )
        .expect("valid");
        assert_eq!(c.storage.backend, StorageBackend::Postgres);
        assert_eq!(c.storage.pool_size, 4);
        assert!(
            !format!("{c:?}").contains("secret"),
            "Debug hides the password"
        );
        let e = parse("backend = \"mysql\"").expect_err("unknown backend");
        assert!(e.contains("mysql"), "{e}");
        let e = parse("uri = \"x\"").expect_err("unknown key");
        assert!(e.contains("uri"), "{e}");
    }

    #[test]
    fn errors_name_the_key_and_never_the_password() {
        let e = parse("pool_size = 0").expect_err("zero");
        assert!(e.contains("key `storage.pool_size`"), "{e}");
        let c = parse("url = \"not even a url\"").expect("a url is not read with sqlite");
        assert_eq!(c.storage.backend, StorageBackend::Sqlite);
        let (key, reason) = check("backend = \"postgres\"", None).expect_err("no url");
        assert_eq!(key, "storage.url");
        assert!(reason.contains(STORAGE_URL_ENV), "{reason}");
        for (url, says) in [
            ("mysql://u:hunter2@h/db", "postgres://"),
            ("postgres://u:hunter2@h:notaport/db", "not valid"),
            ("postgres://u:hunter2@h/db?sslmode=require", "TLS"),
        ] {
            let (key, reason) =
                check(&format!("backend = \"postgres\"\nurl = \"{url}\""), None).expect_err(url);
            assert_eq!(key, "storage.url");
            assert!(
                reason.contains(says) && !reason.contains("hunter2"),
                "{url}: {reason}"
            );
        }
    }

    #[test]
    fn the_environment_overrides_the_file() {
        assert_eq!(
            resolve_url(Some("postgres://file/db"), Some("postgres://env/db")).as_deref(),
            Some("postgres://env/db")
        );
        assert_eq!(
            resolve_url(Some("postgres://file/db"), Some("")).as_deref(),
            Some("postgres://file/db")
        );
        assert_eq!(resolve_url(None, None), None);
        // A URL in the environment is enough, and is the one checked.
        assert!(check("backend = \"postgres\"", Some("postgres://u@h/db")).is_ok());
        let (_, reason) = check(
            "backend = \"postgres\"\nurl = \"postgres://u@h/db\"",
            Some("nonsense"),
        )
        .expect_err("bad env url");
        assert!(reason.contains(STORAGE_URL_ENV), "{reason}");
    }

    #[test]
    fn a_changed_backend_or_url_needs_a_restart_and_the_url_is_not_shown() {
        let old = parse("").expect("valid");
        let new =
            parse("backend = \"postgres\"\nurl = \"postgres://u:hunter2@h/db\"\npool_size = 2")
                .expect("valid");
        let changes = new.restart_changes(&old).join("\n");
        for key in ["storage.backend", "storage.url", "storage.pool_size"] {
            assert!(changes.contains(key), "{changes}");
        }
        assert!(!changes.contains("hunter2"), "{changes}");
        assert!(old.restart_changes(&old.clone()).is_empty());
    }
}
