//! `{{name}}`: a Sluice MCP policy plugin. It refuses calls to the configured tools and hides
//! them from `tools/list`.
//!
//! ```toml
//! [[plugins]]
//! name = "{{name}}"
//! stage = "mcp-policy"
//! source = "{{name}}.wasm"
//! [plugins.config]
//! deny_tools = ["delete_file", "shell"]
//! ```

use serde::Deserialize;
use sluice_plugin_sdk::{McpDecision, McpError, McpPolicy, McpRequest, Plugin, Principal};

/// The plugin's config table (an unknown or mistyped field rejects the load).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    deny_tools: Vec<String>,
}

struct {{Type}}(Config);

impl {{Type}} {
    fn denied(&self, tool: &str) -> bool {
        self.0.deny_tools.iter().any(|t| t == tool)
    }
}

impl Plugin for {{Type}} {
    type Config = Config;
    fn new(config: Config) -> Result<Self, String> {
        Ok({{Type}}(config))
    }
}

impl McpPolicy for {{Type}} {
    fn on_mcp_request(&self, req: &McpRequest, _: &Principal) -> McpDecision {
        match req.tool() {
            Some(tool) if req.method == "tools/call" && self.denied(tool) => {
                McpDecision::Deny(McpError::new(-32003, format!("The tool `{tool}` is not allowed here.")))
            }
            _ => McpDecision::Continue(None),
        }
    }

    fn on_mcp_result(&self, req: &McpRequest, _: &Principal, result: &str) -> Option<String> {
        if req.method != "tools/list" {
            return None;
        }
        let mut list: serde_json::Value = serde_json::from_str(result).ok()?;
        let tools = list.get_mut("tools")?.as_array_mut()?;
        let before = tools.len();
        tools.retain(|t| !t["name"].as_str().is_some_and(|n| self.denied(n)));
        (tools.len() != before).then(|| list.to_string())
    }
}

sluice_plugin_sdk::export_mcp_policy!({{Type}});

#[cfg(test)]
mod tests {
    use super::*;

    fn plugin() -> {{Type}} {
        {{Type}}(Config { deny_tools: vec!["shell".into()] })
    }

    #[test]
    fn refuses_denied_tools_and_hides_them() {
        let call = McpRequest {
            method: "tools/call".into(),
            target: Some("shell".into()),
            params: r#"{"name":"shell"}"#.into(),
            ..Default::default()
        };
        assert!(matches!(plugin().on_mcp_request(&call, &Principal::default()), McpDecision::Deny(_)));
        let list = McpRequest { method: "tools/list".into(), ..Default::default() };
        let result = r#"{"tools":[{"name":"shell"},{"name":"echo"}]}"#;
        let filtered = plugin().on_mcp_result(&list, &Principal::default(), result).expect("filtered");
        assert_eq!(filtered, r#"{"tools":[{"name":"echo"}]}"#);
    }
}
