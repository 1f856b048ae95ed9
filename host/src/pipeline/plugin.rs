//! A loaded plugin: its pre-instantiated component, its limits, and how calls into it are made.
//!
//! Every call runs under a deadline (epoch interruption) and every instance under a memory cap. A
//! trap, a timeout or memory exhaustion poisons the instance (it is dropped, never reused) and
//! fails only the request that made the call, with a [`PluginError`] that names the plugin.

use super::engine::{EPOCH_TICK, Runtime};
use crate::capabilities::{PluginEnv, PluginState};
use std::sync::{Arc, Mutex};
use wasmtime::Store;
use wasmtime::component::{Component, InstancePre};

/// Time a plugin call may spend beyond its own deadline, in host calls, before it is abandoned.
const CALL_BACKSTOP_SLACK: std::time::Duration = std::time::Duration::from_secs(1);

/// How a plugin's instances are managed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceMode {
    /// A new instance for every request: nothing leaks between requests.
    Fresh,
    /// Instances are reused from a pool (retired after a trap or `max_uses` calls).
    Warm,
}

/// What happens to a request when a non-auth plugin fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnError {
    /// The request fails with the plugin's error.
    FailClosed,
    /// The plugin is skipped and the request goes on.
    FailOpen,
}

/// Per-plugin limits and behaviour.
#[derive(Debug, Clone)]
pub struct PluginSettings {
    /// Deadline of one call, in milliseconds.
    pub timeout_ms: u64,
    /// Memory cap of one instance, in bytes.
    pub memory_bytes: usize,
    /// Fresh or warm instances.
    pub mode: InstanceMode,
    /// Behaviour on failure (policy and enrich stages).
    pub on_error: OnError,
    /// Calls after which a warm instance is retired.
    pub max_uses: u32,
    /// Warm instances kept idle at most.
    pub max_idle: usize,
    /// The stage it serves (a metrics label).
    pub stage: &'static str,
}

/// Why a plugin call failed. Each variant names the plugin.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// The plugin trapped (a panic, an `unreachable`, an invalid memory access...).
    #[error("plugin `{plugin}` failed: {message}")]
    Trap {
        /// The plugin.
        plugin: Arc<str>,
        /// The trap, for the log.
        message: String,
    },
    /// The call ran past its deadline.
    #[error("plugin `{plugin}` did not answer within {ms} ms")]
    Timeout {
        /// The plugin.
        plugin: Arc<str>,
        /// Its deadline.
        ms: u64,
    },
    /// The instance tried to grow past its memory cap.
    #[error("plugin `{plugin}` exceeded its memory limit of {mib} MiB")]
    OutOfMemory {
        /// The plugin.
        plugin: Arc<str>,
        /// Its cap.
        mib: usize,
    },
    /// A store the plugin called (the shared `kv`) could not be reached.
    #[error("plugin `{plugin}` could not reach its kv store: {message}")]
    Store {
        /// The plugin.
        plugin: Arc<str>,
        /// Why, for the log.
        message: String,
    },
    /// No instance could be created (the instance pool is exhausted, or instantiation failed).
    #[error("plugin `{plugin}` could not be instantiated: {message}")]
    Unavailable {
        /// The plugin.
        plugin: Arc<str>,
        /// Why.
        message: String,
    },
}

impl PluginError {
    /// The kind of failure, as metrics label it.
    pub fn kind(&self) -> &'static str {
        match self {
            PluginError::Trap { .. } => "trap",
            PluginError::Timeout { .. } => "timeout",
            PluginError::OutOfMemory { .. } => "out_of_memory",
            PluginError::Unavailable { .. } => "unavailable",
            PluginError::Store { .. } => "store_unavailable",
        }
    }
}

/// A world's typed bindings, instantiated from its pre-instantiated form.
pub trait World: Sized + Send + Sync + 'static {
    /// The pre-instantiated form, shared across threads.
    type Pre: Clone + Send + Sync + 'static;
    /// Type-checks `pre` against the world.
    fn pre(pre: InstancePre<PluginState>) -> wasmtime::Result<Self::Pre>;
    /// Instantiates into `store`.
    fn instantiate(
        pre: &Self::Pre,
        store: &mut Store<PluginState>,
    ) -> impl Future<Output = wasmtime::Result<Self>> + Send;
    /// Calls `init`, the lifecycle export common to every world.
    fn init(
        &self,
        store: &mut Store<PluginState>,
        config_json: &str,
    ) -> impl Future<Output = wasmtime::Result<Result<PluginInfo, String>>> + Send;
}

