//! The enrich stage: cost, trace ids, headers and metadata on a finished response.

use super::additions::{Additions, fail_open};
use crate::error::ApiError;
use crate::pipeline::Pipeline;
use crate::pipeline::bindings::types::{Outcome, Principal, RequestCtx};

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
                let seen = lease.view(ctx);
                lease
                    .call(async |w, s| w.on_response(s, &seen, principal, outcome).await)
                    .await
            }
            Err(e) => Err(e),
        };
        match r {
            Ok(e) => {
                if e.cost_usd.is_some() {
                    additions.cost_usd = e.cost_usd;
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
