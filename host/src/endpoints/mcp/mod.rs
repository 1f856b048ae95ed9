//! `/mcp-servers/{name}/mcp`: MCP's Streamable HTTP transport in front of the configured MCP
//! servers (`crate::mcp`). Every exchange runs the auth stage on the headers (401 before the body
//! is read); a POSTed request then runs the MCP policy stage, goes to the server, and its answer
//! comes back through the stage's result hooks. Errors before the server is reached are HTTP
//! statuses; a request a policy refuses gets a JSON-RPC error inside a 200, as MCP clients expect.

mod call;
mod checks;
mod message;
mod post;
#[cfg(test)]
mod props;

use crate::endpoints::caller::Caller;
use crate::error::ApiError;
use crate::mcp::http::Exchange;
use crate::mcp::transport::Reply;
use crate::mcp::{Kind as ServerKind, Server, Session, Upstream};
use crate::pipeline::stages;
use crate::state::AppState;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use checks::Halt;
use std::sync::Arc;

pub use checks::SUPPORTED as PROTOCOL_VERSIONS;

/// The MCP routes (mounted under `/v1` and bare). Origin is checked before anything else.
pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route(
            "/mcp-servers/{name}/mcp",
            get(listen).post(post::post).delete(end),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            checks::origin_guard,
        ))
}

/// The server `name`, if this caller may reach it: 404 for an unknown server, 403 for a key
/// limited to other servers.
fn server_for(gw: &AppState, caller: &Caller, name: &str) -> Result<Arc<Server>, ApiError> {
    let server = gw.mcp.server(name).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            format!("There is no MCP server named `{name}`."),
        )
        .code("mcp_server_not_found")
    })?;
    if !stages::mcp_server_allowed(&caller.principal, name) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "permission_error",
            format!("This key may not use the MCP server `{name}`."),
        )
        .code("mcp_server_not_allowed"));
    }
    Ok(server)
}

/// The caller's session named by `Mcp-Session-Id`: 400 without one, 404 when it is unknown,
/// over, another key's or another server's (the client initialises again).
fn session_for(
    gw: &AppState,
    caller: &Caller,
    server: &Arc<Server>,
    headers: &HeaderMap,
) -> Result<Arc<Session>, ApiError> {
    let Some(id) = headers.get("mcp-session-id").and_then(|v| v.to_str().ok()) else {
        return Err(ApiError::bad_request(
            "This request needs the Mcp-Session-Id header from `initialize`.",
        )
        .code("missing_session_id"));
    };
    let found = gw
        .mcp
        .session(id)
        .filter(|s| s.key_id == caller.principal.key_id && Arc::ptr_eq(&s.server, server));
    match found {
        Some(s) => {
            s.touch();
            Ok(s)
        }
        None => Err(session_not_found()),
    }
}

fn session_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "invalid_request_error",
        "This MCP session does not exist or has ended; initialize a new one.",
    )
    .code("session_not_found")
}

/// A server's HTTP-level refusal, passed on. A 404 means the server forgot the session (so does a
/// 400 that says so: some servers answer an unknown session that way): it ends here too. Server
/// errors (5xx) become 502 without the server's body.
fn refused(
    gw: &AppState,
    session: Option<&Arc<Session>>,
    status: u16,
    ct: Option<String>,
    body: bytes::Bytes,
) -> Response {
    let lost = status == 404
        || (status == 400
            && String::from_utf8_lossy(&body)
                .to_ascii_lowercase()
                .contains("session"));
    if lost && let Some(s) = session {
        gw.mcp.end(s);
        return session_not_found().into_response();
    }
    if status >= 500 || status == 401 || status == 403 {
        tracing::warn!(status, "MCP server refused the gateway's request");
        return ApiError::bad_gateway(format!("The MCP server answered with HTTP {status}."))
            .code("mcp_upstream_error")
            .into_response();
    }
    let mut resp = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
        body,
    )
        .into_response();
    if let Some(ct) = ct.and_then(|c| c.parse().ok()) {
        resp.headers_mut()
            .insert(axum::http::header::CONTENT_TYPE, ct);
    }
    resp
}

/// The server and the caller's session of an exchange within a session: the revision is checked,
/// then the session (see [`session_for`]).
fn in_session(
    gw: &AppState,
    caller: &Caller,
    name: &str,
    headers: &HeaderMap,
) -> Result<(Arc<Server>, Arc<Session>), Halt> {
    let server = server_for(gw, caller, name)?;
    let session = within(gw, caller, &server, headers)?;
    Ok((server, session))
}

/// The caller's session with `server`, once the revision is checked.
fn within(
    gw: &AppState,
    caller: &Caller,
    server: &Arc<Server>,
    headers: &HeaderMap,
) -> Result<Arc<Session>, Halt> {
    checks::version(headers)?;
    Ok(session_for(gw, caller, server, headers)?)
}

/// GET: the session's stream of server messages outside of requests. 405 when the server
/// offers none.
async fn listen(
    State(gw): State<AppState>,
    Path(name): Path<String>,
    caller: Caller,
    headers: HeaderMap,
) -> Response {
    let result = async {
        checks::get_headers(&headers)?;
        let (server, session) = in_session(&gw, &caller, &name, &headers)?;
        let reply = match (&session.upstream, &server.kind) {
            (Upstream::Stdio(p), _) => p.listen(),
            (Upstream::Http(sid), ServerKind::Http(h)) => {
                let x = Exchange {
                    session: sid.as_deref(),
                    protocol: header(&headers, "mcp-protocol-version"),
                    last_event_id: header(&headers, "last-event-id"),
                };
                h.send(reqwest::Method::GET, x, None)
                    .await
                    .map_err(ApiError::from)?
                    .0
            }
            (Upstream::Http(_), ServerKind::Stdio(_)) => return Err(session_not_found().into()),
        };
        Ok::<_, Halt>(match reply {
            Reply::Stream(m) => call::sse(m, None, Arc::clone(&session)),
            Reply::Refused {
                status,
                content_type,
                body,
            } => refused(&gw, Some(&session), status, content_type, body),
            Reply::Accepted | Reply::Json(_) => StatusCode::METHOD_NOT_ALLOWED.into_response(),
        })
    }
    .await;
    caller.respond(Ok(result.unwrap_or_else(IntoResponse::into_response)))
}

/// DELETE: ends the session, on the server too.
async fn end(
    State(gw): State<AppState>,
    Path(name): Path<String>,
    caller: Caller,
    headers: HeaderMap,
) -> Response {
    let result = in_session(&gw, &caller, &name, &headers).map(|(_, session)| {
        gw.mcp.end(&session);
        StatusCode::OK.into_response()
    });
    caller.respond(Ok(result.unwrap_or_else(IntoResponse::into_response)))
}

/// A header's value, when it is text.
fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}
