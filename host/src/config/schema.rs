//! The config file's shape, as serde reads it: every table and key with its default. Unknown keys
//! are errors. Loading turns this into a normalised [`super::Config`].

use super::tables::{BatchesConfig, FilesConfig, ResponsesConfig};
use serde::Deserialize;
use std::path::{Path, PathBuf};

pub use super::server::ServerConfig;
pub use super::storage::{StorageBackend, StorageConfig};

/// `[runtime]`: the plugin runtime's fixed sizes (changing them needs a restart).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RuntimeConfig {
    /// Plugin instances alive at once, over all plugins.
    #[serde(default = "default_max_instances")]
    pub max_instances: u32,
    /// The largest `memory_mb` any plugin may be given.
    #[serde(default = "default_max_plugin_memory")]
    pub max_plugin_memory_mb: usize,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            max_instances: default_max_instances(),
            max_plugin_memory_mb: default_max_plugin_memory(),
        }
    }
}

fn default_max_instances() -> u32 {
    2000
}
fn default_max_plugin_memory() -> usize {
    256
}

/// `[[providers]]`: an upstream and the adapter that speaks to it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// Name, referenced by models.
    pub name: String,
    /// The adapter: the name of a `[[plugins]]` entry of stage `adapter`, or of a built-in
    /// adapter (`openai`, `echo`).
    pub adapter: String,
    /// Base URL, such as `https://api.openai.com/v1`.
    #[serde(default)]
    pub base_url: String,
    /// Environment variable that holds the provider's API key.
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// Deadline of one upstream call (for streams: until the first byte, and between chunks).
    #[serde(default = "default_provider_timeout")]
    pub timeout_ms: u64,
    /// Retries on this provider (after connection errors, timeouts, 429 and 5xx before the first
    /// byte) before a model falls back to its next deployment.
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// Backoff before the first retry; it doubles for each next one.
    #[serde(default = "default_backoff")]
    pub retry_backoff_ms: u64,
    /// PEM file of CA certificates this provider's TLS certificate may chain to, besides the
    /// system's trust store (an internal vLLM behind a private CA). Relative to the config file.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

fn default_retries() -> u32 {
    1
}
fn default_backoff() -> u64 {
    100
}

fn default_provider_timeout() -> u64 {
    600_000
}

/// `[[models]]` as written: a model name clients use, and where it is served: one `provider`, or
/// several `deployments` tried in order. Loading normalises both forms into [`super::Model`].
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// The name clients send as `model`.
    pub name: String,
    /// The provider that serves it (or use `deployments`).
    #[serde(default)]
    pub provider: Option<String>,
    /// The name the provider knows (defaults to `name`), with `provider`.
    #[serde(default)]
    pub upstream_model: Option<String>,
    /// Deployments in fallback order (instead of `provider`).
    #[serde(default)]
    pub deployments: Vec<DeploymentConfig>,
    /// Other names clients may use.
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// One deployment of a model.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DeploymentConfig {
    /// The provider.
    pub provider: String,
    /// The name this provider knows the model by (defaults to the model's name).
    #[serde(default)]
    pub upstream_model: Option<String>,
}

/// The stage a plugin serves.
#[derive(Debug, Clone, Copy, Deserialize, serde::Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum StageKind {
    /// Authentication.
    Auth,
    /// Policy (limits, rules).
    Policy,
    /// Provider adapter.
    Adapter,
    /// Response enrichment.
    Enrich,
    /// Policy over MCP requests (`/mcp-servers/{name}/mcp`).
    #[serde(rename = "mcp-policy")]
    McpPolicy,
    /// Checks request bodies and answers (whole and streamed); may refuse or redact them.
    Guard,
}

impl StageKind {
    /// The name configs use.
    pub fn as_str(self) -> &'static str {
        match self {
            StageKind::Auth => "auth",
            StageKind::Policy => "policy",
            StageKind::Adapter => "adapter",
            StageKind::Enrich => "enrich",
            StageKind::McpPolicy => "mcp-policy",
            StageKind::Guard => "guard",
        }
    }
}

