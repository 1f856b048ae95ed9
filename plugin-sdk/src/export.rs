//! The macros that export a plugin: one per stage. Each builds the plugin once per instance
//! (see [`crate::Plugin`]) and serves the stage's WIT functions from it.

/// Exports an [`Auth`](crate::Auth) plugin. Call it once, at the crate root of a `cdylib` crate.
///
/// ```ignore
/// sluice_plugin_sdk::export_auth!(MyAuth);
/// ```
#[macro_export]
macro_rules! export_auth {
    ($plugin:ty) => {
        $crate::__export_stages!($plugin; auth: __SluicePlugin, policy: $crate::__Unsupported,
            adapter: $crate::__Unsupported, enrich: $crate::__Unsupported,
            mcp: $crate::__Unsupported, guard: $crate::__Unsupported);
    };
}

/// Exports a [`Policy`](crate::Policy) plugin. Call it once, at the crate root of a `cdylib`
/// crate.
///
/// ```ignore
/// sluice_plugin_sdk::export_policy!(MyRule);
/// ```
#[macro_export]
macro_rules! export_policy {
    ($plugin:ty) => {
        $crate::__export_stages!($plugin; auth: $crate::__Unsupported, policy: __SluicePlugin,
            adapter: $crate::__Unsupported, enrich: $crate::__Unsupported,
            mcp: $crate::__Unsupported, guard: $crate::__Unsupported);
    };
}

/// Exports an [`Adapter`](crate::Adapter) plugin. Call it once, at the crate root of a `cdylib`
/// crate.
///
/// ```ignore
/// sluice_plugin_sdk::export_adapter!(MyProvider);
/// ```
#[macro_export]
macro_rules! export_adapter {
    ($plugin:ty) => {
        $crate::__export_stages!($plugin; auth: $crate::__Unsupported,
            policy: $crate::__Unsupported, adapter: __SluicePlugin, enrich: $crate::__Unsupported,
            mcp: $crate::__Unsupported, guard: $crate::__Unsupported);
    };
}

/// Exports an [`Enrich`](crate::Enrich) plugin. Call it once, at the crate root of a `cdylib`
/// crate.
///
/// ```ignore
/// sluice_plugin_sdk::export_enrich!(TraceId);
/// ```
#[macro_export]
macro_rules! export_enrich {
    ($plugin:ty) => {
        $crate::__export_stages!($plugin; auth: $crate::__Unsupported,
            policy: $crate::__Unsupported, adapter: $crate::__Unsupported, enrich: __SluicePlugin,
            mcp: $crate::__Unsupported, guard: $crate::__Unsupported);
    };
}

/// Exports an [`McpPolicy`](crate::McpPolicy) plugin. Call it once, at the crate root of a
/// `cdylib` crate.
///
/// ```ignore
/// sluice_plugin_sdk::export_mcp_policy!(ToolRules);
/// ```
#[macro_export]
macro_rules! export_mcp_policy {
    ($plugin:ty) => {
        $crate::__export_stages!($plugin; auth: $crate::__Unsupported,
            policy: $crate::__Unsupported, adapter: $crate::__Unsupported,
            enrich: $crate::__Unsupported, mcp: __SluicePlugin, guard: $crate::__Unsupported);
    };
}

/// Exports a [`Guard`](crate::Guard) plugin. Call it once, at the crate root of a `cdylib`
/// crate.
///
/// ```ignore
/// sluice_plugin_sdk::export_guard!(NoSecrets);
/// ```
#[macro_export]
macro_rules! export_guard {
    ($plugin:ty) => {
        $crate::__export_stages!($plugin; auth: $crate::__Unsupported,
            policy: $crate::__Unsupported, adapter: $crate::__Unsupported,
            enrich: $crate::__Unsupported, mcp: $crate::__Unsupported, guard: __SluicePlugin);
    };
}

