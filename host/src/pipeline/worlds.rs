//! The stage worlds as the host calls them, whichever contract a plugin was built against: each
//! world is an enum of its 0.2 and 0.1 bindings, type-checked 0.2 first. Every call takes and
//! returns 0.2 values; a 0.1 plugin's calls go through `compat`.

use super::bindings::{v1, v2};
use super::compat;
use super::plugin::{PluginInfo, World};
use crate::capabilities::PluginState;
use v2::adapter_if::{Provider, UpstreamCall};
use v2::types::{
    Decision, Enrichment, ErrorBody, HttpResponse, LlmMeta, Outcome, Principal, RequestCtx,
    SseEvent, Usage, Endpoint,
};
use wasmtime::Store;
use wasmtime::component::{InstancePre, ResourceAny};

type Result<T> = wasmtime::Result<T>;
type Store_ = Store<PluginState>;

/// Declares a stage world: the enum of both versions, its pre-instantiated form and `World`.
macro_rules! world {
    ($name:ident, $pre:ident, $module:ident, $world:ident, $world_pre:ident) => {
        /// A plugin instance of this stage, by contract version.
        pub enum $name {
            /// Built against sluice:plugin@0.2.0.
            V2(v2::$module::$world),
            /// Built against sluice:plugin@0.1.0.
            V1(v1::$module::$world),
        }

        /// The pre-instantiated form, by contract version.
        #[derive(Clone)]
        pub enum $pre {
            /// 0.2.0.
            V2(v2::$module::$world_pre<PluginState>),
            /// 0.1.0.
            V1(v1::$module::$world_pre<PluginState>),
        }

        impl World for $name {
            type Pre = $pre;

            fn pre(pre: InstancePre<PluginState>) -> Result<$pre> {
                match v2::$module::$world_pre::new(pre.clone()) {
                    Ok(p) => Ok($pre::V2(p)),
                    // Neither: report why it is not the current contract.
                    Err(e) => v1::$module::$world_pre::new(pre)
                        .map($pre::V1)
                        .map_err(|_| e),
                }
            }

            async fn instantiate(pre: &$pre, store: &mut Store_) -> Result<Self> {
                Ok(match pre {
                    $pre::V2(p) => $name::V2(p.instantiate_async(store).await?),
                    $pre::V1(p) => $name::V1(p.instantiate_async(store).await?),
                })
            }

            async fn init(
                &self,
                store: &mut Store_,
                config_json: &str,
            ) -> Result<std::result::Result<PluginInfo, String>> {
                Ok(match self {
                    $name::V2(w) => w
                        .sluice_plugin0_2_0_lifecycle()
                        .call_init(store, config_json)
                        .await?
                        .map(|i| PluginInfo {
                            wants_body: i.wants_body,
                            passthrough: i.passthrough,
                            look_behind: i.look_behind,
                            native_messages: i.native.contains(&Endpoint::Messages),
                            native_responses: i.native.contains(&Endpoint::Responses),
                        }),
                    $name::V1(w) => w
                        .sluice_plugin_lifecycle()
                        .call_init(store, config_json)
                        .await?
                        .map(|i| PluginInfo {
                            wants_body: i.wants_body,
                            passthrough: i.passthrough,
                            look_behind: 0,
                            native_messages: false,
                            native_responses: false,
                        }),
                })
            }
        }
    };
}

world!(AuthWorld, AuthPre, auth, Auth, AuthPre);
world!(PolicyWorld, PolicyPre, policy, Policy, PolicyPre);
world!(
    AdapterWorld,
    AdapterPre,
    adapter,
    ProviderAdapter,
    ProviderAdapterPre
);
world!(EnrichWorld, EnrichPre, enrich, Enrich, EnrichPre);

