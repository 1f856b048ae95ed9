//! The traits a plugin implements, one per stage, and the macros that export them.

use crate::{
    Decision, Enrichment, ErrorBody, HttpRequest, HttpResponse, LlmMeta, Outcome, PluginInfo,
    Principal, Provider, RequestCtx, SseEvent, UpstreamCall, Usage,
};

/// What every plugin implements: how it starts. The defaults accept any config.
pub trait Plugin {
    /// Validates this plugin's config (its `config` table in `gateway.toml`, as JSON) when the
    /// gateway loads or reloads it. An error rejects the load and names this plugin; on reload the
    /// gateway keeps its previous pipeline.
    fn init(config_json: &str) -> Result<PluginInfo, String> {
        let _ = config_json;
        Ok(PluginInfo::default())
    }
}

/// The auth stage: turns a credential into a [`Principal`] or refuses the request.
pub trait Auth: Plugin {
    /// Authenticates a request. `credential` is the bearer token (or `x-api-key` header) if the
    /// client sent one. Answer 401 ([`ErrorBody::invalid_api_key`]) for a missing or wrong key.
    fn authenticate(ctx: RequestCtx, credential: Option<String>) -> Result<Principal, ErrorBody>;
}

/// The policy stage: rate limits, budgets, allow-lists and custom rules.
pub trait Policy: Plugin {
    /// Decides on a request before it goes upstream: [`Decision::Continue`] (optionally adding
    /// headers, metadata or a rewritten body), [`Decision::Deny`] or [`Decision::Respond`].
    fn on_request(
        ctx: RequestCtx,
        principal: Principal,
        meta: LlmMeta,
        req: HttpRequest,
    ) -> Decision;

    /// Called once the response is complete, with its outcome and usage. The default does nothing.
    fn on_complete(ctx: RequestCtx, principal: Principal, meta: LlmMeta, outcome: Outcome) {
        let _ = (ctx, principal, meta, outcome);
    }
}

/// A provider adapter: maps the OpenAI API to a provider's API and back. The host makes the HTTP
/// call; an adapter only translates.
pub trait Adapter: Plugin {
    /// Builds the request the host sends to `provider`.
    fn to_upstream(
        ctx: RequestCtx,
        provider: Provider,
        req: HttpRequest,
    ) -> Result<UpstreamCall, ErrorBody>;

    /// Maps a whole upstream response (any status) to an OpenAI response. `Ok(None)`, the
    /// default, passes it through unchanged.
    fn from_upstream(
        ctx: RequestCtx,
        resp: HttpResponse,
    ) -> Result<Option<HttpResponse>, ErrorBody> {
        let _ = (ctx, resp);
        Ok(None)
    }

    /// Maps one upstream stream event to OpenAI chunk events. The default forwards it unchanged.
    fn from_upstream_event(event: SseEvent) -> Result<Vec<SseEvent>, ErrorBody> {
        Ok(vec![event])
    }

    /// Called when the upstream stream ends: events to append and the stream's usage, if the
    /// adapter tracked it. The default adds nothing and lets the host read usage from the chunks.
    fn finish_stream() -> Result<(Vec<SseEvent>, Option<Usage>), ErrorBody> {
        Ok((Vec::new(), None))
    }
}

