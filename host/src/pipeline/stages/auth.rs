//! The auth stage: a credential becomes a principal, or the request is refused.

use crate::config::Config;
use crate::error::ApiError;
use crate::pipeline::Pipeline;
use crate::pipeline::bindings::types::{Principal, RequestCtx};
use std::collections::HashMap;

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
    let seen = lease.view(ctx);
    let result = lease
        .call(async |w, s| w.authenticate(s, &seen, credential).await)
        .await?;
    drop(lease);
    let principal = result.map_err(ApiError::from)?;
    Tier::apply(&pipeline.tiers, principal)
}

/// A `[tiers.<name>]` plan, ready to apply.
#[derive(Debug, Clone, Default)]
pub struct Tier {
    models: Vec<String>,
    mcp_servers: Vec<String>,
    attributes: Vec<(String, String)>,
}

impl Tier {
    /// Every tier of `config`. Validation made sure each attribute is a plain value.
    pub fn all(config: &Config) -> HashMap<String, Tier> {
        config
            .tiers
            .iter()
            .map(|(name, t)| {
                let tier = Tier {
                    models: t.models.clone(),
                    mcp_servers: t.mcp_servers.clone(),
                    attributes: t.attribute_strings().unwrap_or_default(),
                };
                (name.clone(), tier)
            })
            .collect()
    }

    /// `attributes` with those of their tier (named by the `tier` attribute) that they do not
    /// set themselves; unchanged without a tier, or with one the config lacks.
    pub fn attributes(
        tiers: &HashMap<String, Tier>,
        attributes: &[(String, String)],
    ) -> Vec<(String, String)> {
        let mut out = attributes.to_vec();
        let tier = attributes
            .iter()
            .find(|(k, _)| k == "tier")
            .and_then(|(_, name)| tiers.get(name));
        if let Some(tier) = tier {
            for (k, v) in &tier.attributes {
                if !out.iter().any(|(a, _)| a == k) {
                    out.push((k.clone(), v.clone()));
                }
            }
        }
        out
    }

    /// `principal` with its tier (the `tier` attribute) applied: the tier's models and MCP
    /// servers when the key lists none, and the tier's attributes that the key does not set
    /// itself. A key naming a tier the config lacks is refused (403), not let through unlimited.
    pub fn apply(
        tiers: &HashMap<String, Tier>,
        mut principal: Principal,
    ) -> Result<Principal, ApiError> {
        let Some(name) = principal
            .attributes
            .iter()
            .find(|(k, _)| k == "tier")
            .map(|(_, v)| v.clone())
        else {
            return Ok(principal);
        };
        let Some(tier) = tiers.get(&name) else {
            tracing::warn!(key = %principal.key_id, tier = %name, "key names a tier the config lacks");
            return Err(ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "permission_error",
                format!("This key's tier `{name}` is not configured on the gateway."),
            )
            .code("tier_not_found"));
        };
        if principal.models.is_empty() {
            principal.models = tier.models.clone();
        }
        if principal.mcp_servers.is_empty() {
            principal.mcp_servers = tier.mcp_servers.clone();
        }
        principal.attributes = Tier::attributes(tiers, &principal.attributes);
        Ok(principal)
    }
}

/// Whether `principal` may use the model `name` (asked for as `asked`).
pub fn model_allowed(principal: &Principal, name: &str, asked: &str) -> bool {
    principal.models.is_empty() || principal.models.iter().any(|m| m == name || m == asked)
}

/// Whether `principal` may reach the MCP server `name`.
pub fn mcp_server_allowed(principal: &Principal, name: &str) -> bool {
    principal.mcp_servers.is_empty() || principal.mcp_servers.iter().any(|s| s == name)
}
