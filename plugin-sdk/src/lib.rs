//! # sluice-plugin-sdk
//!
//! Write plugins for the [Sluice](https://crates.io/crates/sluice) gateway in plain Rust. A plugin
//! is a WebAssembly component that takes part in one stage of every request:
//!
//! | stage      | trait         | export macro           | what it does                                   |
//! |------------|---------------|------------------------|------------------------------------------------|
//! | auth       | [`Auth`]      | [`export_auth!`]       | turns a bearer key into a [`Principal`]        |
//! | policy     | [`Policy`]    | [`export_policy!`]     | allows, denies or answers a request            |
//! | adapter    | [`Adapter`]   | [`export_adapter!`]    | maps OpenAI requests to a provider and back    |
//! | enrich     | [`Enrich`]    | [`export_enrich!`]     | adds metadata and headers to finished answers  |
//! | mcp-policy | [`McpPolicy`] | [`export_mcp_policy!`] | allows, denies or filters MCP tool calls/lists |
//! | guard      | [`Guard`]     | [`export_guard!`]      | refuses or redacts requests and answers        |
//!
//! A plugin is a type that implements [`Plugin`] (its typed config and how it is built from it)
//! and one stage trait, whose methods take `&self`. Call the stage's macro once, and build with
//! `cargo build --release --target wasm32-wasip2`. The `.wasm` file that comes out is the plugin.
//!
//! ```no_run
//! use serde::Deserialize;
//! use sluice_plugin_sdk::{export_policy, Allow, Decision, ErrorBody, LlmMeta, Plugin, Policy,
//!                         Principal, RequestCtx};
//!
//! /// Refuses requests for more output tokens than the configured cap.
//! struct MaxTokens { cap: u32 }
//!
//! #[derive(Deserialize)]
//! struct Config { cap: u32 }
//!
//! impl Plugin for MaxTokens {
//!     type Config = Config;
//!     fn new(c: Config) -> Result<Self, String> {
//!         if c.cap == 0 { return Err("`cap` must be at least 1".into()); }
//!         Ok(MaxTokens { cap: c.cap })
//!     }
//! }
//!
//! impl Policy for MaxTokens {
//!     fn on_request(&self, _: &RequestCtx, _: &Principal, meta: &LlmMeta, _body: &[u8])
//!         -> Decision {
//!         match meta.max_tokens {
//!             Some(n) if n > self.cap => Decision::Deny(ErrorBody::bad_request(
//!                 format!("max_tokens may be at most {}", self.cap),
//!             )),
//!             _ => Decision::Continue(Allow::default()),
//!         }
//!     }
//! }
//!
//! export_policy!(MaxTokens);
//! ```
//!
//! **Config is parsed once per instance.** When the gateway loads a plugin it calls `init` with
//! the plugin's config table; the SDK parses it into [`Plugin::Config`] (an error, such as an
//! unknown or mistyped field, rejects the load and names the field), calls [`Plugin::new`] and
//! keeps the value. Instances the gateway creates later (fresh per request, or warm from a pool)
//! build theirs the same way on first use. A plugin that takes no config uses [`NoConfig`].
//!
//! **What a stage gets.** The SDK builds against `sluice:plugin@0.2.0`, where no field is sent
//! twice. [`RequestCtx`] holds the [`Endpoint`] (an enum; [`Endpoint::as_str`] gives the name,
//! such as `chat.completions`), the model, whether a stream was asked for, and the request's
//! headers ([`RequestCtx::header`]). [`LlmMeta`] summarises the body (`max_tokens`, estimated
//! prompt tokens, `n`). [`Policy::on_request`] and [`Adapter::to_upstream`] receive the body as
//! `&[u8]`, filled when [`Plugin::info`] declares `wants_body` and empty otherwise.
//!
//! **Adapters** translate streams with a [`stream::StreamTranslator`]: for each stream of an
//! adapter that is not pass-through, the host creates a `stream-translator` resource, in which the
//! SDK keeps the value [`Adapter::start_stream`] returns; every upstream event goes to it, and
//! [`stream::StreamTranslator::finish`] consumes it at the stream's end. [`openai`] holds the
//! OpenAI-side types and builders adapters share.
//!
//! **Enrich plugins** that price requests set [`Enrichment::cost_usd`]; the host records it with
//! the request's usage.
//!
//! **Guards** see request bodies and answers: [`Guard::check_json`] gets a whole body as a
//! `serde_json::Value` and returns a [`GuardVerdict`]; [`Guard::check_text`] gets a stream's text
//! per choice, with the look-behind the plugin declares ([`PluginInfo::guard`]) held back so a
//! match split across chunks arrives whole, and returns a [`TextVerdict`].
//! [`guard::for_each_text`] visits the texts of any OpenAI request or answer.
//!
//! **MCP policy plugins** see the JSON-RPC requests clients send to MCP servers through the
//! gateway (`/mcp-servers/{name}/mcp`, [`Endpoint::Mcp`]) as [`McpRequest`]s, after the auth
//! stage: [`McpPolicy::on_mcp_request`] forwards, denies (a JSON-RPC [`McpError`]) or answers
//! one ([`McpDecision`]), and [`McpPolicy::on_mcp_result`] may replace the result of a request it
//! let through (a filtered `tools/list`). [`Principal::mcp_servers`] names the servers a key may
//! reach (empty: every one; see [`Principal::may_use_mcp_server`]).
//!
//! A plugin has no network, filesystem or environment. It reaches the gateway through [`log`],
//! [`now_ms`], [`config_json`], [`notify`] (events for the operator's webhooks), the key-value
//! store in [`kv`], the gateway's price table in [`prices`] (policy and enrich plugins) and, for
//! auth plugins, the managed keys in [`keys`].

