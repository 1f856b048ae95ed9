// Unit tests of the host imports outside a component (`node --test` in plugin-sdk/js): `notify`,
// `kv.add` and the price table, served by the SDK's in-memory fakes.

import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import * as sdk from "../sluice-plugin.js";

const { requestCtx, outcome, testing } = sdk;
const usage = (promptTokens, completionTokens, cachedTokens = 0) => ({ promptTokens, completionTokens, cachedTokens });

afterEach(() => testing.reset());

test("notify sends the data as a JSON object", () => {
  sdk.notify("budget.threshold", { keyId: "k1", spentUsd: 12.5, ratio: 0.8 });
  sdk.notify("budget.exhausted", { keyId: "k1" });
  assert.deepEqual(testing.events, [
    ["budget.threshold", { keyId: "k1", spentUsd: 12.5, ratio: 0.8 }],
    ["budget.exhausted", { keyId: "k1" }],
  ]);
  assert.throws(() => sdk.notify("x", [1, 2]), TypeError);
  assert.throws(() => sdk.notify("x", "text"), TypeError);
  assert.throws(() => sdk.notify("x", null), TypeError);
  testing.reset();
  assert.deepEqual(testing.events, []);
});

test("kv.add counts until the counter expires, then starts again from 0", () => {
  testing.nowMs = 1_000;
  assert.equal(sdk.kv.add("spend|2026-12", 5, 10_000), 5);
  assert.equal(sdk.kv.add("spend|2026-12", -2, 10_000), 3);
  // A counter created earlier keeps its expiry: a later `expiresAtMs` does not extend it.
  assert.equal(sdk.kv.add("spend|2026-12", 1, 99_000), 4);
  // Independent of the windowed counters of `kv.incr`.
  assert.equal(sdk.kv.incr("spend|2026-12", 1, 60_000).value, 1);
  testing.nowMs = 9_999;
  assert.equal(sdk.kv.add("spend|2026-12", 1, 99_000), 5);
  testing.nowMs = 10_000;
  assert.equal(sdk.kv.add("spend|2026-12", 2, 20_000), 2);
  testing.nowMs = 19_999;
  assert.equal(sdk.kv.add("spend|2026-12", 2, 99_000), 4);
  testing.nowMs = 20_000;
  assert.equal(sdk.kv.add("spend|2026-12", 1, 30_000), 1);
  assert.equal(typeof sdk.kv.add("n", 1, 30_000), "number");
});

test("prices.lookup matches names and dated names", () => {
  assert.equal(sdk.prices.lookup("gpt-4o-mini"), undefined);
  testing.prices.set("gpt-4o-mini", { input: 0.15, output: 0.6, cachedInput: 0.075 });
  testing.prices.set("claude-sonnet-4-5", { input: 3, output: 15 });
  testing.prices.set("gemini-2.0-flash", { input: 0.1, output: 0.4 });
  const p = { input: 0.15, output: 0.6, cachedInput: 0.075 };
  assert.deepEqual(sdk.prices.lookup("gpt-4o-mini"), p);
  assert.deepEqual(sdk.prices.lookup("gpt-4o-mini-2024-07-18"), p);
  // `cachedInput` defaults to `input`, as in `[pricing]`.
  assert.deepEqual(sdk.prices.lookup("claude-sonnet-4-5-20250929"), { input: 3, output: 15, cachedInput: 3 });
  assert.notEqual(sdk.prices.lookup("gemini-2.0-flash-001"), undefined);
  assert.equal(sdk.prices.lookup("gpt-4o-mini-2024"), undefined);
  assert.equal(sdk.prices.lookup("o3"), undefined);
});

test("prices.cost prices fresh, cached and output tokens", () => {
  testing.prices.set("m", { input: 2, output: 8, cachedInput: 0.5 });
  // 600 fresh at 2, 400 cached at 0.5, 100 out at 8, per million.
  assert.equal(sdk.prices.cost("m", usage(1000, 100, 400)), (600 * 2 + 400 * 0.5 + 100 * 8) / 1e6);
  // More cached than prompt tokens counts all prompt tokens as cached; absent cachedTokens is 0.
  assert.equal(sdk.prices.cost("m", usage(10, 0, 50)), (10 * 0.5) / 1e6);
  assert.equal(sdk.prices.cost("m", { promptTokens: 10, completionTokens: 0 }), (10 * 2) / 1e6);
  assert.equal(sdk.prices.cost("unpriced", usage(1000, 100)), undefined);
});

