//! The native lane: Messages requests (`Endpoint::Messages`) sent to Anthropic as they are.
//!
//! The host has already set `model` to the upstream model and `stream` as the client asked, so
//! the body goes on untouched; the answer (whole, streamed or an error) already is the client's
//! shape and comes back untouched too.

use crate::Config;
use sluice_plugin_sdk::{Provider, RequestCtx, UpstreamRequest};

/// Client headers passed on to Anthropic when present (besides `anthropic-version`).
const PASSED_ON: &[&str] = &["anthropic-beta"];

/// The value of the client's header `name` (names are lower-case).
fn header<'a>(ctx: &'a RequestCtx, name: &str) -> Option<&'a str> {
    ctx.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// `POST {base_url}/messages` with the client's body. `anthropic-version` is the client's
/// header when it sent one, else the config's; `anthropic-beta` is passed on.
pub(crate) fn upstream_request(
    ctx: &RequestCtx,
    provider: &Provider,
    body: &[u8],
    config: &Config,
) -> UpstreamRequest {
    let version = header(ctx, "anthropic-version")
        .filter(|v| !v.trim().is_empty())
        .unwrap_or(&config.anthropic_version);
    let mut headers = vec![
        ("content-type".to_string(), "application/json".to_string()),
        ("anthropic-version".to_string(), version.to_string()),
    ];
    for name in PASSED_ON {
        if let Some(v) = header(ctx, name) {
            headers.push(((*name).to_string(), v.to_string()));
        }
    }
    if let Some(key) = provider.api_key.as_deref().filter(|k| !k.is_empty()) {
        headers.push(("x-api-key".to_string(), key.to_string()));
    }
    UpstreamRequest {
        method: "POST".into(),
        path: "/messages".into(),
        headers,
        body: Some(body.to_vec()),
        stream: ctx.stream,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TEST;
    use sluice_plugin_sdk::Endpoint;

    fn ctx(stream: bool, headers: &[(&str, &str)]) -> RequestCtx {
        let mut ctx = TEST.ctx(Endpoint::Messages, stream);
        ctx.headers = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ctx
    }

    #[test]
    fn the_body_goes_as_given_with_the_config_version() {
        let body = br#"{"model":"claude-sonnet-4-5","max_tokens":10,"top_k":3,"messages":[]}"#;
        let r = upstream_request(
            &ctx(false, &[]),
            &TEST.provider(Some("sk-ant-1")),
            body,
            &Config::default(),
        );
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, "/messages");
        assert!(!r.stream);
        assert_eq!(r.body.as_deref(), Some(&body[..]));
        assert_eq!(
            r.headers,
            vec![
                ("content-type".to_string(), "application/json".to_string()),
                ("anthropic-version".to_string(), "2023-06-01".to_string()),
                ("x-api-key".to_string(), "sk-ant-1".to_string()),
            ]
        );
    }

    #[test]
    fn the_clients_version_and_beta_headers_win_and_streams_stream() {
        let r = upstream_request(
            &ctx(
                true,
                &[
                    ("anthropic-version", "2024-01-01"),
                    ("anthropic-beta", "prompt-caching-2024-07-31"),
                    ("x-other", "no"),
                ],
            ),
            &TEST.provider(None),
            b"{}",
            &Config::default(),
        );
        assert!(r.stream);
        assert_eq!(
            r.headers,
            vec![
                ("content-type".to_string(), "application/json".to_string()),
                ("anthropic-version".to_string(), "2024-01-01".to_string()),
                (
                    "anthropic-beta".to_string(),
                    "prompt-caching-2024-07-31".to_string()
                ),
            ]
        );
    }
}
