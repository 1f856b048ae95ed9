// The Sluice plugin SDK for JavaScript: write a gateway plugin as a class, export it with one call.
//
// A plugin is a WebAssembly component targeting one world of `sluice:plugin@0.2.0`
// (wit/plugin.wit). This module hides the component bindings: a plugin is a class whose
// constructor takes the plugin's config (parsed from the `config` table of gateway.toml, once per
// instance) and whose methods serve one stage. `exportPolicy(MyPlugin)` (or the export function
// of another stage) returns the objects the component must export, named as ComponentizeJS
// expects (the interface names in camelCase):
//
//     export const { lifecycle, policyStage } = exportPolicy(MyPlugin);
//
// `build.mjs` turns the module into a component. The module also runs in plain Node.js (for unit
// tests): there the host's imports (`log`, `config`, `notify`, `kv`, `prices`, `keys`) are
// in-memory fakes, which `testing` exposes. Types: sluice-plugin.d.ts.

// --- The host's imports ------------------------------------------------------------------------

// The build's entry wrapper puts the component's imports here before any call; in Node.js the
// key is absent and the fakes below serve instead. A global (not a module variable) so that every
// copy of this module a bundle might hold sees the same imports.
const HOST_KEY = Symbol.for("sluice.plugin.host@0.2.0");

/** The in-memory stand-ins for the host's imports outside a component (unit tests). */
export const testing = {
  /** The config JSON the fake `host.config()` returns (what an instance created without `init` sees). */
  configJson: "{}",
  /** Lines logged through the fake `host.log`: `[level, message]`. */
  logs: [],
  /** The fake clock; `undefined` uses `Date.now()`. */
  nowMs: undefined,
  /** Events sent through the fake `host.notify`: `[kind, data]`, `data` parsed from its JSON. */
  events: [],
  /** The fake `kv` store: key -> { value: Uint8Array, expiresAt?: number }. */
  kv: new Map(),
  /**
   * The fake price table: model -> { input, output, cachedInput } in USD per million tokens
   * (empty: no model has a price). Lookups also find a model under a dated name.
   */
  prices: new Map(),
  /** The fake managed keys: sha256 hex -> key record. */
  keys: new Map(),
  /** Empties the logs, the events, the store, the prices and the keys; restores the config and clock. */
  reset() {
    this.configJson = "{}";
    this.logs = [];
    this.nowMs = undefined;
    this.events = [];
    this.kv = new Map();
    this.prices = new Map();
    this.keys = new Map();
  },
};

const fakeNow = () => testing.nowMs ?? Date.now();

const fakeImports = {
  host: {
    log: (level, message) => testing.logs.push([level, message]),
    nowMs: () => BigInt(Math.trunc(fakeNow())),
    config: () => testing.configJson,
    notify: (kind, data) => void testing.events.push([kind, JSON.parse(data)]),
  },
  kv: {
    get(key) {
      const e = testing.kv.get(key);
      if (e === undefined) return undefined;
      if (e.expiresAt !== undefined && e.expiresAt <= fakeNow()) {
        testing.kv.delete(key);
        return undefined;
      }
      return e.value;
    },
    set(key, value, ttlMs) {
      const expiresAt = ttlMs === undefined ? undefined : fakeNow() + Number(ttlMs);
      testing.kv.set(key, { value: Uint8Array.from(value), expiresAt });
    },
    delete: (key) => void testing.kv.delete(key),
    incr(key, delta, windowMs) {
      const now = fakeNow();
      const window = Number(windowMs);
      const start = now - (now % window);
      const id = `\u0000window:${key}`;
      const e = testing.kv.get(id);
      const value = (e !== undefined && e.start === start ? e.value : 0n) + BigInt(delta);
      testing.kv.set(id, { value, start });
      return { value, msToReset: BigInt(start + window - now) };
    },
    reserve(items, windowMs) {
      const now = fakeNow();
      const window = Number(windowMs);
      const start = now - (now % window);
      const counted = (key) => {
        const e = testing.kv.get(`\u0000window:${key}`);
        return e !== undefined && e.start === start ? e.value : 0n;
      };
      for (let i = 0; i < items.length; i++) {
        const r = items[i];
        if (r.amount <= 0n) continue;
        const before = items.slice(0, i).filter((e) => e.key === r.key).reduce((s, e) => s + e.amount, 0n);
        const value = counted(r.key) + before + r.amount;
        if (value > r.limit) {
          return { tag: "refused", val: { index: i, wouldReach: { value, msToReset: BigInt(start + window - now) } } };
        }
      }
      return { tag: "granted", val: items.map((r) => fakeImports.kv.incr(r.key, r.amount, windowMs)) };
    },
    incrAll(deltas, windowMs) {
      return deltas.map(([key, delta]) => fakeImports.kv.incr(key, delta, windowMs));
    },
    add(key, delta, expiresAtMs) {
      const id = `\u0000total:${key}`;
      const e = testing.kv.get(id);
      const entry =
        e !== undefined && e.expiresAt > fakeNow()
          ? { value: e.value + delta, expiresAt: e.expiresAt }
          : { value: delta, expiresAt: Number(expiresAtMs) };
      testing.kv.set(id, entry);
      return entry.value;
    },
  },
  prices: {
    lookup(model) {
      const p = testing.prices.get(model) ?? optional(undated(model), (m) => testing.prices.get(m));
      if (p === undefined) return undefined;
      return { input: p.input, output: p.output, cachedInput: p.cachedInput ?? p.input };
    },
    cost(model, usage) {
      const p = fakeImports.prices.lookup(model);
      return p === undefined ? undefined : priceCost(p, usage);
    },
  },
  keys: {
    lookup: (sha256Hex) => testing.keys.get(sha256Hex),
  },
};

