//! `mcp-tools`: which MCP tools a key may see and call, per key, owner, team, attribute and
//! server, and how many tool calls a key may make per minute.
//!
//! ```toml
//! [[plugins]]
//! name = "tools"
//! stage = "mcp-policy"
//! source = "builtin:mcp-tools"
//! [plugins.config]
//! calls_per_minute = 120   # tools/call per key per minute, over all servers; 0 or absent:
//!                          # unlimited. A key's `mcp_calls_per_minute` attribute overrides it.
//! [[plugins.config.rules]] # the first rule whose selectors all match the key and server decides
//! teams = ["admins"]       # selectors, all optional; every one given must match: keys, owners,
//!                          # teams, servers, attributes = { tier = "gold" }
//! allow = ["*"]            # globs over tool names (`*`, `?`); default ["*"]
//! deny = []                # globs; default []
//! [[plugins.config.rules]]
//! deny = ["delete_*"]      # everyone else: every tool but delete_*
//! ```
//!
//! A tool is permitted when the first rule that selects the key and server allows it (an `allow`
//! glob matches its name and no `deny` glob does); when no rule selects them, every tool is.
//!
//! - `tools/call` of a tool that is not permitted is answered with the JSON-RPC error -32003
//!   (the server never sees it); one over the key's rate with -32004 and `data.retry_after`
//!   (seconds). The rate is counted in the host's `kv` store, in fixed one-minute windows.
//! - `tools/list` answers lose the tools that are not permitted; every other field of the answer
//!   (such as `nextCursor`) is kept.
//!
//! Unknown config fields, and selector lists that are empty, reject the load.

mod rules;

use rules::{Rule, RuleConfig, Rules};
use serde::Deserialize;
use sluice_plugin_sdk::kv::{self, WindowCount};
use sluice_plugin_sdk::{McpDecision, McpError, McpPolicy, McpRequest, Plugin, Principal};

/// The JSON-RPC error code of a tool that is not permitted.
pub const TOOL_NOT_ALLOWED: i32 = -32003;
/// The JSON-RPC error code of a tool call over the key's rate.
pub const RATE_LIMITED: i32 = -32004;
/// The key attribute that overrides `calls_per_minute`.
pub const RATE_ATTRIBUTE: &str = "mcp_calls_per_minute";
/// Fixed windows of one minute.
const WINDOW_MS: u64 = 60_000;

/// The plugin's config table.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default)]
    calls_per_minute: u64,
    #[serde(default)]
    rules: Vec<RuleConfig>,
}

/// The plugin: its rules compiled once per instance, and the default rate.
struct McpTools {
    rules: Rules,
    calls_per_minute: u64,
}

impl Plugin for McpTools {
    type Config = Config;
    fn new(config: Config) -> Result<Self, String> {
        let rules = config
            .rules
            .into_iter()
            .enumerate()
            .map(|(i, c)| Rule::new(i, c))
            .collect::<Result<_, _>>()?;
        Ok(McpTools {
            rules: Rules(rules),
            calls_per_minute: config.calls_per_minute,
        })
    }
}

impl McpTools {
    /// The key's tool calls per minute (0: unlimited): its attribute, else the config's.
    fn rate(&self, principal: &Principal) -> u64 {
        principal
            .attribute(RATE_ATTRIBUTE)
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(self.calls_per_minute)
    }

    /// The decision on a `tools/call` of `tool`, counting it against the key's rate.
    fn on_tool_call(&self, req: &McpRequest, principal: &Principal, tool: &str) -> McpDecision {
        if !self.rules.permits(principal, &req.server, tool) {
            return McpDecision::Deny(not_allowed(tool));
        }
        let limit = self.rate(principal);
        if limit == 0 {
            return McpDecision::forward();
        }
        let count = kv::incr(&format!("calls:{}", principal.key_id), 1, WINDOW_MS);
        match over_limit(limit, &count) {
            Some(e) => McpDecision::Deny(e),
            None => McpDecision::forward(),
        }
    }
}

/// The error for a tool that is not permitted.
fn not_allowed(tool: &str) -> McpError {
    McpError::new(
        TOOL_NOT_ALLOWED,
        format!("Tool `{tool}` is not allowed for this key."),
    )
}

/// The error when a counter that was just incremented to `count` is over `limit`, else none.
fn over_limit(limit: u64, count: &WindowCount) -> Option<McpError> {
    if count.value <= i64::try_from(limit).unwrap_or(i64::MAX) {
        return None;
    }
    let retry_after = count.ms_to_reset.div_ceil(1000).max(1);
    Some(
        McpError::new(
            RATE_LIMITED,
            format!(
                "Tool-call rate limit reached: {limit} per minute for this key; \
                 retry in {retry_after} s."
            ),
        )
        .with_data(&serde_json::json!({ "retry_after": retry_after })),
    )
}

/// A `tools/list` result without the tools that `permits` refuses; `None` when it removes
/// nothing (or the result has no `tools` list).
fn filter_tools(result: &str, permits: impl Fn(&str) -> bool) -> Option<String> {
    let mut value: serde_json::Value = serde_json::from_str(result).ok()?;
    let tools = value.get_mut("tools")?.as_array_mut()?;
    let before = tools.len();
    tools.retain(|tool| {
        tool.get("name")
            .and_then(serde_json::Value::as_str)
            .is_none_or(&permits)
    });
    (tools.len() != before).then(|| value.to_string())
}

impl McpPolicy for McpTools {
    fn on_mcp_request(&self, req: &McpRequest, principal: &Principal) -> McpDecision {
        match req.tool() {
            Some(tool) => self.on_tool_call(req, principal, tool),
            None => McpDecision::forward(),
        }
    }

    fn on_mcp_result(
        &self,
        req: &McpRequest,
        principal: &Principal,
        result: &str,
    ) -> Option<String> {
        if req.method != "tools/list" {
            return None;
        }
        let rule = self.rules.select(principal, &req.server)?;
        filter_tools(result, |tool| rule.permits(tool))
    }
}

sluice_plugin_sdk::export_mcp_policy!(McpTools);

#[cfg(test)]
mod tests;
