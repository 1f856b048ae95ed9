//! `rate-limit`: requests per minute, input tokens per minute and output tokens per minute, per
//! key, per end user (`user_id`) and per model.
//!
//! Before the upstream call the plugin *reserves*: one request, the estimated prompt tokens, and
//! `max_tokens` (or `default_max_tokens`) times `n` output tokens, with atomic increments of the
//! host's windowed counters. Any dimension over its limit undoes the reservation and answers 429
//! with `retry_after`. After the call `on-complete` *reconciles* the reserved tokens with the real
//! usage, so a burst cannot overshoot and a finished call is counted exactly. Counters live in the
//! host's `kv` capability, so a shared store makes the limits hold across replicas.
//!
//! ```toml
//! [[plugins]]
//! name = "limits"
//! stage = "policy"
//! source = "builtin:rate-limit"
//! [plugins.config]
//! rpm = 600                 # per key; a key's `rpm` attribute overrides it
//! tpm_in = 200000           # input tokens per minute per key (attribute `tpm_in`)
//! tpm_out = 100000          # output tokens per minute per key (attribute `tpm_out`)
//! user_rpm = 60             # per (key, user_id) (attribute `user_rpm`)
//! default_max_tokens = 1024 # output reservation when a request sets no max_tokens
//! [plugins.config.models."gpt-4o"]   # per model, over all keys
//! rpm = 1000
//! tpm_in = 1000000
//! ```
//!
//! A limit that is absent or 0 is no limit. Responses carry `X-RateLimit-Limit`,
//! `X-RateLimit-Remaining` and `X-RateLimit-Reset` for the key's requests per minute.

use serde::Deserialize;
use sluice_plugin_sdk::{
    Allow, Decision, ErrorBody, LlmMeta, Outcome, Plugin, Policy, Principal, RequestCtx, kv,
};
use std::collections::BTreeMap;

/// Fixed windows of one minute.
const WINDOW_MS: u64 = 60_000;

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(deny_unknown_fields)]
struct ModelLimits {
    #[serde(default)]
    rpm: u64,
    #[serde(default)]
    tpm_in: u64,
    #[serde(default)]
    tpm_out: u64,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default)]
    rpm: u64,
    #[serde(default)]
    tpm_in: u64,
    #[serde(default)]
    tpm_out: u64,
    #[serde(default)]
    user_rpm: u64,
    #[serde(default = "default_max_tokens")]
    default_max_tokens: u64,
    #[serde(default)]
    models: BTreeMap<String, ModelLimits>,
}

fn default_max_tokens() -> u64 {
    1024
}

/// What a counter measures, for messages.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Requests,
    InputTokens,
    OutputTokens,
}

/// One counter a request touches.
struct Dimension {
    key: String,
    limit: u64,
    amount: i64,
    kind: Kind,
    what: String,
}

