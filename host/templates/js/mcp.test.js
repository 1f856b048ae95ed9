// Unit tests of `{{name}}`, in plain Node.js (`node --test`), without building the component:
// outside a component the SDK serves the host's imports from in-memory fakes.

import assert from "node:assert/strict";
import { test } from "node:test";
import { fromConfigJson, mcpRequest, principal } from "./sluice-plugin.js";
import { {{Type}}, lifecycle, mcpPolicyStage } from "./plugin.js";

const plugin = () => new {{Type}}({ deny_tools: ["shell"] });
const call = (tool) => mcpRequest({ method: "tools/call", target: tool, params: JSON.stringify({ name: tool }) });
const list = mcpRequest({ method: "tools/list" });

test("refuses denied tools with JSON-RPC error -32003", () => {
  assert.deepEqual(plugin().onMcpRequest(call("shell"), principal()), {
    tag: "deny",
    val: { code: -32003, message: "The tool `shell` is not allowed here.", data: undefined },
  });
  assert.deepEqual(plugin().onMcpRequest(call("echo"), principal()), { tag: "continue", val: undefined });
  // Only calls are refused: other methods naming the same target go on.
  const read = mcpRequest({ method: "resources/read", target: "shell" });
  assert.equal(plugin().onMcpRequest(read, principal()).tag, "continue");
});

test("hides denied tools from tools/list and leaves other results alone", () => {
  const result = '{"tools":[{"name":"shell"},{"name":"echo"}]}';
  assert.equal(plugin().onMcpResult(list, principal(), result), '{"tools":[{"name":"echo"}]}');
  assert.equal(plugin().onMcpResult(list, principal(), '{"tools":[{"name":"echo"}]}'), undefined);
  assert.equal(plugin().onMcpResult(call("echo"), principal(), result), undefined);
  assert.equal(plugin().onMcpResult(list, principal(), "not json"), undefined);
  assert.equal(plugin().onMcpResult(list, principal(), '{"tools": 3}'), undefined);
});

test("a missing, mistyped or unknown field is rejected at load", () => {
  assert.throws(() => fromConfigJson({{Type}}, "{}"), /missing field `deny_tools`/);
  assert.throws(() => fromConfigJson({{Type}}, '{"deny_tools": "shell"}'), /invalid type for `deny_tools`/);
  assert.throws(() => fromConfigJson({{Type}}, '{"deny_tools": [1]}'), /only hold strings/);
  assert.throws(() => fromConfigJson({{Type}}, '{"deny_tools": [], "allow": []}'), /unknown field `allow`/);
});

test("the exported stage works as the host calls it: init, then on-mcp-request and on-mcp-result", () => {
  assert.equal(lifecycle.init('{"deny_tools": ["delete_file"]}').tag, "ok");
  assert.equal(mcpPolicyStage.onMcpRequest(call("delete_file"), principal()).val.code, -32003);
  const result = '{"tools":[{"name":"delete_file"},{"name":"read_file"}],"nextCursor":"c"}';
  assert.equal(
    mcpPolicyStage.onMcpResult(list, principal(), result),
    '{"tools":[{"name":"read_file"}],"nextCursor":"c"}',
  );
});
