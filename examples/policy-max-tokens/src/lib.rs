//! An example policy plugin, as an operator would write one.
//!
//! It refuses requests that ask for more than `max_tokens` output tokens, and, when
//! `require_user_id` is set, requests that do not name an end user (`user_id`). It also tags every
//! response with the limit it applied, in a header and in the `sluice` metadata object.
//!
//! ```toml
//! [[plugins]]
//! name = "max-tokens"
//! stage = "policy"
//! source = "target/plugins/wasm32-wasip2/plugin/sluice_example_max_tokens.wasm"
//! [plugins.config]
//! max_tokens = 1024
//! require_user_id = true
//! ```

use serde::Deserialize;
use sluice_plugin_sdk::{
    Allow, Decision, ErrorBody, HttpRequest, LlmMeta, Plugin, PluginInfo, Policy, Principal,
    RequestCtx,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    max_tokens: u32,
    #[serde(default)]
    require_user_id: bool,
}

/// The decision, separate from the export so it can be unit-tested natively.
fn decide(config: &Config, ctx: &RequestCtx, meta: &LlmMeta) -> Decision {
    if config.require_user_id && ctx.user_id.is_none() {
        return Decision::Deny(
            ErrorBody::bad_request("this gateway requires `user_id` in the request body")
                .with_param("user_id"),
        );
    }
    if meta.max_tokens.is_some_and(|n| n > config.max_tokens) {
        return Decision::Deny(
            ErrorBody::bad_request(format!(
                "max_tokens may be at most {} on this gateway",
                config.max_tokens
            ))
            .with_param("max_tokens"),
        );
    }
    Decision::Continue(Allow {
        headers: vec![("x-max-tokens-limit".into(), config.max_tokens.to_string())],
        metadata: vec![("max_tokens_limit".into(), config.max_tokens.to_string())],
        body: None,
    })
}

struct MaxTokens;

impl Plugin for MaxTokens {
    fn init(config_json: &str) -> Result<PluginInfo, String> {
        // Rejecting a bad config here makes the gateway refuse the load (or keep its old pipeline).
        serde_json::from_str::<Config>(config_json).map_err(|e| e.to_string())?;
        Ok(PluginInfo::default())
    }
}

impl Policy for MaxTokens {
    fn on_request(ctx: RequestCtx, _: Principal, meta: LlmMeta, _: HttpRequest) -> Decision {
        match sluice_plugin_sdk::config::<Config>() {
            Ok(config) => decide(&config, &ctx, &meta),
            Err(e) => Decision::Deny(ErrorBody::new(500, "server_error", None, e)),
        }
    }
}

sluice_plugin_sdk::export_policy!(MaxTokens);

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(user: Option<&str>) -> RequestCtx {
        RequestCtx {
            request_id: "r".into(),
            endpoint: "chat.completions".into(),
            method: "POST".into(),
            path: "/chat/completions".into(),
            model: "m".into(),
            stream: false,
            user_id: user.map(str::to_string),
            key_id: None,
            headers: vec![],
        }
    }

    fn meta(max: Option<u32>) -> LlmMeta {
        LlmMeta {
            model: "m".into(),
            stream: false,
            max_tokens: max,
            est_prompt_tokens: 1,
            n: 1,
        }
    }

    #[test]
    fn allows_within_the_cap_and_denies_above_it() {
        let c = Config {
            max_tokens: 100,
            require_user_id: false,
        };
        assert!(matches!(
            decide(&c, &ctx(None), &meta(Some(100))),
            Decision::Continue(_)
        ));
        assert!(matches!(
            decide(&c, &ctx(None), &meta(None)),
            Decision::Continue(_)
        ));
        match decide(&c, &ctx(None), &meta(Some(101))) {
            Decision::Deny(e) => assert_eq!(e.param.as_deref(), Some("max_tokens")),
            _ => panic!("expected a denial"),
        }
    }

    #[test]
    fn requires_a_user_id_when_configured() {
        let c = Config {
            max_tokens: 100,
            require_user_id: true,
        };
        assert!(matches!(
            decide(&c, &ctx(None), &meta(None)),
            Decision::Deny(_)
        ));
        assert!(matches!(
            decide(&c, &ctx(Some("u")), &meta(None)),
            Decision::Continue(_)
        ));
    }
}
