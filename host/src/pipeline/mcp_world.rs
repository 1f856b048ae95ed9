//! The MCP policy world as the host calls it. It is new in 0.2, so unlike the LLM stage worlds
//! there is no 0.1 form to translate.

use super::bindings::mcp::McpPolicy;
use super::bindings::mcp::McpPolicyPre;
use super::bindings::mcp_types::{McpDecision, McpRequest};
use super::bindings::types::Principal;
use super::plugin::{PluginInfo, World};
use crate::capabilities::PluginState;
use wasmtime::Store;
use wasmtime::component::InstancePre;

type Result<T> = wasmtime::Result<T>;

/// An instance of an MCP policy plugin.
pub struct McpPolicyWorld(McpPolicy);

impl World for McpPolicyWorld {
    type Pre = McpPolicyPre<PluginState>;

    fn pre(pre: InstancePre<PluginState>) -> Result<Self::Pre> {
        McpPolicyPre::new(pre)
    }

    async fn instantiate(pre: &Self::Pre, store: &mut Store<PluginState>) -> Result<Self> {
        Ok(McpPolicyWorld(pre.instantiate_async(store).await?))
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
            }))
    }
}

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