/// What a plugin says about itself at init.
#[derive(Debug, Clone, Copy, Default)]
pub struct PluginInfo {
    /// It needs request bodies.
    pub wants_body: bool,
    /// Its upstream streams may be forwarded without a call per event.
    pub passthrough: bool,
    /// For guards: bytes of each stream choice's text held back before it is sent.
    pub look_behind: u32,
    /// For adapters: the provider speaks Anthropic's Messages API itself.
    pub native_messages: bool,
    /// For adapters: the provider speaks OpenAI's Responses API itself.
    pub native_responses: bool,
}

/// One live instance.
pub struct Instance<W> {
    store: Store<PluginState>,
    bindings: W,
    uses: u32,
}

/// A plugin ready to serve: a type-checked, pre-instantiated component of world `W`.
pub struct Plugin<W: World> {
    /// The plugin's name from the config.
    pub name: Arc<str>,
    /// Where it came from (`builtin:NAME` or a path).
    pub source: String,
    /// sha256 of the component's bytes, hex.
    pub hash: String,
    /// What the plugin declared at init.
    pub info: PluginInfo,
    /// The request headers it is given (its component's declaration; every one without).
    pub headers: super::hints::HeaderUse,
    /// Limits and behaviour.
    pub settings: PluginSettings,
    env: Arc<PluginEnv>,
    pre: W::Pre,
    engine: wasmtime::Engine,
    idle: Mutex<Vec<Instance<W>>>,
    meters: crate::telemetry::record::PluginMeters,
}

impl<W: World> Plugin<W> {
    /// Links and type-checks `component` against `W`, then runs the plugin's `init` with its
    /// config. Errors are messages for the operator (the caller adds the plugin's name).
    pub async fn load(
        runtime: &Runtime,
        component: &Component,
        hash: [u8; 32],
        source: String,
        env: Arc<PluginEnv>,
        settings: PluginSettings,
    ) -> Result<Plugin<W>, String> {
        let pre = runtime
            .linker
            .instantiate_pre(component)
            .map_err(|e| format!("cannot link: {e:#}"))?;
        let pre = W::pre(pre).map_err(|e| {
            format!(
                "does not implement the expected world of sluice:plugin@0.2.0 or @0.1.0 (built against another WIT version, or for another stage?): {e:#}"
            )
        })?;
        let meters = crate::telemetry::record::PluginMeters::new(&env.name, settings.stage);
        let mut plugin: Plugin<W> = Plugin {
            name: Arc::clone(&env.name),
            source,
            hash: hex::encode(hash),
            info: PluginInfo::default(),
            headers: super::hints::HeaderUse::All,
            settings,
            env: Arc::clone(&env),
            pre,
            engine: runtime.engine.clone(),
            idle: Mutex::new(Vec::new()),
            meters,
        };
        let mut inst = plugin.new_instance().await.map_err(|e| e.to_string())?;
        let info = match inst.bindings.init(&mut inst.store, &env.config_json).await {
            Ok(r) => r.map_err(|e| format!("rejected its config: {e}"))?,
            Err(e) => return Err(plugin.classify(e, &inst.store).to_string()),
        };
        plugin.info = info;
        Ok(plugin)
    }

    async fn new_instance(&self) -> Result<Instance<W>, PluginError> {
        let mut store = Store::new(
            &self.engine,
            PluginState::new(Arc::clone(&self.env), self.settings.memory_bytes),
        );
        store.limiter(|s| &mut s.cap);
        store.set_epoch_deadline(self.deadline_ticks());
        let bindings = match W::instantiate(&self.pre, &mut store).await {
            Ok(b) => b,
            Err(e) => return Err(self.classify(e, &store)),
        };
        Ok(Instance {
            store,
            bindings,
            uses: 0,
        })
    }

    fn deadline_ticks(&self) -> u64 {
        let tick = EPOCH_TICK.as_millis().max(1) as u64;
        self.settings.timeout_ms.div_ceil(tick).max(1)
    }

