//! `{{name}}`: a Sluice enrich plugin. It adds the configured label and whether the answer was
//! slow to every response's `sluice` object, and the label as a header.
//!
//! ```toml
//! [[plugins]]
//! name = "{{name}}"
//! stage = "enrich"
//! source = "{{name}}.wasm"
//! [plugins.config]
//! label = "eu-west"
//! slow_ms = 2000
//! ```

use serde::Deserialize;
use sluice_plugin_sdk::{Enrich, Enrichment, Outcome, Plugin, Principal, RequestCtx};

/// The plugin's config table (an unknown or mistyped field rejects the load).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    label: String,
    #[serde(default = "default_slow_ms")]
    slow_ms: u32,
}

fn default_slow_ms() -> u32 {
    2000
}

struct {{Type}}(Config);

impl Plugin for {{Type}} {
    type Config = Config;
    fn new(config: Config) -> Result<Self, String> {
        Ok({{Type}}(config))
    }
}

impl Enrich for {{Type}} {
    fn on_response(&self, _: &RequestCtx, _: Option<&Principal>, outcome: &Outcome) -> Enrichment {
        let label = serde_json::Value::String(self.0.label.clone()).to_string();
        let slow = (outcome.latency_ms > self.0.slow_ms).to_string();
        Enrichment {
            headers: vec![("x-{{name}}-label".into(), self.0.label.clone())],
            metadata: vec![("label".into(), label), ("slow".into(), slow)],
            cost_usd: None,
        }
    }
}

sluice_plugin_sdk::export_enrich!({{Type}});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_answers_and_flags_slow_ones() {
        let plugin = {{Type}}(Config { label: "eu".into(), slow_ms: 100 });
        let outcome = Outcome {
            status: 200,
            provider: "p".into(),
            served_model: "m".into(),
            usage: None,
            latency_ms: 250,
            upstream_us: 0,
        };
        let e = plugin.on_response(&RequestCtx::default(), None, &outcome);
        assert!(e.metadata.contains(&("label".into(), "\"eu\"".into())));
        assert!(e.metadata.contains(&("slow".into(), "true".into())));
    }
}