test("prices.costOf prices the served model, else the asked one, else 0", () => {
  testing.prices.set("served", { input: 1, output: 2 });
  testing.prices.set("asked", { input: 10, output: 20 });
  const u = usage(1_000_000, 1_000_000);
  const costOf = sdk.prices.costOf; // works detached from `prices`
  assert.equal(costOf(requestCtx({ model: "asked" }), outcome({ servedModel: "served", usage: u })), 3);
  assert.equal(costOf(requestCtx({ model: "asked" }), outcome({ servedModel: "unpriced", usage: u })), 30);
  assert.equal(costOf(requestCtx({ model: "asked" }), outcome({ servedModel: "", usage: u })), 30);
  assert.equal(costOf(requestCtx({ model: "nope" }), outcome({ servedModel: "unpriced", usage: u })), 0);
  assert.equal(costOf(requestCtx({ model: "asked" }), outcome({ servedModel: "served" })), 0);
});

test("an enrich plugin prices requests through the glue", () => {
  testing.prices.set("gpt-4o", { input: 2.5, output: 10, cachedInput: 1.25 });
  const { enrichStage } = sdk.exportEnrich({ onResponse: (ctx, _p, o) => ({ costUsd: sdk.prices.costOf(ctx, o) }) });
  const e = enrichStage.onResponse(
    requestCtx({ model: "gpt-4o" }),
    undefined,
    outcome({ servedModel: "gpt-4o-2024-08-06", usage: usage(2000, 500, 1000) }),
  );
  assert.equal(e.costUsd, (1000 * 2.5 + 1000 * 1.25 + 500 * 10) / 1e6);
});

test("inside a component without the `prices` import, the price table throws", () => {
  const key = Symbol.for("sluice.plugin.host@0.2.0");
  const events = [];
  globalThis[key] = {
    host: { log() {}, nowMs: () => 0n, config: () => "{}", notify: (k, d) => events.push([k, d]) },
    kv: { add: (_k, delta, expiresAtMs) => delta + expiresAtMs },
  };
  try {
    assert.throws(() => sdk.prices.lookup("m"), /policy and enrich/);
    assert.throws(() => sdk.prices.cost("m", usage(1, 1)), /policy and enrich/);
    assert.throws(() => sdk.prices.costOf(requestCtx(), outcome()), /policy and enrich/);
    // The real imports take 64-bit integers as BigInts and answer them so; the SDK gives numbers.
    assert.equal(sdk.kv.add("k", 2, 40), 42);
    sdk.notify("kind", { a: [1, "é"] });
    assert.deepEqual(events, [["kind", '{"a":[1,"é"]}']]);
  } finally {
    delete globalThis[key];
  }
});

test("kv.reserve takes every limit or none, and kv.incrAll gives back in one call", () => {
  testing.nowMs = 1_000;
  assert.equal(sdk.kv.incr("c", 5, 60_000).value, 5);
  // The second would pass its limit: neither is added.
  const refused = sdk.kv.reserve([{ key: "c", amount: 1, limit: 10 }, { key: "d", amount: 4, limit: 3 }], 60_000);
  assert.deepEqual(refused, { granted: false, refused: 1, wouldReach: { value: 4, msToReset: 59_000 } });
  const granted = sdk.kv.reserve([{ key: "c", amount: 1, limit: 10 }, { key: "d", amount: 3, limit: 3 }], 60_000);
  assert.equal(granted.granted, true);
  assert.deepEqual(granted.counts.map((c) => c.value), [6, 3]);
  assert.deepEqual(sdk.kv.incrAll([["c", -6], ["d", -1]], 60_000).map((c) => c.value), [0, 2]);
});