extern crate self as sluice_plugin_sdk;

mod endpoint;
mod errors;
mod export;
#[doc(hidden)]
pub mod glue;
pub mod guard;
pub mod hints;
pub mod keys;
pub mod kv;
mod mcp;
pub mod openai;
pub mod prices;
mod stages;
pub mod stream;

#[doc(hidden)]
pub mod bindings {
    //! Generated bindings of the `sdk` world. Not a public API: use the crate root instead.
    #![allow(missing_docs, unsafe_code, clippy::all)]
    wit_bindgen::generate!({
        world: "sdk",
        path: "../wit",
        pub_export_macro: true,
        export_macro_name: "__export_sdk_world",
        default_bindings_module: "::sluice_plugin_sdk::bindings",
        runtime_path: "::sluice_plugin_sdk::__wit_bindgen::rt",
    });
}

#[doc(hidden)]
pub use wit_bindgen as __wit_bindgen;

pub use bindings::exports::sluice::plugin0_2_0::adapter::{Provider, UpstreamCall};
pub use bindings::exports::sluice::plugin0_2_0::guard_stage::{Direction, TextVerdict, Verdict};
pub use bindings::exports::sluice::plugin0_2_0::lifecycle::PluginInfo;
pub use bindings::sluice::plugin0_2_0::mcp_types::{McpDecision, McpError, McpRequest};
pub use bindings::sluice::plugin0_2_0::types::{
    Allow, Decision, Endpoint, Enrichment, ErrorBody, Headers, HttpResponse, LlmMeta, Outcome,
    Principal, RequestCtx, SseEvent, UpstreamRequest, Usage,
};
#[doc(hidden)]
pub use glue as __glue;
pub use glue::from_config_json;
pub use guard::{Guard, GuardVerdict};
#[doc(hidden)]
pub use stages::Unsupported as __Unsupported;
pub use stages::{Adapter, Auth, Enrich, McpPolicy, NoConfig, Plugin, Policy};

use bindings::sluice::plugin0_2_0::host;

/// Log levels for [`log`].
pub use bindings::sluice::plugin0_2_0::host::Level;

/// Writes `message` to the gateway's log, tagged with this plugin's name.
pub fn log(level: Level, message: &str) {
    host::log(level, message);
}

/// Milliseconds since the Unix epoch, from the host's clock.
pub fn now_ms() -> u64 {
    host::now_ms()
}

/// Sends the event `kind` (such as `budget.threshold`) with `data` (a JSON object) to the
/// operator's webhooks that subscribe to it. The host signs, delivers and retries it in the
/// background; the call returns at once.
pub fn notify(kind: &str, data: &serde_json::Value) {
    host::notify(kind, &data.to_string());
}

