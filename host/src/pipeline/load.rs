//! Loading one configured plugin: its bytes (built-in or file), the compile, its environment and
//! settings, and its `init`.

use super::engine::Runtime;
use super::plugin::{InstanceMode, OnError, Plugin, PluginSettings, World};
use crate::builtin;
use crate::capabilities::{Backends, PluginEnv, PriceTable};
use crate::config::{Config, ConfigError, InstancesConfig, OnErrorConfig, PluginConfig};
use std::sync::Arc;

/// Why a pipeline could not be built.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The config is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A plugin could not be loaded.
    #[error("plugin `{name}` ({source_ref}): {reason}")]
    Plugin {
        /// The plugin's name.
        name: String,
        /// Its source.
        source_ref: String,
        /// What went wrong.
        reason: String,
    },
}

pub(super) struct Loader<'a> {
    pub(super) runtime: &'a Arc<Runtime>,
    pub(super) backends: &'a Backends,
    pub(super) prices: &'a Arc<PriceTable>,
    pub(super) config: &'a Config,
    pub(super) pc: &'a PluginConfig,
}

impl Loader<'_> {
    /// Reads, compiles (through the cache) and initialises the plugin.
    pub(super) async fn load<W: World>(&self) -> Result<Arc<Plugin<W>>, LoadError> {
        let pc = self.pc;
        let fail = |reason: String| LoadError::Plugin {
            name: pc.name.clone(),
            source_ref: pc.source.clone(),
            reason,
        };
        let bytes: Vec<u8> = match pc.source.strip_prefix("builtin:") {
            Some(b) => builtin::get(b)
                .ok_or_else(|| fail("no such built-in plugin".into()))?
                .bytes
                .to_vec(),
            None => {
                let path = pc.path(&self.config.file).unwrap_or_default();
                tokio::fs::read(&path)
                    .await
                    .map_err(|e| fail(format!("cannot read {}: {e}", path.display())))?
            }
        };
        // Compiling takes ~100 ms of CPU: keep it off the async workers.
        let runtime = Arc::clone(self.runtime);
        let (component, hash, headers) = tokio::task::spawn_blocking(move || {
            let headers = super::hints::HeaderUse::of_component(&bytes);
            runtime
                .compile(&bytes)
                .map(|(component, hash)| (component, hash, headers))
        })
        .await
        .map_err(|e| fail(format!("compiler task failed: {e}")))?
        .map_err(|e| fail(format!("not a valid component: {e:#}")))?;
        let env = Arc::new(PluginEnv {
            name: Arc::from(pc.name.as_str()),
            config_json: Arc::from(pc.config_json().as_str()),
            kv: Arc::clone(&self.backends.kv),
            kv_prefix: format!("{}\u{1f}", pc.name),
            keys: self.backends.keys.clone(),
            prices: Arc::clone(self.prices),
            events: Arc::clone(&self.backends.events),
        });
        let settings = PluginSettings {
            timeout_ms: pc.timeout_ms,
            memory_bytes: pc.memory_mb << 20,
            mode: match pc.instance_mode() {
                InstancesConfig::Fresh => InstanceMode::Fresh,
                InstancesConfig::Warm => InstanceMode::Warm,
            },
            on_error: match pc.on_error {
                OnErrorConfig::FailClosed => OnError::FailClosed,
                OnErrorConfig::FailOpen => OnError::FailOpen,
            },
            max_uses: 10_000,
            max_idle: 64,
            stage: pc.stage.as_str(),
        };
        Plugin::load(
            self.runtime,
            &component,
            hash,
            pc.source.clone(),
            env,
            settings,
        )
        .await
        .map(|mut plugin| {
            plugin.headers = headers;
            Arc::new(plugin)
        })
        .map_err(fail)
    }
}
