//! `{{name}}`: a Sluice policy plugin. It refuses requests whose prompt is estimated above
//! `max_prompt_tokens`, and tags the answers it lets through with a header.
//!
//! ```toml
//! [[plugins]]
//! name = "{{name}}"
//! stage = "policy"
//! source = "{{name}}.wasm"
//! [plugins.config]
//! max_prompt_tokens = 4000
//! ```

use serde::Deserialize;
use sluice_plugin_sdk::{
    Allow, Decision, ErrorBody, LlmMeta, Plugin, Policy, Principal, RequestCtx,
};

/// The plugin's config table (an unknown or mistyped field rejects the load).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    max_prompt_tokens: u32,
}

struct {{Type}}(Config);

impl Plugin for {{Type}} {
    type Config = Config;
    fn new(config: Config) -> Result<Self, String> {
        if config.max_prompt_tokens == 0 {
            return Err("`max_prompt_tokens` must be at least 1".into());
        }
        Ok({{Type}}(config))
    }
}

impl Policy for {{Type}} {
    fn on_request(&self, _: &RequestCtx, _: &Principal, meta: &LlmMeta, _body: &[u8]) -> Decision {
        let max = self.0.max_prompt_tokens;
        if meta.est_prompt_tokens > max {
            return Decision::Deny(ErrorBody::bad_request(format!(
                "this prompt is about {} tokens; this gateway takes at most {max}",
                meta.est_prompt_tokens
            )));
        }
        Decision::Continue(Allow {
            headers: vec![("x-{{name}}".into(), "allowed".into())],
            ..Allow::default()
        })
    }
}

sluice_plugin_sdk::export_policy!({{Type}});

#[cfg(test)]
mod tests {
    use super::*;

    fn decide(max: u32, prompt_tokens: u32) -> Decision {
        let plugin = {{Type}}(Config { max_prompt_tokens: max });
        let meta = LlmMeta { est_prompt_tokens: prompt_tokens, ..Default::default() };
        plugin.on_request(&RequestCtx::default(), &Principal::default(), &meta, &[])
    }

    #[test]
    fn lets_small_prompts_through_and_refuses_large_ones() {
        assert!(matches!(decide(100, 100), Decision::Continue(_)));
        match decide(100, 101) {
            Decision::Deny(e) => assert_eq!(e.status, 400),
            _ => panic!("expected a refusal"),
        }
    }

    #[test]
    fn a_zero_limit_is_rejected_at_load() {
        let r = sluice_plugin_sdk::from_config_json::<{{Type}}>(r#"{"max_prompt_tokens": 0}"#);
        assert!(r.is_err());
    }
}
