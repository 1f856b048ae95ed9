// `{{name}}`: a Sluice enrich plugin. It adds the configured label and whether the answer was
// slow to every response's `sluice` object, and the label as a header.
//
//   [[plugins]]
//   name = "{{name}}"
//   stage = "enrich"
//   source = "{{name}}.wasm"
//   [plugins.config]
//   label = "eu-west"
//   slow_ms = 2000
//
// Test: `sluice plugin test` (runs `node --test`). Build: `sluice plugin build`.

import { exportEnrich, field } from "./sluice-plugin.js";

export class {{Type}} {
  // The plugin's config table, checked by the SDK before the constructor runs (a missing,
  // mistyped or unknown field rejects the load).
  static config = {
    label: field.string(),
    slow_ms: field.u32({ default: 2000 }),
  };

  /** @param {{ label: string, slow_ms: number }} config */
  constructor(config) {
    this.label = config.label;
    this.slowMs = config.slow_ms;
  }

  /** @type {import("./sluice-plugin.js").Enrich["onResponse"]} */
  onResponse(_ctx, _principal, outcome) {
    return {
      headers: [["x-{{name}}-label", this.label]],
      // Metadata values given as an object are JSON-encoded: "label": "eu-west", "slow": false.
      metadata: { label: this.label, slow: outcome.latencyMs > this.slowMs },
    };
  }
}

export const { lifecycle, enrichStage } = exportEnrich({{Type}});