/// This plugin's `config` table from `gateway.toml`, as JSON text (`{}` when absent). The export
/// glue parses it into [`Plugin::Config`] once per instance; plugins rarely need the text.
pub fn config_json() -> String {
    host::config()
}

// The type is generated by wit-bindgen, so the impl cannot be derived.
#[allow(clippy::derivable_impls)]
impl Default for PluginInfo {
    fn default() -> Self {
        PluginInfo {
            wants_body: false,
            passthrough: false,
            look_behind: 0,
            native: Vec::new(),
        }
    }
}

impl PluginInfo {
    /// What a translating adapter declares: it needs request bodies, and upstream answers need
    /// translating (no pass-through).
    pub fn translating() -> Self {
        PluginInfo {
            wants_body: true,
            passthrough: false,
            look_behind: 0,
            native: Vec::new(),
        }
    }

    /// What an adapter whose upstream answers already are OpenAI's declares: pass-through, with
    /// or without request bodies.
    pub fn passthrough(wants_body: bool) -> Self {
        PluginInfo {
            wants_body,
            passthrough: true,
            look_behind: 0,
            native: Vec::new(),
        }
    }

    /// The same, with `endpoints` (APIs besides OpenAI's chat completions: [`Endpoint::Messages`],
    /// [`Endpoint::Responses`]) spoken by the provider itself: the host then sends requests to
    /// them to this adapter untranslated (`ctx.endpoint` says which API the body is in), and
    /// expects the answers, whole and streamed, in that API's shapes.
    pub fn with_native(mut self, endpoints: &[Endpoint]) -> Self {
        self.native = endpoints.to_vec();
        self
    }

    /// What a guard declares: `look_behind` bytes of each stream choice's text held back, so a
    /// match up to that long is seen whole even when it is split across chunks.
    pub fn guard(look_behind: u32) -> Self {
        PluginInfo {
            look_behind,
            ..PluginInfo::default()
        }
    }
}

// The type is generated by wit-bindgen, so the impl cannot be derived.
#[allow(clippy::derivable_impls)]
impl Default for Allow {
    fn default() -> Self {
        Allow {
            headers: Vec::new(),
            metadata: Vec::new(),
            body: None,
        }
    }
}

// The type is generated by wit-bindgen, so the impl cannot be derived.
#[allow(clippy::derivable_impls)]
impl Default for Enrichment {
    fn default() -> Self {
        Enrichment {
            headers: Vec::new(),
            metadata: Vec::new(),
            cost_usd: None,
        }
    }
}

// Empty values of the request records, for plugins' unit tests (`..Default::default()`).
// The types are generated by wit-bindgen, so the impls cannot be derived.
#[allow(clippy::derivable_impls)]
impl Default for RequestCtx {
    fn default() -> Self {
        RequestCtx {
            request_id: String::new(),
            endpoint: Endpoint::ChatCompletions,
            model: String::new(),
            stream: false,
            user_id: None,
            key_id: None,
            headers: Vec::new(),
        }
    }
}

#[allow(clippy::derivable_impls)]
impl Default for LlmMeta {
    fn default() -> Self {
        LlmMeta {
            max_tokens: None,
            est_prompt_tokens: 0,
            n: 1,
        }
    }
}

#[allow(clippy::derivable_impls)]
impl Default for Principal {
    fn default() -> Self {
        Principal {
            key_id: String::new(),
            owner: String::new(),
            team: None,
            models: Vec::new(),
            attributes: Vec::new(),
            mcp_servers: Vec::new(),
        }
    }
}

impl SseEvent {
    /// An event with only a `data:` field.
    pub fn data(data: impl Into<String>) -> Self {
        SseEvent {
            event: None,
            data: data.into(),
        }
    }
}

impl RequestCtx {
    /// The value of the first request header named `name` (compared case-insensitively). The
    /// request's headers live only here: the host passes no separate request record.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

impl HttpResponse {
    /// The value of the first header named `name` (compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

impl Principal {
    /// The value of the attribute named `name`, if the key has one.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the key may reach the MCP server named `server`: its `mcp_servers` list is empty
    /// (every server) or names it.
    pub fn may_use_mcp_server(&self, server: &str) -> bool {
        self.mcp_servers.is_empty() || self.mcp_servers.iter().any(|s| s == server)
    }
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}
