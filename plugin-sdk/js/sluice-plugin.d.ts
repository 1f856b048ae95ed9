// Types of the Sluice plugin SDK for JavaScript (sluice-plugin.js), written from the WIT package
// `sluice:plugin@0.2.0` (wit/plugin.wit) as ComponentizeJS maps it: records are objects with
// camelCase fields, `option<T>` is `T | undefined`, enums are their kebab-case names, variants are
// `{ tag, val }`, `list<u8>` is a `Uint8Array`, tuples are arrays. The SDK turns the 64-bit
// integers plugins see (`upstreamUs`, clocks, kv counters) into numbers.

// --- Values of the WIT `types` interface --------------------------------------------------------

/** HTTP headers as `[name, value]` pairs. Names are lower-case. */
export type Headers = Array<[string, string]>;

/** The endpoint a request was made to. */
export type Endpoint =
  | "chat-completions"
  | "completions"
  | "embeddings"
  | "models"
  | "audio-speech"
  | "images-generations"
  | "files"
  | "batches"
  | "mcp"
  | "usage"
  | "messages"
  | "responses"
  | "audio-transcriptions"
  | "audio-translations"
  | "images-edits"
  | "images-variations"
  | "moderations";

/** What the host knows about a request before any plugin runs. */
export interface RequestCtx {
  requestId: string;
  endpoint: Endpoint;
  /** The model asked for; empty when the endpoint names none (and in the auth stage). */
  model: string;
  stream: boolean;
  /** The end user (the body's `user_id`), if any. */
  userId?: string;
  /** Id of the key that authenticated the request; absent before the auth stage. */
  keyId?: string;
  headers: Headers;
}

/** A summary of the request body. */
export interface LlmMeta {
  /** `max_tokens` or `max_completion_tokens`, if given. */
  maxTokens?: number;
  estPromptTokens: number;
  /** Number of choices asked for (default 1). */
  n: number;
}

/** The identity behind a bearer key. */
export interface Principal {
  keyId: string;
  owner: string;
  team?: string;
  /** Models this key may use; empty means every model. */
  models: string[];
  attributes: Array<[string, string]>;
  /** MCP servers this key may reach; empty means every server. */
  mcpServers: string[];
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  body: Uint8Array;
}

export interface UpstreamRequest {
  method: string;
  path: string;
  headers: Headers;
  /** Absent: the host's prepared body. */
  body?: Uint8Array;
  stream: boolean;
}

export interface SseEvent {
  event?: string;
  data: string;
}

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
}

/** An OpenAI-shaped error and its HTTP status. */
export interface ErrorBody {
  status: number;
  type: string;
  code?: string;
  param?: string;
  message: string;
  /** Seconds after which a retry may succeed (429, 503). */
  retryAfter?: number;
}

/** What a policy adds when it lets a request through (the WIT `allow` record). */
export interface AllowRecord {
  headers: Headers;
  /** `[name, JSON text]` pairs merged into the response's `sluice` object. */
  metadata: Array<[string, string]>;
  body?: Uint8Array;
}

/** A policy's decision. */
export type Decision =
  | { tag: "continue"; val: AllowRecord }
  | { tag: "deny"; val: ErrorBody }
  | { tag: "respond"; val: HttpResponse };

/** What the host knows once a response is complete. */
export interface Outcome {
  status: number;
  provider: string;
  servedModel: string;
  usage?: Usage;
  latencyMs: number;
  /** Microseconds spent waiting on the upstream (a number here; a u64 in the WIT). */
  upstreamUs: number;
}

/** What an enrich plugin adds to a response. Headers may be pairs or an object; metadata values
 * of an object are JSON-encoded. */
export interface Enrichment {
  headers?: Headers | Record<string, string | number>;
  metadata?: Array<[string, string]> | Record<string, unknown>;
  costUsd?: number;
}

/** What a plugin tells the host about itself (every field optional here; default false/0). */
export interface PluginInfo {
  /** Whether the plugin needs request bodies (policy `onRequest`, adapter `toUpstream`). */
  wantsBody?: boolean;
  /** Adapters: whether upstream answers already are in OpenAI's shape. */
  passthrough?: boolean;
  /** Guards: how many bytes of stream text the host holds back per choice. */
  lookBehind?: number;
  /** Adapters: the APIs besides chat completions the provider speaks itself (`"messages"`,
   * `"responses"`): requests to them reach `toUpstream` untranslated. */
  native?: Endpoint[];
}

/** The provider a request is routed to (adapters). */
export interface Provider {
  name: string;
  baseUrl: string;
  apiKey?: string;
  upstreamModel: string;
}

