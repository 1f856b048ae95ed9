//! The MCP policy stage: ordered plugins that let an MCP request through (perhaps with new
//! params), deny it or answer it; then, for the requests they let through, see the result.

use super::additions::fail_open;
use crate::error::ApiError;
use crate::pipeline::bindings::mcp_types::{McpDecision, McpError, McpRequest};
use crate::pipeline::bindings::types::Principal;
use crate::pipeline::plugin::OnError;
use crate::pipeline::plugin::Plugin;
use crate::pipeline::{McpPolicyWorld, Pipeline};
use std::sync::Arc;

/// What the MCP policy stage decided on a request.
pub enum McpVerdict {
    /// Forward the request; `params` is set when a plugin rewrote them (JSON text). `ran` holds
    /// the plugins that let it through, for [`run_mcp_result`].
    Forward {
        /// Replacement params.
        params: Option<String>,
        /// The plugins that saw the request.
        ran: Vec<Arc<Plugin<McpPolicyWorld>>>,
    },
    /// Answer with this JSON-RPC error.
    Deny(McpError),
    /// Answer with this JSON-RPC result (JSON text).
    Respond(String),
}

/// Runs the MCP policy plugins in order. A plugin that fails is skipped when it is fail-open;
/// otherwise the request fails with an HTTP error naming it (the server was not reached).
pub async fn run_mcp_request(
    pipeline: &Pipeline,
    req: &mut McpRequest,
    principal: &Principal,
) -> Result<McpVerdict, ApiError> {
    let mut rewritten = None;
    let mut ran = Vec::new();
    for p in &pipeline.mcp_policies {
        let decision = match p.lease().await {
            Ok(mut lease) => {
                let req: &McpRequest = req;
                lease
                    .call(async |w, s| w.on_request(s, req, principal).await)
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
            McpDecision::Continue(params) => {
                if let Some(params) = params {
                    // Later plugins see the params as rewritten.
                    req.params = params.clone();
                    rewritten = Some(params);
                }
                ran.push(Arc::clone(p));
            }
            McpDecision::Deny(e) => return Ok(McpVerdict::Deny(e)),
            McpDecision::Respond(result) => return Ok(McpVerdict::Respond(result)),
        }
    }
    Ok(McpVerdict::Forward {
        params: rewritten,
        ran,
    })
}

/// Passes `result` (JSON text) through the `on-mcp-result` hook of each plugin in `ran`, in
/// order; returns the result to send. A fail-closed plugin that fails withholds the result: the
/// client gets a JSON-RPC error instead of something a filter did not see.
pub async fn run_mcp_result(
    ran: &[Arc<Plugin<McpPolicyWorld>>],
    req: &McpRequest,
    principal: &Principal,
    result: String,
) -> Result<String, McpError> {
    let mut current = result;
    for p in ran {
        let r = match p.lease().await {
            Ok(mut lease) => {
                let now: &str = &current;
                lease
                    .call(async |w, s| w.on_result(s, req, principal, now).await)
                    .await
            }
            Err(e) => Err(e),
        };
        match r {
            Ok(Some(replacement)) => current = replacement,
            Ok(None) => {}
            Err(e) if p.settings.on_error == OnError::FailOpen => {
                tracing::warn!(plugin = %p.name, error = %e, "mcp result hook failed; skipped (on_error = fail-open)");
            }
            Err(e) => {
                tracing::error!(plugin = %p.name, error = %e, "mcp result hook failed; result withheld");
                return Err(McpError {
                    code: -32603,
                    message: format!(
                        "The gateway's policy plugin `{}` failed while checking the result.",
                        p.name
                    ),
                    data: None,
                });
            }
        }
    }
    Ok(current)
}