/// Implements every generated export on a hidden type. Each stage is served by a
/// [`Source`](crate::__glue::Source): `__SluicePlugin` (this instance's plugin) for the stage the
/// plugin implements, `__Unsupported` for the others.
#[doc(hidden)]
#[macro_export]
macro_rules! __export_stages {
    ($plugin:ty; auth: $auth:ty, policy: $policy:ty, adapter: $adapter:ty, enrich: $enrich:ty,
        mcp: $mcp:ty, guard: $guard:ty) => {
        /// Finds this instance's plugin value.
        #[allow(dead_code)]
        enum __SluicePlugin {}

        ::std::thread_local! {
            /// The plugin value of this instance.
            static __SLUICE_INSTANCE: $crate::__glue::Instance<$plugin> =
                const { $crate::__glue::Instance::new() };
        }

        impl $crate::__glue::Source for __SluicePlugin {
            type Stage = $plugin;
            fn stage() -> ::std::result::Result<&'static $plugin, ::std::string::String> {
                __SLUICE_INSTANCE.with($crate::__glue::Instance::get)
            }
        }

        /// The type the generated component exports are implemented on.
        #[allow(dead_code)]
        enum __SluiceExports {}

        impl $crate::bindings::exports::sluice::plugin0_2_0::lifecycle::Guest for __SluiceExports {
            fn init(config_json: String) -> Result<$crate::PluginInfo, String> {
                __SLUICE_INSTANCE.with(|i| i.init(&config_json))
            }
        }

        impl $crate::bindings::exports::sluice::plugin0_2_0::auth_stage::Guest for __SluiceExports {
            fn authenticate(
                ctx: $crate::RequestCtx,
                credential: Option<String>,
            ) -> Result<$crate::Principal, $crate::ErrorBody> {
                $crate::__glue::authenticate::<$auth>(ctx, credential)
            }
        }

        impl $crate::bindings::exports::sluice::plugin0_2_0::policy_stage::Guest for __SluiceExports {
            fn on_request(
                ctx: $crate::RequestCtx,
                principal: $crate::Principal,
                meta: $crate::LlmMeta,
                body: Vec<u8>,
            ) -> $crate::Decision {
                $crate::__glue::on_request::<$policy>(ctx, principal, meta, body)
            }
            fn on_complete(
                ctx: $crate::RequestCtx,
                principal: $crate::Principal,
                meta: $crate::LlmMeta,
                outcome: $crate::Outcome,
            ) {
                $crate::__glue::on_complete::<$policy>(ctx, principal, meta, outcome)
            }
        }

        impl $crate::bindings::exports::sluice::plugin0_2_0::adapter::Guest for __SluiceExports {
            type StreamTranslator = $crate::__glue::Translator<$adapter>;
            fn to_upstream(
                ctx: $crate::RequestCtx,
                provider: $crate::Provider,
                body: Vec<u8>,
            ) -> Result<$crate::UpstreamCall, $crate::ErrorBody> {
                $crate::__glue::to_upstream::<$adapter>(ctx, provider, body)
            }
            fn from_upstream(
                ctx: $crate::RequestCtx,
                resp: $crate::HttpResponse,
            ) -> Result<Option<$crate::HttpResponse>, $crate::ErrorBody> {
                $crate::__glue::from_upstream::<$adapter>(ctx, resp)
            }
        }

        impl $crate::bindings::exports::sluice::plugin0_2_0::enrich_stage::Guest for __SluiceExports {
            fn on_response(
                ctx: $crate::RequestCtx,
                principal: Option<$crate::Principal>,
                outcome: $crate::Outcome,
            ) -> $crate::Enrichment {
                $crate::__glue::on_response::<$enrich>(ctx, principal, outcome)
            }
        }

        impl $crate::bindings::exports::sluice::plugin0_2_0::mcp_policy_stage::Guest
            for __SluiceExports
        {
            fn on_mcp_request(
                req: $crate::McpRequest,
                principal: $crate::Principal,
            ) -> $crate::McpDecision {
                $crate::__glue::on_mcp_request::<$mcp>(req, principal)
            }
            fn on_mcp_result(
                req: $crate::McpRequest,
                principal: $crate::Principal,
                result: String,
            ) -> Option<String> {
                $crate::__glue::on_mcp_result::<$mcp>(req, principal, result)
            }
        }

        impl $crate::bindings::exports::sluice::plugin0_2_0::guard_stage::Guest for __SluiceExports {
            fn check_json(
                ctx: $crate::RequestCtx,
                principal: Option<$crate::Principal>,
                direction: $crate::Direction,
                body: String,
            ) -> $crate::Verdict {
                $crate::__glue::check_json::<$guard>(ctx, principal, direction, body)
            }
            fn check_text(
                ctx: $crate::RequestCtx,
                principal: Option<$crate::Principal>,
                choice: u32,
                text: String,
                last: bool,
            ) -> $crate::TextVerdict {
                $crate::__glue::check_text::<$guard>(ctx, principal, choice, text, last)
            }
        }

        /// Native builds (a plugin's unit tests) have no component exports; this keeps the
        /// exports reachable there, so they are compiled and linted the same way.
        #[cfg(not(target_arch = "wasm32"))]
        #[doc(hidden)]
        pub fn __sluice_entry_points() -> [usize; 14] {
            use $crate::bindings::exports::sluice::plugin0_2_0 as x;
            use $crate::bindings::exports::sluice::plugin0_2_0::adapter::GuestStreamTranslator as T;
            type Translator = $crate::__glue::Translator<$adapter>;
            [
                <__SluiceExports as x::lifecycle::Guest>::init as *const () as usize,
                <__SluiceExports as x::auth_stage::Guest>::authenticate as *const () as usize,
                <__SluiceExports as x::policy_stage::Guest>::on_request as *const () as usize,
                <__SluiceExports as x::policy_stage::Guest>::on_complete as *const () as usize,
                <__SluiceExports as x::adapter::Guest>::to_upstream as *const () as usize,
                <__SluiceExports as x::adapter::Guest>::from_upstream as *const () as usize,
                <Translator as T>::new as *const () as usize,
                <Translator as T>::on_event as *const () as usize,
                <Translator as T>::finish as *const () as usize,
                <__SluiceExports as x::enrich_stage::Guest>::on_response as *const () as usize,
                <__SluiceExports as x::mcp_policy_stage::Guest>::on_mcp_request as *const ()
                    as usize,
                <__SluiceExports as x::mcp_policy_stage::Guest>::on_mcp_result as *const ()
                    as usize,
                <__SluiceExports as x::guard_stage::Guest>::check_json as *const () as usize,
                <__SluiceExports as x::guard_stage::Guest>::check_text as *const () as usize,
            ]
        }

        // Native builds (unit tests of a plugin's logic) export nothing: component exports
        // only mean something in a Wasm component.
        #[cfg(target_arch = "wasm32")]
        $crate::bindings::__export_sdk_world!(__SluiceExports with_types_in $crate::bindings);
    };
}