export type UpstreamCall = { tag: "send"; val: UpstreamRequest } | { tag: "respond"; val: HttpResponse };

/** Which side of the exchange a whole body comes from (guards). */
export type Direction = "request" | "response";

export type Verdict = { tag: "allow" } | { tag: "deny"; val: ErrorBody } | { tag: "rewrite"; val: string };

export type TextVerdictValue =
  | { tag: "allow" }
  | { tag: "replace"; val: string }
  | { tag: "stop"; val: ErrorBody };

/** A JSON-RPC request a client sent to an MCP server through the gateway. */
export interface McpRequest {
  requestId: string;
  server: string;
  sessionId?: string;
  userId?: string;
  method: string;
  /** The tool (`tools/call`), prompt (`prompts/get`) or resource (`resources/read`) named. */
  target?: string;
  /** The request's `params` as JSON text. */
  params: string;
}

export interface McpError {
  code: number;
  message: string;
  /** JSON text. */
  data?: string;
}

export type McpDecisionValue =
  | { tag: "continue"; val?: string }
  | { tag: "deny"; val: McpError }
  | { tag: "respond"; val: string };

/** A managed key (auth plugins, `keys.lookup`). */
export interface KeyRecord {
  id: string;
  owner: string;
  team?: string;
  models: string[];
  attributes: Array<[string, string]>;
  mcpServers: string[];
  expiresAtMs?: number;
  revoked: boolean;
}

/** The error result of a stage function that returns a WIT `result`. */
export interface Err {
  tag: "err";
  val: ErrorBody;
}

type Maybe<T> = T | Promise<T>;

// --- What a plugin implements -------------------------------------------------------------------

/** A plugin class: constructed once per instance with its config table (a throw rejects the load). */
export interface PluginClass<P, C = any> {
  new (config: C): P;
  /** Config fields (see `field`): checked, with defaults filled in, before the constructor runs. */
  config?: Record<string, FieldSpec>;
  /** The plugin's info, if it does not define an `info()` method. */
  info?: PluginInfo;
}

/** What `exportX` accepts: a class, a factory `(config) => plugin`, or `{ create(config) }`. */
export type PluginSource<P> = PluginClass<P> | ((config: any) => P) | { create(config: any): P } | P;

export interface Base {
  /** What the plugin tells the host (default: nothing wanted, look-behind 0). */
  info?(): PluginInfo;
}

/** The policy stage: rate limits, budgets, allow-lists, custom rules. Methods may be async. */
export interface Policy extends Base {
  /** `body` is the client's JSON body when `info().wantsBody`, else empty. Returning nothing
   * continues with nothing added. */
  onRequest(ctx: RequestCtx, principal: Principal, meta: LlmMeta, body: Uint8Array): Maybe<Decision | void>;
  onComplete?(ctx: RequestCtx, principal: Principal, meta: LlmMeta, outcome: Outcome): Maybe<void>;
}

/** The guard stage: sees request bodies and answers, whole and streamed. */
export interface Guard extends Base {
  /** `body` is the parsed JSON; returning nothing allows it. */
  checkJson(ctx: RequestCtx, principal: Principal | undefined, direction: Direction, body: any): Maybe<Verdict | void>;
  /** Stream text of one choice (held text + new delta); a string return replaces it. Default: allow. */
  checkText?(
    ctx: RequestCtx,
    principal: Principal | undefined,
    choice: number,
    text: string,
    last: boolean,
  ): Maybe<TextVerdictValue | string | void>;
}

/** The auth stage: turns a credential into a principal (or `err(invalidApiKey(...))`). */
export interface Auth extends Base {
  authenticate(ctx: RequestCtx, credential: string | undefined): Maybe<PrincipalInput | Err>;
}

/** A principal as an auth plugin returns it (missing lists are empty; attributes may be an object). */
export interface PrincipalInput {
  keyId: string;
  owner: string;
  team?: string;
  models?: string[];
  attributes?: Array<[string, string]> | Record<string, string>;
  mcpServers?: string[];
}

/** The enrich stage: headers, metadata and cost of finished responses. */
export interface Enrich extends Base {
  onResponse(ctx: RequestCtx, principal: Principal | undefined, outcome: Outcome): Maybe<Enrichment | void>;
}

/** The MCP policy stage. Returning nothing from `onMcpRequest` forwards the request. */
export interface McpPolicy extends Base {
  onMcpRequest(req: McpRequest, principal: Principal): Maybe<McpDecisionValue | void>;
  /** A replacement result (JSON text or a JSON value), or nothing to keep it. */
  onMcpResult?(req: McpRequest, principal: Principal, result: string): Maybe<string | object | void>;
}

