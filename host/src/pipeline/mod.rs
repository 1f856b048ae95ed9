//! The plugin pipeline: the Wasm runtime, the loaded plugins of each stage, and the routes from
//! model names to providers. A [`Pipeline`] is immutable; a reload builds a new one and swaps it in.

pub mod bindings;
mod compat;
pub mod engine;
pub mod hints;
pub mod inspect;
mod load;
pub mod plugin;
pub mod probe;
pub mod stages;
mod v2_worlds;
pub mod worlds;

use crate::capabilities::{Backends, PriceTable};
use crate::config::{Config, ConfigError, StageKind};
use engine::Runtime;
pub use load::LoadError;
use load::Loader;
use plugin::{Plugin, World};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

pub(crate) use compat::endpoint_name;
pub use v2_worlds::{GuardWorld, McpPolicyWorld};
pub use worlds::{AdapterWorld, AuthWorld, EnrichWorld, PolicyWorld};

/// A provider: where requests go and the adapter that translates them.
pub struct Provider {
    /// Name from the config.
    pub name: String,
    /// Base URL without a trailing slash.
    pub base_url: String,
    /// API key read from the environment at load.
    pub api_key: Option<String>,
    /// The variable the key should come from, if the config names one.
    pub api_key_env: Option<String>,
    /// Deadline of one upstream call.
    pub timeout: Duration,
    /// Retries before falling back.
    pub retries: u32,
    /// First retry's backoff.
    pub retry_backoff: Duration,
    /// The adapter plugin.
    pub adapter: Arc<Plugin<AdapterWorld>>,
    /// A client of its own when it has a `ca_file`; else calls use the shared one.
    pub client: Option<crate::upstream::UpstreamClient>,
}

/// A model clients may ask for.
pub struct Route {
    /// The canonical name.
    pub name: String,
    /// Other names.
    pub aliases: Vec<String>,
    /// Where it is served, in fallback order (at least one).
    pub deployments: Vec<Deployment>,
}

/// One provider serving a model.
pub struct Deployment {
    /// The provider.
    pub provider: Arc<Provider>,
    /// The name the provider knows the model by.
    pub upstream_model: String,
}

/// One generation of the gateway's request pipeline.
pub struct Pipeline {
    /// Increases by one with every successful (re)load.
    pub generation: u64,
    /// When it was built.
    pub loaded_at: SystemTime,
    /// The config it was built from.
    pub config: Arc<Config>,
    /// The auth plugin; without one the gateway is open.
    pub auth: Option<Arc<Plugin<AuthWorld>>>,
    /// Policy plugins in config order.
    pub policies: Vec<Arc<Plugin<PolicyWorld>>>,
    /// Enrich plugins in config order.
    pub enrichers: Vec<Arc<Plugin<EnrichWorld>>>,
    /// MCP policy plugins in config order.
    pub mcp_policies: Vec<Arc<Plugin<McpPolicyWorld>>>,
    /// Guard plugins in config order.
    pub guards: Vec<Arc<Plugin<GuardWorld>>>,
    /// Providers by name.
    pub providers: HashMap<String, Arc<Provider>>,
    /// Models in config order.
    pub models: Vec<Arc<Route>>,
    routes: HashMap<String, Arc<Route>>,
    /// `[tiers]`, applied to every principal the auth stage makes.
    pub tiers: HashMap<String, stages::Tier>,
    /// The price table plugins share (`[pricing]`).
    pub prices: Arc<PriceTable>,
}

/// A loaded plugin of any stage, for status pages.
pub struct PluginSummary {
    /// Name.
    pub name: String,
    /// Stage.
    pub stage: StageKind,
    /// Source.
    pub source: String,
    /// Content hash (hex sha256).
    pub hash: String,
}

/// The client of a provider with a `ca_file` (resolved against the config file's folder).
fn ca_client(
    config: &Config,
    provider: &str,
    file: &std::path::Path,
) -> Result<crate::upstream::UpstreamClient, LoadError> {
    let path = config
        .file
        .parent()
        .unwrap_or_else(|| std::path::Path::new("."))
        .join(file);
    let fail = |reason: String| {
        LoadError::Config(ConfigError {
            file: config.file.clone(),
            key: Some(format!("providers.{provider}.ca_file")),
            reason: format!("{}: {reason}", path.display()),
        })
    };
    let pem = std::fs::read(&path).map_err(|e| fail(format!("cannot read: {e}")))?;
    let threads = crate::http::cores::count(config.server.threads);
    crate::upstream::UpstreamClient::with_ca(&pem, threads).map_err(fail)
}

impl Pipeline {
    /// The route for `model` (a name or an alias).
    pub fn route(&self, model: &str) -> Option<&Arc<Route>> {
        self.routes.get(model)
    }

