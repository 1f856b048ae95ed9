//! `gateway.toml`: the raw serde types, and their validation into a [`Config`].
//!
//! Unknown keys are errors. Every error names the file, the key and the reason.

mod watch;

pub use watch::FileWatch;

use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

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

/// The validated config.
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
    /// `[[providers]]`.
    pub providers: Vec<ProviderConfig>,
    /// `[[models]]`.
    pub models: Vec<ModelConfig>,
    /// `[[plugins]]`, in order (policy and enrich plugins run in this order).
    pub plugins: Vec<PluginConfig>,
}

/// `[server]`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on. `SLUICE_LISTEN` overrides it.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Largest request body accepted, in bytes (larger ones get 413).
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// Name of the object that carries gateway metadata in responses (`sluice`); empty disables it.
    #[serde(default = "default_metadata_field")]
    pub metadata_field: String,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: default_listen(),
            max_body_bytes: default_max_body(),
            metadata_field: default_metadata_field(),
        }
    }
}

fn default_listen() -> String {
    "127.0.0.1:8080".into()
}
fn default_max_body() -> usize {
    // 32 MiB of files as base64, plus the rest of the request.
    48 << 20
}
fn default_metadata_field() -> String {
    "sluice".into()
}

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

/// `[storage]`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// The data folder (relative to the config file): `sluice.db` holds keys and usage.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            data_dir: default_data_dir(),
        }
    }
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("data")
}

impl Config {
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

/// `[[models]]`: a model name clients use, and where it is served: one `provider`, or several
/// `deployments` tried in order.
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

impl ModelConfig {
    /// The deployments in fallback order, whichever form the config used.
    pub fn deployments(&self) -> Vec<DeploymentConfig> {
        match &self.provider {
            Some(p) => vec![DeploymentConfig {
                provider: p.clone(),
                upstream_model: self.upstream_model.clone(),
            }],
            None => self.deployments.clone(),
        }
    }
}

/// The stage a plugin serves.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Hash)]
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

fn default_plugin_timeout() -> u64 {
    50
}
fn default_plugin_memory() -> usize {
    64
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
struct RawConfig {
    #[serde(default)]
    server: ServerConfig,
    #[serde(default)]
    runtime: RuntimeConfig,
    #[serde(default)]
    storage: StorageConfig,
    #[serde(default)]
    providers: Vec<ProviderConfig>,
    #[serde(default)]
    models: Vec<ModelConfig>,
    #[serde(default)]
    plugins: Vec<PluginConfig>,
}

/// Built-in plugins the binary carries; `builtin:NAME` sources name them.
pub const BUILTIN_ADAPTERS: &[&str] = &["openai", "anthropic", "gemini", "echo"];

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
        let config = Config {
            file: file.to_path_buf(),
            server: raw.server,
            runtime: raw.runtime,
            storage: raw.storage,
            providers: raw.providers,
            models: raw.models,
            plugins: raw.plugins,
        };
        config.validate().map_err(|(k, r)| err(Some(k), r))?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), (String, String)> {
        if self.server.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err((
                "server.listen".into(),
                format!(
                    "`{}` is not an address like 127.0.0.1:8080",
                    self.server.listen
                ),
            ));
        }
        if self.runtime.max_instances == 0 {
            return Err(("runtime.max_instances".into(), "must be at least 1".into()));
        }
        let mut plugin_names = HashMap::new();
        let mut auth_count = 0;
        for (i, p) in self.plugins.iter().enumerate() {
            let key = |f: &str| format!("plugins[{i}].{f}");
            if p.name.is_empty() {
                return Err((key("name"), "must not be empty".into()));
            }
            if plugin_names.insert(p.name.as_str(), p.stage).is_some() {
                return Err((
                    key("name"),
                    format!("`{}` is used by another plugin", p.name),
                ));
            }
            if let Some(b) = p.source.strip_prefix("builtin:") {
                let builtin_stage = builtin_stage(b).ok_or_else(|| {
                    (
                        key("source"),
                        format!(
                            "unknown built-in plugin `{b}` (built-ins: key-auth, rate-limit, cost, openai, anthropic, gemini, echo)"
                        ),
                    )
                })?;
                if builtin_stage != p.stage {
                    return Err((
                        key("stage"),
                        format!(
                            "built-in `{b}` is a {builtin_stage:?} plugin, not {:?}",
                            p.stage
                        )
                        .to_lowercase(),
                    ));
                }
            }
            if p.timeout_ms == 0 {
                return Err((key("timeout_ms"), "must be at least 1".into()));
            }
            if p.memory_mb == 0 || p.memory_mb > self.runtime.max_plugin_memory_mb {
                return Err((
                    key("memory_mb"),
                    format!(
                        "must be between 1 and runtime.max_plugin_memory_mb ({})",
                        self.runtime.max_plugin_memory_mb
                    ),
                ));
            }
            if p.stage == StageKind::Auth {
                auth_count += 1;
                if auth_count > 1 {
                    return Err((
                        key("stage"),
                        "only one auth plugin may be configured".into(),
                    ));
                }
                if p.on_error != OnErrorConfig::FailClosed {
                    return Err((key("on_error"), "an auth plugin always fails closed".into()));
                }
            }
        }
        let mut provider_names = HashSet::new();
        for (i, p) in self.providers.iter().enumerate() {
            let key = |f: &str| format!("providers[{i}].{f}");
            if !provider_names.insert(p.name.as_str()) {
                return Err((
                    key("name"),
                    format!("`{}` is used by another provider", p.name),
                ));
            }
            match plugin_names.get(p.adapter.as_str()) {
                Some(StageKind::Adapter) => {}
                Some(other) => {
                    return Err((
                        key("adapter"),
                        format!(
                            "plugin `{}` is a {other:?} plugin, not an adapter",
                            p.adapter
                        )
                        .to_lowercase(),
                    ));
                }
                None if BUILTIN_ADAPTERS.contains(&p.adapter.as_str()) => {}
                None => {
                    return Err((
                        key("adapter"),
                        format!(
                            "no adapter named `{}`: declare it in [[plugins]] with stage = \"adapter\", or use a built-in ({})",
                            p.adapter,
                            BUILTIN_ADAPTERS.join(", ")
                        ),
                    ));
                }
            }
            if p.adapter != "echo"
                && !(p.base_url.starts_with("http://") || p.base_url.starts_with("https://"))
            {
                return Err((
                    key("base_url"),
                    format!("`{}` must be an http:// or https:// URL", p.base_url),
                ));
            }
            if p.timeout_ms == 0 {
                return Err((key("timeout_ms"), "must be at least 1".into()));
            }
        }
        let mut model_names: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, m) in self.models.iter().enumerate() {
            let key = |f: &str| format!("models[{i}].{f}");
            if m.name.is_empty() {
                return Err((key("name"), "must not be empty".into()));
            }
            match (&m.provider, m.deployments.is_empty()) {
                (Some(_), false) => {
                    return Err((
                        key("deployments"),
                        "give either `provider` or `deployments`, not both".into(),
                    ));
                }
                (None, true) => {
                    return Err((
                        key("provider"),
                        "a model needs a `provider` (or `deployments`)".into(),
                    ));
                }
                (None, false) if m.upstream_model.is_some() => {
                    return Err((
                        key("upstream_model"),
                        "with `deployments`, set `upstream_model` on each deployment".into(),
                    ));
                }
                _ => {}
            }
            if let Some(p) = &m.provider
                && !provider_names.contains(p.as_str())
            {
                return Err((key("provider"), format!("no provider named `{p}`")));
            }
            for (j, d) in m.deployments.iter().enumerate() {
                if !provider_names.contains(d.provider.as_str()) {
                    return Err((
                        key(&format!("deployments[{j}].provider")),
                        format!("no provider named `{}`", d.provider),
                    ));
                }
            }
            for (j, n) in std::iter::once(&m.name).chain(&m.aliases).enumerate() {
                if let Some(other) = model_names.insert(n.as_str(), i) {
                    let k = if j == 0 {
                        key("name")
                    } else {
                        key(&format!("aliases[{}]", j - 1))
                    };
                    return Err((k, format!("`{n}` is already a name of models[{other}]")));
                }
            }
        }
        Ok(())
    }
}