/** One stream's translator (adapters). */
export interface StreamTranslator {
  onEvent(event: SseEvent): Maybe<SseEvent[] | Err>;
  finish?(): Maybe<[SseEvent[], Usage | undefined] | Err>;
}

/** A provider adapter. */
export interface Adapter extends Base {
  toUpstream(ctx: RequestCtx, provider: Provider, body: Uint8Array): Maybe<UpstreamCall | Err>;
  /** A mapped response, or nothing to pass the upstream's unchanged. */
  fromUpstream?(ctx: RequestCtx, resp: HttpResponse): Maybe<HttpResponse | undefined | Err>;
  /** Default: events pass unchanged, no usage. */
  startStream?(ctx: RequestCtx, provider: Provider): StreamTranslator;
}

// --- Exports --------------------------------------------------------------------------------------

/** The component's `lifecycle` export. */
export interface LifecycleExport {
  init(configJson: string): { tag: "ok"; val: Required<PluginInfo> } | { tag: "err"; val: string };
}

export function exportPolicy(plugin: PluginSource<Policy>): {
  lifecycle: LifecycleExport;
  policyStage: {
    onRequest(ctx: RequestCtx, principal: Principal, meta: LlmMeta, body: Uint8Array): Maybe<Decision>;
    onComplete(ctx: RequestCtx, principal: Principal, meta: LlmMeta, outcome: Outcome): Maybe<void>;
  };
};

export function exportGuard(plugin: PluginSource<Guard>): {
  lifecycle: LifecycleExport;
  guardStage: {
    checkJson(ctx: RequestCtx, principal: Principal | undefined, direction: Direction, body: string): Maybe<Verdict>;
    checkText(
      ctx: RequestCtx,
      principal: Principal | undefined,
      choice: number,
      text: string,
      last: boolean,
    ): Maybe<TextVerdictValue>;
  };
};

export function exportAuth(plugin: PluginSource<Auth>): {
  lifecycle: LifecycleExport;
  authStage: {
    authenticate(ctx: RequestCtx, credential?: string): Maybe<{ tag: "ok"; val: Principal } | Err>;
  };
};

export function exportEnrich(plugin: PluginSource<Enrich>): {
  lifecycle: LifecycleExport;
  enrichStage: { onResponse(ctx: RequestCtx, principal: Principal | undefined, outcome: Outcome): Maybe<Enrichment> };
};

export function exportMcpPolicy(plugin: PluginSource<McpPolicy>): {
  lifecycle: LifecycleExport;
  mcpPolicyStage: {
    onMcpRequest(req: McpRequest, principal: Principal): Maybe<McpDecisionValue>;
    onMcpResult(req: McpRequest, principal: Principal, result: string): Maybe<string | undefined>;
  };
};

export function exportAdapter(plugin: PluginSource<Adapter>): {
  lifecycle: LifecycleExport;
  adapter: {
    toUpstream(ctx: RequestCtx, provider: Provider, body: Uint8Array): Maybe<{ tag: "ok"; val: UpstreamCall } | Err>;
    fromUpstream(ctx: RequestCtx, resp: HttpResponse): Maybe<{ tag: "ok"; val?: HttpResponse } | Err>;
    StreamTranslator: new (ctx: RequestCtx, provider: Provider) => {
      onEvent(event: SseEvent): Maybe<{ tag: "ok"; val: SseEvent[] } | Err>;
      finish(): Maybe<{ tag: "ok"; val: [SseEvent[], Usage | undefined] } | Err>;
    };
  };
};

// --- Decisions and errors -------------------------------------------------------------------------

export interface AllowOptions {
  /** Headers added to the client's response. */
  headers?: Headers | Record<string, string | number>;
  /** Fields merged into the response's `sluice` object (object values are JSON-encoded). */
  metadata?: Array<[string, string]> | Record<string, unknown>;
  /** A replacement request body: a JSON value, JSON text or bytes. */
  body?: unknown;
}

/** Let the request go on. */
export function allow(options?: AllowOptions): Decision;
/** Refuse the request with this error. */
export function deny(error: ErrorBody): Decision;
/** Answer now: `body` is bytes, text, or a JSON value (sent with `content-type: application/json`). */
export function respond(status: number, body?: unknown, headers?: Headers | Record<string, string>): Decision;
export const Decision: { allow: typeof allow; deny: typeof deny; respond: typeof respond };

export function httpResponse(status: number, body?: unknown, headers?: Headers | Record<string, string>): HttpResponse;