/** `model` without a provider's date suffix (`-2024-07-18`, `-20250929`, `-001`), as the host drops it. */
function undated(model) {
  return /^(.+)-(?:\d{4}-\d{2}-\d{2}|\d{8}|\d{3})$/.exec(model)?.[1];
}

/** What `usage` costs at `price` in USD: fresh prompt tokens at `input`, cached at `cachedInput`. */
function priceCost(price, usage) {
  const cached = Math.min(usage.cachedTokens, usage.promptTokens);
  const fresh = usage.promptTokens - cached;
  return (fresh * price.input + cached * price.cachedInput + usage.completionTokens * price.output) / 1_000_000;
}

function imports() {
  return globalThis[HOST_KEY] ?? fakeImports;
}

function pricesImport() {
  const prices = imports().prices;
  if (prices === undefined) {
    throw new Error("the `prices` import is only available to policy and enrich plugins (worlds `policy`, `enrich`)");
  }
  return prices;
}

function keysImport() {
  const keys = imports().keys;
  if (keys === undefined) {
    throw new Error("the `keys` import is only available to auth plugins (world `auth`)");
  }
  return keys;
}

/** Whether this code runs inside a component built by build.mjs (false in Node.js). */
export function inComponent() {
  return globalThis[HOST_KEY] !== undefined;
}

/**
 * Writes a line to the gateway's log, tagged with the plugin's name.
 * @param {"trace"|"debug"|"info"|"warn"|"error"} level
 * @param {string} message
 */
export function log(level, message) {
  imports().host.log(level, String(message));
}

/** Milliseconds since the Unix epoch. */
export function nowMs() {
  return Number(imports().host.nowMs());
}

/** This plugin's config table as JSON text (`{}` when absent). */
export function configJson() {
  return imports().host.config();
}

/**
 * Sends the event `kind` (such as `budget.threshold`) with `data` (an object, sent as JSON) to the
 * operator's webhooks that subscribe to it. The host signs, delivers and retries it in the
 * background; the call returns at once.
 * @param {string} kind
 * @param {Record<string, unknown>} data
 */
