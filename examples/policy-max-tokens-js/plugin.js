// An example policy plugin in JavaScript, as an operator would write one: the same policy as the
// Rust example (examples/policy-max-tokens), with the same config, errors, header and metadata.
//
// It refuses requests that ask for more than `max_tokens` output tokens, and, when
// `require_user_id` is set, requests that do not name an end user (`user_id`). It also tags every
// response with the limit it applied, in a header and in the `sluice` metadata object.
//
//   [[plugins]]
//   name = "max-tokens-js"
//   stage = "policy"
//   source = "max-tokens-js.wasm"
//   [plugins.config]
//   max_tokens = 1024
//   require_user_id = true
//
// Build: node ../../plugin-sdk/js/build.mjs --wit ../../wit --world policy --entry . --out max-tokens-js.wasm

import { allow, badRequest, deny, exportPolicy, field } from "../../plugin-sdk/js/sluice-plugin.js";

/** The plugin is its config: the SDK builds it once per instance and calls its methods. */
export class MaxTokens {
  // The config table, checked by the SDK before the constructor runs (an unknown field rejects
  // the load).
  static config = {
    max_tokens: field.u32(),
    require_user_id: field.bool({ default: false }),
  };

  /** @param {{max_tokens: number, require_user_id: boolean}} config */
  constructor(config) {
    this.max = config.max_tokens;
    this.requireUserId = config.require_user_id;
  }

  /** @type {import("../../plugin-sdk/js/sluice-plugin.js").Policy["onRequest"]} */
  onRequest(ctx, _principal, meta, _body) {
    const max = this.max;
    if (this.requireUserId && ctx.userId === undefined) {
      return deny(badRequest("this gateway requires `user_id` in the request body", { param: "user_id" }));
    }
    if (meta.maxTokens !== undefined && meta.maxTokens > max) {
      return deny(badRequest(`max_tokens may be at most ${max} on this gateway`, { param: "max_tokens" }));
    }
    return allow({
      headers: [["x-max-tokens-limit", String(max)]],
      metadata: { max_tokens_limit: max },
    });
  }
}

export const { lifecycle, policyStage } = exportPolicy(MaxTokens);
