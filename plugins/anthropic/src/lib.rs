//! `anthropic`: the adapter for Anthropic's Messages API (`POST /v1/messages`).
//!
//! Clients speak OpenAI's chat completions; this adapter translates each request into a Messages
//! request, and each answer (whole, streamed or an error) back into OpenAI's shape.
//!
//! | OpenAI                                   | Anthropic                                              |
//! |------------------------------------------|--------------------------------------------------------|
//! | `system` / `developer` messages          | top-level `system` (joined by blank lines)             |
//! | `user` / `assistant` turns               | `messages`, consecutive same-role turns merged         |
//! | `image_url` parts (data or http(s) URL)  | `image` blocks, `base64` or `url` source               |
//! | `file` parts with a PDF data URL         | `document` blocks, `base64` source                     |
//! | assistant `tool_calls`                   | `tool_use` blocks (arguments parsed as JSON)           |
//! | `tool` messages                          | user `tool_result` blocks                              |
//! | `tools`, `tool_choice`                   | `tools` (`input_schema`), `tool_choice`                |
//! | `parallel_tool_calls: false`             | `tool_choice.disable_parallel_tool_use: true`          |
//! | `stop`, `temperature`, `top_p`           | `stop_sequences`, `temperature`, `top_p`               |
//! | `max_completion_tokens` / `max_tokens`   | `max_tokens` (else `default_max_tokens`)               |
//! | `user`                                   | `metadata.user_id`                                     |
//! | `response_format` JSON modes             | an instruction added to `system` (see below)           |
//!
//! **JSON modes.** The Messages API (version `2023-06-01`, without betas) has no JSON mode. For
//! `response_format: {"type": "json_object"}` the adapter appends an instruction to answer with
//! one JSON object and nothing else; for `json_schema` the instruction also holds the schema.
//! The model usually complies, but nothing enforces it: validate the answer if it matters.
//!
//! Refused with 400: `n` > 1, `logprobs: true`, audio parts, files other than PDF data URLs,
//! OpenAI file ids, the legacy `function` role and `function_call`. Dropped silently (no
//! equivalent): `frequency_penalty`, `presence_penalty`, `seed`, `logit_bias`, `reasoning_effort`,
//! `service_tier`, `store`, `metadata`, `prediction`, `modalities`, `web_search_options`.
//! Temperatures above 1 are passed on; Anthropic answers them with a 400.
//!
//! **Native Messages.** The adapter also declares Anthropic's own Messages API as native
//! (`PluginInfo::with_native(&[Endpoint::Messages])`): a client's `POST /v1/messages` request
//! goes to `POST {base_url}/messages` untranslated (the host has set `model` to the upstream
//! model and `stream` as the client asked), with `x-api-key`, the client's `anthropic-version`
//! header (else the configured one) and its `anthropic-beta` header when it sent one. The
//! answer, whole, streamed or an error, is passed back as Anthropic sent it.
//!
//! | endpoint            | lane                                                             |
//! |---------------------|------------------------------------------------------------------|
//! | `chat.completions`  | translated (the table above)                                     |
//! | `messages`          | native: body and answer passed through                           |
//! | any other           | 400                                                              |
//!
//! Config (all optional):
//! ```toml
//! [plugins.config]
//! anthropic_version = "2023-06-01"   # the `anthropic-version` header
//! default_max_tokens = 4096          # `max_tokens` when the client sets none (Anthropic requires one)
//! ```

mod content;
mod errors;
mod messages;
mod native;
mod request;
mod response;
mod stream;

use serde::Deserialize;
use sluice_plugin_sdk::{
    Adapter, Endpoint, ErrorBody, HttpResponse, Plugin, PluginInfo, Provider, RequestCtx,
    UpstreamCall,
};

/// The plugin's config table.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {
    /// Value of the `anthropic-version` header.
    #[serde(default = "default_version")]
    pub anthropic_version: String,
    /// `max_tokens` sent when the client names none (the Messages API requires it).
    #[serde(default = "default_max_tokens")]
    pub default_max_tokens: u32,
}

fn default_version() -> String {
    "2023-06-01".to_string()
}

fn default_max_tokens() -> u32 {
    4096
}

impl Default for Config {
    fn default() -> Self {
        Config {
            anthropic_version: default_version(),
            default_max_tokens: default_max_tokens(),
        }
    }
}

/// Seconds since the Unix epoch, from the host's clock (for `created` fields).
fn now_s() -> u64 {
    sluice_plugin_sdk::now_ms() / 1000
}

/// The adapter: its config, checked once per instance.
struct Anthropic {
    config: Config,
}

impl Plugin for Anthropic {
    type Config = Config;

    fn new(config: Config) -> Result<Self, String> {
        if config.anthropic_version.trim().is_empty() {
            return Err("anthropic adapter config: `anthropic_version` must not be empty".into());
        }
        if config.default_max_tokens == 0 {
            return Err("anthropic adapter config: `default_max_tokens` must be at least 1".into());
        }
        Ok(Anthropic { config })
    }

