//! `gateway.toml`: its [`schema`] (the serde types, with defaults), loading it (parse, validate,
//! normalise) into a [`Config`], the reload diff (what a reload cannot change) and the file watch.
//!
//! Unknown keys are errors. Every error names the file, the key and the reason. A normalised config
//! has no alternative spellings left: a model always has deployments, and every adapter a provider
//! names is a plugin entry.

mod billing;
mod kv;
mod load;
mod mcp;
mod reload;
pub mod schema;
mod server;
mod storage;
mod tables;
mod telemetry;
#[cfg(test)]
mod tests;
mod validate;
mod watch;

pub use billing::{BUILTIN_PRICES, PriceConfig, PricingConfig, TierConfig, WebhookConfig};
pub use kv::{KV_URL_ENV, KvBackend, KvConfig, OnUnavailable};
pub use mcp::{McpConfig, McpServerConfig};
pub use schema::{
    DEFAULT_PLUGIN_MEMORY_MB, DEFAULT_PLUGIN_TIMEOUT_MS, DeploymentConfig, InstancesConfig,
    OnErrorConfig, PluginConfig, ProviderConfig, RuntimeConfig, ServerConfig, StageKind,
    StorageBackend, StorageConfig,
};
pub use storage::STORAGE_URL_ENV;
pub use tables::{BatchesConfig, ContentStore, FilesConfig, ResponsesConfig};
pub use telemetry::{LogConfig, LogFormat, OtlpProtocol, TelemetryConfig};
pub use watch::FileWatch;

use std::path::PathBuf;

/// A config error: the file, the key (dotted path) and the reason.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}: {}{reason}", file.display(), key.as_deref().map(|k| format!("key `{k}`: ")).unwrap_or_default())]
pub struct ConfigError {
    /// The config file.
    pub file: PathBuf,
    /// The key at fault, as a dotted path (`models[2].provider`), when one is.
    pub key: Option<String>,
    /// What is wrong.
    pub reason: String,
}

/// The validated, normalised config.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from.
    pub file: PathBuf,
    /// `[server]`.
    pub server: ServerConfig,
    /// `[runtime]`: sizes fixed for the life of the process.
    pub runtime: RuntimeConfig,
    /// `[storage]`: where keys and usage live (fixed for the life of the process).
    pub storage: StorageConfig,
    /// `[kv]`: the store behind the plugins' `kv` import (fixed for the life of the process).
    pub kv: KvConfig,
    /// `[files]`: limits on uploaded files.
    pub files: FilesConfig,
    /// `[batches]`: how batches run.
    pub batches: BatchesConfig,
    /// `[responses]`: how long stored responses are kept.
    pub responses: ResponsesConfig,
    /// `[[providers]]`.
    pub providers: Vec<ProviderConfig>,
    /// `[[models]]`, each with its deployments in fallback order.
    pub models: Vec<Model>,
    /// `[[plugins]]` in order (policy and enrich plugins run in this order), then an entry with
    /// default settings for each built-in adapter a provider names without declaring it.
    pub plugins: Vec<PluginConfig>,
    /// `[mcp]`.
    pub mcp: McpConfig,
    /// `[[mcp_servers]]`.
    pub mcp_servers: Vec<McpServerConfig>,
    /// `[telemetry]`.
    pub telemetry: TelemetryConfig,
    /// `[log]`.
    pub log: LogConfig,
    /// `[pricing] file`, resolved against the config file's folder (watched for reloads).
    pub pricing_file: Option<PathBuf>,
    /// The price table: `[pricing]`'s sources merged (built-in list, file, models).
    pub prices: std::collections::BTreeMap<String, PriceConfig>,
    /// `[tiers.<name>]`.
    pub tiers: std::collections::BTreeMap<String, TierConfig>,
    /// `[[webhooks]]`.
    pub webhooks: Vec<WebhookConfig>,
}

/// A model clients may ask for, normalised: `provider` + `upstream_model` became one deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// The name clients send as `model`.
    pub name: String,
    /// Other names clients may use.
    pub aliases: Vec<String>,
    /// Where it is served, in fallback order (at least one).
    pub deployments: Vec<DeploymentConfig>,
}
