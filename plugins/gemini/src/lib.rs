//! `gemini`: the adapter for Google's Gemini API (`generativelanguage.googleapis.com/v1beta`).
//!
//! Clients speak OpenAI's chat completions and embeddings; this adapter translates them to
//! `models/{model}:generateContent`, `:streamGenerateContent?alt=sse`, `:embedContent` and
//! `:batchEmbedContents`, and translates the answers (whole, streamed or errors) back.
//!
//! | OpenAI                                   | Gemini                                                   |
//! |------------------------------------------|----------------------------------------------------------|
//! | `system` / `developer` messages          | `systemInstruction.parts`                                |
//! | `user` / `assistant` turns               | `contents` with roles `user` / `model` (same roles merged)|
//! | `image_url` parts                        | `inlineData` (data URLs) or `fileData` (other URLs)      |
//! | `input_audio` parts, `file` data URLs    | `inlineData`                                             |
//! | assistant `tool_calls`                   | `functionCall` parts                                     |
//! | `tool` messages                          | user `functionResponse` parts (`response.content`)       |
//! | `tools`, `tool_choice`                   | `functionDeclarations`, `toolConfig.functionCallingConfig`|
//! | `temperature`, `top_p`, `max_(completion_)tokens`, `stop`, `n`, `seed`, `presence_penalty`, `frequency_penalty` | `generationConfig` |
//! | `response_format` `json_object`          | `responseMimeType: application/json`                     |
//! | `response_format` `json_schema`          | the above plus `responseSchema`                          |
//!
//! **Schemas.** Tool `parameters` and `json_schema.schema` are passed through as Gemini's
//! `parameters` / `responseSchema`, which take an OpenAPI 3.0 subset of JSON Schema: keywords
//! such as `$ref`, `$defs`, `additionalProperties` or `oneOf` may be refused by Gemini with a 400.
//! One exception: an object schema without properties (a tool with no arguments) is left out,
//! because Gemini refuses `OBJECT` schemas with empty `properties`.
//!
//! **Usage.** Completion tokens include Gemini's thinking tokens (`thoughtsTokenCount`, billed as
//! output, also reported as `completion_tokens_details.reasoning_tokens`); prompt tokens include
//! tool-use prompt tokens; `cachedContentTokenCount` is reported as `cached_tokens`. Gemini
//! reports no usage for embeddings: prompt tokens are estimated as ceil(characters / 4) per input.
//!
//! Refused with 400: `logprobs: true`, OpenAI file ids, the legacy `function` role and
//! `function_call`, token-array embedding inputs. Dropped (no equivalent): `logit_bias`, `user`,
//! `service_tier`, `store`, `metadata`, `reasoning_effort`, `parallel_tool_calls`, `prediction`,
//! `modalities`, `web_search_options`. Thinking parts (`thought: true`) are left out of answers.
//!
//! Config (all optional):
//! ```toml
//! [plugins.config]
//! # Sent as `safetySettings` with every chat request, verbatim.
//! safety_settings = [{ category = "HARM_CATEGORY_HARASSMENT", threshold = "BLOCK_ONLY_HIGH" }]
//! ```

mod contents;
mod embeddings;
mod errors;
mod request;
mod response;
mod stream;

use serde::Deserialize;
use serde_json::Value;
use sluice_plugin_sdk::openai::response::{count, usage_json};
use sluice_plugin_sdk::{
    Adapter, ErrorBody, HttpResponse, Plugin, PluginInfo, Provider, RequestCtx, UpstreamCall, Usage,
};

/// The plugin's config table.
#[derive(Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {
    /// Gemini `safetySettings`, sent verbatim with every chat request.
    #[serde(default)]
    pub safety_settings: Option<Vec<Value>>,
}

/// Token counts of one answer, as OpenAI reports them.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub(crate) struct Tokens {
    /// Prompt tokens (cached ones included).
    pub prompt: u32,
    /// Completion tokens (thinking included).
    pub completion: u32,
    /// Prompt tokens served from the cache.
    pub cached: u32,
    /// Thinking tokens (part of `completion`).
    pub reasoning: u32,
}

impl Tokens {
    /// Reads Gemini's `usageMetadata`.
    pub(crate) fn from_metadata(meta: &Value) -> Self {
        let n = |k: &str| count(meta, k);
        let reasoning = n("thoughtsTokenCount");
        Tokens {
            prompt: n("promptTokenCount").saturating_add(n("toolUsePromptTokenCount")),
            completion: n("candidatesTokenCount").saturating_add(reasoning),
            cached: n("cachedContentTokenCount"),
            reasoning,
        }
    }

    /// The host's usage record.
    pub(crate) fn usage(&self) -> Usage {
        Usage {
            prompt_tokens: self.prompt,
            completion_tokens: self.completion,
            cached_tokens: self.cached,
        }
    }

