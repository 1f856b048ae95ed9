//! The `prices` capability: the gateway's one price table ([`PriceTable`], built from `[pricing]`
//! with each pipeline) and its WIT import, so every plugin prices a request the same way.

mod table;

pub use table::{ModelPrice, PriceTable};

use super::state::PluginState;
use crate::pipeline::bindings::prices_if;
use crate::pipeline::bindings::types::Usage;

impl prices_if::Host for PluginState {
    fn lookup(&mut self, model: String) -> Option<prices_if::Price> {
        self.env.prices.lookup(&model).map(|p| prices_if::Price {
            input: p.input,
            output: p.output,
            cached_input: p.cached_input,
        })
    }

    fn cost(&mut self, model: String, usage: Usage) -> Option<f64> {
        self.env.prices.cost(&model, &usage)
    }
}
