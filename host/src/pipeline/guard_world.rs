//! The guard world as the host calls it. It is new in 0.2, so unlike the LLM stage worlds there
//! is no 0.1 form to translate.

use super::bindings::guard::{Guard, GuardPre};
use super::bindings::guard_stage::{Direction, TextVerdict, Verdict};
use super::bindings::types::{Principal, RequestCtx};
use super::plugin::{PluginInfo, World};
use crate::capabilities::PluginState;
use wasmtime::Store;
use wasmtime::component::InstancePre;

type Result<T> = wasmtime::Result<T>;

/// An instance of a guard plugin.
pub struct GuardWorld(Guard);

impl World for GuardWorld {
    type Pre = GuardPre<PluginState>;

    fn pre(pre: InstancePre<PluginState>) -> Result<Self::Pre> {
        GuardPre::new(pre)
    }

    async fn instantiate(pre: &Self::Pre, store: &mut Store<PluginState>) -> Result<Self> {
        Ok(GuardWorld(pre.instantiate_async(store).await?))
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