    fn info(&self) -> PluginInfo {
        PluginInfo::translating().with_native(&[Endpoint::Messages])
    }
}

impl Adapter for Anthropic {
    type Stream = stream::State;

    fn to_upstream(
        &self,
        ctx: &RequestCtx,
        provider: &Provider,
        body: &[u8],
    ) -> Result<UpstreamCall, ErrorBody> {
        if ctx.endpoint == Endpoint::Messages {
            let call = native::upstream_request(ctx, provider, body, &self.config);
            return Ok(UpstreamCall::Send(call));
        }
        request::upstream_request(ctx, provider, body, &self.config).map(UpstreamCall::Send)
    }

    fn from_upstream(
        &self,
        ctx: &RequestCtx,
        resp: &HttpResponse,
    ) -> Result<Option<HttpResponse>, ErrorBody> {
        if ctx.endpoint == Endpoint::Messages {
            // The native lane: the answer already is the client's shape, errors included.
            return Ok(None);
        }
        response::from_upstream(ctx, resp, now_s()).map(Some)
    }

    fn start_stream(&self, ctx: &RequestCtx, provider: &Provider) -> stream::State {
        stream::State::new(&ctx.request_id, &provider.upstream_model, now_s())
    }
}

sluice_plugin_sdk::export_adapter!(Anthropic);

/// The provider and models the unit tests use.
#[cfg(test)]
const TEST: sluice_plugin_sdk::openai::test_support::TestProvider =
    sluice_plugin_sdk::openai::test_support::TestProvider::new(
        "anthropic",
        "https://api.anthropic.com/v1",
        "claude-sonnet-4-5",
        "claude",
    );

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_config(json: &str) -> Result<Config, String> {
        sluice_plugin_sdk::from_config_json::<Anthropic>(json).map(|a| a.config)
    }

    #[test]
    fn config_defaults_and_validation() {
        assert_eq!(parse_config("{}"), Ok(Config::default()));
        assert_eq!(parse_config(""), Ok(Config::default()));
        let c = parse_config(r#"{"anthropic_version":"2024-01-01","default_max_tokens":512}"#)
            .expect("valid config");
        assert_eq!(c.anthropic_version, "2024-01-01");
        assert_eq!(c.default_max_tokens, 512);
        assert!(parse_config(r#"{"nope":1}"#).is_err());
        assert!(parse_config(r#"{"default_max_tokens":0}"#).is_err());
        assert!(parse_config(r#"{"anthropic_version":" "}"#).is_err());
        assert!(parse_config(r#"{"default_max_tokens":"many"}"#).is_err());
    }

    #[test]
    fn init_asks_for_the_body_and_no_passthrough() {
        let info = sluice_plugin_sdk::from_config_json::<Anthropic>("{}")
            .expect("loads")
            .info();
        assert!(info.wants_body);
        assert!(!info.passthrough);
        assert_eq!(info.native, vec![Endpoint::Messages]);
        assert!(sluice_plugin_sdk::from_config_json::<Anthropic>(r#"{"x":1}"#).is_err());
    }

    #[test]
    fn the_messages_endpoint_takes_the_native_lane() {
        let a = sluice_plugin_sdk::from_config_json::<Anthropic>("{}").expect("loads");
        let ctx = TEST.ctx(Endpoint::Messages, true);
        let body = br#"{"model":"claude-sonnet-4-5","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"hi"}]}"#;
        match a.to_upstream(&ctx, &TEST.provider(Some("k")), body) {
            Ok(UpstreamCall::Send(r)) => {
                assert_eq!(r.path, "/messages");
                assert!(r.stream);
                assert_eq!(r.body.as_deref(), Some(&body[..]));
            }
            _ => panic!("a native call"),
        }
        for status in [200, 529] {
            let resp = HttpResponse {
                status,
                headers: vec![("content-type".into(), "application/json".into())],
                body: br#"{"type":"message"}"#.to_vec(),
            };
            assert!(matches!(a.from_upstream(&ctx, &resp), Ok(None)));
        }
        // Other endpoints still answer 400; chat is still translated.
        let embeddings = TEST.ctx(Endpoint::Embeddings, false);
        assert!(
            a.to_upstream(&embeddings, &TEST.provider(None), b"{}")
                .is_err()
        );
        let chat = TEST.ctx(Endpoint::ChatCompletions, false);
        let chat_body = br#"{"model":"claude","messages":[{"role":"user","content":"hi"}]}"#;
        match a.to_upstream(&chat, &TEST.provider(None), chat_body) {
            Ok(UpstreamCall::Send(r)) => assert_ne!(r.body.as_deref(), Some(&chat_body[..])),
            _ => panic!("a translated call"),
        }
    }
}
