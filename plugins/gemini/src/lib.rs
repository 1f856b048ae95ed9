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
#[cfg(test)]
mod test_support;

use serde::Deserialize;
use serde_json::{Value, json};
use sluice_plugin_sdk::{
    Adapter, ErrorBody, HttpRequest, HttpResponse, Plugin, PluginInfo, Provider, RequestCtx,
    SseEvent, UpstreamCall, Usage,
};

/// The plugin's config table.
#[derive(Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {
    /// Gemini `safetySettings`, sent verbatim with every chat request.
    #[serde(default)]
    pub safety_settings: Option<Vec<Value>>,
}

/// Parses and checks the config JSON (`{}` or empty means every default).
pub(crate) fn parse_config(json: &str) -> Result<Config, String> {
    let json = if json.trim().is_empty() { "{}" } else { json };
    let config: Config =
        serde_json::from_str(json).map_err(|e| format!("gemini adapter config: {e}"))?;
    if let Some(settings) = &config.safety_settings
        && !settings.iter().all(Value::is_object)
    {
        return Err("gemini adapter config: `safety_settings` must be a list of tables".into());
    }
    Ok(config)
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
        let n = |k: &str| {
            meta.get(k)
                .and_then(Value::as_u64)
                .map_or(0, |v| u32::try_from(v).unwrap_or(u32::MAX))
        };
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
        json!({
            "prompt_tokens": self.prompt,
            "completion_tokens": self.completion,
            "total_tokens": self.prompt.saturating_add(self.completion),
            "prompt_tokens_details": { "cached_tokens": self.cached },
            "completion_tokens_details": { "reasoning_tokens": self.reasoning },
        })
    }
}

/// A 200 response holding `body` as JSON.
pub(crate) fn json_response(body: &Value) -> HttpResponse {
    HttpResponse {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_string().into_bytes(),
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

struct Gemini;

impl Plugin for Gemini {
    fn init(config_json: &str) -> Result<PluginInfo, String> {
        parse_config(config_json)?;
        Ok(PluginInfo {
            wants_body: true,
            passthrough: false,
        })
    }
}

impl Adapter for Gemini {
    fn to_upstream(
        ctx: RequestCtx,
        provider: Provider,
        req: HttpRequest,
    ) -> Result<UpstreamCall, ErrorBody> {
        stream::reset();
        embeddings::forget();
        let config = parse_config(&sluice_plugin_sdk::config_json())
            .map_err(|e| ErrorBody::new(500, "server_error", Some("plugin_config"), e))?;
        let call = request::upstream_request(&ctx, &provider, &req.body, &config)?;
        if ctx.stream && ctx.endpoint == "chat.completions" {
            stream::begin(&ctx.request_id, model_id(&provider), now_s());
        }
        Ok(UpstreamCall::Send(call))
    }

    fn from_upstream(
        ctx: RequestCtx,
        resp: HttpResponse,
    ) -> Result<Option<HttpResponse>, ErrorBody> {
        response::from_upstream(&ctx, &resp, now_s()).map(Some)
    }

    fn from_upstream_event(event: SseEvent) -> Result<Vec<SseEvent>, ErrorBody> {
        stream::on_event(&event, now_s)
    }

    fn finish_stream() -> Result<(Vec<SseEvent>, Option<Usage>), ErrorBody> {
        // A stream that ends before any candidate finished was cut short: say so.
        stream::finish_complete("The Gemini stream ended before the answer was complete.")
    }
}

sluice_plugin_sdk::export_adapter!(Gemini);

#[cfg(test)]
mod tests {
    use super::*;

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
        let info = Gemini::init("{}").expect("loads");
        assert!(info.wants_body);
        assert!(!info.passthrough);
        assert!(Gemini::init(r#"{"x":1}"#).is_err());
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
        let mut p = test_support::provider(None);
        assert_eq!(model_id(&p), "gemini-2.5-flash");
        p.upstream_model = "models/gemini-2.5-pro".into();
        assert_eq!(model_id(&p), "gemini-2.5-pro");
    }
}
