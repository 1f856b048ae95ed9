// Unit tests of `{{name}}`, in plain Node.js (`node --test`), without building the component:
// outside a component the SDK serves the host's imports from in-memory fakes.

import assert from "node:assert/strict";
import { test } from "node:test";
import { fromConfigJson, requestCtx } from "./sluice-plugin.js";
import { {{Type}}, adapter, lifecycle } from "./plugin.js";

const provider = (apiKey) => ({ name: "p", baseUrl: "http://127.0.0.1:8000/v1", apiKey, upstreamModel: "m" });

test("sends the key and the configured headers", () => {
  const plugin = new {{Type}}({ headers: { "X-Team": "r" } });
  const call = plugin.toUpstream(requestCtx(), provider("sk-up"), new Uint8Array());
  assert.equal(call.tag, "send");
  const r = call.val;
  assert.equal(r.method, "POST");
  assert.equal(r.path, "/chat/completions");
  assert.deepEqual(r.headers, [
    ["x-team", "r"],
    ["authorization", "Bearer sk-up"],
  ]);
  assert.equal(r.body, undefined);
  assert.equal(r.stream, false);
});

test("follows the endpoint and the stream flag; no key, no authorization", () => {
  const plugin = new {{Type}}({ headers: {} });
  const models = plugin.toUpstream(requestCtx({ endpoint: "models" }), provider(undefined), new Uint8Array()).val;
  assert.deepEqual([models.method, models.path, models.headers], ["GET", "/models", []]);
  const chat = plugin.toUpstream(requestCtx({ stream: true }), provider(undefined), new Uint8Array()).val;
  assert.equal(chat.stream, true);
  const emb = plugin.toUpstream(requestCtx({ endpoint: "embeddings" }), provider("k"), new Uint8Array()).val;
  assert.equal(emb.path, "/embeddings");
});

test("headers default to none; a mistyped or unknown field is rejected at load", () => {
  assert.deepEqual(fromConfigJson({{Type}}, "{}").headers, []);
  assert.throws(() => fromConfigJson({{Type}}, '{"headers": ["x"]}'), /invalid type for `headers`/);
  assert.throws(() => fromConfigJson({{Type}}, '{"headers": {"x-n": 1}}'), /must be a string/);
  assert.throws(() => fromConfigJson({{Type}}, '{"header": {}}'), /unknown field `header`/);
});

test("the exported adapter works as the host calls it: pass-through answers and streams", () => {
  assert.deepEqual(lifecycle.init('{"headers": {"x-team": "research"}}'), {
    tag: "ok",
    val: { wantsBody: false, passthrough: true, lookBehind: 0, native: [] },
  });
  const out = adapter.toUpstream(requestCtx(), provider("sk-up"), new Uint8Array());
  assert.equal(out.tag, "ok");
  assert.equal(out.val.tag, "send");
  assert.deepEqual(out.val.val.headers, [
    ["x-team", "research"],
    ["authorization", "Bearer sk-up"],
  ]);
  const resp = { status: 200, headers: [], body: new TextEncoder().encode("{}") };
  assert.deepEqual(adapter.fromUpstream(requestCtx(), resp), { tag: "ok", val: undefined });
  const stream = new adapter.StreamTranslator(requestCtx({ stream: true }), provider("sk-up"));
  const event = { event: undefined, data: '{"choices":[]}' };
  assert.deepEqual(stream.onEvent(event), { tag: "ok", val: [event] });
  assert.deepEqual(stream.finish(), { tag: "ok", val: [[], undefined] });
});
