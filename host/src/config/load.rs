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
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let reason = e.to_string();
            err(None, reason.trim_end().replace('\n', " | "))
        })?;
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