export function notify(kind, data) {
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new TypeError("notify: data must be an object (a JSON object)");
  }
  imports().host.notify(String(kind), JSON.stringify(data));
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A key-value store shared by every instance of this plugin (each plugin has its own). */
export const kv = {
  /** The bytes stored under `key`, or `undefined`. */
  get(key) {
    return imports().kv.get(key) ?? undefined;
  },
  /** The value under `key` as UTF-8 text, or `undefined`. */
  getText(key) {
    const v = this.get(key);
    return v === undefined ? undefined : decoder.decode(v);
  },
  /** Stores `value` (bytes, or text stored as UTF-8) under `key`, for `ttlMs` milliseconds if given. */
  set(key, value, ttlMs) {
    const bytes = typeof value === "string" ? encoder.encode(value) : value;
    imports().kv.set(key, bytes, ttlMs === undefined || ttlMs === null ? undefined : BigInt(ttlMs));
  },
  /** Deletes `key`. */
  delete(key) {
    imports().kv.delete(key);
  },
  /**
   * Atomically adds `delta` to the counter `key`, which resets every `windowMs` milliseconds
   * (fixed windows aligned to the epoch). Returns the new value and the time left in the window.
   */
  incr(key, delta, windowMs) {
    const r = imports().kv.incr(key, BigInt(delta), BigInt(windowMs));
    return { value: Number(r.value), msToReset: Number(r.msToReset) };
  },
  /**
   * Atomically adds `delta` to the counter `key`, which lives until `expiresAtMs` (ms since the
   * epoch; a counter created earlier keeps its expiry, and once expired starts again from 0).
   * Returns the new value. Name the counter by its period (`spend|2026-12`) to count over
   * calendar months or weeks.
   */
  add(key, delta, expiresAtMs) {
    return Number(imports().kv.add(key, BigInt(delta), BigInt(expiresAtMs)));
  },
  /**
   * Adds each `{ key, amount, limit }`'s amount to its windowed counter (as `incr`) if none
   * would pass its limit, and else adds none, in one atomic step: a rate limiter checks all its
   * limits with one call, and they hold across gateway replicas sharing the store. Amounts of 0
   * or less are never refused. Returns `{ granted: true, counts }` with every counter's new
   * value, or `{ granted: false, refused, wouldReach }` naming the first reservation that would
   * pass its limit.
   */
  reserve(items, windowMs) {
    const r = imports().kv.reserve(
      items.map((i) => ({ key: i.key, amount: BigInt(i.amount), limit: BigInt(i.limit) })),
      BigInt(windowMs),
    );
    const count = (c) => ({ value: Number(c.value), msToReset: Number(c.msToReset) });
    if (r.tag === "granted") return { granted: true, counts: r.val.map(count) };
    return { granted: false, refused: r.val.index, wouldReach: count(r.val.wouldReach) };
  },
  /** Adds each `[key, delta]` to its windowed counter (as `incr`) in one call; the new values. */
  incrAll(deltas, windowMs) {
    const out = imports().kv.incrAll(
      deltas.map(([k, d]) => [k, BigInt(d)]),
      BigInt(windowMs),
    );
    return out.map((c) => ({ value: Number(c.value), msToReset: Number(c.msToReset) }));
  },
};

/** A usage record as the WIT has it (an absent `cachedTokens` is 0). */
function usageRecord(usage) {
  return {
    promptTokens: usage.promptTokens,
    completionTokens: usage.completionTokens,
    cachedTokens: usage.cachedTokens ?? 0,
  };
}

/**
 * The gateway's price table (`[pricing]` over a maintained list of common models), shared by
 * every plugin that prices requests. Policy and enrich plugins only: elsewhere the calls throw.
 */
export const prices = {
  /**
   * The price of `model` in USD per million tokens: its own entry, else its entry without a date
   * suffix (`gpt-4o-mini-2024-07-18` -> `gpt-4o-mini`), else, for a model or alias of the
   * gateway's `[[models]]`, of its name and then its deployments' upstream models; `undefined`
   * when nothing matches.
   */
  lookup(model) {
    const p = pricesImport().lookup(model);
    return p === undefined || p === null ? undefined : { input: p.input, output: p.output, cachedInput: p.cachedInput };
  },
  /** What `usage` of `model` costs in USD (cached prompt tokens at the cached price); `undefined` when unpriced. */
  cost(model, usage) {
    return pricesImport().cost(model, usageRecord(usage)) ?? undefined;
  },
  /**
   * What a finished request cost in USD: its usage priced as the model the provider served, else
   * as the model the client asked for; 0 when neither has a price or the usage is unknown. Every
   * first-party plugin prices a request this way, so they agree to the last digit.
   */
  costOf(ctx, outcome) {
    pricesImport();
    const usage = outcome.usage;
    if (usage === undefined || usage === null) return 0;
    return prices.cost(outcome.servedModel, usage) ?? prices.cost(ctx.model, usage) ?? 0;
  },
};

/** Keys the gateway manages (auth plugins only): the key whose secret has this sha256 hex. */
export const keys = {
  lookup(sha256Hex) {
    const k = keysImport().lookup(sha256Hex);
    if (k === undefined || k === null) return undefined;
    const expiresAtMs = k.expiresAtMs === undefined ? undefined : Number(k.expiresAtMs);
    return { ...k, expiresAtMs };
  },
};

// --- Values ---------------------------------------------------------------------------------------

/** `[name, value]` pairs from an array of pairs or an object. */
function pairs(v) {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v.map(([k, x]) => [String(k), String(x)]);
  return Object.entries(v).map(([k, x]) => [k, String(x)]);
}

/** Metadata `[name, JSON text]` pairs: from an object (values are JSON-encoded) or pairs. */
function metadataPairs(v) {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v.map(([k, x]) => [String(k), String(x)]);
  return Object.entries(v).map(([k, x]) => [k, JSON.stringify(x)]);
}