/// The stage of a built-in plugin.
pub fn builtin_stage(name: &str) -> Option<StageKind> {
    match name {
        "key-auth" => Some(StageKind::Auth),
        "rate-limit" => Some(StageKind::Policy),
        "cost" => Some(StageKind::Enrich),
        "openai" | "anthropic" | "gemini" | "echo" => Some(StageKind::Adapter),
        _ => None,
    }
}

#[cfg(test)]
mod tests;

impl Config {
    /// Every file this config depends on: itself and its plugins' `.wasm` files.
    pub fn watched_files(&self) -> Vec<PathBuf> {
        std::iter::once(self.file.clone())
            .chain(self.plugins.iter().filter_map(|p| p.path(&self.file)))
            .collect()
    }

    /// Settings that only take effect on restart and differ between `self` and `new`, as
    /// `key: old -> new` lines.
    pub fn restart_changes(&self, new: &Config) -> Vec<String> {
        let mut out = Vec::new();
        if self.server.listen != new.server.listen {
            out.push(format!(
                "server.listen: {} -> {}",
                self.server.listen, new.server.listen
            ));
        }
        if self.runtime != new.runtime {
            out.push(format!("runtime: {:?} -> {:?}", self.runtime, new.runtime));
        }
        if self.data_dir() != new.data_dir() {
            out.push(format!(
                "storage.data_dir: {} -> {}",
                self.data_dir().display(),
                new.data_dir().display()
            ));
        }
        out
    }
}
