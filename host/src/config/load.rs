//! Reading `gateway.toml`: parse, validate, then normalise into a [`Config`].

use super::schema::{OnErrorConfig, PluginConfig, RawConfig, StageKind};
use super::{Config, ConfigError, Model, validate};
use crate::builtin;
use std::path::{Path, PathBuf};

impl Config {
    /// Reads and validates `file`.
    pub fn load(file: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(file).map_err(|e| ConfigError {
            file: file.to_path_buf(),
            key: None,
            reason: format!("cannot read: {e}"),
        })?;
        Config::parse(file, &text)
    }

    /// Parses and validates `text` as the contents of `file`.
    pub fn parse(file: &Path, text: &str) -> Result<Config, ConfigError> {
        let err = |key: Option<String>, reason: String| ConfigError {
            file: file.to_path_buf(),
            key,
            reason,
        };
        let mut raw: RawConfig = toml::from_str(text).map_err(|e| {
            let reason = e.to_string();
            err(None, reason.trim_end().replace('\n', " | "))
        })?;
        from_environment(&mut raw).map_err(|(k, r)| err(Some(k), r))?;
        validate::validate(&raw).map_err(|(k, r)| err(Some(k), r))?;
        let prices = raw.pricing.table(file).map_err(|(k, r)| err(Some(k), r))?;
        let mut config = normalise(file, raw, prices.0);
        config.pricing_file = prices.1;
        Ok(config)
    }

    /// The data folder, resolved against the config file's folder.
    pub fn data_dir(&self) -> PathBuf {
        if self.storage.data_dir.is_absolute() {
            self.storage.data_dir.clone()
        } else {
            self.file
                .parent()
                .unwrap_or_else(|| Path::new("."))
                .join(&self.storage.data_dir)
        }
    }
}

/// The environment variables that choose the shared stores (a container's settings): they
/// replace `[storage] backend`, `[kv] backend` and `[kv] prefix`. The URLs have their own
/// (`SLUICE_STORAGE_URL`, `SLUICE_KV_URL`), read where they are used.
pub const BACKEND_ENV: [&str; 3] = [
    "SLUICE_STORAGE_BACKEND",
    "SLUICE_KV_BACKEND",
    "SLUICE_KV_PREFIX",
];

fn from_environment(raw: &mut RawConfig) -> Result<(), (String, String)> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    if let Some(v) = var(BACKEND_ENV[0]) {
        raw.storage.backend = match v.trim() {
            "sqlite" => super::storage::StorageBackend::Sqlite,
            "postgres" => super::storage::StorageBackend::Postgres,
            other => {
                return Err((
                    "storage.backend".into(),
                    format!("{} = `{other}`: must be sqlite or postgres", BACKEND_ENV[0]),
                ));
            }
        };
    }
    if let Some(v) = var(BACKEND_ENV[1]) {
        raw.kv.backend = match v.trim() {
            "memory" => super::KvBackend::Memory,
            "redis" => super::KvBackend::Redis,
            other => {
                return Err((
                    "kv.backend".into(),
                    format!("{} = `{other}`: must be memory or redis", BACKEND_ENV[1]),
                ));
            }
        };
    }
    if let Some(v) = var(BACKEND_ENV[2]) {
        raw.kv.prefix = v;
    }
    Ok(())
}

/// One form for each thing: models get their deployments, and built-in adapters that providers
/// name directly get a plugin entry with default settings.
fn normalise(
    file: &Path,
    raw: RawConfig,
    prices: std::collections::BTreeMap<String, super::PriceConfig>,
) -> Config {
    let models = raw
        .models
        .into_iter()
        .map(|m| Model {
            deployments: match m.provider {
                Some(provider) => vec![super::DeploymentConfig {
                    provider,
                    upstream_model: m.upstream_model,
                }],
                None => m.deployments,
            },
            name: m.name,
            aliases: m.aliases,
        })
        .collect();
    let mut plugins = raw.plugins;
    for p in &raw.providers {
        if plugins.iter().any(|pc| pc.name == p.adapter) {
            continue;
        }
        if builtin::get(&p.adapter).is_some_and(|b| b.stage == StageKind::Adapter) {
            plugins.push(PluginConfig::builtin(&p.adapter, StageKind::Adapter));
        }
    }
    Config {
        file: file.to_path_buf(),
        server: raw.server,
        runtime: raw.runtime,
        storage: raw.storage,
        kv: raw.kv,
        files: raw.files,
        batches: raw.batches,
        responses: raw.responses,
        providers: raw.providers,
        models,
        plugins,
        mcp: raw.mcp,
        mcp_servers: raw.mcp_servers,
        telemetry: raw.telemetry,
        log: raw.log,
        pricing_file: None,
        prices,
        tiers: raw.tiers,
        webhooks: raw.webhooks,
    }
}

impl PluginConfig {
    /// A built-in plugin with default settings.
    pub fn builtin(name: &str, stage: StageKind) -> PluginConfig {
        PluginConfig {
            name: name.to_string(),
            stage,
            source: format!("builtin:{name}"),
            timeout_ms: super::DEFAULT_PLUGIN_TIMEOUT_MS,
            memory_mb: super::DEFAULT_PLUGIN_MEMORY_MB,
            on_error: OnErrorConfig::FailClosed,
            instances: None,
            config: None,
        }
    }
}