export const Verdict: {
  allow(): Verdict;
  deny(error: ErrorBody): Verdict;
  /** Let this body (a JSON value or JSON text) through instead. */
  rewrite(body: unknown): Verdict;
};

export const TextVerdict: {
  allow(): TextVerdictValue;
  replace(text: string): TextVerdictValue;
  stop(error: ErrorBody): TextVerdictValue;
};

export const McpDecision: {
  /** Forward the request; with `params` (a JSON value), forward those instead. */
  forward(params?: unknown): McpDecisionValue;
  deny(error: McpError): McpDecisionValue;
  /** Answer with this JSON-RPC result (a JSON value). */
  respond(result: unknown): McpDecisionValue;
};

/** A JSON-RPC error; `data` is a JSON value. Use codes -32000 to -32019 for your own errors. */
export function mcpError(code: number, message: string, data?: unknown): McpError;
export namespace mcpError {
  const INTERNAL_ERROR: number;
}

/** The error result of `authenticate`, `toUpstream`, `fromUpstream` and stream translators. */
export function err(error: ErrorBody): Err;

export interface ErrorOptions {
  code?: string;
  /** The request parameter at fault. */
  param?: string;
  retryAfter?: number;
}

export function errorBody(status: number, type: string, message: string, options?: ErrorOptions): ErrorBody;
/** 400 `invalid_request_error`. */
export function badRequest(message: string, options?: ErrorOptions): ErrorBody;
/** 401 `invalid_request_error` / `invalid_api_key`. */
export function invalidApiKey(message: string, options?: ErrorOptions): ErrorBody;
/** 403 `permission_error` / `forbidden`. */
export function forbidden(message: string, options?: ErrorOptions): ErrorBody;
/** 404 `invalid_request_error` / `model_not_found`, param `model`. */
export function modelNotFound(model: string): ErrorBody;
/** 429 `rate_limit_exceeded`, retryable after `retryAfterS` seconds. */
export function rateLimited(message: string, retryAfterS: number, options?: ErrorOptions): ErrorBody;
/** 500 `server_error`. */
export function serverError(message: string, options?: ErrorOptions): ErrorBody;
/** 502 `upstream_error` / `bad_upstream_response`. */
export function badUpstream(message: string, options?: ErrorOptions): ErrorBody;

// --- Helpers --------------------------------------------------------------------------------------

/** The first value of header `name` (case-insensitive) of a context, a response, or pairs. */
export function header(from: { headers: Headers } | Headers, name: string): string | undefined;
/** The value of a principal's attribute `name`. */
export function attribute(principal: Principal | undefined, name: string): string | undefined;
/** Whether a principal may reach MCP server `server` (an empty list allows every server). */
export function mayUseMcpServer(principal: Principal | undefined, server: string): boolean;
/** A body (bytes or text) parsed as JSON; `undefined` when empty. Throws on invalid JSON. */
export function parseJson(body: Uint8Array | string): any;
/** Bytes as UTF-8 text. */
export function text(body: Uint8Array | string): string;
/**
 * Calls `f` on every piece of model-facing or model-made text in an OpenAI body: in requests,
 * `messages[].content` (a string, or the `text` of its parts), `prompt` and `input`; in answers,
 * `choices[].message.content`, `choices[].message.refusal`, `choices[].text` and
 * `choices[].delta.content`. A string `f` returns replaces the text in place. Returns whether
 * anything changed.
 */
export function forEachText(body: any, f: (text: string) => string | void): boolean;

export type Level = "trace" | "debug" | "info" | "warn" | "error";
/** Writes a line to the gateway's log, tagged with the plugin's name. */
export function log(level: Level, message: string): void;
/** Milliseconds since the Unix epoch. */
export function nowMs(): number;
/** This plugin's config table as JSON text (`{}` when absent). */
export function configJson(): string;
/**
 * Sends the event `kind` (such as `budget.threshold`) with `data` (sent as a JSON object) to the
 * operator's webhooks that subscribe to it. The host signs, delivers and retries it in the
 * background; the call returns at once. Throws a TypeError when `data` is not an object.
 */
export function notify(kind: string, data: Record<string, unknown>): void;
/** Whether the code runs inside a component (false in Node.js, where the host is faked). */
export function inComponent(): boolean;

