//! The gateway's price table, shared by every plugin that prices requests.
//!
//! The table is the gateway's `[pricing]` config over a maintained list of common models, so a
//! cost plugin and a budget plugin that both ask here show and charge the same figure.

use crate::bindings::sluice::plugin0_2_0::prices as imp;
use crate::{Outcome, RequestCtx, Usage};

/// A model's prices in USD per million tokens.
pub use imp::Price;

/// The price of `model` (see the WIT `prices.lookup` for how names are matched).
pub fn lookup(model: &str) -> Option<Price> {
    imp::lookup(model)
}

/// What `usage` of `model` costs in USD, from the host's table (fresh prompt tokens at `input`,
/// cached ones at `cached_input`, completion tokens at `output`; the host does the arithmetic, so
/// every plugin's figure is the same); None when `model` has no price.
pub fn cost(model: &str, usage: &Usage) -> Option<f64> {
    imp::cost(model, *usage)
}

/// What a finished request cost in USD: its usage priced as the model the provider served, else
/// as the model the client asked for; 0 when neither has a price or the usage is unknown. Every
/// first-party plugin prices a request this way, so they agree to the last digit.
pub fn cost_of(ctx: &RequestCtx, outcome: &Outcome) -> f64 {
    let Some(usage) = &outcome.usage else {
        return 0.0;
    };
    cost(&outcome.served_model, usage)
        .or_else(|| cost(&ctx.model, usage))
        .unwrap_or(0.0)
}