/** Bytes from bytes, text (UTF-8) or a JSON value (encoded). */
function bytes(v) {
  if (v instanceof Uint8Array) return v;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (typeof v === "string") return encoder.encode(v);
  return encoder.encode(JSON.stringify(v));
}

function optional(v, f) {
  return v === undefined || v === null ? undefined : f(v);
}

/** The first value of header `name` (case-insensitive), from a context, a response or pairs. */
export function header(from, name) {
  const list = Array.isArray(from) ? from : (from?.headers ?? []);
  const want = name.toLowerCase();
  const hit = list.find(([k]) => k.toLowerCase() === want);
  return hit === undefined ? undefined : hit[1];
}

/** The value of attribute `name` of a principal, or `undefined`. */
export function attribute(principal, name) {
  const hit = (principal?.attributes ?? []).find(([k]) => k === name);
  return hit === undefined ? undefined : hit[1];
}

/** Whether a principal may reach MCP server `server` (an empty list allows every server). */
export function mayUseMcpServer(principal, server) {
  const servers = principal?.mcpServers ?? [];
  return servers.length === 0 || servers.includes(server);
}

/** A body (bytes or text) parsed as JSON; `undefined` when it is empty. Throws on invalid JSON. */
export function parseJson(body) {
  const text = typeof body === "string" ? body : decoder.decode(body);
  return text.trim() === "" ? undefined : JSON.parse(text);
}

/** Bytes as UTF-8 text. */
export function text(body) {
  return typeof body === "string" ? body : decoder.decode(body);
}

// --- Errors ---------------------------------------------------------------------------------------

/**
 * An OpenAI-shaped error: `{"error": {message, type, param, code}}` with an HTTP status.
 * @param {number} status
 * @param {string} type
 * @param {string} message
 * @param {{code?: string, param?: string, retryAfter?: number}} [options]
 */
export function errorBody(status, type, message, options = {}) {
  return {
    status,
    type,
    code: options.code ?? undefined,
    param: options.param ?? undefined,
    message: String(message),
    retryAfter: options.retryAfter ?? undefined,
  };
}

/** 400 `invalid_request_error`. */
export const badRequest = (message, options = {}) =>
  errorBody(400, "invalid_request_error", message, options);

/** 401 `invalid_request_error` / `invalid_api_key`. */
export const invalidApiKey = (message, options = {}) =>
  errorBody(401, "invalid_request_error", message, { code: "invalid_api_key", ...options });

/** 403 `permission_error` / `forbidden`. */
export const forbidden = (message, options = {}) =>
  errorBody(403, "permission_error", message, { code: "forbidden", ...options });

/** 404 `invalid_request_error` / `model_not_found`, param `model`. */
export const modelNotFound = (model) =>
  errorBody(
    404,
    "invalid_request_error",
    `The model \`${model}\` does not exist or you do not have access to it.`,
    { code: "model_not_found", param: "model" },
  );

/** 429 `rate_limit_exceeded`, retryable after `retryAfterS` seconds. */
export const rateLimited = (message, retryAfterS, options = {}) =>
  errorBody(429, "rate_limit_exceeded", message, {
    code: "rate_limit_exceeded",
    retryAfter: retryAfterS,
    ...options,
  });

/** 500 `server_error`. */
export const serverError = (message, options = {}) =>
  errorBody(500, "server_error", message, options);

/** 502 `upstream_error` / `bad_upstream_response`. */
export const badUpstream = (message, options = {}) =>
  errorBody(502, "upstream_error", message, { code: "bad_upstream_response", ...options });

// --- Decisions ------------------------------------------------------------------------------------

/**
 * A policy's decision to let the request go on, adding response headers, `sluice` metadata
 * (values are JSON-encoded) or a replacement body (an object, text or bytes).
 */
export function allow(options = {}) {
  return {
    tag: "continue",
    val: {
      headers: pairs(options.headers),
      metadata: metadataPairs(options.metadata),
      body: optional(options.body, bytes),
    },
  };
}

/** A policy's decision to refuse the request with an error (see `badRequest` and the others). */
export function deny(error) {
  return { tag: "deny", val: error };
}

/** A whole HTTP response: `body` is bytes, text, or a JSON value (encoded, with its content type). */
export function httpResponse(status, body = new Uint8Array(), headers = []) {
  const list = pairs(headers);
  const isJson = !(body instanceof Uint8Array || typeof body === "string");
  if (isJson && header(list, "content-type") === undefined) {
    list.push(["content-type", "application/json"]);
  }
  return { status, headers: list, body: bytes(body) };
}

