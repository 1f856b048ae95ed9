//! The traits a plugin implements: [`Plugin`] for how it starts, then one trait per stage.

use crate::stream::{PassThrough, StreamTranslator};
use crate::{
    Decision, Enrichment, ErrorBody, HttpResponse, LlmMeta, McpDecision, McpError, McpRequest,
    Outcome, PluginInfo, Principal, Provider, RequestCtx, UpstreamCall,
};
use serde::Deserialize;

/// What every plugin implements: its typed config and how it is built from it.
///
/// The export glue parses the plugin's config table (JSON; `{}` when the operator gave none) into
/// [`Plugin::Config`] once per instance and calls [`Plugin::new`]; every stage call then gets
/// `&self`. An error from either step rejects the load (the message names what is wrong).
pub trait Plugin: Sized + 'static {
    /// The plugin's config table. Use [`NoConfig`] for a plugin that takes none.
    type Config: serde::de::DeserializeOwned;

    /// Builds the plugin from its parsed config. Checks that serde cannot express belong here;
    /// an `Err` rejects the load with its message.
    fn new(config: Self::Config) -> Result<Self, String>;

    /// What the plugin tells the host about itself (whether it needs request bodies, whether an
    /// adapter passes answers through). The default asks for neither.
    fn info(&self) -> PluginInfo {
        PluginInfo::default()
    }
}

/// The config of a plugin that takes none: any table (and `{}`) parses into it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct NoConfig;

impl<'de> Deserialize<'de> for NoConfig {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(d)?;
        Ok(NoConfig)
    }
}

/// The auth stage: turns a credential into a [`Principal`] or refuses the request.
pub trait Auth: Plugin {
    /// Authenticates a request. `credential` is the bearer token (or `x-api-key` header) if the
    /// client sent one. Answer 401 ([`ErrorBody::invalid_api_key`]) for a missing or wrong key.
    /// It runs before the body is read, so `ctx.model` is empty.
    fn authenticate(
        &self,
        ctx: &RequestCtx,
        credential: Option<&str>,
    ) -> Result<Principal, ErrorBody>;
}

/// The policy stage: rate limits, budgets, allow-lists and custom rules.
pub trait Policy: Plugin {
    /// Decides on a request before it goes upstream: [`Decision::Continue`] (optionally adding
    /// headers, metadata or a rewritten body), [`Decision::Deny`] or [`Decision::Respond`].
    /// `body` is the client's JSON body if the plugin declared `wants_body` in
    /// [`Plugin::info`], else empty; the request's headers are in `ctx`
    /// ([`RequestCtx::header`]), its model and `stream` flag in `ctx` too.
    fn on_request(
        &self,
        ctx: &RequestCtx,
        principal: &Principal,
        meta: &LlmMeta,
        body: &[u8],
    ) -> Decision;

    /// Called once the response is complete, with its outcome and usage. The default does nothing.
    fn on_complete(
        &self,
        ctx: &RequestCtx,
        principal: &Principal,
        meta: &LlmMeta,
        outcome: &Outcome,
    ) {
        let _ = (ctx, principal, meta, outcome);
    }
}

/// A provider adapter: maps the OpenAI API to a provider's API and back. The host makes the HTTP
/// call; an adapter only translates.
pub trait Adapter: Plugin {
    /// Translates one upstream stream; [`PassThrough`] for adapters whose streams already are in
    /// OpenAI's shape (with [`PluginInfo::passthrough`] the host never asks for one).
    type Stream: StreamTranslator;

    /// Builds the request the host sends to `provider` (or answers without one). `body` is the
    /// host's prepared body (upstream model set, `user_id` removed,
    /// `stream_options.include_usage` set for streams) if the plugin declared `wants_body`,
    /// else empty.
    fn to_upstream(
        &self,
        ctx: &RequestCtx,
        provider: &Provider,
        body: &[u8],
    ) -> Result<UpstreamCall, ErrorBody>;

    /// Maps a whole upstream response (any status) to an OpenAI response. `Ok(None)`, the
    /// default, passes it through unchanged.
    // The name is the WIT export's (`from-upstream`).
    #[allow(clippy::wrong_self_convention)]
    fn from_upstream(
        &self,
        ctx: &RequestCtx,
        resp: &HttpResponse,
    ) -> Result<Option<HttpResponse>, ErrorBody> {
        let _ = (ctx, resp);
        Ok(None)
    }

