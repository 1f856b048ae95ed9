// Unit tests of `{{name}}`, in plain Node.js (`node --test`), without building the component:
// outside a component the SDK serves the host's imports from in-memory fakes.

import assert from "node:assert/strict";
import { test } from "node:test";
import { fromConfigJson, outcome, requestCtx } from "./sluice-plugin.js";
import { {{Type}}, enrichStage, lifecycle } from "./plugin.js";

test("labels answers and flags slow ones", () => {
  const plugin = new {{Type}}({ label: "eu", slow_ms: 100 });
  const e = plugin.onResponse(requestCtx(), undefined, outcome({ provider: "p", servedModel: "m", latencyMs: 250 }));
  assert.deepEqual(e.headers, [["x-{{name}}-label", "eu"]]);
  assert.deepEqual(e.metadata, { label: "eu", slow: true });
  assert.equal(plugin.onResponse(requestCtx(), undefined, outcome({ latencyMs: 100 })).metadata.slow, false);
});

test("slow_ms defaults to 2000; a missing label, a mistyped or unknown field are rejected at load", () => {
  assert.equal(fromConfigJson({{Type}}, '{"label": "eu"}').slowMs, 2000);
  assert.throws(() => fromConfigJson({{Type}}, "{}"), /missing field `label`/);
  assert.throws(() => fromConfigJson({{Type}}, '{"label": "eu", "slow_ms": "fast"}'), /invalid type for `slow_ms`/);
  assert.throws(() => fromConfigJson({{Type}}, '{"label": "eu", "color": "red"}'), /unknown field `color`/);
});

test("the exported stage works as the host calls it: init, then on-response", () => {
  assert.equal(lifecycle.init('{"label": "eu-west", "slow_ms": 10}').tag, "ok");
  const e = enrichStage.onResponse(requestCtx(), undefined, outcome({ latencyMs: 11 }));
  assert.deepEqual(e, {
    headers: [["x-{{name}}-label", "eu-west"]],
    metadata: [
      ["label", '"eu-west"'],
      ["slow", "true"],
    ],
    costUsd: undefined,
  });
});
