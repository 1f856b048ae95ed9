// `{{name}}`: a Sluice MCP policy plugin. It refuses calls to the configured tools and hides
// them from `tools/list`.
//
//   [[plugins]]
//   name = "{{name}}"
//   stage = "mcp-policy"
//   source = "{{name}}.wasm"
//   [plugins.config]
//   deny_tools = ["delete_file", "shell"]
//
// Test: `sluice plugin test` (runs `node --test`). Build: `sluice plugin build`.

import { McpDecision, exportMcpPolicy, field, mcpError } from "./sluice-plugin.js";

/** The JSON-RPC error code of a refused call (in the range left to servers, -32000 to -32099). */
const DENIED = -32003;

export class {{Type}} {
  // The plugin's config table, checked by the SDK before the constructor runs (a missing,
  // mistyped or unknown field rejects the load).
  static config = {
    deny_tools: field.array(),
  };

  /** @param {{ deny_tools: string[] }} config */
  constructor(config) {
    for (const t of config.deny_tools) {
      if (typeof t !== "string") throw new Error(`\`deny_tools\` may only hold strings, found ${JSON.stringify(t)}`);
    }
    this.denyTools = new Set(config.deny_tools);
  }

  denied(tool) {
    return this.denyTools.has(tool);
  }

  /** @type {import("./sluice-plugin.js").McpPolicy["onMcpRequest"]} */
  onMcpRequest(req, _principal) {
    // `target` is the tool a `tools/call` names.
    const tool = req.target;
    if (req.method === "tools/call" && tool !== undefined && this.denied(tool)) {
      return McpDecision.deny(mcpError(DENIED, `The tool \`${tool}\` is not allowed here.`));
    }
    return McpDecision.forward();
  }

  /** @type {NonNullable<import("./sluice-plugin.js").McpPolicy["onMcpResult"]>} */
  onMcpResult(req, _principal, result) {
    if (req.method !== "tools/list") return undefined;
    let list;
    try {
      list = JSON.parse(result);
    } catch {
      return undefined;
    }
    const tools = list?.tools;
    if (!Array.isArray(tools)) return undefined;
    const kept = tools.filter((t) => !(typeof t?.name === "string" && this.denied(t.name)));
    if (kept.length === tools.length) return undefined;
    list.tools = kept;
    return JSON.stringify(list);
  }
}

export const { lifecycle, mcpPolicyStage } = exportMcpPolicy({{Type}});