    /// OpenAI's `usage` object.
    pub(crate) fn json(&self) -> Value {
        usage_json(&self.usage(), Some(self.reasoning))
    }
}

/// The model id for Gemini paths: the provider's model without a `models/` prefix.
pub(crate) fn model_id(provider: &Provider) -> &str {
    let m = provider.upstream_model.as_str();
    m.strip_prefix("models/").unwrap_or(m)
}

/// Seconds since the Unix epoch, from the host's clock (for `created` fields).
fn now_s() -> u64 {
    sluice_plugin_sdk::now_ms() / 1000
}

/// The adapter: its config, checked once per instance.
struct Gemini {
    config: Config,
}

impl Plugin for Gemini {
    type Config = Config;

    fn new(config: Config) -> Result<Self, String> {
        if let Some(settings) = &config.safety_settings
            && !settings.iter().all(Value::is_object)
        {
            return Err("gemini adapter config: `safety_settings` must be a list of tables".into());
        }
        Ok(Gemini { config })
    }

    fn info(&self) -> PluginInfo {
        PluginInfo::translating()
    }
}

impl Adapter for Gemini {
    type Stream = stream::State;

    fn to_upstream(
        &self,
        ctx: &RequestCtx,
        provider: &Provider,
        body: &[u8],
    ) -> Result<UpstreamCall, ErrorBody> {
        embeddings::forget();
        request::upstream_request(ctx, provider, body, &self.config).map(UpstreamCall::Send)
    }

    fn from_upstream(
        &self,
        ctx: &RequestCtx,
        resp: &HttpResponse,
    ) -> Result<Option<HttpResponse>, ErrorBody> {
        response::from_upstream(ctx, resp, now_s()).map(Some)
    }

    fn start_stream(&self, ctx: &RequestCtx, provider: &Provider) -> stream::State {
        stream::State::new(&ctx.request_id, model_id(provider), now_s())
    }
}

sluice_plugin_sdk::export_adapter!(Gemini);
// It reads no request header: the host passes none.
sluice_plugin_sdk::reads_headers!();

/// The provider and models the unit tests use.
#[cfg(test)]
const TEST: sluice_plugin_sdk::openai::test_support::TestProvider =
    sluice_plugin_sdk::openai::test_support::TestProvider::new(
        "gemini",
        "https://generativelanguage.googleapis.com/v1beta",
        "gemini-2.5-flash",
        "gemini",
    );

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse_config(json: &str) -> Result<Config, String> {
        sluice_plugin_sdk::from_config_json::<Gemini>(json).map(|g| g.config)
    }

    #[test]
    fn config_defaults_and_validation() {
        assert_eq!(parse_config("{}"), Ok(Config::default()));
        assert_eq!(parse_config(""), Ok(Config::default()));
        let c = parse_config(
            r#"{"safety_settings":[{"category":"HARM_CATEGORY_HARASSMENT","threshold":"BLOCK_NONE"}]}"#,
        )
        .expect("valid");
        assert_eq!(c.safety_settings.map(|s| s.len()), Some(1));
        assert!(parse_config(r#"{"nope":1}"#).is_err());
        assert!(parse_config(r#"{"safety_settings":["x"]}"#).is_err());
        assert!(parse_config(r#"{"safety_settings":{}}"#).is_err());
    }

    #[test]
    fn init_asks_for_the_body_and_no_passthrough() {
        let info = sluice_plugin_sdk::from_config_json::<Gemini>("{}")
            .expect("loads")
            .info();
        assert!(info.wants_body);
        assert!(!info.passthrough);
        assert!(sluice_plugin_sdk::from_config_json::<Gemini>(r#"{"x":1}"#).is_err());
    }

    #[test]
    fn tokens_read_usage_metadata() {
        let t = Tokens::from_metadata(&json!({"promptTokenCount":10,"candidatesTokenCount":5,
            "thoughtsTokenCount":7,"cachedContentTokenCount":4,"toolUsePromptTokenCount":2,
            "totalTokenCount":24}));
        assert_eq!(
            t,
            Tokens {
                prompt: 12,
                completion: 12,
                cached: 4,
                reasoning: 7
            }
        );
        assert_eq!(t.json()["total_tokens"], 24);
        assert_eq!(t.usage().completion_tokens, 12);
        assert_eq!(Tokens::from_metadata(&Value::Null), Tokens::default());
    }

    #[test]
    fn model_ids_drop_the_models_prefix() {
        let mut p = TEST.provider(None);
        assert_eq!(model_id(&p), "gemini-2.5-flash");
        p.upstream_model = "models/gemini-2.5-pro".into();
        assert_eq!(model_id(&p), "gemini-2.5-pro");
    }
}
