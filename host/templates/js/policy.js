// `{{name}}`: a Sluice policy plugin. It refuses requests whose prompt is estimated above
// `max_prompt_tokens`, and tags the answers it lets through with a header.
//
//   [[plugins]]
//   name = "{{name}}"
//   stage = "policy"
//   source = "{{name}}.wasm"
//   [plugins.config]
//   max_prompt_tokens = 4000
//
// Test: `sluice plugin test` (runs `node --test`). Build: `sluice plugin build`.

import { allow, badRequest, deny, exportPolicy, field } from "./sluice-plugin.js";

export class {{Type}} {
  // The plugin's config table, checked by the SDK before the constructor runs (a missing,
  // mistyped or unknown field rejects the load).
  static config = {
    max_prompt_tokens: field.u32(),
  };

  /** @param {{ max_prompt_tokens: number }} config */
  constructor(config) {
    if (config.max_prompt_tokens === 0) {
      throw new Error("`max_prompt_tokens` must be at least 1");
    }
    this.maxPromptTokens = config.max_prompt_tokens;
  }

  /** @type {import("./sluice-plugin.js").Policy["onRequest"]} */
  onRequest(_ctx, _principal, meta, _body) {
    const max = this.maxPromptTokens;
    if (meta.estPromptTokens > max) {
      return deny(
        badRequest(`this prompt is about ${meta.estPromptTokens} tokens; this gateway takes at most ${max}`),
      );
    }
    return allow({ headers: [["x-{{name}}", "allowed"]] });
  }
}

export const { lifecycle, policyStage } = exportPolicy({{Type}});