/// A limit from the key's attributes, else the config's default.
fn limit(principal: &Principal, name: &str, default: u64) -> u64 {
    principal
        .attribute(name)
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// The reservation of a request: (input tokens, output tokens).
fn reservation(config: &Config, meta: &LlmMeta) -> (i64, i64) {
    let out = meta
        .max_tokens
        .map(u64::from)
        .unwrap_or(config.default_max_tokens)
        .saturating_mul(u64::from(meta.n.max(1)));
    (
        i64::from(meta.est_prompt_tokens),
        out.min(i64::MAX as u64) as i64,
    )
}

/// Every counter a request touches, in check order.
fn dimensions(
    config: &Config,
    ctx: &RequestCtx,
    principal: &Principal,
    meta: &LlmMeta,
) -> Vec<Dimension> {
    let (tokens_in, tokens_out) = reservation(config, meta);
    let key = &principal.key_id;
    let mut d = vec![
        Dimension {
            key: format!("rpm|k|{key}"),
            limit: limit(principal, "rpm", config.rpm),
            amount: 1,
            kind: Kind::Requests,
            what: format!("key {key}"),
        },
        Dimension {
            key: format!("tin|k|{key}"),
            limit: limit(principal, "tpm_in", config.tpm_in),
            amount: tokens_in,
            kind: Kind::InputTokens,
            what: format!("key {key}"),
        },
        Dimension {
            key: format!("tout|k|{key}"),
            limit: limit(principal, "tpm_out", config.tpm_out),
            amount: tokens_out,
            kind: Kind::OutputTokens,
            what: format!("key {key}"),
        },
    ];
    if let Some(user) = &ctx.user_id {
        d.push(Dimension {
            key: format!("rpm|u|{key}|{user}"),
            limit: limit(principal, "user_rpm", config.user_rpm),
            amount: 1,
            kind: Kind::Requests,
            what: format!("user {user}"),
        });
    }
    if let Some(m) = config.models.get(&ctx.model) {
        let model = &ctx.model;
        d.push(Dimension {
            key: format!("rpm|m|{model}"),
            limit: m.rpm,
            amount: 1,
            kind: Kind::Requests,
            what: format!("model {model}"),
        });
        d.push(Dimension {
            key: format!("tin|m|{model}"),
            limit: m.tpm_in,
            amount: tokens_in,
            kind: Kind::InputTokens,
            what: format!("model {model}"),
        });
        d.push(Dimension {
            key: format!("tout|m|{model}"),
            limit: m.tpm_out,
            amount: tokens_out,
            kind: Kind::OutputTokens,
            what: format!("model {model}"),
        });
    }
    d.retain(|d| d.limit > 0);
    d
}

fn deny(d: &Dimension, ms_to_reset: u64) -> Decision {
    let unit = match d.kind {
        Kind::Requests => "requests",
        Kind::InputTokens => "input tokens",
        Kind::OutputTokens => "output tokens",
    };
    let retry_after = ms_to_reset.div_ceil(1000).clamp(1, 60) as u32;
    Decision::Deny(ErrorBody::rate_limited(
        format!(
            "Rate limit reached for {}: {} {unit} per minute. Try again in {retry_after} s.",
            d.what, d.limit
        ),
        retry_after,
    ))
}

struct RateLimit(Config);

impl Plugin for RateLimit {
    type Config = Config;
    fn new(config: Config) -> Result<Self, String> {
        Ok(RateLimit(config))
    }
}

impl Policy for RateLimit {
    fn on_request(
        &self,
        ctx: &RequestCtx,
        principal: &Principal,
        meta: &LlmMeta,
        _body: &[u8],
    ) -> Decision {
        let dims = dimensions(&self.0, ctx, principal, meta);
        let items: Vec<kv::Reservation> = dims
            .iter()
            .map(|d| kv::Reservation {
                key: d.key.clone(),
                amount: d.amount,
                limit: i64::try_from(d.limit).unwrap_or(i64::MAX),
            })
            .collect();
        // Every limit in one atomic step: all reserved, or none.
        let counts = match kv::reserve(&items, WINDOW_MS) {
            kv::Reserved::Granted(counts) => counts,
            kv::Reserved::Refused(r) => {
                if let Some(d) = dims.get(r.index as usize).or(dims.first()) {
                    return deny(d, r.would_reach.ms_to_reset);
                }
                Vec::new()
            }
        };
        let mut headers = Vec::new();
        if let Some((d, r)) = dims
            .iter()
            .zip(&counts)
            .find(|(d, _)| d.kind == Kind::Requests)
        {
            let remaining = (d.limit as i64 - r.value).max(0);
            headers = vec![
                ("x-ratelimit-limit".to_string(), d.limit.to_string()),
                ("x-ratelimit-remaining".to_string(), remaining.to_string()),
                (
                    "x-ratelimit-reset".to_string(),
                    r.ms_to_reset.div_ceil(1000).to_string(),
                ),
            ];
        }
        Decision::Continue(Allow {
            headers,
            metadata: Vec::new(),
            body: None,
        })
    }

    fn on_complete(
        &self,
        ctx: &RequestCtx,
        principal: &Principal,
        meta: &LlmMeta,
        outcome: &Outcome,
    ) {
        let now = sluice_plugin_sdk::now_ms();
        // A window that ended since the request began keeps what it counted; refunds into the
        // next window would let that window overshoot.
        let same_window =
            (now - u64::from(outcome.latency_ms).min(now)) / WINDOW_MS == now / WINDOW_MS;
        let (used_in, used_out) = match &outcome.usage {
            Some(u) => (i64::from(u.prompt_tokens), i64::from(u.completion_tokens)),
            None => (0, 0),
        };
        let deltas: Vec<(String, i64)> = dimensions(&self.0, ctx, principal, meta)
            .into_iter()
            .filter_map(|d| {
                let delta = match d.kind {
                    Kind::Requests => return None,
                    Kind::InputTokens => used_in - d.amount,
                    Kind::OutputTokens => used_out - d.amount,
                };
                (delta > 0 || (delta < 0 && same_window)).then_some((d.key, delta))
            })
            .collect();
        if !deltas.is_empty() {
            kv::incr_all(&deltas, WINDOW_MS);
        }
    }
}

sluice_plugin_sdk::export_policy!(RateLimit);
// It reads no request header: the host passes none.
sluice_plugin_sdk::reads_headers!();

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_plugin_sdk::Endpoint;

    fn parse_config(json: &str) -> Result<Config, String> {
        sluice_plugin_sdk::from_config_json::<RateLimit>(json).map(|r| r.0)
    }

    fn principal(attrs: &[(&str, &str)]) -> Principal {
        Principal {
            key_id: "k1".into(),
            owner: "o".into(),
            team: None,
            models: vec![],
            attributes: attrs
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            mcp_servers: vec![],
        }
    }

    fn ctx(user: Option<&str>) -> RequestCtx {
        RequestCtx {
            request_id: "r".into(),
            endpoint: Endpoint::ChatCompletions,
            model: "gpt-x".into(),
            stream: false,
            user_id: user.map(str::to_string),
            key_id: Some("k1".into()),
            headers: vec![],
        }
    }

    fn meta(max_tokens: Option<u32>, n: u32) -> LlmMeta {
        LlmMeta {
            max_tokens,
            est_prompt_tokens: 40,
            n,
        }
    }

    #[test]
    fn key_attributes_override_config_defaults() {
        let config = parse_config(r#"{"rpm": 10, "tpm_in": 1000}"#).expect("config");
        let d = dimensions(
            &config,
            &ctx(None),
            &principal(&[("rpm", "3")]),
            &meta(None, 1),
        );
        assert_eq!(d.len(), 2, "tpm_out is unset, so it is no limit");
        assert_eq!(
            (d[0].key.as_str(), d[0].limit, d[0].amount),
            ("rpm|k|k1", 3, 1)
        );
        assert_eq!(
            (d[1].key.as_str(), d[1].limit, d[1].amount),
            ("tin|k|k1", 1000, 40)
        );
    }

    #[test]
    fn reservations_cover_max_tokens_times_n() {
        let config =
            parse_config(r#"{"tpm_out": 5000, "default_max_tokens": 100}"#).expect("config");
        assert_eq!(reservation(&config, &meta(Some(300), 2)), (40, 600));
        assert_eq!(reservation(&config, &meta(None, 1)), (40, 100));
    }

    #[test]
    fn user_and_model_limits_add_dimensions() {
        let config =
            parse_config(r#"{"user_rpm": 2, "models": {"gpt-x": {"rpm": 7, "tpm_out": 99}}}"#)
                .expect("config");
        let d = dimensions(
            &config,
            &ctx(Some("u9")),
            &principal(&[]),
            &meta(Some(5), 1),
        );
        let keys: Vec<&str> = d.iter().map(|d| d.key.as_str()).collect();
        assert_eq!(keys, vec!["rpm|u|k1|u9", "rpm|m|gpt-x", "tout|m|gpt-x"]);
    }

    #[test]
    fn denials_carry_retry_after() {
        let d = Dimension {
            key: "x".into(),
            limit: 10,
            amount: 1,
            kind: Kind::Requests,
            what: "key k1".into(),
        };
        match deny(&d, 2500) {
            Decision::Deny(e) => {
                assert_eq!(e.status, 429);
                assert_eq!(e.retry_after, Some(3));
                assert!(
                    e.message.contains("10 requests per minute"),
                    "{}",
                    e.message
                );
            }
            _ => panic!("expected a denial"),
        }
        assert!(parse_config(r#"{"rmp": 1}"#).is_err());
    }
}