/** A policy's decision to answer the request now (later stages and the upstream are skipped). */
export function respond(status, body, headers) {
  return { tag: "respond", val: httpResponse(status, body, headers) };
}

/** The decisions of a policy plugin. */
export const Decision = { allow, deny, respond };

/** A guard's verdicts on a whole JSON body. */
export const Verdict = {
  allow: () => ({ tag: "allow" }),
  deny: (error) => ({ tag: "deny", val: error }),
  /** Let this body (a JSON value, or JSON text) through instead. */
  rewrite: (body) => ({ tag: "rewrite", val: typeof body === "string" ? body : JSON.stringify(body) }),
};

/** A guard's verdicts on stream text. */
export const TextVerdict = {
  allow: () => ({ tag: "allow" }),
  replace: (text) => ({ tag: "replace", val: String(text) }),
  stop: (error) => ({ tag: "stop", val: error }),
};

/** A JSON-RPC error for MCP policies; `data` is a JSON value. */
export function mcpError(code, message, data) {
  return { code, message: String(message), data: optional(data, (d) => JSON.stringify(d)) };
}

/** JSON-RPC's internal error code. */
mcpError.INTERNAL_ERROR = -32603;

/** An MCP policy's decisions. */
export const McpDecision = {
  /** Forward the request; with `params` (a JSON value), forward those instead. */
  forward: (params) => ({ tag: "continue", val: optional(params, (p) => JSON.stringify(p)) }),
  deny: (error) => ({ tag: "deny", val: error }),
  /** Answer with this JSON-RPC result (a JSON value); the server never sees the request. */
  respond: (result) => ({ tag: "respond", val: JSON.stringify(result) }),
};

/** The error result of `authenticate`, `toUpstream`, `fromUpstream` and stream translators. */
export function err(error) {
  return { tag: "err", val: error };
}

/** Calls `f` on each piece of model-facing or model-made text in an OpenAI body (see `forEachText` in the .d.ts). */
export function forEachText(body, f) {
  let changed = false;
  const apply = (holder, key) => {
    const out = f(holder[key]);
    if (typeof out === "string" && out !== holder[key]) {
      holder[key] = out;
      changed = true;
    }
  };
  const visit = (holder, key) => {
    const v = holder?.[key];
    if (typeof v === "string") {
      apply(holder, key);
    } else if (Array.isArray(v)) {
      v.forEach((item, i) => {
        if (typeof item === "string") apply(v, i);
        else if (item && typeof item === "object" && typeof item.text === "string") apply(item, "text");
      });
    }
  };
  if (body === null || typeof body !== "object") return false;
  if (Array.isArray(body.messages)) {
    for (const m of body.messages) if (m && typeof m === "object") visit(m, "content");
  }
  visit(body, "prompt");
  visit(body, "input");
  if (Array.isArray(body.choices)) {
    for (const c of body.choices) {
      if (!c || typeof c !== "object") continue;
      if (c.message && typeof c.message === "object") {
        visit(c.message, "content");
        visit(c.message, "refusal");
      }
      if (c.delta && typeof c.delta === "object") visit(c.delta, "content");
      visit(c, "text");
    }
  }
  return changed;
}

// --- Config ---------------------------------------------------------------------------------------

class ConfigError extends Error {}

const kinds = {
  u32: [(v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff, "an integer from 0 to 4294967295"],
  integer: [(v) => Number.isSafeInteger(v), "an integer"],
  number: [(v) => typeof v === "number" && Number.isFinite(v), "a number"],
  bool: [(v) => typeof v === "boolean", "a boolean"],
  string: [(v) => typeof v === "string", "a string"],
  array: [(v) => Array.isArray(v), "an array"],
  object: [(v) => v !== null && typeof v === "object" && !Array.isArray(v), "a table"],
  any: [() => true, "any value"],
};

function describe(v) {
  return v === null ? "null" : Array.isArray(v) ? "an array" : `${typeof v} ${JSON.stringify(v)}`;
}

/**
 * Config fields for a plugin class's `static config`: the SDK checks the config table against
 * them (a missing, mistyped or unknown field rejects the load and names the field) and fills in
 * defaults before the constructor runs.
 */
export const field = Object.fromEntries(
  Object.keys(kinds).map((kind) => [kind, (options = {}) => ({ kind, ...options })]),
);

/** Checks `raw` (a parsed config table) against a field spec; returns it with defaults filled in. */
export function checkConfig(raw, spec) {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError(`expected a table, found ${describe(raw)}`);
  }
  const names = Object.keys(spec);
  for (const name of Object.keys(raw)) {
    if (!names.includes(name)) {
      const expected = names.map((n) => `\`${n}\``).join(", ");
      throw new ConfigError(`unknown field \`${name}\`, expected ${names.length ? `one of ${expected}` : "no fields"}`);
    }
  }
  const out = {};
  for (const [name, f] of Object.entries(spec)) {
    const v = raw[name];
    if (v === undefined || v === null) {
      if ("default" in f) out[name] = f.default;
      else if (!f.optional) throw new ConfigError(`missing field \`${name}\``);
      continue;
    }
    const [ok, expected] = kinds[f.kind] ?? kinds.any;
    if (!ok(v)) throw new ConfigError(`invalid type for \`${name}\`: expected ${expected}, found ${describe(v)}`);
    out[name] = v;
  }
  return out;
}

