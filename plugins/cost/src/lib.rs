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
//!
//! [pricing.models."my-model"]   # the gateway's price table, USD per million tokens
//! input = 0.15
//! output = 0.60
//! cached_input = 0.075          # defaults to `input`
//! ```
//!
//! Prices come from the gateway's one price table (`[pricing]`: a maintained list of common
//! models, a price file, per-model entries), the table the `budget` plugin charges from, through
//! [`sluice_plugin_sdk::prices::cost_of`]: the model the provider served, then the name the client
//! asked for. A model without a price costs 0.

use serde::Deserialize;
use sluice_plugin_sdk::{Enrich, Enrichment, Outcome, Plugin, Principal, RequestCtx, prices};

/// The plugin's config: none. `prices` moved to the gateway's `[pricing]` table.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default)]
    prices: Option<serde_json::Value>,
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

fn enrichment(usd: f64, ctx: &RequestCtx, outcome: &Outcome) -> Enrichment {
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

struct Cost;

impl Plugin for Cost {
    type Config = Config;
    fn new(config: Config) -> Result<Self, String> {
        if config.prices.is_some() {
            return Err(
                "cost config: `prices` moved to the gateway's price table, shared with \
                        the budget plugin: write each model as `[pricing.models.\"<model>\"]` \
                        (input, output, cached_input) in gateway.toml"
                    .into(),
            );
        }
        Ok(Cost)
    }
}

impl Enrich for Cost {
    fn on_response(
        &self,
        ctx: &RequestCtx,
        _: Option<&Principal>,
        outcome: &Outcome,
    ) -> Enrichment {
        enrichment(prices::cost_of(ctx, outcome), ctx, outcome)
    }
}

sluice_plugin_sdk::export_enrich!(Cost);
// Of the request headers it reads only `traceparent` (the trace id): the host passes no other.
sluice_plugin_sdk::reads_headers!("traceparent");

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_plugin_sdk::{Endpoint, Usage};

    #[test]
    fn enrichment_carries_every_field() {
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
            usage: Some(Usage {
                prompt_tokens: 1000,
                completion_tokens: 500,
                cached_tokens: 0,
            }),
            latency_ms: 12,
            upstream_us: 5,
        };
        let e = enrichment(0.002, &ctx, &outcome);
        let get = |k: &str| {
            e.metadata
                .iter()
                .find(|(a, _)| a == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("cost_usd"), Some("0.0020000000"));
        assert_eq!(e.cost_usd, Some(0.002));
        assert_eq!(
            get("trace_id"),
            Some("\"0af7651916cd43dd8448eb211c80319c\"")
        );
        assert_eq!(get("status"), Some("200"));
        assert_eq!(get("latency_ms"), Some("12"));
        assert_eq!(get("model"), Some("\"m-up\""));
        assert_eq!(
            e.headers,
            vec![("x-sluice-cost-usd".to_string(), "0.0020000000".to_string())]
        );
    }

    #[test]
    fn the_trace_id_falls_back_to_the_request_id() {
        let ctx = RequestCtx {
            request_id: "req_9".into(),
            headers: vec![("traceparent".into(), "garbage".into())],
            ..RequestCtx::default()
        };
        assert_eq!(trace_id(&ctx), "req_9");
    }

    #[test]
    fn prices_in_the_plugin_config_point_to_the_gateway_table() {
        let e = sluice_plugin_sdk::from_config_json::<Cost>(
            r#"{"prices":{"m":{"input":1,"output":1}}}"#,
        )
        .err()
        .expect("refused");
        assert!(e.contains("[pricing.models."), "{e}");
        assert!(sluice_plugin_sdk::from_config_json::<Cost>("{}").is_ok());
    }
}
