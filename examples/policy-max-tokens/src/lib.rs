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
    Allow, Decision, ErrorBody, LlmMeta, Plugin, Policy, Principal, RequestCtx,
};

/// The config table, parsed once per instance by the SDK (an unknown field rejects the load).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    max_tokens: u32,
    #[serde(default)]
    require_user_id: bool,
}

/// The plugin is its config: the SDK builds it once and calls it with `&self`.
struct MaxTokens(Config);

impl Plugin for MaxTokens {
    type Config = Config;
    fn new(config: Config) -> Result<Self, String> {
        Ok(MaxTokens(config))
    }
}

impl Policy for MaxTokens {
    fn on_request(
        &self,
        ctx: &RequestCtx,
        _: &Principal,
        meta: &LlmMeta,
        _body: &[u8],
    ) -> Decision {
        let max = self.0.max_tokens;
        if self.0.require_user_id && ctx.user_id.is_none() {
            return Decision::Deny(
                ErrorBody::bad_request("this gateway requires `user_id` in the request body")
                    .with_param("user_id"),
            );
        }
        if meta.max_tokens.is_some_and(|n| n > max) {
            let message = format!("max_tokens may be at most {max} on this gateway");
            return Decision::Deny(ErrorBody::bad_request(message).with_param("max_tokens"));
        }
        Decision::Continue(Allow {
            headers: vec![("x-max-tokens-limit".into(), max.to_string())],
            metadata: vec![("max_tokens_limit".into(), max.to_string())],
            body: None,
        })
    }
}

sluice_plugin_sdk::export_policy!(MaxTokens);

#[cfg(test)]
mod tests {
    use super::*;

    fn decide(c: &MaxTokens, ctx: &RequestCtx, meta: &LlmMeta) -> Decision {
        c.on_request(ctx, &Principal::default(), meta, &[])
    }

    fn ctx(user: Option<&str>) -> RequestCtx {
        let user_id = user.map(str::to_string);
        RequestCtx {
            user_id,
            ..Default::default()
        }
    }

    fn meta(max_tokens: Option<u32>) -> LlmMeta {
        LlmMeta {
            max_tokens,
            ..Default::default()
        }
    }
    #[test]
    fn allows_within_the_cap_and_denies_above_it() {
        let c = MaxTokens(Config {
            max_tokens: 100,
            require_user_id: false,
        });
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
        let c = MaxTokens(Config {
            max_tokens: 100,
            require_user_id: true,
        });
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