function message(e) {
  return typeof e === "string" ? e : String(e?.message ?? e);
}

/**
 * Builds a plugin from its config JSON the way the component does: blank text counts as `{}`,
 * the JSON is parsed and checked against the class's `static config` spec (if any), then the
 * class is constructed (or the factory called). Throws the load error's message. Handy in tests.
 */
export function fromConfigJson(Plugin, json) {
  let config;
  try {
    config = JSON.parse(json === undefined || String(json).trim() === "" ? "{}" : json);
    if (Plugin?.config !== undefined) config = checkConfig(config, Plugin.config);
  } catch (e) {
    throw new Error(`invalid config: ${message(e)}`);
  }
  if (typeof Plugin !== "function") {
    return typeof Plugin?.create === "function" ? Plugin.create(config) : Plugin;
  }
  return Plugin.prototype === undefined ? Plugin(config) : new Plugin(config);
}

/** What the plugin tells the host about itself: `info()` of the plugin, or the class's `static info`. */
function pluginInfo(plugin, Plugin) {
  const i = (typeof plugin?.info === "function" ? plugin.info() : plugin?.info) ?? Plugin?.info ?? {};
  return {
    wantsBody: Boolean(i.wantsBody),
    passthrough: Boolean(i.passthrough),
    lookBehind: Math.max(0, Math.trunc(Number(i.lookBehind ?? 0))) >>> 0,
    native: Array.isArray(i.native) ? i.native.map(String) : [],
  };
}

// --- Export glue ----------------------------------------------------------------------------------

/** The 500 a call answers when the plugin could not be built from its config. */
function configError(e) {
  return errorBody(500, "server_error", e, { code: "plugin_config" });
}

/**
 * The plugin value of one component instance: built by `init`, or on first use from the host's
 * `config` import in instances the host creates without `init`, then kept for the instance's life.
 */
function instance(Plugin) {
  let built; // { plugin } or { error }
  return {
    init(json) {
      try {
        const plugin = fromConfigJson(Plugin, json);
        const info = pluginInfo(plugin, Plugin);
        built = { plugin };
        return { tag: "ok", val: info };
      } catch (e) {
        return { tag: "err", val: message(e) };
      }
    },
    get() {
      if (built === undefined) {
        try {
          built = { plugin: fromConfigJson(Plugin, configJson()) };
        } catch (e) {
          built = { error: message(e) };
        }
      }
      return built;
    },
  };
}

/** Applies `f` to a value or, when a plugin method is async, to what its promise resolves to. */
function then(v, f) {
  return v !== null && typeof v === "object" && typeof v.then === "function" ? v.then(f) : f(v);
}

/**
 * Calls `method` of the plugin, logging what it throws before rethrowing it (a throw traps the
 * instance: the request fails with a 500 that names the plugin, and the instance is dropped).
 */
function call(plugin, method, args, convert) {
  let out;
  try {
    out = plugin[method](...args);
  } catch (e) {
    log("error", `${method} threw: ${e?.stack ?? e}`);
    throw e;
  }
  return then(out, convert);
}

/** Checks a class (or a plain plugin object) has the stage's methods; factories are not checked. */
function need(Plugin, stage, methods) {
  const target = typeof Plugin === "function" ? Plugin.prototype : Plugin;
  if (target === undefined || target === null || typeof target.create === "function") return;
  for (const m of methods) {
    if (typeof target[m] !== "function") throw new TypeError(`a ${stage} plugin must have a \`${m}\` method`);
  }
}

/** A result value from what a method returned: `err(e)` stays an error, anything else is ok. */
function toResult(v, ok = (x) => x) {
  if (v !== null && typeof v === "object" && v.tag === "err") return v;
  return { tag: "ok", val: ok(v) };
}

/** Normalises a decision: `undefined` continues with nothing added. */
function toDecision(d) {
  return d === undefined || d === null ? allow() : d;
}