impl std::fmt::Display for StageKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `on_error` of a plugin.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum OnErrorConfig {
    /// Fail the request.
    #[default]
    FailClosed,
    /// Skip the plugin.
    FailOpen,
}

/// `instances` of a plugin.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum InstancesConfig {
    /// A new instance per request.
    #[default]
    Fresh,
    /// Reused instances.
    Warm,
}

/// `[[plugins]]`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PluginConfig {
    /// Name (unique).
    pub name: String,
    /// Stage.
    pub stage: StageKind,
    /// `builtin:NAME` or a path to a `.wasm` component (relative to the config file).
    pub source: String,
    /// Deadline of one call.
    #[serde(default = "default_plugin_timeout")]
    pub timeout_ms: u64,
    /// Memory cap of one instance.
    #[serde(default = "default_plugin_memory")]
    pub memory_mb: usize,
    /// What a failure does (policy and enrich plugins only).
    #[serde(default)]
    pub on_error: OnErrorConfig,
    /// Fresh or warm instances. Default: warm for built-in plugins (stateless by construction),
    /// fresh for plugins loaded from files.
    #[serde(default)]
    pub instances: Option<InstancesConfig>,
    /// The table handed to the plugin as JSON.
    #[serde(default)]
    pub config: Option<toml::Table>,
}

/// Deadline of one plugin call unless the config says otherwise.
pub const DEFAULT_PLUGIN_TIMEOUT_MS: u64 = 50;
/// Memory cap of one plugin instance unless the config says otherwise.
pub const DEFAULT_PLUGIN_MEMORY_MB: usize = 64;

fn default_plugin_timeout() -> u64 {
    DEFAULT_PLUGIN_TIMEOUT_MS
}
fn default_plugin_memory() -> usize {
    DEFAULT_PLUGIN_MEMORY_MB
}

impl PluginConfig {
    /// The instance mode in effect: as configured, else warm for built-ins and fresh otherwise.
    pub fn instance_mode(&self) -> InstancesConfig {
        self.instances
            .unwrap_or(if self.source.starts_with("builtin:") {
                InstancesConfig::Warm
            } else {
                InstancesConfig::Fresh
            })
    }

    /// The plugin's config table as JSON text (`{}` when absent).
    pub fn config_json(&self) -> String {
        match &self.config {
            Some(t) => serde_json::to_string(t).unwrap_or_else(|_| "{}".into()),
            None => "{}".into(),
        }
    }

    /// The `.wasm` path of a file source, resolved against the config file's folder.
    /// None for built-ins.
    pub fn path(&self, config_file: &Path) -> Option<PathBuf> {
        if self.source.starts_with("builtin:") {
            return None;
        }
        let p = PathBuf::from(&self.source);
        Some(if p.is_absolute() {
            p
        } else {
            config_file
                .parent()
                .unwrap_or_else(|| Path::new("."))
                .join(p)
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    #[serde(default)]
    pub(super) server: ServerConfig,
    #[serde(default)]
    pub(super) runtime: RuntimeConfig,
    #[serde(default)]
    pub(super) storage: StorageConfig,
    #[serde(default)]
    pub(super) kv: super::KvConfig,
    #[serde(default)]
    pub(super) files: FilesConfig,
    #[serde(default)]
    pub(super) batches: BatchesConfig,
    #[serde(default)]
    pub(super) responses: ResponsesConfig,
    #[serde(default)]
    pub(super) providers: Vec<ProviderConfig>,
    #[serde(default)]
    pub(super) models: Vec<ModelConfig>,
    #[serde(default)]
    pub(super) plugins: Vec<PluginConfig>,
    #[serde(default)]
    pub(super) mcp: super::McpConfig,
    #[serde(default)]
    pub(super) mcp_servers: Vec<super::McpServerConfig>,
    #[serde(default)]
    pub(super) telemetry: super::TelemetryConfig,
    #[serde(default)]
    pub(super) log: super::LogConfig,
    #[serde(default)]
    pub(super) pricing: super::PricingConfig,
    #[serde(default)]
    pub(super) tiers: std::collections::BTreeMap<String, super::TierConfig>,
    #[serde(default)]
    pub(super) webhooks: Vec<super::WebhookConfig>,
}
