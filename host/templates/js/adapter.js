// `{{name}}`: a Sluice provider adapter for an OpenAI-compatible server. Requests go as they
// are (the host sends its prepared body), with the provider's key as a bearer token and the
// configured extra headers; answers and streams pass through unchanged.
//
//   [[plugins]]
//   name = "{{name}}"
//   stage = "adapter"
//   source = "{{name}}.wasm"
//   [plugins.config]
//   headers = { "x-team" = "research" }
//
//   [[providers]]
//   name = "my-server"
//   adapter = "{{name}}"
//   base_url = "http://127.0.0.1:8000/v1"
//
// Test: `sluice plugin test` (runs `node --test`). Build: `sluice plugin build`.

import { exportAdapter, field } from "./sluice-plugin.js";

/** Each endpoint's HTTP method and path below the provider's base URL (`/v1` excluded). */
const ENDPOINTS = {
  "chat-completions": ["POST", "/chat/completions"],
  completions: ["POST", "/completions"],
  embeddings: ["POST", "/embeddings"],
  models: ["GET", "/models"],
  "audio-speech": ["POST", "/audio/speech"],
  "images-generations": ["POST", "/images/generations"],
  files: ["POST", "/files"],
  batches: ["POST", "/batches"],
  mcp: ["POST", "/mcp-servers/{name}/mcp"],
  usage: ["GET", "/dashboard/api/summary"],
};

export class {{Type}} {
  // The plugin's config table, checked by the SDK before the constructor runs (a missing,
  // mistyped or unknown field rejects the load).
  static config = {
    headers: field.object({ default: {} }),
  };

  // Answers already are OpenAI's: no body needed, no translation per stream event (without a
  // `startStream` method, stream events pass unchanged).
  static info = { passthrough: true, wantsBody: false };

  /** @param {{ headers: Record<string, string> }} config */
  constructor(config) {
    for (const [name, value] of Object.entries(config.headers)) {
      if (typeof value !== "string") throw new Error(`the value of header \`${name}\` must be a string`);
    }
    // Sorted by name, lower-cased, as they are sent.
    this.headers = Object.entries(config.headers)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, value]) => [name.toLowerCase(), value]);
  }

  /** @type {import("./sluice-plugin.js").Adapter["toUpstream"]} */
  toUpstream(ctx, provider, _body) {
    const headers = this.headers.map(([name, value]) => [name, value]);
    if (provider.apiKey !== undefined) headers.push(["authorization", `Bearer ${provider.apiKey}`]);
    const [method, path] = ENDPOINTS[ctx.endpoint] ?? ["POST", `/${ctx.endpoint}`];
    return {
      tag: "send",
      // No `body`: the host sends the request body it prepared.
      val: { method, path, headers, body: undefined, stream: ctx.stream },
    };
  }
}

export const { lifecycle, adapter } = exportAdapter({{Type}});