function toVerdict(v) {
  return v === undefined || v === null || v === true ? Verdict.allow() : v;
}

function toTextVerdict(v) {
  if (v === undefined || v === null || v === true) return TextVerdict.allow();
  if (typeof v === "string") return TextVerdict.replace(v);
  return v;
}

function toMcpDecision(d) {
  return d === undefined || d === null ? McpDecision.forward() : d;
}

function toEnrichment(e) {
  return {
    headers: pairs(e?.headers),
    metadata: metadataPairs(e?.metadata),
    costUsd: e?.costUsd ?? undefined,
  };
}

function toOutcome(o) {
  return { ...o, upstreamUs: Number(o.upstreamUs) };
}

/** Exports a policy plugin: `export const { lifecycle, policyStage } = exportPolicy(MyPlugin)`. */
export function exportPolicy(Plugin) {
  need(Plugin, "policy", ["onRequest"]);
  const inst = instance(Plugin);
  return {
    lifecycle: { init: inst.init },
    policyStage: {
      onRequest(ctx, principal, meta, body) {
        const { plugin, error } = inst.get();
        if (error !== undefined) return deny(configError(error));
        return call(plugin, "onRequest", [ctx, principal, meta, body], toDecision);
      },
      onComplete(ctx, principal, meta, outcome) {
        const { plugin, error } = inst.get();
        if (error !== undefined) return log("error", `on-complete skipped: ${error}`);
        if (typeof plugin.onComplete !== "function") return undefined;
        return call(plugin, "onComplete", [ctx, principal, meta, toOutcome(outcome)], () => undefined);
      },
    },
  };
}

/** Exports a guard plugin: `export const { lifecycle, guardStage } = exportGuard(MyGuard)`. */
export function exportGuard(Plugin) {
  need(Plugin, "guard", ["checkJson"]);
  const inst = instance(Plugin);
  return {
    lifecycle: { init: inst.init },
    guardStage: {
      checkJson(ctx, principal, direction, body) {
        const { plugin, error } = inst.get();
        if (error !== undefined) return Verdict.deny(configError(error));
        let parsed;
        try {
          parsed = JSON.parse(body);
        } catch (e) {
          return Verdict.deny(
            errorBody(500, "server_error", `the guard was given a body that is not JSON: ${message(e)}`, {
              code: "guard_input",
            }),
          );
        }
        return call(plugin, "checkJson", [ctx, principal ?? undefined, direction, parsed], toVerdict);
      },
      checkText(ctx, principal, choice, text, last) {
        const { plugin, error } = inst.get();
        if (error !== undefined) return TextVerdict.stop(configError(error));
        if (typeof plugin.checkText !== "function") return TextVerdict.allow();
        return call(plugin, "checkText", [ctx, principal ?? undefined, choice, text, last], toTextVerdict);
      },
    },
  };
}

/** Exports an auth plugin: `export const { lifecycle, authStage } = exportAuth(MyAuth)`. */
export function exportAuth(Plugin) {
  need(Plugin, "auth", ["authenticate"]);
  const inst = instance(Plugin);
  return {
    lifecycle: { init: inst.init },
    authStage: {
      authenticate(ctx, credential) {
        const { plugin, error } = inst.get();
        if (error !== undefined) return err(configError(error));
        return call(plugin, "authenticate", [ctx, credential ?? undefined], (p) => toResult(p, principalOf));
      },
    },
  };
}

/** A principal with every field present. */
function principalOf(p) {
  return {
    keyId: p.keyId,
    owner: p.owner,
    team: p.team ?? undefined,
    models: p.models ?? [],
    attributes: pairs(p.attributes),
    mcpServers: p.mcpServers ?? [],
  };
}

/** Exports an enrich plugin: `export const { lifecycle, enrichStage } = exportEnrich(MyPlugin)`. */
export function exportEnrich(Plugin) {
  need(Plugin, "enrich", ["onResponse"]);
  const inst = instance(Plugin);
  return {
    lifecycle: { init: inst.init },
    enrichStage: {
      onResponse(ctx, principal, outcome) {
        const { plugin, error } = inst.get();
        if (error !== undefined) {
          log("error", `on-response skipped: ${error}`);
          return toEnrichment(undefined);
        }
        return call(plugin, "onResponse", [ctx, principal ?? undefined, toOutcome(outcome)], toEnrichment);
      },
    },
  };
}

