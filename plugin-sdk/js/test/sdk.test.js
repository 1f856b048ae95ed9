// Unit tests of the SDK's glue outside a component (`node --test` in plugin-sdk/js).

import assert from "node:assert/strict";
import { test } from "node:test";
import * as sdk from "../sluice-plugin.js";

const { requestCtx, principal, llmMeta, outcome, mcpRequest, testing } = sdk;

test("a policy that fails to build answers every call with a 500 plugin_config", () => {
  const { lifecycle, policyStage } = sdk.exportPolicy(
    class {
      constructor() {
        throw new Error("nope");
      }
      onRequest() {}
    },
  );
  assert.deepEqual(lifecycle.init("{}"), { tag: "err", val: "nope" });
  const d = policyStage.onRequest(requestCtx(), principal(), llmMeta(), new Uint8Array());
  assert.equal(d.tag, "deny");
  assert.equal(d.val.code, "plugin_config");
  assert.equal(d.val.status, 500);
});

test("returning nothing continues; async methods resolve", async () => {
  const { policyStage } = sdk.exportPolicy({ onRequest() {} });
  assert.deepEqual(policyStage.onRequest(requestCtx(), principal(), llmMeta(), new Uint8Array()), sdk.allow());
  const a = sdk.exportPolicy(class { async onRequest() { return sdk.respond(200, { ok: true }); } });
  const d = await a.policyStage.onRequest(requestCtx(), principal(), llmMeta(), new Uint8Array());
  assert.equal(d.tag, "respond");
  assert.equal(sdk.header(d.val, "Content-Type"), "application/json");
  assert.deepEqual(sdk.parseJson(d.val.body), { ok: true });
});

test("a guard sees parsed bodies, rewrites them, and declares its look-behind", () => {
  class Redact {
    static info = { lookBehind: 6 };
    checkJson(_ctx, _p, _dir, body) {
      return sdk.forEachText(body, (t) => t.replaceAll("secret", "***")) ? sdk.Verdict.rewrite(body) : undefined;
    }
    checkText(_ctx, _p, _choice, text) {
      return text.includes("secret") ? text.replaceAll("secret", "***") : undefined;
    }
  }
  const { lifecycle, guardStage } = sdk.exportGuard(Redact);
  assert.equal(lifecycle.init("").val.lookBehind, 6);
  const body = JSON.stringify({ messages: [{ role: "user", content: [{ type: "text", text: "a secret" }] }] });
  const v = guardStage.checkJson(requestCtx(), undefined, "request", body);
  assert.equal(v.tag, "rewrite");
  assert.equal(JSON.parse(v.val).messages[0].content[0].text, "a ***");
  assert.deepEqual(guardStage.checkJson(requestCtx(), undefined, "response", '{"choices":[]}'), { tag: "allow" });
  assert.equal(guardStage.checkJson(requestCtx(), undefined, "request", "not json").val.code, "guard_input");
  assert.deepEqual(guardStage.checkText(requestCtx(), undefined, 0, "my secret", false), { tag: "replace", val: "my ***" });
  assert.deepEqual(guardStage.checkText(requestCtx(), undefined, 0, "fine", true), { tag: "allow" });
});

test("enrich, mcp-policy and auth glue", () => {
  const e = sdk.exportEnrich({ onResponse: (_c, _p, o) => ({ headers: { "x-us": o.upstreamUs }, metadata: { n: 1 }, costUsd: 0.5 }) });
  assert.deepEqual(e.enrichStage.onResponse(requestCtx(), undefined, outcome({ upstreamUs: 7n })), {
    headers: [["x-us", "7"]],
    metadata: [["n", "1"]],
    costUsd: 0.5,
  });
  const m = sdk.exportMcpPolicy({
    onMcpRequest: (req) => (req.target === "rm" ? sdk.McpDecision.deny(sdk.mcpError(-32001, "no", { why: 1 })) : undefined),
    onMcpResult: () => ({ tools: [] }),
  });
  assert.deepEqual(m.mcpPolicyStage.onMcpRequest(mcpRequest(), principal()), { tag: "continue", val: undefined });
  assert.deepEqual(m.mcpPolicyStage.onMcpRequest(mcpRequest({ target: "rm" }), principal()).val, {
    code: -32001,
    message: "no",
    data: '{"why":1}',
  });
  assert.equal(m.mcpPolicyStage.onMcpResult(mcpRequest(), principal(), "{}"), '{"tools":[]}');
  testing.keys.set("h", { id: "k1", owner: "o", models: [], attributes: [["tier", "gold"]], mcpServers: [], revoked: false });
  const a = sdk.exportAuth({
    authenticate(_ctx, credential) {
      const k = sdk.keys.lookup(credential ?? "");
      return k ? { keyId: k.id, owner: k.owner, attributes: k.attributes } : sdk.err(sdk.invalidApiKey("unknown key"));
    },
  });
  const ok = a.authStage.authenticate(requestCtx(), "h");
  assert.equal(ok.tag, "ok");
  assert.equal(sdk.attribute(ok.val, "tier"), "gold");
  assert.deepEqual(ok.val.models, []);
  assert.equal(a.authStage.authenticate(requestCtx(), undefined).val.code, "invalid_api_key");
  testing.reset();
});

test("an adapter's stream translator keeps its state and finishes once", () => {
  const { adapter } = sdk.exportAdapter({
    toUpstream: () => ({ tag: "respond", val: sdk.httpResponse(200, "hi") }),
    startStream: () => {
      let n = 0;
      return { onEvent: (e) => (n++, [e]), finish: () => [[], { promptTokens: 0, completionTokens: n, cachedTokens: 0 }] };
    },
  });
  assert.equal(adapter.toUpstream(requestCtx(), {}, new Uint8Array()).val.tag, "respond");
  assert.deepEqual(adapter.fromUpstream(requestCtx(), sdk.httpResponse(200)), { tag: "ok", val: undefined });
  const t = new adapter.StreamTranslator(requestCtx(), {});
  t.onEvent({ data: "a" });
  t.onEvent({ data: "b" });
  assert.equal(t.finish().val[1].completionTokens, 2);
  assert.equal(t.finish().val.code, "stream_finished");
});

test("the fake kv counts in windows and expires values", () => {
  testing.nowMs = 1_000;
  assert.deepEqual(sdk.kv.incr("c", 2, 60_000), { value: 2, msToReset: 59_000 });
  assert.equal(sdk.kv.incr("c", 3, 60_000).value, 5);
  sdk.kv.set("k", "v", 10);
  assert.equal(sdk.kv.getText("k"), "v");
  testing.nowMs = 61_000;
  assert.equal(sdk.kv.get("k"), undefined);
  assert.equal(sdk.kv.incr("c", 1, 60_000).value, 1);
  sdk.log("warn", "hello");
  assert.deepEqual(testing.logs.at(-1), ["warn", "hello"]);
  testing.reset();
});

test("errors carry their OpenAI fields", () => {
  assert.deepEqual(sdk.rateLimited("slow down", 3), {
    status: 429,
    type: "rate_limit_exceeded",
    code: "rate_limit_exceeded",
    param: undefined,
    message: "slow down",
    retryAfter: 3,
  });
  assert.equal(sdk.modelNotFound("x").param, "model");
  assert.equal(sdk.badRequest("b", { param: "n" }).param, "n");
});