impl AuthWorld {
    /// `authenticate`.
    pub async fn authenticate(
        &self,
        s: &mut Store_,
        ctx: &RequestCtx,
        credential: Option<&str>,
    ) -> Result<std::result::Result<Principal, ErrorBody>> {
        Ok(match self {
            AuthWorld::V2(w) => {
                w.sluice_plugin0_2_0_auth_stage()
                    .call_authenticate(s, ctx, credential)
                    .await?
            }
            AuthWorld::V1(w) => w
                .sluice_plugin_auth_stage()
                .call_authenticate(s, &compat::ctx(ctx), credential)
                .await?
                .map(compat::principal_back)
                .map_err(compat::error_back),
        })
    }
}

impl PolicyWorld {
    /// `on-request`.
    pub async fn on_request(
        &self,
        s: &mut Store_,
        ctx: &RequestCtx,
        principal: &Principal,
        meta: &LlmMeta,
        body: &[u8],
    ) -> Result<Decision> {
        Ok(match self {
            PolicyWorld::V2(w) => {
                w.sluice_plugin0_2_0_policy_stage()
                    .call_on_request(s, ctx, principal, *meta, body)
                    .await?
            }
            PolicyWorld::V1(w) => compat::decision_back(
                w.sluice_plugin_policy_stage()
                    .call_on_request(
                        s,
                        &compat::ctx(ctx),
                        &compat::principal(principal),
                        &compat::meta(ctx, meta),
                        &compat::request(ctx, body),
                    )
                    .await?,
            ),
        })
    }

    /// `on-complete`.
    pub async fn on_complete(
        &self,
        s: &mut Store_,
        ctx: &RequestCtx,
        principal: &Principal,
        meta: &LlmMeta,
        outcome: &Outcome,
    ) -> Result<()> {
        match self {
            PolicyWorld::V2(w) => {
                w.sluice_plugin0_2_0_policy_stage()
                    .call_on_complete(s, ctx, principal, *meta, outcome)
                    .await
            }
            PolicyWorld::V1(w) => {
                w.sluice_plugin_policy_stage()
                    .call_on_complete(
                        s,
                        &compat::ctx(ctx),
                        &compat::principal(principal),
                        &compat::meta(ctx, meta),
                        &compat::outcome(outcome),
                    )
                    .await
            }
        }
    }
}

impl EnrichWorld {
    /// `on-response`.
    pub async fn on_response(
        &self,
        s: &mut Store_,
        ctx: &RequestCtx,
        principal: Option<&Principal>,
        outcome: &Outcome,
    ) -> Result<Enrichment> {
        Ok(match self {
            EnrichWorld::V2(w) => {
                w.sluice_plugin0_2_0_enrich_stage()
                    .call_on_response(s, ctx, principal, outcome)
                    .await?
            }
            EnrichWorld::V1(w) => {
                let principal = principal.map(compat::principal);
                compat::enrichment_back(
                    w.sluice_plugin_enrich_stage()
                        .call_on_response(
                            s,
                            &compat::ctx(ctx),
                            principal.as_ref(),
                            &compat::outcome(outcome),
                        )
                        .await?,
                )
            }
        })
    }
}

/// A stream being translated inside an adapter instance.
pub enum StreamHandle {
    /// A 0.2 `stream-translator` resource.
    V2(ResourceAny),
    /// A 0.1 instance translates with its own state, between `to-upstream` and `finish-stream`.
    V1,
}

type StreamEnd = std::result::Result<(Vec<SseEvent>, Option<Usage>), ErrorBody>;

impl AdapterWorld {
    /// `to-upstream`.
    pub async fn to_upstream(
        &self,
        s: &mut Store_,
        ctx: &RequestCtx,
        provider: &Provider,
        body: &[u8],
    ) -> Result<std::result::Result<UpstreamCall, ErrorBody>> {
        Ok(match self {
            AdapterWorld::V2(w) => {
                w.sluice_plugin0_2_0_adapter()
                    .call_to_upstream(s, ctx, provider, body)
                    .await?
            }
            AdapterWorld::V1(w) => w
                .sluice_plugin_adapter()
                .call_to_upstream(
                    s,
                    &compat::ctx(ctx),
                    &compat::provider(provider),
                    &compat::request(ctx, body),
                )
                .await?
                .map(compat::call_back)
                .map_err(compat::error_back),
        })
    }

