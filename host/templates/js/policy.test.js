// Unit tests of `{{name}}`, in plain Node.js (`node --test`), without building the component:
// outside a component the SDK serves the host's imports from in-memory fakes.

import assert from "node:assert/strict";
import { test } from "node:test";
import { fromConfigJson, llmMeta, principal, requestCtx } from "./sluice-plugin.js";
import { {{Type}}, lifecycle, policyStage } from "./plugin.js";

function decide(max, promptTokens) {
  const plugin = new {{Type}}({ max_prompt_tokens: max });
  return plugin.onRequest(requestCtx(), principal(), llmMeta({ estPromptTokens: promptTokens }), new Uint8Array());
}

test("lets small prompts through and refuses large ones", () => {
  assert.equal(decide(100, 100).tag, "continue");
  const d = decide(100, 101);
  assert.equal(d.tag, "deny");
  assert.equal(d.val.status, 400);
  assert.equal(d.val.type, "invalid_request_error");
  assert.equal(d.val.message, "this prompt is about 101 tokens; this gateway takes at most 100");
});

test("tags what it lets through with a header", () => {
  const d = decide(100, 1);
  assert.deepEqual(d.val.headers, [["x-{{name}}", "allowed"]]);
  assert.deepEqual(d.val.metadata, []);
  assert.equal(d.val.body, undefined);
});

test("a zero limit, a missing, mistyped or unknown field are rejected at load", () => {
  assert.throws(() => fromConfigJson({{Type}}, '{"max_prompt_tokens": 0}'), /must be at least 1/);
  assert.throws(() => fromConfigJson({{Type}}, "{}"), /missing field `max_prompt_tokens`/);
  assert.throws(() => fromConfigJson({{Type}}, '{"max_prompt_tokens": -1}'), /invalid type/);
  assert.throws(() => fromConfigJson({{Type}}, '{"max_prompt_tokens": 1, "max": 2}'), /unknown field `max`/);
  assert.equal(fromConfigJson({{Type}}, '{"max_prompt_tokens": 7}').maxPromptTokens, 7);
});

test("the exported stage works as the host calls it: init, then on-request", () => {
  assert.deepEqual(lifecycle.init('{"max_prompt_tokens": 10}'), {
    tag: "ok",
    val: { wantsBody: false, passthrough: false, lookBehind: 0, native: [] },
  });
  const meta = llmMeta({ estPromptTokens: 11 });
  assert.equal(policyStage.onRequest(requestCtx(), principal(), meta, new Uint8Array()).tag, "deny");
  const bad = lifecycle.init('{"max_prompt_tokens": 0}');
  assert.equal(bad.tag, "err");
  assert.match(bad.val, /must be at least 1/);
});
