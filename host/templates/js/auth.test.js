// Unit tests of `{{name}}`, in plain Node.js (`node --test`), without building the component:
// outside a component the SDK serves the host's imports from in-memory fakes.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { fromConfigJson, requestCtx } from "./sluice-plugin.js";
import { {{Type}}, authStage, lifecycle, sha256Hex } from "./plugin.js";

const nodeSha256 = (text) => createHash("sha256").update(text, "utf8").digest("hex");
const plugin = () => new {{Type}}({ owners: { [nodeSha256("sk-test")]: "alice" } });

test("known keys become principals and others get 401", () => {
  const p = plugin().authenticate(requestCtx(), "sk-test");
  assert.equal(p.owner, "alice");
  assert.equal(p.keyId, nodeSha256("sk-test").slice(0, 12));
  const e = plugin().authenticate(requestCtx(), "sk-other");
  assert.equal(e.tag, "err");
  assert.equal(e.val.status, 401);
  assert.equal(e.val.code, "invalid_api_key");
  assert.equal(e.val.message, "this API key is not valid");
  const none = plugin().authenticate(requestCtx(), undefined);
  assert.equal(none.tag, "err");
  assert.equal(none.val.message, "an API key is required");
});

test("the SHA-256 is right: known vectors, and node's crypto at every padding boundary", () => {
  assert.equal(sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert.equal(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assert.equal(sha256Hex("sk-sluice-demo"), "1c590839af894cf25f9a5fe06929af05b377f60efbe55508ef93d251887b9213");
  assert.equal(sha256Hex("sk-test"), nodeSha256("sk-test"));
  for (let n = 0; n <= 200; n++) {
    const s = "k".repeat(n);
    assert.equal(sha256Hex(s), nodeSha256(s), `length ${n}`);
  }
  for (const s of ["ключ-é-🔑", "\u0000\uffff", "x".repeat(100000)]) assert.equal(sha256Hex(s), nodeSha256(s));
});

test("a hash that is not hex sha256, an owner that is not a string, missing or unknown fields are rejected", () => {
  assert.throws(() => fromConfigJson({{Type}}, '{"owners": {"abc": "x"}}'), /`abc` is not a hex sha256/);
  const hash = nodeSha256("k");
  assert.throws(() => fromConfigJson({{Type}}, `{"owners": {"${hash}": 1}}`), /must be a string/);
  assert.throws(() => fromConfigJson({{Type}}, "{}"), /missing field `owners`/);
  assert.throws(() => fromConfigJson({{Type}}, '{"owners": {}, "keys": []}'), /unknown field `keys`/);
  assert.equal(fromConfigJson({{Type}}, `{"owners": {"${hash}": "bob"}}`).owners.get(hash), "bob");
});

test("the exported stage works as the host calls it: init, then authenticate", () => {
  const config = JSON.stringify({ owners: { [nodeSha256("sk-test")]: "alice" } });
  assert.equal(lifecycle.init(config).tag, "ok");
  const ok = authStage.authenticate(requestCtx(), "sk-test");
  assert.equal(ok.tag, "ok");
  assert.deepEqual(ok.val, {
    keyId: nodeSha256("sk-test").slice(0, 12),
    owner: "alice",
    team: undefined,
    models: [],
    attributes: [],
    mcpServers: [],
  });
  assert.equal(authStage.authenticate(requestCtx(), "sk-nope").val.status, 401);
});