/** The plugin's key-value store (shared by its instances; each plugin has its own). */
export const kv: {
  get(key: string): Uint8Array | undefined;
  getText(key: string): string | undefined;
  set(key: string, value: Uint8Array | string, ttlMs?: number): void;
  delete(key: string): void;
  /** Atomically adds `delta` to a counter that resets every `windowMs` (epoch-aligned windows). */
  incr(key: string, delta: number, windowMs: number): { value: number; msToReset: number };
  /**
   * Atomically adds `delta` to a counter that lives until `expiresAtMs` (ms since the epoch; a
   * counter created earlier keeps its expiry, and once expired starts again from 0); returns the
   * new value. Name the counter by its period (`spend|2026-12`) to count over calendar months.
   */
  add(key: string, delta: number, expiresAtMs: number): number;
  /**
   * Adds every amount to its windowed counter if none would pass its limit, else none: one atomic
   * step (a rate limiter checks all its limits with one call). Amounts of 0 or less are never
   * refused.
   */
  reserve(
    items: { key: string; amount: number; limit: number }[],
    windowMs: number,
  ):
    | { granted: true; counts: { value: number; msToReset: number }[] }
    | { granted: false; refused: number; wouldReach: { value: number; msToReset: number } };
  /** Adds each `[key, delta]` to its windowed counter (as `incr`) in one call; the new values. */
  incrAll(deltas: [string, number][], windowMs: number): { value: number; msToReset: number }[];
};

/** A model's prices in USD per million tokens (the WIT `prices.price`). */
export interface Price {
  input: number;
  output: number;
  cachedInput: number;
}

/**
 * The gateway's price table (`[pricing]` over a maintained list of common models), shared by every
 * plugin that prices requests. Policy and enrich plugins only: elsewhere the calls throw.
 */
export const prices: {
  /**
   * The price of `model`: its own entry, else its entry without a date suffix
   * (`gpt-4o-mini-2024-07-18` -> `gpt-4o-mini`), else, for a model or alias of the gateway's
   * `[[models]]`, of its name and then its deployments' upstream models.
   */
  lookup(model: string): Price | undefined;
  /** What `usage` of `model` costs in USD (cached prompt tokens at the cached price); `undefined` when unpriced. */
  cost(model: string, usage: Usage): number | undefined;
  /**
   * What a finished request cost in USD: its usage priced as `outcome.servedModel`, else as
   * `ctx.model`; 0 when neither has a price or the usage is unknown (as every first-party plugin
   * prices a request).
   */
  costOf(ctx: RequestCtx, outcome: Outcome): number;
};

/** Managed keys (auth plugins only). */
export const keys: { lookup(sha256Hex: string): KeyRecord | undefined };

// --- Config ---------------------------------------------------------------------------------------

export type FieldKind = "u32" | "integer" | "number" | "bool" | "string" | "array" | "object" | "any";
export interface FieldSpec {
  kind: FieldKind;
  /** Used when the field is absent (the field is then not required). */
  default?: unknown;
  /** Absent is allowed (left undefined). */
  optional?: boolean;
}
type FieldOptions = Omit<FieldSpec, "kind">;
/** Config field specs for a plugin class's `static config`. */
export const field: { [K in FieldKind]: (options?: FieldOptions) => FieldSpec };
/** Checks a parsed config table against field specs; returns it with defaults filled in. */
export function checkConfig(raw: unknown, spec: Record<string, FieldSpec>): Record<string, any>;
/** Builds a plugin from config JSON as the component does (throws the load error). */
export function fromConfigJson<P>(plugin: PluginSource<P>, json?: string): P;

// --- Testing --------------------------------------------------------------------------------------

/** The in-memory stand-ins for the host outside a component (Node.js unit tests). */
export const testing: {
  /** What `host.config()` returns (instances created without `init` read it). */
  configJson: string;
  logs: Array<[Level, string]>;
  /** A fixed clock; `undefined` uses `Date.now()`. */
  nowMs: number | undefined;
  /** Events sent with `notify`: `[kind, data]`, `data` parsed from its JSON. */
  events: Array<[string, Record<string, unknown>]>;
  kv: Map<string, unknown>;
  /** model -> prices (`cachedInput` defaults to `input`), for `prices`; empty: nothing is priced. */
  prices: Map<string, { input: number; output: number; cachedInput?: number }>;
  /** sha256 hex -> key record, for `keys.lookup`. */
  keys: Map<string, KeyRecord>;
  reset(): void;
};

export function requestCtx(fields?: Partial<RequestCtx>): RequestCtx;
export function principal(fields?: Partial<Principal>): Principal;
export function llmMeta(fields?: Partial<LlmMeta>): LlmMeta;
export function outcome(fields?: Partial<Outcome>): Outcome;
export function mcpRequest(fields?: Partial<McpRequest>): McpRequest;
