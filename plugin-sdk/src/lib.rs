//! # sluice-plugin-sdk
//!
//! Write plugins for the [Sluice](https://crates.io/crates/sluice) gateway in plain Rust. A plugin
//! is a WebAssembly component that takes part in one stage of every request:
//!
//! | stage   | trait       | export macro        | what it does                                    |
//! |---------|-------------|---------------------|-------------------------------------------------|
//! | auth    | [`Auth`]    | [`export_auth!`]    | turns a bearer key into a [`Principal`]         |
//! | policy  | [`Policy`]  | [`export_policy!`]  | allows, denies or answers a request             |
//! | adapter | [`Adapter`] | [`export_adapter!`] | maps OpenAI requests to a provider and back     |
//! | enrich  | [`Enrich`]  | [`export_enrich!`]  | adds metadata and headers to finished responses |
//!
//! Implement the trait on a unit struct, call the macro once, and build with
//! `cargo build --release --target wasm32-wasip2`. The `.wasm` file that comes out is the plugin.
//!
//! ```no_run
//! use sluice_plugin_sdk::{export_policy, Allow, Decision, ErrorBody, HttpRequest, LlmMeta, Plugin,
//!                         Policy, Principal, RequestCtx};
//!
//! /// Refuses requests for more than 4,096 output tokens.
//! struct MaxTokens;
//!
//! impl Plugin for MaxTokens {}
//!
//! impl Policy for MaxTokens {
//!     fn on_request(_ctx: RequestCtx, _who: Principal, meta: LlmMeta, _req: HttpRequest) -> Decision {
//!         match meta.max_tokens {
//!             Some(n) if n > 4096 => Decision::Deny(ErrorBody::bad_request(
//!                 "max_tokens may be at most 4096 here",
//!             )),
//!             _ => Decision::Continue(Allow::default()),
//!         }
//!     }
//! }
//!
//! export_policy!(MaxTokens);
//! ```
//!
//! A plugin has no network, filesystem or environment. It reaches the gateway through [`log`],
//! [`now_ms`], [`config`] and the key-value store in [`kv`].

extern crate self as sluice_plugin_sdk;

mod errors;
pub mod kv;
mod stages;

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

pub use bindings::exports::sluice::plugin::adapter::{Provider, UpstreamCall};
pub use bindings::exports::sluice::plugin::lifecycle::PluginInfo;
pub use bindings::sluice::plugin::types::{
    Allow, Decision, Enrichment, ErrorBody, Headers, HttpRequest, HttpResponse, LlmMeta, Outcome,
    Principal, RequestCtx, SseEvent, UpstreamRequest, Usage,
};
#[doc(hidden)]
pub use stages::Unsupported as __Unsupported;
pub use stages::{Adapter, Auth, Enrich, Plugin, Policy};

use bindings::sluice::plugin::host;

/// Log levels for [`log`].
pub use bindings::sluice::plugin::host::Level;

/// Writes `message` to the gateway's log, tagged with this plugin's name.
pub fn log(level: Level, message: &str) {
    host::log(level, message);
}

/// Milliseconds since the Unix epoch, from the host's clock.
pub fn now_ms() -> u64 {
    host::now_ms()
}

/// This plugin's `config` table from `gateway.toml`, as JSON text (`{}` when absent).
pub fn config_json() -> String {
    host::config()
}

/// This plugin's `config` table, deserialized into `T`.
///
/// ```no_run
/// #[derive(serde::Deserialize, Default)]
/// struct Settings { greeting: Option<String> }
/// let settings: Settings = sluice_plugin_sdk::config().unwrap_or_default();
/// ```
pub fn config<T: serde::de::DeserializeOwned>() -> Result<T, String> {
    serde_json::from_str(&host::config()).map_err(|e| format!("invalid plugin config: {e}"))
}

impl Default for PluginInfo {
    fn default() -> Self {
        PluginInfo {
            wants_body: false,
            passthrough: false,
        }
    }
}

impl Default for Allow {
    fn default() -> Self {
        Allow {
            headers: Vec::new(),
            metadata: Vec::new(),
            body: None,
        }
    }
}

impl Default for Enrichment {
    fn default() -> Self {
        Enrichment {
            headers: Vec::new(),
            metadata: Vec::new(),
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

impl HttpRequest {
    /// The value of the first header named `name` (compared case-insensitively).
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
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}
