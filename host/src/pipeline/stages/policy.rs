//! The policy stage: ordered plugins that continue, deny or respond; and their `on-complete` hooks.

use super::additions::{Additions, fail_open};
use crate::error::ApiError;
use crate::pipeline::bindings::types::{
    Decision, HttpResponse, LlmMeta, Outcome, Principal, RequestCtx,
};
use crate::pipeline::plugin::Plugin;
use crate::pipeline::{Pipeline, PolicyWorld};
use std::sync::Arc;

/// What the policy stage decided.
pub enum PolicyOutcome {
    /// Go on; `body` is set if a plugin rewrote the request.
    Continue {
        /// A replacement body.
        body: Option<Vec<u8>>,
    },
    /// A plugin answered the request itself.
    Respond(HttpResponse),
}

/// Runs the policy plugins in order. `ran` receives each plugin that let the request through, for
/// its `on-complete` hook.
pub async fn run_policies(
    pipeline: &Pipeline,
    ctx: &RequestCtx,
    principal: &Principal,
    meta: &LlmMeta,
    body: &[u8],
    additions: &mut Additions,
    ran: &mut Vec<Arc<Plugin<PolicyWorld>>>,
) -> Result<PolicyOutcome, ApiError> {
    let mut new_body: Option<Vec<u8>> = None;
    for p in &pipeline.policies {
        let given: &[u8] = if p.info.wants_body {
            new_body.as_deref().unwrap_or(body)
        } else {
            &[]
        };
        let decision = match p.lease().await {
            Ok(mut lease) => {
                let seen = lease.view(ctx);
                lease
                    .call(async |w, s| w.on_request(s, &seen, principal, meta, given).await)
                    .await
            }
            Err(e) => Err(e),
        };
        let decision = match decision {
            Ok(d) => d,
            Err(e) => match fail_open(p, e) {
                None => continue,
                Some(err) => return Err(err),
            },
        };
        match decision {
            Decision::Continue(allow) => {
                additions.headers.extend(allow.headers);
                additions.metadata.extend(allow.metadata);
                if allow.body.is_some() {
                    new_body = allow.body;
                }
                ran.push(Arc::clone(p));
            }
            Decision::Deny(e) => {
                if e.status == 429 {
                    crate::telemetry::record::rate_limited(
                        crate::pipeline::endpoint_name(ctx.endpoint),
                        &principal.key_id,
                    );
                }
                return Err(crate::error::refused_by(&p.name, e));
            }
            Decision::Respond(resp) => return Ok(PolicyOutcome::Respond(resp)),
        }
    }
    Ok(PolicyOutcome::Continue { body: new_body })
}

/// Calls `on-complete` of the policy plugins that let the request through. Failures are logged:
/// the response is already decided.
pub async fn run_on_complete(
    ran: &[Arc<Plugin<PolicyWorld>>],
    ctx: &RequestCtx,
    principal: &Principal,
    meta: &LlmMeta,
    outcome: &Outcome,
) {
    for p in ran {
        let r = match p.lease().await {
            Ok(mut lease) => {
                let seen = lease.view(ctx);
                lease
                    .call(async |w, s| w.on_complete(s, &seen, principal, meta, outcome).await)
                    .await
            }
            Err(e) => Err(e),
        };
        if let Err(e) = r {
            tracing::warn!(error = %e, "on-complete hook failed");
        }
    }
}
