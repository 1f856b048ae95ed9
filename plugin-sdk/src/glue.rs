//! What the export macros call: builds the plugin once per instance and serves each WIT export
//! from it. Not for plugin authors, apart from [`from_config_json`].

use crate::Guard as _;
use crate::bindings::exports::sluice::plugin0_2_0::adapter::GuestStreamTranslator;
use crate::stream::{StreamEnd, StreamTranslator};
use crate::{
    Adapter, Auth, Decision, Enrich, Enrichment, ErrorBody, HttpResponse, Level, LlmMeta,
    McpDecision, McpError, McpPolicy, McpRequest, Outcome, Plugin, PluginInfo, Policy, Principal,
    Provider, RequestCtx, SseEvent, UpstreamCall,
};
use std::cell::{Cell, RefCell};

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
pub trait Source: 'static {
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
    body: Vec<u8>,
) -> Decision
where
    S::Stage: Policy,
{
    match S::stage() {
        Ok(p) => p.on_request(&ctx, &principal, &meta, &body),
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

/// `on-mcp-request`: a plugin that could not be built denies with a JSON-RPC internal error.
pub fn on_mcp_request<S: Source>(req: McpRequest, principal: Principal) -> McpDecision
where
    S::Stage: McpPolicy,
{
    match S::stage() {
        Ok(p) => p.on_mcp_request(&req, &principal),
        Err(e) => McpDecision::Deny(
            McpError::internal(e).with_data(&serde_json::json!({"code": "plugin_config"})),
        ),
    }
}

/// `on-mcp-result`: a plugin that could not be built logs why and keeps the result.
pub fn on_mcp_result<S: Source>(
    req: McpRequest,
    principal: Principal,
    result: String,
) -> Option<String>
where
    S::Stage: McpPolicy,
{
    match S::stage() {
        Ok(p) => p.on_mcp_result(&req, &principal, &result),
        Err(e) => {
            crate::log(Level::Error, &format!("on-mcp-result skipped: {e}"));
            None
        }
    }
}

/// `check-json`: a body that is not JSON, or a plugin that could not be built, is refused (a
/// guard fails closed).
pub fn check_json<S: Source>(
    ctx: RequestCtx,
    principal: Option<Principal>,
    direction: crate::Direction,
    body: String,
) -> crate::Verdict
where
    S::Stage: crate::Guard,
{
    let guard = match S::stage() {
        Ok(g) => g,
        Err(e) => return crate::Verdict::Deny(config_error(e)),
    };
    match serde_json::from_str::<serde_json::Value>(&body) {
        Ok(v) => guard
            .check_json(&ctx, principal.as_ref(), direction, &v)
            .into(),
        Err(e) => crate::Verdict::Deny(ErrorBody::new(
            500,
            "server_error",
            Some("guard_input"),
            format!("the guard was given a body that is not JSON: {e}"),
        )),
    }
}

/// `check-text`: a plugin that could not be built stops the stream.
pub fn check_text<S: Source>(
    ctx: RequestCtx,
    principal: Option<Principal>,
    choice: u32,
    text: String,
    last: bool,
) -> crate::TextVerdict
where
    S::Stage: crate::Guard,
{
    match S::stage() {
        Ok(g) => g.check_text(&ctx, principal.as_ref(), choice, &text, last),
        Err(e) => crate::TextVerdict::Stop(config_error(e)),
    }
}

/// `to-upstream`.
pub fn to_upstream<S: Source>(
    ctx: RequestCtx,
    provider: Provider,
    body: Vec<u8>,
) -> Result<UpstreamCall, ErrorBody>
where
    S::Stage: Adapter,
{
    S::stage()
        .map_err(config_error)?
        .to_upstream(&ctx, &provider, &body)
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

/// The `stream-translator` resource: holds the [`Adapter::Stream`] of one stream, built by
/// [`Adapter::start_stream`] in the resource's constructor. The host creates one per stream of
/// an adapter that is not pass-through and drops it when the stream ends.
pub struct Translator<S: Source>(StreamCell<<S::Stage as Adapter>::Stream>)
where
    S::Stage: Adapter;

impl<S: Source> GuestStreamTranslator for Translator<S>
where
    S::Stage: Adapter,
{
    fn new(ctx: RequestCtx, provider: Provider) -> Self {
        let stream = S::stage()
            .map(|adapter| adapter.start_stream(&ctx, &provider))
            .map_err(config_error);
        Translator(StreamCell::new(stream))
    }

    fn on_event(&self, event: SseEvent) -> Result<Vec<SseEvent>, ErrorBody> {
        self.0.on_event(&event)
    }

    fn finish(&self) -> StreamEnd {
        self.0.finish()
    }
}

/// One stream's translator behind `&self` (resource methods take `&self`): `finish` takes it out
/// and consumes it, so a stream ends once. Holds the error instead when the plugin could not be
/// built, and answers every call with it.
pub struct StreamCell<T>(Result<RefCell<Option<T>>, ErrorBody>);

impl<T: StreamTranslator> StreamCell<T> {
    /// Holds `stream`, or the error that kept it from being started.
    pub fn new(stream: Result<T, ErrorBody>) -> Self {
        StreamCell(stream.map(|s| RefCell::new(Some(s))))
    }

    /// Maps one event with the held translator.
    pub fn on_event(&self, event: &SseEvent) -> Result<Vec<SseEvent>, ErrorBody> {
        let cell = self.0.as_ref().map_err(ErrorBody::clone)?;
        match cell.borrow_mut().as_mut() {
            Some(stream) => stream.on_event(event),
            None => Err(finished()),
        }
    }

    /// Ends the stream: consumes the held translator; later calls answer an error.
    pub fn finish(&self) -> StreamEnd {
        let cell = self.0.as_ref().map_err(ErrorBody::clone)?;
        let held = cell.borrow_mut().take();
        match held {
            Some(stream) => stream.finish(),
            None => Err(finished()),
        }
    }
}

/// The 500 for a call on a translator whose stream already finished (a host bug).
fn finished() -> ErrorBody {
    ErrorBody::new(
        500,
        "server_error",
        Some("stream_finished"),
        "the stream-translator was called after its stream finished",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts events; its end reports the count as usage.
    struct Counting(u32);

    impl StreamTranslator for Counting {
        fn on_event(&mut self, e: &SseEvent) -> Result<Vec<SseEvent>, ErrorBody> {
            self.0 += 1;
            Ok(vec![e.clone()])
        }
        fn finish(self) -> StreamEnd {
            let usage = crate::Usage {
                prompt_tokens: 0,
                completion_tokens: self.0,
                cached_tokens: 0,
            };
            Ok((Vec::new(), Some(usage)))
        }
    }

    #[test]
    fn a_stream_cell_translates_then_finishes_once() {
        let cell = StreamCell::new(Ok(Counting(0)));
        for _ in 0..3 {
            let out = cell.on_event(&SseEvent::data("x")).expect("maps");
            assert_eq!(out.len(), 1);
        }
        let (events, usage) = cell.finish().expect("ends");
        assert!(events.is_empty());
        assert_eq!(usage.map(|u| u.completion_tokens), Some(3));
        let again = cell.finish().expect_err("finished");
        assert_eq!(again.code.as_deref(), Some("stream_finished"));
        let late = cell.on_event(&SseEvent::data("y")).expect_err("finished");
        assert_eq!(late.status, 500);
    }

    #[test]
    fn a_stream_cell_of_an_unbuilt_plugin_answers_its_error() {
        let cell: StreamCell<Counting> =
            StreamCell::new(Err(config_error("invalid config: nope".into())));
        let e = cell.on_event(&SseEvent::data("x")).expect_err("no plugin");
        assert_eq!(e.code.as_deref(), Some("plugin_config"));
        assert_eq!(
            cell.finish().expect_err("no plugin").message,
            "invalid config: nope"
        );
    }
}
