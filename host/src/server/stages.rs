//! Calls into the request and response stages: auth, policy, enrich, and the completion hooks.
//! The adapter stage lives with the upstream call in `proxy`.

use super::error::ApiError;
use crate::pipeline::bindings::types::{
    Decision, HttpRequest, HttpResponse, LlmMeta, Outcome, Principal, RequestCtx,
};
use crate::pipeline::plugin::{OnError, Plugin, PluginError};
use crate::pipeline::{Pipeline, PolicyWorld};
use axum::http::HeaderMap;
use std::sync::Arc;

/// The bearer token (`Authorization: Bearer`), or the `x-api-key` / `api-key` header.
pub fn credential(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let v = v.trim();
        let token = match v.split_once(' ') {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
            _ => v,
        };
        return Some(token.to_string());
    }
    ["x-api-key", "api-key"]
        .iter()
        .find_map(|h| headers.get(*h).and_then(|v| v.to_str().ok()))
        .map(|v| v.trim().to_string())
}

/// Headers plugins see: everything but credentials and cookies, names lower-case.
pub fn plugin_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                "authorization" | "x-api-key" | "api-key" | "cookie" | "proxy-authorization"
            )
        })
        .filter_map(|(k, v)| {
            v.to_str()
                .ok()
                .map(|v| (k.as_str().to_string(), v.to_string()))
        })
        .collect()
}

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
        });
    };
    let mut lease = auth.lease().await?;
    let result = lease
        .call(async |w, s| {
            w.sluice_plugin_auth_stage()
                .call_authenticate(s, ctx, credential)
                .await
        })
        .await?;
    result.map_err(ApiError::from)
}

/// Whether `principal` may use the model `name` (asked for as `asked`).
pub fn model_allowed(principal: &Principal, name: &str, asked: &str) -> bool {
    principal.models.is_empty() || principal.models.iter().any(|m| m == name || m == asked)
}

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

/// Headers and metadata that stages add to the response.
#[derive(Default)]
pub struct Additions {
    /// Response headers.
    pub headers: Vec<(String, String)>,
    /// Fields of the metadata object (values are JSON text).
    pub metadata: Vec<(String, String)>,
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
        let req = HttpRequest {
            method: ctx.method.clone(),
            path: ctx.path.clone(),
            headers: ctx.headers.clone(),
            body: if p.info.wants_body {
                new_body.as_deref().unwrap_or(body).to_vec()
            } else {
                Vec::new()
            },
        };
        let decision = match p.lease().await {
            Ok(mut lease) => {
                lease
                    .call(async |w, s| {
                        w.sluice_plugin_policy_stage()
                            .call_on_request(s, ctx, principal, meta, &req)
                            .await
                    })
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
            Decision::Deny(e) => return Err(e.into()),
            Decision::Respond(resp) => return Ok(PolicyOutcome::Respond(resp)),
        }
    }
    Ok(PolicyOutcome::Continue { body: new_body })
}

/// Applies a plugin's `on_error`: None when the failure is skipped.
fn fail_open<W: crate::pipeline::plugin::World>(p: &Plugin<W>, e: PluginError) -> Option<ApiError> {
    if p.settings.on_error == OnError::FailOpen {
        tracing::warn!(error = %e, "plugin failed; skipped (on_error = fail-open)");
        None
    } else {
        Some(e.into())
    }
}

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
                lease
                    .call(async |w, s| {
                        w.sluice_plugin_policy_stage()
                            .call_on_complete(s, ctx, principal, meta, outcome)
                            .await
                    })
                    .await
            }
            Err(e) => Err(e),
        };
        if let Err(e) = r {
            tracing::warn!(error = %e, "on-complete hook failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_comes_from_bearer_or_api_key_headers() {
        let mut h = HeaderMap::new();
        h.insert("authorization", "Bearer sk-1".parse().expect("header"));
        assert_eq!(credential(&h).as_deref(), Some("sk-1"));
        let mut h = HeaderMap::new();
        h.insert("x-api-key", "sk-2".parse().expect("header"));
        assert_eq!(credential(&h).as_deref(), Some("sk-2"));
        assert_eq!(credential(&HeaderMap::new()), None);
    }

    #[test]
    fn plugins_never_see_credentials() {
        let mut h = HeaderMap::new();
        h.insert("authorization", "Bearer sk-1".parse().expect("header"));
        h.insert("x-api-key", "sk-2".parse().expect("header"));
        h.insert("x-team", "a".parse().expect("header"));
        assert_eq!(
            plugin_headers(&h),
            vec![("x-team".to_string(), "a".to_string())]
        );
    }
}
