//! What MCP's Streamable HTTP transport asks a server to check before it looks at a message:
//! the `Origin` (DNS rebinding), `Accept`, `Content-Type` and `MCP-Protocol-Version` headers.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Protocol revisions the gateway speaks, newest first.
pub const SUPPORTED: [&str; 3] = ["2025-11-25", "2025-06-18", "2025-03-26"];

/// The revision assumed when a client sends no `MCP-Protocol-Version` (the spec's rule for
/// clients from before the header existed).
pub const DEFAULT_VERSION: &str = "2025-03-26";

/// 403 for a request whose `Origin` is present and not allowed (`[mcp] allowed_origins`). Runs
/// before auth: a page on another origin learns nothing, not even whether a key is valid.
pub async fn origin_guard(State(gw): State<AppState>, req: Request, next: Next) -> Response {
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let pipeline = gw.pipeline.load();
        let allowed = &pipeline.config.mcp.allowed_origins;
        let ok = origin
            .to_str()
            .is_ok_and(|o| allowed.iter().any(|a| a.eq_ignore_ascii_case(o)));
        if !ok {
            return ApiError::new(
                StatusCode::FORBIDDEN,
                "permission_error",
                "This Origin may not call the MCP endpoint (see [mcp] allowed_origins).",
            )
            .code("origin_not_allowed")
            .into_response();
        }
    }
    next.run(req).await
}

fn values<'a>(
    headers: &'a HeaderMap,
    name: header::HeaderName,
) -> impl Iterator<Item = String> + 'a {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
}

/// Whether `Accept` lists `media` (or a wildcard covering it).
fn accepts(headers: &HeaderMap, media: &str) -> bool {
    let major = media.split('/').next().unwrap_or_default();
    values(headers, header::ACCEPT).any(|v| v == media || v == "*/*" || v == format!("{major}/*"))
}

/// POST: `Accept` must list both `application/json` and `text/event-stream`, and the body must be
/// `application/json`.
pub fn post_headers(headers: &HeaderMap) -> Result<(), ApiError> {
    if !(accepts(headers, "application/json") && accepts(headers, "text/event-stream")) {
        return Err(ApiError::bad_request(
            "An MCP POST must accept both application/json and text/event-stream (Accept header).",
        )
        .code("invalid_accept"));
    }
    let json = values(headers, header::CONTENT_TYPE).any(|v| v == "application/json");
    if !json {
        return Err(ApiError::bad_request(
            "An MCP POST carries one JSON-RPC message as application/json (Content-Type header).",
        )
        .code("invalid_content_type"));
    }
    Ok(())
}

/// GET: `Accept` must list `text/event-stream`.
pub fn get_headers(headers: &HeaderMap) -> Result<(), ApiError> {
    if accepts(headers, "text/event-stream") {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "An MCP GET opens a stream: it must accept text/event-stream (Accept header).",
        )
        .code("invalid_accept"))
    }
}

/// The request's `MCP-Protocol-Version`, or the version it asked for when the gateway does not
/// speak it (answer with [`unsupported_version`]). Absent means [`DEFAULT_VERSION`].
pub fn protocol_version(headers: &HeaderMap) -> Result<String, String> {
    match headers.get("mcp-protocol-version") {
        None => Ok(DEFAULT_VERSION.to_string()),
        Some(v) => {
            let v = v.to_str().unwrap_or_default().trim();
            if SUPPORTED.contains(&v) {
                Ok(v.to_string())
            } else {
                Err(v.to_string())
            }
        }
    }
}

/// Why an MCP exchange stops before the server: a gateway error (OpenAI's shape), or a protocol
/// revision the gateway does not speak (a JSON-RPC error, which negotiating clients read).
pub enum Halt {
    /// An error of the gateway.
    Api(ApiError),
    /// The revision asked for.
    Version(String),
}

impl From<ApiError> for Halt {
    fn from(e: ApiError) -> Halt {
        Halt::Api(e)
    }
}

impl IntoResponse for Halt {
    fn into_response(self) -> Response {
        match self {
            Halt::Api(e) => e.into_response(),
            Halt::Version(v) => unsupported_version(&v),
        }
    }
}

/// Checks `MCP-Protocol-Version` (see [`protocol_version`]).
pub fn version(headers: &HeaderMap) -> Result<(), Halt> {
    protocol_version(headers).map(drop).map_err(Halt::Version)
}

/// 400 with the JSON-RPC error the 2026-07-28 revision defines for a version the server does not
/// speak (-32022, with the versions it does): clients that negotiate fall back to `initialize`.
pub fn unsupported_version(requested: &str) -> Response {
    let body = json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": {
            "code": -32022,
            "message": format!(
                "Unsupported protocol version `{requested}`: this gateway speaks {} (initialize to negotiate one).",
                SUPPORTED.join(", ")
            ),
            "data": {"requested": requested, "supported": SUPPORTED},
        }
    });
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.append(*k, v.parse().expect("header value"));
        }
        m
    }

    #[test]
    fn post_needs_both_media_types_and_a_json_body() {
        let ok = h(&[
            ("accept", "application/json, text/event-stream"),
            ("content-type", "application/json; charset=utf-8"),
        ]);
        assert!(post_headers(&ok).is_ok());
        let split = h(&[
            ("accept", "application/json"),
            ("accept", "text/event-stream;q=0.9"),
            ("content-type", "application/json"),
        ]);
        assert!(post_headers(&split).is_ok());
        let one = h(&[
            ("accept", "application/json"),
            ("content-type", "application/json"),
        ]);
        assert_eq!(
            post_headers(&one).map_err(|e| e.status),
            Err(StatusCode::BAD_REQUEST)
        );
        let text = h(&[("accept", "*/*"), ("content-type", "text/plain")]);
        assert_eq!(
            post_headers(&text).map_err(|e| e.status),
            Err(StatusCode::BAD_REQUEST)
        );
    }

    #[test]
    fn versions_are_checked_and_default_to_the_oldest() {
        assert_eq!(
            protocol_version(&h(&[])).ok().as_deref(),
            Some(DEFAULT_VERSION)
        );
        let v = h(&[("mcp-protocol-version", "2025-06-18")]);
        assert_eq!(protocol_version(&v).ok().as_deref(), Some("2025-06-18"));
        let new = h(&[("mcp-protocol-version", "2026-07-28")]);
        let refused = protocol_version(&new).err();
        assert_eq!(refused.as_deref(), Some("2026-07-28"));
        let resp = unsupported_version("2026-07-28");
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    }
}
