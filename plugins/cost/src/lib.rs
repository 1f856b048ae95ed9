//! `cost`: prices each call from its usage and adds the gateway's trace and cost fields to every
//! response: `trace_id`, `cost_usd`, `provider`, `model`, `latency_ms` and `status` in the `sluice`
//! object, and the `x-sluice-cost-usd` header. The cost is also the enrichment's typed `cost-usd`,
//! which the host records with the request's usage. A stream carries the same fields in its last
//! chunk, and costs the same as the same call unstreamed (the host always knows a stream's usage).
//!
//! ```toml
//! [[plugins]]
//! name = "cost"
//! stage = "enrich"
//! source = "builtin:cost"
//! [plugins.config.prices."gpt-4o-mini"]   # USD per million tokens
//! input = 0.15
//! output = 0.60
//! cached_input = 0.075                    # defaults to `input`
//! ```
//!
//! Prices are looked up by the model the provider served, then by the name the client asked for.
//! A model without a price costs 0.

use serde::Deserialize;
use sluice_plugin_sdk::{Enrich, Enrichment, Outcome, Plugin, Principal, RequestCtx, Usage};
use std::collections::BTreeMap;

#[derive(Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
struct Price {
    input: f64,
    output: f64,
    #[serde(default)]
    cached_input: Option<f64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default)]
    prices: BTreeMap<String, Price>,
}

/// Checks the prices (the SDK has parsed the table).
fn check(config: &Config) -> Result<(), String> {
    for (model, p) in &config.prices {
        if [p.input, p.output, p.cached_input.unwrap_or(0.0)]
            .iter()
            .any(|x| !x.is_finite() || *x < 0.0)
        {
            return Err(format!(
                "cost config: prices of `{model}` must be non-negative numbers"
            ));
        }
    }
    Ok(())
}

/// The cost in USD of `usage` at `price` (per million tokens).
fn cost(price: &Price, usage: &Usage) -> f64 {
    let cached = u64::from(usage.cached_tokens.min(usage.prompt_tokens));
    let fresh = u64::from(usage.prompt_tokens) - cached;
    (fresh as f64 * price.input
        + cached as f64 * price.cached_input.unwrap_or(price.input)
        + f64::from(usage.completion_tokens) * price.output)
        / 1_000_000.0
}

/// The W3C trace id of the request's `traceparent` header, else the request id.
fn trace_id(ctx: &RequestCtx) -> String {
    ctx.headers
        .iter()
        .find(|(k, _)| k == "traceparent")
        .and_then(|(_, v)| v.split('-').nth(1))
        .filter(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_string)
        .unwrap_or_else(|| ctx.request_id.clone())
}

fn enrichment(config: &Config, ctx: &RequestCtx, outcome: &Outcome) -> Enrichment {
    let price = config
        .prices
        .get(&outcome.served_model)
        .or_else(|| config.prices.get(&ctx.model));
    let usd = match (price, &outcome.usage) {
        (Some(p), Some(u)) => cost(p, u),
        _ => 0.0,
    };
    // Ten decimals: exact enough for one token of the cheapest model, and stable as text.
    let usd_text = format!("{usd:.10}");
    let json_str = |s: &str| serde_json::Value::String(s.to_string()).to_string();
    Enrichment {
        headers: vec![("x-sluice-cost-usd".into(), usd_text.clone())],
        metadata: vec![
            ("trace_id".into(), json_str(&trace_id(ctx))),
            ("cost_usd".into(), usd_text),
            ("provider".into(), json_str(&outcome.provider)),
            ("model".into(), json_str(&outcome.served_model)),
            ("latency_ms".into(), outcome.latency_ms.to_string()),
            ("status".into(), outcome.status.to_string()),
        ],
        cost_usd: Some(usd),
    }
}

struct Cost(Config);

impl Plugin for Cost {
    type Config = Config;
    fn new(config: Config) -> Result<Self, String> {
        check(&config)?;
        Ok(Cost(config))
    }
}

impl Enrich for Cost {
    fn on_response(
        &self,
        ctx: &RequestCtx,
        _: Option<&Principal>,
        outcome: &Outcome,
    ) -> Enrichment {
        enrichment(&self.0, ctx, outcome)
    }
}

sluice_plugin_sdk::export_enrich!(Cost);

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_plugin_sdk::Endpoint;

    fn parse_config(json: &str) -> Result<Config, String> {
        sluice_plugin_sdk::from_config_json::<Cost>(json).map(|c| c.0)
    }

    fn usage(p: u32, c: u32, cached: u32) -> Usage {
        Usage {
            prompt_tokens: p,
            completion_tokens: c,
            cached_tokens: cached,
        }
    }

    #[test]
    fn prices_fresh_cached_and_output_tokens() {
        let p = Price {
            input: 2.0,
            output: 8.0,
            cached_input: Some(0.5),
        };
        let c = cost(&p, &usage(1_000_000, 500_000, 400_000));
        assert!(
            (c - (0.6 * 2.0 + 0.4 * 0.5 + 0.5 * 8.0)).abs() < 1e-12,
            "{c}"
        );
        let p = Price {
            input: 1.0,
            output: 1.0,
            cached_input: None,
        };
        assert!((cost(&p, &usage(10, 0, 10)) - 10.0 / 1e6).abs() < 1e-15);
    }

    #[test]
    fn enrichment_carries_every_field() {
        let config =
            parse_config(r#"{"prices":{"m-up":{"input":1.0,"output":2.0}}}"#).expect("config");
        let ctx = RequestCtx {
            request_id: "req_1".into(),
            endpoint: Endpoint::ChatCompletions,
            model: "m".into(),
            stream: false,
            user_id: None,
            key_id: None,
            headers: vec![(
                "traceparent".into(),
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into(),
            )],
        };
        let outcome = Outcome {
            status: 200,
            provider: "p".into(),
            served_model: "m-up".into(),
            usage: Some(usage(1000, 500, 0)),
            latency_ms: 12,
            upstream_us: 5,
        };
        let e = enrichment(&config, &ctx, &outcome);
        let get = |k: &str| {
            e.metadata
                .iter()
                .find(|(a, _)| a == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("cost_usd"), Some("0.0020000000"));
        let usd = e.cost_usd.expect("typed cost");
        assert!((usd - 0.002).abs() < 1e-15, "{usd}");
        assert_eq!(
            get("trace_id"),
            Some("\"0af7651916cd43dd8448eb211c80319c\"")
        );
        assert_eq!(get("status"), Some("200"));
        assert_eq!(get("latency_ms"), Some("12"));
        assert_eq!(
            e.headers,
            vec![("x-sluice-cost-usd".to_string(), "0.0020000000".to_string())]
        );
    }

    #[test]
    fn a_model_without_a_price_costs_zero() {
        let config = parse_config(r#"{"prices":{}}"#).expect("config");
        let outcome = Outcome {
            status: 200,
            provider: "p".into(),
            served_model: "m-up".into(),
            usage: Some(usage(1000, 500, 0)),
            latency_ms: 1,
            upstream_us: 1,
        };
        let e = enrichment(&config, &RequestCtx::default(), &outcome);
        assert_eq!(e.cost_usd, Some(0.0));
    }

    #[test]
    fn bad_prices_are_refused() {
        assert!(parse_config(r#"{"prices":{"m":{"input":-1,"output":1}}}"#).is_err());
        assert!(parse_config(r#"{"prices":{"m":{"input":1}}}"#).is_err());
    }
}
