//! What the export macros call: builds the plugin once per instance and serves each WIT export
//! from it. Not for plugin authors, apart from [`from_config_json`].

use crate::stream::StreamSlot;
use crate::{
    Adapter, Auth, Decision, Enrich, Enrichment, ErrorBody, HttpRequest, HttpResponse, Level,
    LlmMeta, Outcome, Plugin, PluginInfo, Policy, Principal, Provider, RequestCtx, SseEvent,
    UpstreamCall, Usage,
};
use std::cell::Cell;
use std::thread::LocalKey;

/// Builds a plugin from its config JSON the way the export glue does: blank text counts as `{}`,
/// the JSON is parsed into [`Plugin::Config`], then [`Plugin::new`] runs. Handy in unit tests.
///
/// ```
/// use sluice_plugin_sdk::{NoConfig, Plugin};
/// struct Quiet;
/// impl Plugin for Quiet {
///     type Config = NoConfig;
///     fn new(_: NoConfig) -> Result<Self, String> { Ok(Quiet) }
/// }
/// assert!(sluice_plugin_sdk::from_config_json::<Quiet>("{}").is_ok());
/// ```
pub fn from_config_json<P: Plugin>(json: &str) -> Result<P, String> {
    let json = if json.trim().is_empty() { "{}" } else { json };
    let config: P::Config =
        serde_json::from_str(json).map_err(|e| format!("invalid config: {e}"))?;
    P::new(config)
}

/// The plugin value of one instance: built by `init`, or on first use in instances the host
/// creates without `init`, then kept for the instance's life. Wasm instances are
/// single-threaded, so a thread-local holds it.
pub struct Instance<P: 'static>(Cell<Option<&'static Result<P, String>>>);

impl<P: Plugin> Instance<P> {
    /// An instance with no plugin built yet.
    pub const fn new() -> Self {
        Instance(Cell::new(None))
    }

    /// `init`: builds the plugin from `config_json`; an error rejects the load.
    pub fn init(&self, config_json: &str) -> Result<PluginInfo, String> {
        let plugin = from_config_json::<P>(config_json)?;
        let info = plugin.info();
        self.0.set(Some(Box::leak(Box::new(Ok(plugin)))));
        Ok(info)
    }

    /// The plugin, built from the host's `config` import the first time it is asked for.
    pub fn get(&self) -> Result<&'static P, String> {
        let built = match self.0.get() {
            Some(built) => built,
            None => {
                let built: &'static _ =
                    Box::leak(Box::new(from_config_json::<P>(&crate::config_json())));
                self.0.set(Some(built));
                built
            }
        };
        built.as_ref().map_err(String::clone)
    }
}

impl<P: Plugin> Default for Instance<P> {
    fn default() -> Self {
        Self::new()
    }
}

/// Where the export glue finds the value that serves a stage: the plugin's instance, or
/// [`crate::__Unsupported`] for the stages it does not implement.
pub trait Source {
    /// The type implementing the stage.
    type Stage: Plugin;
    /// The value serving the stage, or why it could not be built.
    fn stage() -> Result<&'static Self::Stage, String>;
}

impl Source for crate::__Unsupported {
    type Stage = crate::__Unsupported;
    fn stage() -> Result<&'static Self, String> {
        Ok(&crate::__Unsupported)
    }
}

/// The 500 a call answers when the plugin could not be built from its config.
fn config_error(e: String) -> ErrorBody {
    ErrorBody::new(500, "server_error", Some("plugin_config"), e)
}

/// The stream slot type of an adapter source.
pub type Slot<S> = StreamSlot<<<S as Source>::Stage as Adapter>::Stream>;

/// `authenticate`.
pub fn authenticate<S: Source>(
    ctx: RequestCtx,
    credential: Option<String>,
) -> Result<Principal, ErrorBody>
where
    S::Stage: Auth,
{
    S::stage()
        .map_err(config_error)?
        .authenticate(&ctx, credential.as_deref())
}

