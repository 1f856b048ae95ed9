//! `[pricing]`, `[tiers.*]` and `[[webhooks]]`: the price table every plugin shares, the plans keys
//! belong to, and where events go.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The maintained list of common models' prices, compiled in (`host/prices.toml`).
pub const BUILTIN_PRICES: &str = include_str!("../../prices.toml");

/// A model's prices in USD per million tokens.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PriceConfig {
    /// Prompt tokens.
    pub input: f64,
    /// Completion tokens.
    pub output: f64,
    /// Prompt tokens served from the provider's cache; `input` when absent.
    #[serde(default)]
    pub cached_input: Option<f64>,
}

/// `[pricing]`: where prices come from. Later sources override earlier ones per model: the
/// built-in list, then `file`, then `models`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PricingConfig {
    /// Start from Sluice's maintained list (`host/prices.toml`).
    #[serde(default = "yes")]
    pub builtin: bool,
    /// A TOML file of `[models."name"]` price tables, relative to the config file.
    #[serde(default)]
    pub file: Option<PathBuf>,
    /// Prices per model name.
    #[serde(default)]
    pub models: BTreeMap<String, PriceConfig>,
}

impl Default for PricingConfig {
    fn default() -> Self {
        PricingConfig {
            builtin: true,
            file: None,
            models: BTreeMap::new(),
        }
    }
}

fn yes() -> bool {
    true
}

/// A price file: `[models."name"]` tables.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PriceFile {
    #[serde(default)]
    models: BTreeMap<String, PriceConfig>,
}

impl PricingConfig {
    /// The merged table, and the price file's path if there is one. Errors name the key
    /// (`pricing.file`, `pricing.models.<m>`) and the reason.
    #[allow(clippy::type_complexity)]
    pub(super) fn table(
        &self,
        config_file: &Path,
    ) -> Result<(BTreeMap<String, PriceConfig>, Option<PathBuf>), (String, String)> {
        let mut path_read = None;
        let mut table = BTreeMap::new();
        if self.builtin {
            let builtin: PriceFile = toml::from_str(BUILTIN_PRICES)
                .map_err(|e| ("pricing.builtin".to_string(), e.to_string()))?;
            table.extend(builtin.models);
        }
        if let Some(file) = &self.file {
            let path = if file.is_absolute() {
                file.clone()
            } else {
                config_file
                    .parent()
                    .unwrap_or_else(|| Path::new("."))
                    .join(file)
            };
            let key = || "pricing.file".to_string();
            let text = std::fs::read_to_string(&path)
                .map_err(|e| (key(), format!("cannot read {}: {e}", path.display())))?;
            let parsed: PriceFile = toml::from_str(&text).map_err(|e| {
                let reason = e.to_string();
                (key(), format!("{}: {}", path.display(), reason.trim_end()))
            })?;
            check(&parsed.models, &format!("{}: models", path.display()))?;
            table.extend(parsed.models);
            path_read = Some(path);
        }
        check(&self.models, "pricing.models")?;
        table.extend(self.models.clone());
        Ok((table, path_read))
    }
}

/// Prices must be finite and non-negative.
fn check(models: &BTreeMap<String, PriceConfig>, at: &str) -> Result<(), (String, String)> {
    for (name, p) in models {
        if [p.input, p.output, p.cached_input.unwrap_or(0.0)]
            .iter()
            .any(|x| !x.is_finite() || *x < 0.0)
        {
            return Err((
                format!("{at}.{name}"),
                "prices must be non-negative numbers (USD per million tokens)".into(),
            ));
        }
    }
    Ok(())
}

/// `[tiers.<name>]`: a plan keys name with their `tier` attribute. `models` and `mcp_servers`
/// apply when the key lists none itself; every other entry becomes an attribute of the key
/// (`rpm = 5`, `budget_usd_month = 1`) unless the key sets that attribute itself.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
pub struct TierConfig {
    /// Models keys of this tier may use; absent or empty: every model.
    #[serde(default)]
    pub models: Vec<String>,
    /// MCP servers keys of this tier may reach; absent or empty: every server.
    #[serde(default)]
    pub mcp_servers: Vec<String>,
    /// Attributes (limits, budgets, anything policies read).
    #[serde(flatten)]
    pub attributes: BTreeMap<String, toml::Value>,
}

impl TierConfig {
    /// The attributes as the strings principals carry.
    pub fn attribute_strings(&self) -> Result<Vec<(String, String)>, (String, String)> {
        self.attributes
            .iter()
            .map(|(k, v)| {
                let s = match v {
                    toml::Value::String(s) => s.clone(),
                    toml::Value::Integer(i) => i.to_string(),
                    toml::Value::Float(f) => f.to_string(),
                    toml::Value::Boolean(b) => b.to_string(),
                    _ => {
                        return Err((
                            k.clone(),
                            "must be a string, number or boolean (it becomes a key attribute)"
                                .into(),
                        ));
                    }
                };
                Ok((k.clone(), s))
            })
            .collect()
    }
}

/// `[[webhooks]]`: an endpoint of the operator's that receives events (`budget.threshold`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// A name for logs and metrics.
    pub name: String,
    /// Where events are POSTed (http or https).
    pub url: String,
    /// Event kinds it receives; `"*"` for every kind.
    pub events: Vec<String>,
    /// The environment variable holding the HMAC-SHA256 signing secret. Without it, events are
    /// sent unsigned.
    #[serde(default)]
    pub secret_env: Option<String>,
    /// Attempts per event, the first included.
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    /// Wait before the first retry; it doubles after each failure (at most 5 minutes).
    #[serde(default = "default_backoff")]
    pub retry_backoff_ms: u64,
    /// Deadline of one attempt.
    #[serde(default = "default_webhook_timeout")]
    pub timeout_ms: u64,
}

fn default_attempts() -> u32 {
    5
}
fn default_backoff() -> u64 {
    1_000
}
fn default_webhook_timeout() -> u64 {
    5_000
}

impl WebhookConfig {
    /// Whether it receives events of `kind`.
    pub fn wants(&self, kind: &str) -> bool {
        self.events.iter().any(|e| e == kind || e == "*")
    }
}

/// Checks `[tiers]` and `[[webhooks]]`.
pub(super) fn validate(
    tiers: &BTreeMap<String, TierConfig>,
    webhooks: &[WebhookConfig],
) -> Result<(), (String, String)> {
    for (name, tier) in tiers {
        tier.attribute_strings()
            .map_err(|(k, r)| (format!("tiers.{name}.{k}"), r))?;
    }
    let mut names = std::collections::HashSet::new();
    for (i, w) in webhooks.iter().enumerate() {
        let key = |f: &str| format!("webhooks[{i}].{f}");
        if w.name.is_empty() || !names.insert(w.name.as_str()) {
            return Err((key("name"), "must be non-empty and unique".into()));
        }
        if !(w.url.starts_with("http://") || w.url.starts_with("https://")) {
            return Err((key("url"), format!("`{}` is not an http(s) URL", w.url)));
        }
        if w.events.is_empty() {
            return Err((
                key("events"),
                "must name at least one event kind (or \"*\")".into(),
            ));
        }
        if w.max_attempts == 0 || w.timeout_ms == 0 {
            return Err((
                key("max_attempts"),
                "max_attempts and timeout_ms must be at least 1".into(),
            ));
        }
        if let Some(env) = &w.secret_env
            && std::env::var_os(env).is_none_or(|v| v.is_empty())
        {
            return Err((
                key("secret_env"),
                format!("the environment variable `{env}` is not set"),
            ));
        }
    }
    Ok(())
}