    fn classify(&self, e: wasmtime::Error, store: &Store<PluginState>) -> PluginError {
        let plugin = Arc::clone(&self.name);
        if store.data().cap.exceeded {
            return PluginError::OutOfMemory {
                plugin,
                mib: self.settings.memory_bytes >> 20,
            };
        }
        if let Some(kv) = e.downcast_ref::<crate::capabilities::KvUnavailable>() {
            return PluginError::Store {
                plugin,
                message: kv.reason.clone(),
            };
        }
        match e.downcast_ref::<wasmtime::Trap>() {
            Some(wasmtime::Trap::Interrupt) => PluginError::Timeout {
                plugin,
                ms: self.settings.timeout_ms,
            },
            Some(trap) => PluginError::Trap {
                plugin,
                message: trap.to_string(),
            },
            None if e.is::<wasmtime::PoolConcurrencyLimitError>() => PluginError::Unavailable {
                plugin,
                message: "the plugin instance pool is exhausted".into(),
            },
            None => PluginError::Trap {
                plugin,
                message: format!("{e}"),
            },
        }
    }

    /// An instance for one request: a warm one from the pool, or a fresh one.
    pub async fn lease(self: &Arc<Self>) -> Result<Lease<W>, PluginError> {
        let inst = self.lease_inner().await?;
        self.meters.in_use(1);
        Ok(Lease {
            plugin: Arc::clone(self),
            inst: Some(inst),
        })
    }

    async fn lease_inner(&self) -> Result<Instance<W>, PluginError> {
        if self.settings.mode == InstanceMode::Warm {
            let idle = self
                .idle
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .pop();
            if let Some(inst) = idle {
                self.meters.idle(-1);
                return Ok(inst);
            }
        }
        self.new_instance().await
    }

    fn give_back(&self, inst: Instance<W>) {
        if self.settings.mode != InstanceMode::Warm || inst.uses >= self.settings.max_uses {
            return;
        }
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if idle.len() < self.settings.max_idle {
            idle.push(inst);
            self.meters.idle(1);
        }
    }
}

impl<W: World> Drop for Plugin<W> {
    fn drop(&mut self) {
        // Its idle instances go with it (a reload replaced it).
        let idle = self
            .idle
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len();
        self.meters.idle(-(idle as i64));
    }
}

/// An instance leased for one request. Dropping it returns a healthy warm instance to its pool.
pub struct Lease<W: World> {
    plugin: Arc<Plugin<W>>,
    inst: Option<Instance<W>>,
}

impl<W: World> Lease<W> {
    /// `ctx` as this plugin sees it: only the request headers it declared it reads.
    pub fn view<'a>(
        &self,
        ctx: &'a super::bindings::types::RequestCtx,
    ) -> std::borrow::Cow<'a, super::bindings::types::RequestCtx> {
        self.plugin.headers.view(ctx)
    }

    /// The plugin this lease belongs to.
    pub fn plugin(&self) -> &Arc<Plugin<W>> {
        &self.plugin
    }

    /// Calls into the instance under its deadline. After an error the instance is dropped and
    /// later calls on this lease fail at once.
    pub async fn call<R>(
        &mut self,
        f: impl AsyncFnOnce(&W, &mut Store<PluginState>) -> wasmtime::Result<R>,
    ) -> Result<R, PluginError> {
        let Some(inst) = self.inst.as_mut() else {
            return Err(PluginError::Trap {
                plugin: Arc::clone(&self.plugin.name),
                message: "its instance failed earlier in this request".into(),
            });
        };
        inst.store.set_epoch_deadline(self.plugin.deadline_ticks());
        inst.uses += 1;
        // Epochs stop guest code; a guest waiting in a host call (a key lookup) is stopped by
        // this backstop, with room for the host call itself.
        let backstop =
            std::time::Duration::from_millis(self.plugin.settings.timeout_ms) + CALL_BACKSTOP_SLACK;
        let started = std::time::Instant::now();
        let span =
            crate::telemetry::traces::plugin_span(&self.plugin.name, self.plugin.settings.stage);
        let call = tracing::Instrument::instrument(f(&inst.bindings, &mut inst.store), span);
        let result = match tokio::time::timeout(backstop, call).await {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(e)) => {
                let err = self.plugin.classify(e, &inst.store);
                self.inst = None;
                Err(err)
            }
            Err(_) => {
                self.inst = None;
                Err(PluginError::Timeout {
                    plugin: Arc::clone(&self.plugin.name),
                    ms: self.plugin.settings.timeout_ms,
                })
            }
        };
        self.plugin.meters.call(
            started.elapsed(),
            result.as_ref().err().map(PluginError::kind),
        );
        result
    }
}

impl<W: World> Drop for Lease<W> {
    fn drop(&mut self) {
        self.plugin.meters.in_use(-1);
        if let Some(inst) = self.inst.take() {
            self.plugin.give_back(inst);
        }
    }
}