/// `on-request`.
pub fn on_request<S: Source>(
    ctx: RequestCtx,
    principal: Principal,
    meta: LlmMeta,
    req: HttpRequest,
) -> Decision
where
    S::Stage: Policy,
{
    match S::stage() {
        Ok(p) => p.on_request(&ctx, &principal, &meta, &req),
        Err(e) => Decision::Deny(config_error(e)),
    }
}

/// `on-complete`: a plugin that could not be built logs why and does nothing.
pub fn on_complete<S: Source>(ctx: RequestCtx, principal: Principal, meta: LlmMeta, o: Outcome)
where
    S::Stage: Policy,
{
    match S::stage() {
        Ok(p) => p.on_complete(&ctx, &principal, &meta, &o),
        Err(e) => crate::log(Level::Error, &format!("on-complete skipped: {e}")),
    }
}

/// `on-response`: a plugin that could not be built logs why and adds nothing.
pub fn on_response<S: Source>(
    ctx: RequestCtx,
    principal: Option<Principal>,
    outcome: Outcome,
) -> Enrichment
where
    S::Stage: Enrich,
{
    match S::stage() {
        Ok(p) => p.on_response(&ctx, principal.as_ref(), &outcome),
        Err(e) => {
            crate::log(Level::Error, &format!("on-response skipped: {e}"));
            Enrichment::default()
        }
    }
}

/// `to-upstream`: forgets any earlier stream, and starts one when the call streams.
pub fn to_upstream<S: Source>(
    slot: &'static LocalKey<Slot<S>>,
    ctx: RequestCtx,
    provider: Provider,
    req: HttpRequest,
) -> Result<UpstreamCall, ErrorBody>
where
    S::Stage: Adapter,
{
    slot.with(|s| s.set(None));
    let adapter = S::stage().map_err(config_error)?;
    let call = adapter.to_upstream(&ctx, &provider, &req)?;
    if let UpstreamCall::Send(r) = &call
        && r.stream
    {
        let stream = adapter.start_stream(&ctx, &provider);
        slot.with(|s| s.set(Some(stream)));
    }
    Ok(call)
}

/// `from-upstream`.
pub fn from_upstream<S: Source>(
    ctx: RequestCtx,
    resp: HttpResponse,
) -> Result<Option<HttpResponse>, ErrorBody>
where
    S::Stage: Adapter,
{
    S::stage().map_err(config_error)?.from_upstream(&ctx, &resp)
}

/// A stream started without `to-upstream` in this instance: it knows no request or provider.
fn start_unknown<S: Source>() -> Result<<S::Stage as Adapter>::Stream, ErrorBody>
where
    S::Stage: Adapter,
{
    let ctx = RequestCtx {
        request_id: "stream".into(),
        endpoint: String::new(),
        method: String::new(),
        path: String::new(),
        model: String::new(),
        stream: true,
        user_id: None,
        key_id: None,
        headers: Vec::new(),
    };
    let provider = Provider {
        name: String::new(),
        base_url: String::new(),
        api_key: None,
        upstream_model: String::new(),
    };
    Ok(S::stage()
        .map_err(config_error)?
        .start_stream(&ctx, &provider))
}

/// `from-upstream-event`.
pub fn from_upstream_event<S: Source>(
    slot: &'static LocalKey<Slot<S>>,
    event: SseEvent,
) -> Result<Vec<SseEvent>, ErrorBody>
where
    S::Stage: Adapter,
{
    slot.with(|s| s.on_event(&event, start_unknown::<S>))
}

/// `finish-stream`: ends the stream and drops it.
pub fn finish_stream<S: Source>(
    slot: &'static LocalKey<Slot<S>>,
) -> Result<(Vec<SseEvent>, Option<Usage>), ErrorBody>
where
    S::Stage: Adapter,
{
    slot.with(|s| s.finish(start_unknown::<S>))
}
