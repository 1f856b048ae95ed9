//! The auth stage: a credential becomes a principal, or the request is refused.

use crate::error::ApiError;
use crate::pipeline::Pipeline;
use crate::pipeline::bindings::types::{Principal, RequestCtx};

/// Runs the auth stage. Without an auth plugin every request is anonymous and allowed.
pub async fn authenticate(
    pipeline: &Pipeline,
    ctx: &RequestCtx,
    credential: Option<&str>,
) -> Result<Principal, ApiError> {
    let Some(auth) = &pipeline.auth else {
        return Ok(Principal {
            key_id: "anonymous".into(),
            owner: "anonymous".into(),
            team: None,
            models: Vec::new(),
            attributes: Vec::new(),
            mcp_servers: Vec::new(),
        });
    };
    let mut lease = auth.lease().await?;
    let result = lease
        .call(async |w, s| w.authenticate(s, ctx, credential).await)
        .await?;
    result.map_err(ApiError::from)
}

/// Whether `principal` may use the model `name` (asked for as `asked`).
pub fn model_allowed(principal: &Principal, name: &str, asked: &str) -> bool {
    principal.models.is_empty() || principal.models.iter().any(|m| m == name || m == asked)
}

/// Whether `principal` may reach the MCP server `name`.
pub fn mcp_server_allowed(principal: &Principal, name: &str) -> bool {
    principal.mcp_servers.is_empty() || principal.mcp_servers.iter().any(|s| s == name)
}
