// Unit tests of `{{name}}`, in plain Node.js (`node --test`), without building the component:
// outside a component the SDK serves the host's imports from in-memory fakes.

import assert from "node:assert/strict";
import { test } from "node:test";
import { fromConfigJson, requestCtx } from "./sluice-plugin.js";
import { {{Type}}, guardStage, lifecycle } from "./plugin.js";

const guard = () => new {{Type}}({ words: ["hunter2"] });
const ask = (content) => ({ messages: [{ role: "user", content }] });

test("redacts words in JSON bodies", () => {
  const v = guard().checkJson(requestCtx(), undefined, "request", ask("my password is hunter2"));
  assert.equal(v.tag, "rewrite");
  assert.equal(JSON.parse(v.val).messages[0].content, "my password is [REDACTED]");
  assert.deepEqual(guard().checkJson(requestCtx(), undefined, "request", ask("hello")), { tag: "allow" });
});

test("redacts answers, every occurrence of every word", () => {
  const g = new {{Type}}({ words: ["hunter2", "falcon"] });
  const answer = { choices: [{ index: 0, message: { role: "assistant", content: "falcon: hunter2, hunter2" } }] };
  const v = g.checkJson(requestCtx(), undefined, "response", answer);
  assert.equal(v.tag, "rewrite");
  assert.equal(JSON.parse(v.val).choices[0].message.content, "[REDACTED]: [REDACTED], [REDACTED]");
});

test("redacts stream text and looks behind far enough", () => {
  assert.deepEqual(guard().checkText(requestCtx(), undefined, 0, "it is hunter2.", false), {
    tag: "replace",
    val: "it is [REDACTED].",
  });
  assert.deepEqual(guard().checkText(requestCtx(), undefined, 0, "it is hunter", false), { tag: "allow" });
  assert.equal(guard().info().lookBehind, 7);
  // The look-behind counts UTF-8 bytes, as the host holds back bytes.
  assert.equal(new {{Type}}({ words: ["hi", "café"] }).info().lookBehind, 5);
  assert.equal(new {{Type}}({ words: [] }).info().lookBehind, 0);
});

test("an empty word, a word that is not a string, a missing or unknown field are rejected at load", () => {
  assert.throws(() => fromConfigJson({{Type}}, '{"words": ["a", ""]}'), /may not contain an empty word/);
  assert.throws(() => fromConfigJson({{Type}}, '{"words": [1]}'), /only hold strings/);
  assert.throws(() => fromConfigJson({{Type}}, "{}"), /missing field `words`/);
  assert.throws(() => fromConfigJson({{Type}}, '{"words": [], "extra": 1}'), /unknown field `extra`/);
});

test("the exported stage works as the host calls it: init, then check-json and check-text", () => {
  assert.deepEqual(lifecycle.init('{"words": ["hunter2", "project-falcon"]}'), {
    tag: "ok",
    val: { wantsBody: false, passthrough: false, lookBehind: 14, native: [] },
  });
  const v = guardStage.checkJson(requestCtx(), undefined, "request", JSON.stringify(ask("project-falcon")));
  assert.deepEqual(v, { tag: "rewrite", val: JSON.stringify(ask("[REDACTED]")) });
  assert.deepEqual(guardStage.checkText(requestCtx(), undefined, 0, "hunter2", true), {
    tag: "replace",
    val: "[REDACTED]",
  });
});
