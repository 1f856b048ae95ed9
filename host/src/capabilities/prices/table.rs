//! The price table: model names to prices, with the gateway's model names and aliases resolved.

use crate::config::Config;
use crate::pipeline::bindings::types::Usage;
use std::collections::HashMap;

/// A model's prices in USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelPrice {
    /// Prompt tokens.
    pub input: f64,
    /// Completion tokens.
    pub output: f64,
    /// Cached prompt tokens.
    pub cached_input: f64,
}

impl ModelPrice {
    /// What `usage` costs in USD: fresh prompt tokens at `input`, cached ones at `cached_input`,
    /// completion tokens at `output`.
    pub fn cost(&self, usage: &Usage) -> f64 {
        let cached = u64::from(usage.cached_tokens.min(usage.prompt_tokens));
        let fresh = u64::from(usage.prompt_tokens) - cached;
        (fresh as f64 * self.input
            + cached as f64 * self.cached_input
            + f64::from(usage.completion_tokens) * self.output)
            / 1_000_000.0
    }
}

/// Prices by model name, and for each of the gateway's model names and aliases the names to try
/// after it (the canonical name, then the deployments' upstream models in fallback order).
#[derive(Debug, Default)]
pub struct PriceTable {
    prices: HashMap<String, ModelPrice>,
    via: HashMap<String, Vec<String>>,
}

impl PriceTable {
    /// The table of `config`: its merged `[pricing]` and its `[[models]]`.
    pub fn new(config: &Config) -> PriceTable {
        let prices = config
            .prices
            .iter()
            .map(|(name, p)| {
                let price = ModelPrice {
                    input: p.input,
                    output: p.output,
                    cached_input: p.cached_input.unwrap_or(p.input),
                };
                (name.clone(), price)
            })
            .collect();
        let mut via = HashMap::new();
        for m in &config.models {
            let mut names = vec![m.name.clone()];
            for d in &m.deployments {
                let upstream = d.upstream_model.clone().unwrap_or_else(|| m.name.clone());
                if !names.contains(&upstream) {
                    names.push(upstream);
                }
            }
            for n in std::iter::once(&m.name).chain(&m.aliases) {
                via.insert(n.clone(), names.clone());
            }
        }
        PriceTable { prices, via }
    }

    /// The price of `model`: its own entry, else its entry without a date suffix, else (for a
    /// gateway model or alias) the first priced of its canonical name and upstream models.
    pub fn lookup(&self, model: &str) -> Option<ModelPrice> {
        self.direct(model).or_else(|| {
            self.via
                .get(model)?
                .iter()
                .find_map(|name| self.direct(name))
        })
    }

    /// What `usage` of `model` costs in USD; None when it has no price.
    pub fn cost(&self, model: &str, usage: &Usage) -> Option<f64> {
        self.lookup(model).map(|p| p.cost(usage))
    }

    /// How many models have a price.
    pub fn len(&self) -> usize {
        self.prices.len()
    }

    /// Whether no model has a price.
    pub fn is_empty(&self) -> bool {
        self.prices.is_empty()
    }

    fn direct(&self, model: &str) -> Option<ModelPrice> {
        self.prices
            .get(model)
            .or_else(|| self.prices.get(undated(model)?))
            .copied()
    }
}

/// `model` without a provider's version suffix: `-2024-07-18` (OpenAI), `-20250929`
/// (Anthropic) or `-001` (Gemini). None when it has none.
fn undated(model: &str) -> Option<&str> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let b = model.as_bytes();
    // -YYYY-MM-DD
    if b.len() > 11 {
        let (head, tail) = model.split_at(model.len() - 11);
        let t = tail.as_bytes();
        if t[0] == b'-'
            && t[5] == b'-'
            && t[8] == b'-'
            && digits(&tail[1..5])
            && digits(&tail[6..8])
            && digits(&tail[9..])
        {
            return Some(head);
        }
    }
    let (head, tail) = model.rsplit_once('-')?;
    ((tail.len() == 8 || tail.len() == 3) && digits(tail) && !head.is_empty()).then_some(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> PriceTable {
        let text = r#"
            [pricing]
            builtin = false
            [pricing.models."gpt-4o-mini"]
            input = 0.15
            output = 0.60
            cached_input = 0.075
            [pricing.models."up-model"]
            input = 1.0
            output = 2.0
            [[providers]]
            name = "p"
            adapter = "echo"
            [[models]]
            name = "house"
            aliases = ["house-1"]
            deployments = [{ provider = "p", upstream_model = "up-model" }]
        "#;
        let config = Config::parse(std::path::Path::new("/x/gateway.toml"), text).expect("config");
        PriceTable::new(&config)
    }

    fn usage(p: u32, c: u32, cached: u32) -> Usage {
        Usage {
            prompt_tokens: p,
            completion_tokens: c,
            cached_tokens: cached,
        }
    }

    #[test]
    fn names_resolve_directly_undated_and_through_the_gateways_models() {
        let t = table();
        assert_eq!(t.len(), 2);
        assert_eq!(t.lookup("gpt-4o-mini").map(|p| p.input), Some(0.15));
        assert_eq!(
            t.lookup("gpt-4o-mini-2024-07-18").map(|p| p.output),
            Some(0.60)
        );
        assert_eq!(t.lookup("house").map(|p| p.input), Some(1.0));
        assert_eq!(t.lookup("house-1").map(|p| p.cached_input), Some(1.0));
        assert_eq!(t.lookup("gpt-4o"), None, "the built-in list is off");
    }

    #[test]
    fn suffixes_of_each_provider_are_dropped_and_nothing_else() {
        assert_eq!(undated("gpt-4o-2024-08-06"), Some("gpt-4o"));
        assert_eq!(
            undated("claude-sonnet-4-5-20250929"),
            Some("claude-sonnet-4-5")
        );
        assert_eq!(undated("gemini-2.0-flash-001"), Some("gemini-2.0-flash"));
        assert_eq!(undated("gpt-4o"), None);
        assert_eq!(undated("o3"), None);
        assert_eq!(undated("claude-opus-4-1"), None);
    }

    #[test]
    fn cost_prices_fresh_cached_and_output_tokens() {
        let t = table();
        let c = t
            .cost("gpt-4o-mini", &usage(1_000_000, 500_000, 400_000))
            .expect("priced");
        assert!(
            (c - (0.6 * 0.15 + 0.4 * 0.075 + 0.5 * 0.60)).abs() < 1e-12,
            "{c}"
        );
        assert_eq!(t.cost("unknown", &usage(1, 1, 0)), None);
    }

    #[test]
    fn the_builtin_list_parses_and_is_overridden_by_the_config() {
        let text = r#"
            [pricing.models."gpt-4o"]
            input = 9.0
            output = 9.0
        "#;
        let config = Config::parse(std::path::Path::new("/x/gateway.toml"), text).expect("config");
        let t = PriceTable::new(&config);
        assert!(t.len() > 10, "the built-in list is on by default");
        assert_eq!(t.lookup("gpt-4o").map(|p| p.input), Some(9.0));
        assert_eq!(t.lookup("gpt-4o-mini").map(|p| p.input), Some(0.15));
    }
}
