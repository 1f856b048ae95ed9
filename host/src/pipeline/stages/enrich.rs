//! The enrich stage: cost, trace ids, headers and metadata on a finished response.

use super::{Additions, fail_open};
use crate::error::ApiError;
use crate::pipeline::Pipeline;
use crate::pipeline::bindings::types::{Outcome, Principal, RequestCtx};

/// The metadata field in which a contract-0.1 enrich plugin reports the cost.
const COST_FIELD: &str = "cost_usd";

/// Runs the enrich plugins on a finished response.
pub async fn run_enrich(
    pipeline: &Pipeline,
    ctx: &RequestCtx,
    principal: Option<&Principal>,
    outcome: &Outcome,
    additions: &mut Additions,
) -> Result<(), ApiError> {
    for p in &pipeline.enrichers {
        let r = match p.lease().await {
            Ok(mut lease) => {
                lease
                    .call(async |w, s| {
                        w.sluice_plugin_enrich_stage()
                            .call_on_response(s, ctx, principal, outcome)
                            .await
                    })
                    .await
            }
            Err(e) => Err(e),
        };
        match r {
            Ok(e) => {
                // Contract 0.1 has no typed cost: an enrich plugin reports it as the metadata
                // field `cost_usd` (a JSON number).
                if let Some(cost) = e
                    .metadata
                    .iter()
                    .rev()
                    .find(|(k, _)| k == COST_FIELD)
                    .and_then(|(_, v)| v.parse::<f64>().ok())
                {
                    additions.cost_usd = Some(cost);
                }
                additions.headers.extend(e.headers);
                additions.metadata.extend(e.metadata);
            }
            Err(e) => {
                if let Some(err) = fail_open(p, e) {
                    return Err(err);
                }
            }
        }
    }
    Ok(())
}