/// The enrich stage: adds fields to the response's `sluice` object and headers to the response.
pub trait Enrich: Plugin {
    /// Called when a response is complete, before its body (or last stream chunk) is sent.
    fn on_response(ctx: RequestCtx, principal: Option<Principal>, outcome: Outcome) -> Enrichment;
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

impl Plugin for Unsupported {}

impl Auth for Unsupported {
    fn authenticate(_: RequestCtx, _: Option<String>) -> Result<Principal, ErrorBody> {
        Err(unsupported("auth"))
    }
}

impl Policy for Unsupported {
    fn on_request(_: RequestCtx, _: Principal, _: LlmMeta, _: HttpRequest) -> Decision {
        Decision::Deny(unsupported("policy"))
    }
}

impl Adapter for Unsupported {
    fn to_upstream(_: RequestCtx, _: Provider, _: HttpRequest) -> Result<UpstreamCall, ErrorBody> {
        Err(unsupported("adapter"))
    }
}

impl Enrich for Unsupported {
    fn on_response(_: RequestCtx, _: Option<Principal>, _: Outcome) -> Enrichment {
        Enrichment::default()
    }
}

/// Exports an [`Auth`] plugin. Call it once, at the crate root of a `cdylib` crate.
///
/// ```ignore
/// struct MyAuth;
/// impl sluice_plugin_sdk::Plugin for MyAuth {}
/// impl sluice_plugin_sdk::Auth for MyAuth { /* ... */ }
/// sluice_plugin_sdk::export_auth!(MyAuth);
/// ```
#[macro_export]
macro_rules! export_auth {
    ($plugin:ty) => {
        $crate::__export_stages!(init: $plugin, auth: $plugin, policy: $crate::__Unsupported,
            adapter: $crate::__Unsupported, enrich: $crate::__Unsupported);
    };
}

/// Exports a [`Policy`] plugin. Call it once, at the crate root of a `cdylib` crate.
///
/// ```ignore
/// struct MyRule;
/// impl sluice_plugin_sdk::Plugin for MyRule {}
/// impl sluice_plugin_sdk::Policy for MyRule { /* ... */ }
/// sluice_plugin_sdk::export_policy!(MyRule);
/// ```
#[macro_export]
macro_rules! export_policy {
    ($plugin:ty) => {
        $crate::__export_stages!(init: $plugin, auth: $crate::__Unsupported, policy: $plugin,
            adapter: $crate::__Unsupported, enrich: $crate::__Unsupported);
    };
}

/// Exports an [`Adapter`] plugin. Call it once, at the crate root of a `cdylib` crate.
///
/// ```ignore
/// struct MyProvider;
/// impl sluice_plugin_sdk::Plugin for MyProvider {}
/// impl sluice_plugin_sdk::Adapter for MyProvider { /* ... */ }
/// sluice_plugin_sdk::export_adapter!(MyProvider);
/// ```
#[macro_export]
macro_rules! export_adapter {
    ($plugin:ty) => {
        $crate::__export_stages!(init: $plugin, auth: $crate::__Unsupported,
            policy: $crate::__Unsupported, adapter: $plugin, enrich: $crate::__Unsupported);
    };
}

/// Exports an [`Enrich`] plugin. Call it once, at the crate root of a `cdylib` crate.
///
/// ```ignore
/// struct TraceId;
/// impl sluice_plugin_sdk::Plugin for TraceId {}
/// impl sluice_plugin_sdk::Enrich for TraceId { /* ... */ }
/// sluice_plugin_sdk::export_enrich!(TraceId);
/// ```
#[macro_export]
macro_rules! export_enrich {
    ($plugin:ty) => {
        $crate::__export_stages!(init: $plugin, auth: $crate::__Unsupported,
            policy: $crate::__Unsupported, adapter: $crate::__Unsupported, enrich: $plugin);
    };
}

/// Implements every generated export on a hidden type, delegating each stage to the given type.
#[doc(hidden)]
#[macro_export]
macro_rules! __export_stages {
    (init: $init:ty, auth: $auth:ty, policy: $policy:ty, adapter: $adapter:ty, enrich: $enrich:ty) => {
        /// Native builds (a plugin's unit tests) have no component exports; this keeps the
        /// plugin's entry points reachable there, so they are compiled and linted the same way.
        #[cfg(not(target_arch = "wasm32"))]
        #[doc(hidden)]
        pub fn __sluice_entry_points() -> [usize; 9] {
            [
                <$init as $crate::Plugin>::init as *const () as usize,
                <$auth as $crate::Auth>::authenticate as *const () as usize,
                <$policy as $crate::Policy>::on_request as *const () as usize,
                <$policy as $crate::Policy>::on_complete as *const () as usize,
                <$adapter as $crate::Adapter>::to_upstream as *const () as usize,
                <$adapter as $crate::Adapter>::from_upstream as *const () as usize,
                <$adapter as $crate::Adapter>::from_upstream_event as *const () as usize,
                <$adapter as $crate::Adapter>::finish_stream as *const () as usize,
                <$enrich as $crate::Enrich>::on_response as *const () as usize,
            ]
        }

        const _: () = {
            use $crate::bindings::exports::sluice::plugin as __x;
            use $crate::bindings::sluice::plugin::types as __t;

            struct __SluiceExports;

            impl __x::lifecycle::Guest for __SluiceExports {
                fn init(config_json: String) -> Result<$crate::PluginInfo, String> {
                    <$init as $crate::Plugin>::init(&config_json)
                }
            }

            impl __x::auth_stage::Guest for __SluiceExports {
                fn authenticate(
                    ctx: __t::RequestCtx,
                    credential: Option<String>,
                ) -> Result<__t::Principal, __t::ErrorBody> {
                    <$auth as $crate::Auth>::authenticate(ctx, credential)
                }
            }

            impl __x::policy_stage::Guest for __SluiceExports {
                fn on_request(
                    ctx: __t::RequestCtx,
                    principal: __t::Principal,
                    meta: __t::LlmMeta,
                    req: __t::HttpRequest,
                ) -> __t::Decision {
                    <$policy as $crate::Policy>::on_request(ctx, principal, meta, req)
                }
                fn on_complete(
                    ctx: __t::RequestCtx,
                    principal: __t::Principal,
                    meta: __t::LlmMeta,
                    outcome: __t::Outcome,
                ) {
                    <$policy as $crate::Policy>::on_complete(ctx, principal, meta, outcome)
                }
            }

            impl __x::adapter::Guest for __SluiceExports {
                fn to_upstream(
                    ctx: __t::RequestCtx,
                    provider: __x::adapter::Provider,
                    req: __t::HttpRequest,
                ) -> Result<__x::adapter::UpstreamCall, __t::ErrorBody> {
                    <$adapter as $crate::Adapter>::to_upstream(ctx, provider, req)
                }
                fn from_upstream(
                    ctx: __t::RequestCtx,
                    resp: __t::HttpResponse,
                ) -> Result<Option<__t::HttpResponse>, __t::ErrorBody> {
                    <$adapter as $crate::Adapter>::from_upstream(ctx, resp)
                }
                fn from_upstream_event(
                    event: __t::SseEvent,
                ) -> Result<Vec<__t::SseEvent>, __t::ErrorBody> {
                    <$adapter as $crate::Adapter>::from_upstream_event(event)
                }
                fn finish_stream()
                -> Result<(Vec<__t::SseEvent>, Option<__t::Usage>), __t::ErrorBody> {
                    <$adapter as $crate::Adapter>::finish_stream()
                }
            }

            impl __x::enrich_stage::Guest for __SluiceExports {
                fn on_response(
                    ctx: __t::RequestCtx,
                    principal: Option<__t::Principal>,
                    outcome: __t::Outcome,
                ) -> __t::Enrichment {
                    <$enrich as $crate::Enrich>::on_response(ctx, principal, outcome)
                }
            }

            // Native builds (unit tests of a plugin's logic) export nothing: component exports
            // only mean something in a Wasm component.
            #[cfg(target_arch = "wasm32")]
    $crate::bindings::__export_sdk_world!(__SluiceExports with_types_in $crate::bindings);
        };
    };
}