    /// Starts translating a stream: called when the host creates a `stream-translator` resource
    /// for it, once the provider has answered a streaming request with a stream. The value
    /// lives in that resource until the stream ends; see [`crate::stream`].
    fn start_stream(&self, ctx: &RequestCtx, provider: &Provider) -> Self::Stream;
}

/// The enrich stage: adds fields to the response's `sluice` object and headers to the response.
pub trait Enrich: Plugin {
    /// Called when a response is complete, before its body (or last stream chunk) is sent.
    fn on_response(
        &self,
        ctx: &RequestCtx,
        principal: Option<&Principal>,
        outcome: &Outcome,
    ) -> Enrichment;
}

/// The MCP policy stage: which tools, prompts and resources of the MCP servers behind the
/// gateway a principal may see and use.
pub trait McpPolicy: Plugin {
    /// Decides on a JSON-RPC request before it goes to the MCP server `req.server`:
    /// [`McpDecision::Continue`] (with `Some(params)` to forward rewritten params),
    /// [`McpDecision::Deny`] (a JSON-RPC error, see [`McpError::new`]) or
    /// [`McpDecision::Respond`] (a JSON-RPC result; the server never sees the request).
    /// For `tools/call` the tool's name is in `req.target` ([`McpRequest::tool`]); the params
    /// are JSON text ([`McpRequest::parse_params`]).
    fn on_mcp_request(&self, req: &McpRequest, principal: &Principal) -> McpDecision;

    /// Sees the JSON-RPC result (JSON text) of a request this stage let through, such as a
    /// `tools/list` answer: `Some` replaces it (a filtered list, a redacted tool result),
    /// `None`, the default, keeps it. Error answers are not passed here.
    fn on_mcp_result(
        &self,
        req: &McpRequest,
        principal: &Principal,
        result: &str,
    ) -> Option<String> {
        let _ = (req, principal, result);
        None
    }
}

/// Stands in for the stages a plugin does not implement. Not for plugin authors.
#[doc(hidden)]
pub struct Unsupported;

fn unsupported(stage: &str) -> ErrorBody {
    ErrorBody::new(
        500,
        "server_error",
        Some("plugin_stage_mismatch"),
        format!("this plugin does not implement the {stage} stage"),
    )
}

impl Plugin for Unsupported {
    type Config = NoConfig;
    fn new(_: NoConfig) -> Result<Self, String> {
        Ok(Unsupported)
    }
}

impl Auth for Unsupported {
    fn authenticate(&self, _: &RequestCtx, _: Option<&str>) -> Result<Principal, ErrorBody> {
        Err(unsupported("auth"))
    }
}

impl Policy for Unsupported {
    fn on_request(&self, _: &RequestCtx, _: &Principal, _: &LlmMeta, _: &[u8]) -> Decision {
        Decision::Deny(unsupported("policy"))
    }
}

impl Adapter for Unsupported {
    type Stream = PassThrough;
    fn to_upstream(
        &self,
        _: &RequestCtx,
        _: &Provider,
        _: &[u8],
    ) -> Result<UpstreamCall, ErrorBody> {
        Err(unsupported("adapter"))
    }
    fn start_stream(&self, _: &RequestCtx, _: &Provider) -> PassThrough {
        PassThrough
    }
}

impl Enrich for Unsupported {
    fn on_response(&self, _: &RequestCtx, _: Option<&Principal>, _: &Outcome) -> Enrichment {
        Enrichment::default()
    }
}

impl crate::Guard for Unsupported {
    fn check_json(
        &self,
        _: &RequestCtx,
        _: Option<&Principal>,
        _: crate::Direction,
        _: &serde_json::Value,
    ) -> crate::GuardVerdict {
        crate::GuardVerdict::Deny(unsupported("guard"))
    }
    fn check_text(
        &self,
        _: &RequestCtx,
        _: Option<&Principal>,
        _: u32,
        _: &str,
        _: bool,
    ) -> crate::TextVerdict {
        crate::TextVerdict::Stop(unsupported("guard"))
    }
}

impl McpPolicy for Unsupported {
    fn on_mcp_request(&self, _: &McpRequest, _: &Principal) -> McpDecision {
        McpDecision::Deny(
            McpError::internal("this plugin does not implement the mcp-policy stage")
                .with_data(&serde_json::json!({"code": "plugin_stage_mismatch"})),
        )
    }
}
