//! `openai`: the adapter for OpenAI-compatible upstreams: OpenAI itself, vLLM, Ollama, llama.cpp,
//! and any server that speaks `/v1/chat/completions`.
//!
//! Requests already are in the upstream's shape, so the adapter only names the path and adds the
//! provider's key; the host sends its prepared body (upstream model set, `user_id` removed). It
//! declares no need for the body and pass-through streams, so a request costs one small Wasm call
//! and a stream costs none per chunk.
//!
//! With `native_responses` it declares OpenAI's Responses API (`/responses`) native: the host
//! sends Responses requests to it untranslated, and reads the answers in the Responses shapes.
//! Without it (the default: many compatible servers serve only chat completions) the host
//! translates them to chat completions.
//!
//! Config (all optional):
//! ```toml
//! [plugins.config]
//! headers = { "openai-organization" = "org-123" }   # extra headers on every upstream call
//! native_responses = true                           # the upstream serves /v1/responses (OpenAI)
//! ```

use serde::Deserialize;
use sluice_plugin_sdk::stream::PassThrough;
use sluice_plugin_sdk::{
    Adapter, Endpoint, ErrorBody, Plugin, PluginInfo, Provider, RequestCtx, UpstreamCall,
    UpstreamRequest,
};
use std::collections::BTreeMap;

/// The plugin's config table.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default)]
    headers: BTreeMap<String, String>,
    /// The upstream serves OpenAI's Responses API (`/v1/responses`) itself: Responses requests
    /// pass through untranslated. Off by default, since many OpenAI-compatible servers serve only
    /// chat completions; turn it on for OpenAI.
    #[serde(default)]
    native_responses: bool,
}

/// Builds the upstream request for `ctx` (pure, so it is unit-tested natively).
fn upstream_request(ctx: &RequestCtx, provider: &Provider, config: &Config) -> UpstreamRequest {
    let mut headers = Vec::with_capacity(2 + config.headers.len());
    if let Some(key) = provider.api_key.as_deref().filter(|k| !k.is_empty()) {
        headers.push(("authorization".to_string(), format!("Bearer {key}")));
    }
    for (k, v) in &config.headers {
        headers.push((k.to_ascii_lowercase(), v.clone()));
    }
    UpstreamRequest {
        method: ctx.endpoint.method().to_string(),
        path: ctx.endpoint.path().to_string(),
        headers,
        body: None,
        stream: ctx.stream,
    }
}

struct OpenAi(Config);

impl Plugin for OpenAi {
    type Config = Config;
    fn new(config: Config) -> Result<Self, String> {
        Ok(OpenAi(config))
    }
    fn info(&self) -> PluginInfo {
        let info = PluginInfo::passthrough(false);
        if self.0.native_responses {
            info.with_native(&[Endpoint::Responses])
        } else {
            info
        }
    }
}

impl Adapter for OpenAi {
    type Stream = PassThrough;

    fn to_upstream(
        &self,
        ctx: &RequestCtx,
        provider: &Provider,
        _body: &[u8],
    ) -> Result<UpstreamCall, ErrorBody> {
        Ok(UpstreamCall::Send(upstream_request(ctx, provider, &self.0)))
    }

    fn start_stream(&self, _: &RequestCtx, _: &Provider) -> PassThrough {
        PassThrough
    }
}

sluice_plugin_sdk::export_adapter!(OpenAi);
// It reads no request header: the host passes none.
sluice_plugin_sdk::reads_headers!();

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_config(json: &str) -> Result<OpenAi, String> {
        sluice_plugin_sdk::from_config_json(json)
    }

    fn ctx(endpoint: Endpoint, stream: bool) -> RequestCtx {
        RequestCtx {
            request_id: "r1".into(),
            endpoint,
            model: "m".into(),
            stream,
            user_id: None,
            key_id: None,
            headers: vec![],
        }
    }

    fn provider(key: Option<&str>) -> Provider {
        Provider {
            name: "p".into(),
            base_url: "http://127.0.0.1:1/v1".into(),
            api_key: key.map(str::to_string),
            upstream_model: "m".into(),
        }
    }

    #[test]
    fn adds_the_bearer_key_and_keeps_the_path() {
        let r = upstream_request(
            &ctx(Endpoint::ChatCompletions, true),
            &provider(Some("sk-up")),
            &Config::default(),
        );
        assert_eq!(r.path, "/chat/completions");
        assert_eq!(r.method, "POST");
        assert!(r.stream);
        assert!(r.body.is_none());
        assert_eq!(
            r.headers,
            vec![("authorization".to_string(), "Bearer sk-up".to_string())]
        );
    }

    #[test]
    fn sends_no_auth_header_without_a_key_and_adds_configured_headers() {
        let config =
            parse_config(r#"{"headers":{"OpenAI-Organization":"org-1"}}"#).expect("config parses");
        let r = upstream_request(
            &ctx(Endpoint::Embeddings, false),
            &provider(None),
            &config.0,
        );
        assert_eq!(
            r.headers,
            vec![("openai-organization".to_string(), "org-1".to_string())]
        );
        assert!(parse_config(r#"{"nope":1}"#).is_err());
    }

    #[test]
    fn speaks_responses_natively_and_sends_it_to_the_responses_path() {
        assert!(OpenAi(Config::default()).info().native.is_empty());
        let info = parse_config(r#"{"native_responses":true}"#)
            .expect("config")
            .info();
        assert_eq!(info.native, vec![Endpoint::Responses]);
        assert!(info.passthrough);
        assert!(!info.wants_body);
        let r = upstream_request(
            &ctx(Endpoint::Responses, true),
            &provider(Some("sk-up")),
            &Config::default(),
        );
        assert_eq!(r.path, "/responses");
        assert_eq!(r.method, "POST");
        assert!(r.stream);
        assert!(r.body.is_none());
    }
}