    /// Builds a pipeline from `config`: compiles (through the cache, on blocking threads) and
    /// initialises every plugin.
    pub async fn build(
        config: Config,
        runtime: &Arc<Runtime>,
        backends: &Backends,
        generation: u64,
    ) -> Result<Pipeline, LoadError> {
        let prices = Arc::new(PriceTable::new(&config));
        let mut auth = None;
        let mut policies = Vec::new();
        let mut enrichers = Vec::new();
        let mut mcp_policies = Vec::new();
        let mut guards = Vec::new();
        let mut adapters: HashMap<String, Arc<Plugin<AdapterWorld>>> = HashMap::new();
        for pc in &config.plugins {
            let loader = Loader {
                runtime,
                backends,
                prices: &prices,
                config: &config,
                pc,
            };
            match pc.stage {
                StageKind::Auth => auth = Some(loader.load().await?),
                StageKind::Policy => policies.push(loader.load().await?),
                StageKind::Enrich => enrichers.push(loader.load().await?),
                StageKind::McpPolicy => mcp_policies.push(loader.load().await?),
                StageKind::Guard => guards.push(loader.load().await?),
                StageKind::Adapter => {
                    adapters.insert(pc.name.clone(), loader.load().await?);
                }
            }
        }
        let mut providers = HashMap::new();
        for p in &config.providers {
            // Normalised: every adapter a provider names has a plugin entry.
            let Some(adapter) = adapters.get(&p.adapter).map(Arc::clone) else {
                return Err(LoadError::Plugin {
                    name: p.adapter.clone(),
                    source_ref: format!("providers.{}", p.name),
                    reason: "no such adapter".into(),
                });
            };
            let api_key = p
                .api_key_env
                .as_ref()
                .and_then(|var| std::env::var(var).ok())
                .filter(|k| !k.is_empty());
            if let (Some(var), None) = (&p.api_key_env, &api_key) {
                tracing::warn!(provider = %p.name, "{var} is not set: calls to this provider will fail until it is");
            }
            let client = match &p.ca_file {
                None => None,
                Some(file) => Some(ca_client(&config, &p.name, file)?),
            };
            providers.insert(
                p.name.clone(),
                Arc::new(Provider {
                    name: p.name.clone(),
                    base_url: p.base_url.trim_end_matches('/').to_string(),
                    api_key,
                    api_key_env: p.api_key_env.clone(),
                    timeout: Duration::from_millis(p.timeout_ms),
                    retries: p.retries,
                    retry_backoff: Duration::from_millis(p.retry_backoff_ms),
                    adapter,
                    client,
                }),
            );
        }
        let mut routes = HashMap::new();
        let mut models = Vec::new();
        for m in &config.models {
            let mut deployments = Vec::with_capacity(m.deployments.len());
            for d in &m.deployments {
                let Some(p) = providers.get(&d.provider) else {
                    return Err(LoadError::Config(ConfigError {
                        file: config.file.clone(),
                        key: Some(format!("models.{}", m.name)),
                        reason: format!("no provider named `{}`", d.provider),
                    }));
                };
                deployments.push(Deployment {
                    provider: Arc::clone(p),
                    upstream_model: d.upstream_model.clone().unwrap_or_else(|| m.name.clone()),
                });
            }
            let route = Arc::new(Route {
                name: m.name.clone(),
                aliases: m.aliases.clone(),
                deployments,
            });
            for n in std::iter::once(&m.name).chain(&m.aliases) {
                routes.insert(n.clone(), Arc::clone(&route));
            }
            models.push(route);
        }
        Ok(Pipeline {
            generation,
            loaded_at: SystemTime::now(),
            auth,
            policies,
            enrichers,
            mcp_policies,
            guards,
            providers,
            models,
            routes,
            tiers: stages::Tier::all(&config),
            prices,
            config: Arc::new(config),
        })
    }

    /// Content hashes of every plugin of this pipeline.
    pub fn plugin_hashes(&self) -> Vec<[u8; 32]> {
        self.plugins()
            .iter()
            .filter_map(|p| {
                let mut h = [0u8; 32];
                hex::decode_to_slice(&p.hash, &mut h).ok().map(|()| h)
            })
            .collect()
    }

    /// Every plugin of this pipeline, in stage order.
    pub fn plugins(&self) -> Vec<PluginSummary> {
        fn s<W: World>(p: &Plugin<W>, stage: StageKind) -> PluginSummary {
            PluginSummary {
                name: p.name.to_string(),
                stage,
                source: p.source.clone(),
                hash: p.hash.clone(),
            }
        }
        let mut out = Vec::new();
        out.extend(self.auth.iter().map(|p| s(p, StageKind::Auth)));
        out.extend(self.policies.iter().map(|p| s(p, StageKind::Policy)));
        let mut adapters: Vec<_> = self.providers.values().map(|p| &p.adapter).collect();
        adapters.sort_by(|a, b| a.name.cmp(&b.name));
        adapters.dedup_by(|a, b| Arc::ptr_eq(a, b));
        out.extend(adapters.into_iter().map(|p| s(p, StageKind::Adapter)));
        out.extend(self.enrichers.iter().map(|p| s(p, StageKind::Enrich)));
        out.extend(self.guards.iter().map(|p| s(p, StageKind::Guard)));
        out.extend(self.mcp_policies.iter().map(|p| s(p, StageKind::McpPolicy)));
        out
    }
}
