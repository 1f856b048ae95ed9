// Unit tests of the plugin's logic, in plain Node.js (`node --test`), without building it: the
// SDK runs outside the component with in-memory stand-ins for the host.

import assert from "node:assert/strict";
import { test } from "node:test";
import { fromConfigJson, llmMeta, principal, requestCtx, testing } from "../../plugin-sdk/js/sluice-plugin.js";
import { MaxTokens, lifecycle, policyStage } from "./plugin.js";

const decide = (plugin, ctx, meta) => plugin.onRequest(ctx, principal(), meta, new Uint8Array());
const ctx = (userId) => requestCtx({ userId });
const meta = (maxTokens) => llmMeta({ maxTokens });

test("allows within the cap and denies above it", () => {
  const p = new MaxTokens({ max_tokens: 100, require_user_id: false });
  assert.equal(decide(p, ctx(), meta(100)).tag, "continue");
  assert.equal(decide(p, ctx(), meta()).tag, "continue");
  const d = decide(p, ctx(), meta(101));
  assert.equal(d.tag, "deny");
  assert.equal(d.val.status, 400);
  assert.equal(d.val.param, "max_tokens");
  assert.equal(d.val.message, "max_tokens may be at most 100 on this gateway");
});

test("requires a user id when configured", () => {
  const p = new MaxTokens({ max_tokens: 100, require_user_id: true });
  const d = decide(p, ctx(), meta());
  assert.equal(d.tag, "deny");
  assert.equal(d.val.param, "user_id");
  assert.equal(decide(p, ctx("u"), meta()).tag, "continue");
});

test("tags what it lets through with the limit", () => {
  const d = decide(new MaxTokens({ max_tokens: 5, require_user_id: false }), ctx(), meta(5));
  assert.deepEqual(d.val.headers, [["x-max-tokens-limit", "5"]]);
  assert.deepEqual(d.val.metadata, [["max_tokens_limit", "5"]]);
  assert.equal(d.val.body, undefined);
});

test("the config is checked: require_user_id defaults to false, unknown fields are refused", () => {
  const p = fromConfigJson(MaxTokens, '{"max_tokens": 7}');
  assert.equal(p.max, 7);
  assert.equal(p.requireUserId, false);
  assert.throws(() => fromConfigJson(MaxTokens, "{}"), /missing field `max_tokens`/);
  assert.throws(() => fromConfigJson(MaxTokens, '{"max_tokens": -1}'), /invalid type for `max_tokens`/);
  assert.throws(() => fromConfigJson(MaxTokens, '{"max_tokens": 1, "maxtokens": 2}'), /unknown field `maxtokens`/);
});

test("the exported stage works as the host calls it: init, then on-request", () => {
  const info = lifecycle.init('{"max_tokens": 3, "require_user_id": true}');
  assert.deepEqual(info, { tag: "ok", val: { wantsBody: false, passthrough: false, lookBehind: 0, native: [] } });
  const d = policyStage.onRequest(ctx("u"), principal(), meta(4), new Uint8Array());
  assert.equal(d.val.param, "max_tokens");
  const bad = lifecycle.init('{"max_tokens": "many"}');
  assert.equal(bad.tag, "err");
  assert.match(bad.val, /^invalid config: invalid type for `max_tokens`/);
});

test("an instance created without init reads host.config() on first use", async () => {
  // A fresh copy of the module: a new instance with nothing built yet.
  const fresh = await import(`./plugin.js?instance=${Date.now()}`);
  testing.configJson = '{"max_tokens": 2}';
  try {
    const d = fresh.policyStage.onRequest(ctx(), principal(), meta(3), new Uint8Array());
    assert.equal(d.tag, "deny");
    assert.equal(d.val.message, "max_tokens may be at most 2 on this gateway");
  } finally {
    testing.reset();
  }
});