/** Exports an MCP policy plugin: `export const { lifecycle, mcpPolicyStage } = exportMcpPolicy(P)`. */
export function exportMcpPolicy(Plugin) {
  need(Plugin, "mcp-policy", ["onMcpRequest"]);
  const inst = instance(Plugin);
  return {
    lifecycle: { init: inst.init },
    mcpPolicyStage: {
      onMcpRequest(req, principal) {
        const { plugin, error } = inst.get();
        if (error !== undefined) {
          return McpDecision.deny(mcpError(mcpError.INTERNAL_ERROR, error, { code: "plugin_config" }));
        }
        return call(plugin, "onMcpRequest", [req, principal], toMcpDecision);
      },
      onMcpResult(req, principal, result) {
        const { plugin, error } = inst.get();
        if (error !== undefined) return log("error", `on-mcp-result skipped: ${error}`);
        if (typeof plugin.onMcpResult !== "function") return undefined;
        return call(plugin, "onMcpResult", [req, principal, result], (r) =>
          r === undefined || r === null ? undefined : typeof r === "string" ? r : JSON.stringify(r),
        );
      },
    },
  };
}

/** The translator of a plugin without `startStream`: events pass unchanged, no usage. */
const passThrough = { onEvent: (e) => [e], finish: () => [[], undefined] };

/**
 * Exports a provider adapter: `export const { lifecycle, adapter } = exportAdapter(MyAdapter)`.
 * `startStream(ctx, provider)` returns an object with `onEvent(event)` (-> events) and
 * `finish()` (-> `[events, usage]`); the SDK keeps it in the host's `stream-translator` resource.
 */
export function exportAdapter(Plugin) {
  need(Plugin, "adapter", ["toUpstream"]);
  const inst = instance(Plugin);
  const finished = errorBody(500, "server_error", "the stream-translator was called after its stream finished", {
    code: "stream_finished",
  });
  class StreamTranslator {
    #stream;
    #error;
    constructor(ctx, provider) {
      const { plugin, error } = inst.get();
      if (error !== undefined) this.#error = configError(error);
      else this.#stream = typeof plugin.startStream === "function" ? plugin.startStream(ctx, provider) : passThrough;
    }
    onEvent(event) {
      if (this.#error !== undefined) return err(this.#error);
      if (this.#stream === undefined) return err(finished);
      return call(this.#stream, "onEvent", [event], (v) => toResult(v, (es) => es ?? []));
    }
    finish() {
      if (this.#error !== undefined) return err(this.#error);
      const stream = this.#stream;
      if (stream === undefined) return err(finished);
      this.#stream = undefined;
      if (typeof stream.finish !== "function") return { tag: "ok", val: [[], undefined] };
      return call(stream, "finish", [], (v) => toResult(v, (r) => [r?.[0] ?? [], r?.[1] ?? undefined]));
    }
  }
  return {
    lifecycle: { init: inst.init },
    adapter: {
      toUpstream(ctx, provider, body) {
        const { plugin, error } = inst.get();
        if (error !== undefined) return err(configError(error));
        return call(plugin, "toUpstream", [ctx, provider, body], (v) => toResult(v));
      },
      fromUpstream(ctx, resp) {
        const { plugin, error } = inst.get();
        if (error !== undefined) return err(configError(error));
        if (typeof plugin.fromUpstream !== "function") return { tag: "ok", val: undefined };
        return call(plugin, "fromUpstream", [ctx, resp], (v) => toResult(v, (r) => r ?? undefined));
      },
      StreamTranslator,
    },
  };
}

// --- Values for unit tests ------------------------------------------------------------------------

/** A request context with empty fields, overridden by `fields` (for unit tests). */
export function requestCtx(fields = {}) {
  return {
    requestId: "",
    endpoint: "chat-completions",
    model: "",
    stream: false,
    userId: undefined,
    keyId: undefined,
    headers: [],
    ...fields,
  };
}

/** A principal with empty fields, overridden by `fields` (for unit tests). */
export function principal(fields = {}) {
  return { keyId: "", owner: "", team: undefined, models: [], attributes: [], mcpServers: [], ...fields };
}

/** A body summary (no max_tokens, 0 prompt tokens, n = 1), overridden by `fields`. */
export function llmMeta(fields = {}) {
  return { maxTokens: undefined, estPromptTokens: 0, n: 1, ...fields };
}

/** An outcome (200, no provider, no usage), overridden by `fields`. */
export function outcome(fields = {}) {
  return { status: 200, provider: "", servedModel: "", usage: undefined, latencyMs: 0, upstreamUs: 0, ...fields };
}

/** An MCP request (params `{}`), overridden by `fields`. */
export function mcpRequest(fields = {}) {
  return {
    requestId: "",
    server: "",
    sessionId: undefined,
    userId: undefined,
    method: "",
    target: undefined,
    params: "{}",
    ...fields,
  };
}
