//! `{{name}}`: a Sluice provider adapter for an OpenAI-compatible server. Requests go as they
//! are (the host sends its prepared body), with the provider's key as a bearer token and the
//! configured extra headers; answers and streams pass through unchanged.
//!
//! ```toml
//! [[plugins]]
//! name = "{{name}}"
//! stage = "adapter"
//! source = "{{name}}.wasm"
//! [plugins.config]
//! headers = { "x-team" = "research" }
//!
//! [[providers]]
//! name = "my-server"
//! adapter = "{{name}}"
//! base_url = "http://127.0.0.1:8000/v1"
//! ```

use serde::Deserialize;
use sluice_plugin_sdk::stream::PassThrough;
use sluice_plugin_sdk::{
    Adapter, ErrorBody, Plugin, PluginInfo, Provider, RequestCtx, UpstreamCall, UpstreamRequest,
};
use std::collections::BTreeMap;

/// The plugin's config table (an unknown or mistyped field rejects the load).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default)]
    headers: BTreeMap<String, String>,
}

struct {{Type}}(Config);

impl Plugin for {{Type}} {
    type Config = Config;
    fn new(config: Config) -> Result<Self, String> {
        Ok({{Type}}(config))
    }
    fn info(&self) -> PluginInfo {
        // Answers already are OpenAI's: no body needed, no translation per stream event.
        PluginInfo::passthrough(false)
    }
}

impl Adapter for {{Type}} {
    type Stream = PassThrough;

    fn to_upstream(&self, ctx: &RequestCtx, provider: &Provider, _body: &[u8]) -> Result<UpstreamCall, ErrorBody> {
        let mut headers: Vec<(String, String)> = self
            .0
            .headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect();
        if let Some(key) = provider.api_key.as_deref() {
            headers.push(("authorization".into(), format!("Bearer {key}")));
        }
        Ok(UpstreamCall::Send(UpstreamRequest {
            method: ctx.endpoint.method().into(),
            path: ctx.endpoint.path().into(),
            headers,
            body: None,
            stream: ctx.stream,
        }))
    }

    fn start_stream(&self, _: &RequestCtx, _: &Provider) -> PassThrough {
        PassThrough
    }
}

sluice_plugin_sdk::export_adapter!({{Type}});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_the_key_and_the_configured_headers() {
        let plugin = {{Type}}(Config { headers: BTreeMap::from([("X-Team".into(), "r".into())]) });
        let provider = Provider {
            name: "p".into(),
            base_url: "http://127.0.0.1:8000/v1".into(),
            api_key: Some("sk-up".into()),
            upstream_model: "m".into(),
        };
        let UpstreamCall::Send(r) = plugin.to_upstream(&RequestCtx::default(), &provider, &[]).expect("sends") else {
            panic!("expected a call upstream");
        };
        assert_eq!(r.path, "/chat/completions");
        assert!(r.headers.contains(&("authorization".into(), "Bearer sk-up".into())));
        assert!(r.headers.contains(&("x-team".into(), "r".into())));
    }
}
