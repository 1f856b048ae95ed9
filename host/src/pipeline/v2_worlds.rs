//! The stage worlds new in 0.2 (MCP policy, guard) as the host calls them. Unlike the LLM stage
//! worlds there is no 0.1 form to translate, so each is its 0.2 bindings.

use super::bindings::guard::{Guard, GuardPre};
use super::bindings::guard_stage::{Direction, TextVerdict, Verdict};
use super::bindings::mcp::{McpPolicy, McpPolicyPre};
use super::bindings::mcp_types::{McpDecision, McpRequest};
use super::bindings::types::{Endpoint, Principal, RequestCtx};
use super::plugin::{PluginInfo, World};
use crate::capabilities::PluginState;
use wasmtime::Store;
use wasmtime::component::InstancePre;

type Result<T> = wasmtime::Result<T>;

/// Declares a world that exists only in 0.2: its instance type and `World`.
macro_rules! v2_world {
    ($(#[$doc:meta])* $name:ident, $bindings:ident, $pre:ident) => {
        $(#[$doc])*
        pub struct $name($bindings);

        impl World for $name {
            type Pre = $pre<PluginState>;

            fn pre(pre: InstancePre<PluginState>) -> Result<Self::Pre> {
                $pre::new(pre)
            }

            async fn instantiate(pre: &Self::Pre, store: &mut Store<PluginState>) -> Result<Self> {
                Ok($name(pre.instantiate_async(store).await?))
            }

            async fn init(
                &self,
                store: &mut Store<PluginState>,
                config_json: &str,
            ) -> Result<std::result::Result<PluginInfo, String>> {
                Ok(self
                    .0
                    .sluice_plugin0_2_0_lifecycle()
                    .call_init(store, config_json)
                    .await?
                    .map(|i| PluginInfo {
                        wants_body: i.wants_body,
                        passthrough: i.passthrough,
                        look_behind: i.look_behind,
                        native_messages: i.native.contains(&Endpoint::Messages),
                        native_responses: i.native.contains(&Endpoint::Responses),
                    }))
            }
        }
    };
}

v2_world!(
    /// An instance of an MCP policy plugin.
    McpPolicyWorld,
    McpPolicy,
    McpPolicyPre
);

v2_world!(
    /// An instance of a guard plugin.
    GuardWorld,
    Guard,
    GuardPre
);

impl McpPolicyWorld {
    /// `on-mcp-request`.
    pub async fn on_request(
        &self,
        s: &mut Store<PluginState>,
        req: &McpRequest,
        principal: &Principal,
    ) -> Result<McpDecision> {
        self.0
            .sluice_plugin0_2_0_mcp_policy_stage()
            .call_on_mcp_request(s, req, principal)
            .await
    }

    /// `on-mcp-result`.
    pub async fn on_result(
        &self,
        s: &mut Store<PluginState>,
        req: &McpRequest,
        principal: &Principal,
        result: &str,
    ) -> Result<Option<String>> {
        self.0
            .sluice_plugin0_2_0_mcp_policy_stage()
            .call_on_mcp_result(s, req, principal, result)
            .await
    }
}

impl GuardWorld {
    /// `check-json`.
    pub async fn check_json(
        &self,
        s: &mut Store<PluginState>,
        ctx: &RequestCtx,
        principal: Option<&Principal>,
        direction: Direction,
        body: &str,
    ) -> Result<Verdict> {
        self.0
            .sluice_plugin0_2_0_guard_stage()
            .call_check_json(s, ctx, principal, direction, body)
            .await
    }

    /// `check-text`.
    pub async fn check_text(
        &self,
        s: &mut Store<PluginState>,
        ctx: &RequestCtx,
        principal: Option<&Principal>,
        choice: u32,
        text: &str,
        last: bool,
    ) -> Result<TextVerdict> {
        self.0
            .sluice_plugin0_2_0_guard_stage()
            .call_check_text(s, ctx, principal, choice, text, last)
            .await
    }
}
