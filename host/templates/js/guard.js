// `{{name}}`: a Sluice guard plugin. It replaces the configured words with `[REDACTED]` in
// requests, in whole answers and in streamed answers (a word split across two stream chunks is
// caught too: the plugin declares a look-behind as long as its longest word).
//
//   [[plugins]]
//   name = "{{name}}"
//   stage = "guard"
//   source = "{{name}}.wasm"
//   [plugins.config]
//   words = ["project-falcon", "hunter2"]
//
// Test: `sluice plugin test` (runs `node --test`). Build: `sluice plugin build`.

import { TextVerdict, Verdict, exportGuard, field, forEachText } from "./sluice-plugin.js";

const REDACTED = "[REDACTED]";

export class {{Type}} {
  // The plugin's config table, checked by the SDK before the constructor runs (a missing,
  // mistyped or unknown field rejects the load).
  static config = {
    words: field.array(),
  };

  /** @param {{ words: string[] }} config */
  constructor(config) {
    for (const w of config.words) {
      if (typeof w !== "string") throw new Error(`\`words\` may only hold strings, found ${JSON.stringify(w)}`);
    }
    if (config.words.some((w) => w === "")) throw new Error("`words` may not contain an empty word");
    this.words = config.words;
  }

  /** What the host learns at load: hold back as many bytes of stream text as the longest word. */
  info() {
    const encoder = new TextEncoder();
    const longest = Math.max(0, ...this.words.map((w) => encoder.encode(w).length));
    return { lookBehind: longest };
  }

  /** `text` with every configured word replaced; `undefined` when there was none. */
  redact(text) {
    let out = text;
    for (const w of this.words) out = out.split(w).join(REDACTED);
    return out === text ? undefined : out;
  }

  /** @type {import("./sluice-plugin.js").Guard["checkJson"]} */
  checkJson(_ctx, _principal, _direction, body) {
    // `body` is this call's own parsed copy: rewriting it in place is fine.
    const changed = forEachText(body, (t) => this.redact(t));
    return changed ? Verdict.rewrite(body) : Verdict.allow();
  }

  /** @type {NonNullable<import("./sluice-plugin.js").Guard["checkText"]>} */
  checkText(_ctx, _principal, _choice, text, _last) {
    const r = this.redact(text);
    return r === undefined ? TextVerdict.allow() : TextVerdict.replace(r);
  }
}

export const { lifecycle, guardStage } = exportGuard({{Type}});