    /// `from-upstream`.
    pub async fn from_upstream(
        &self,
        s: &mut Store_,
        ctx: &RequestCtx,
        resp: &HttpResponse,
    ) -> Result<std::result::Result<Option<HttpResponse>, ErrorBody>> {
        Ok(match self {
            AdapterWorld::V2(w) => {
                w.sluice_plugin0_2_0_adapter()
                    .call_from_upstream(s, ctx, resp)
                    .await?
            }
            AdapterWorld::V1(w) => w
                .sluice_plugin_adapter()
                .call_from_upstream(s, &compat::ctx(ctx), &compat::response(resp))
                .await?
                .map(|r| {
                    r.map(|r| HttpResponse {
                        status: r.status,
                        headers: r.headers,
                        body: r.body,
                    })
                })
                .map_err(compat::error_back),
        })
    }

    /// Starts translating a stream.
    pub async fn open_stream(
        &self,
        s: &mut Store_,
        ctx: &RequestCtx,
        provider: &Provider,
    ) -> Result<StreamHandle> {
        Ok(match self {
            AdapterWorld::V2(w) => StreamHandle::V2(
                w.sluice_plugin0_2_0_adapter()
                    .stream_translator()
                    .call_constructor(s, ctx, provider)
                    .await?,
            ),
            AdapterWorld::V1(_) => StreamHandle::V1,
        })
    }

    /// Translates one upstream event.
    pub async fn on_event(
        &self,
        s: &mut Store_,
        stream: &StreamHandle,
        event: &SseEvent,
    ) -> Result<std::result::Result<Vec<SseEvent>, ErrorBody>> {
        Ok(match (self, stream) {
            (AdapterWorld::V2(w), StreamHandle::V2(r)) => {
                w.sluice_plugin0_2_0_adapter()
                    .stream_translator()
                    .call_on_event(s, *r, event)
                    .await?
            }
            (AdapterWorld::V1(w), _) => w
                .sluice_plugin_adapter()
                .call_from_upstream_event(s, &compat::event(event))
                .await?
                .map(compat::events_back)
                .map_err(compat::error_back),
            (AdapterWorld::V2(_), StreamHandle::V1) => {
                return Err(wasmtime::Error::msg("a 0.2 adapter has no 0.1 stream"));
            }
        })
    }

    /// Ends a stream: its last events and usage. The translator is gone afterwards.
    pub async fn finish(&self, s: &mut Store_, stream: StreamHandle) -> Result<StreamEnd> {
        Ok(match (self, stream) {
            (AdapterWorld::V2(w), StreamHandle::V2(r)) => {
                let end = w
                    .sluice_plugin0_2_0_adapter()
                    .stream_translator()
                    .call_finish(&mut *s, r)
                    .await;
                r.resource_drop_async(&mut *s).await?;
                end?
            }
            (AdapterWorld::V1(w), _) => w
                .sluice_plugin_adapter()
                .call_finish_stream(s)
                .await?
                .map(|(events, usage)| (compat::events_back(events), usage.map(compat::usage_back)))
                .map_err(compat::error_back),
            (AdapterWorld::V2(_), StreamHandle::V1) => {
                return Err(wasmtime::Error::msg("a 0.2 adapter has no 0.1 stream"));
            }
        })
    }

    /// Drops a stream that ends without `finish` (its client went away).
    pub async fn close(&self, s: &mut Store_, stream: StreamHandle) -> Result<()> {
        match stream {
            StreamHandle::V2(r) => r.resource_drop_async(s).await,
            StreamHandle::V1 => Ok(()),
        }
    }
}
