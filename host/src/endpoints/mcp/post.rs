//! POST: one JSON-RPC message from the client. `initialize` opens a session (the gateway's id,
//! bound to the key); a request runs the MCP policy stage, then goes to the server with its
//! answer streamed or returned whole, whichever the server chose; notifications and responses get
//! 202 once the server took them.

use super::call::{self, Call, status};
use super::checks::Halt;
use super::message::{self, Kind};
use super::{checks, header, refused, server_for, within};
use crate::endpoints::caller::Caller;
use crate::error::ApiError;
use crate::mcp::http::Exchange;
use crate::mcp::transport::{Reply, TransportError};
use crate::mcp::{Kind as ServerKind, Server, Session, Upstream};
use crate::pipeline::bindings::mcp_types::McpRequest;
use crate::pipeline::stages::{self, McpVerdict};
use crate::state::AppState;
use crate::telemetry::traces;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::sync::Arc;

/// The POST handler.
pub async fn post(
    State(gw): State<AppState>,
    Path(name): Path<String>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let span = traces::mcp_span(&name, &caller.ctx.request_id, &headers);
    let result =
        tracing::Instrument::instrument(handle(&gw, &name, &caller, &headers, body), span.clone())
            .await;
    let resp = result.unwrap_or_else(IntoResponse::into_response);
    span.record(
        "http.response.status_code",
        i64::from(resp.status().as_u16()),
    );
    caller.respond(Ok(resp))
}

async fn handle(
    gw: &AppState,
    name: &str,
    caller: &Caller,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, Halt> {
    let server = server_for(gw, caller, name)?;
    checks::post_headers(headers)?;
    let bytes = crate::http::body::read(body, &caller.pipeline.config.server).await?;
    let mut msg: Value = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::bad_request(format!("The body is not JSON: {e}.")).code("invalid_json")
    })?;
    let kind = message::classify(&msg)?;
    let (id, method) = match kind {
        Kind::Request { id, method } => (id, method),
        Kind::Notification | Kind::Response => {
            let session = within(gw, caller, &server, headers)?;
            return Ok(deliver(gw, &server, &session, headers, &msg).await?);
        }
    };
    if method == "server/discover" {
        // A 2026-07-28 client probing: refuse the revision so it falls back to `initialize`.
        let requested = header(headers, "mcp-protocol-version")
            .or_else(|| {
                msg.pointer("/params/_meta/io.modelcontextprotocol~1protocolVersion")
                    .and_then(Value::as_str)
            })
            .unwrap_or("2026-07-28");
        return Err(Halt::Version(requested.to_string()));
    }
    let span = tracing::Span::current();
    if !span.is_none() {
        let target = message::target(&method, msg.get("params").unwrap_or(&Value::Null));
        let name = match &target {
            Some(t) => format!("{method} {t}"),
            None => method.clone(),
        };
        traces::rename(&span, name);
        span.record("mcp.method.name", method.as_str());
        if method == "tools/call"
            && let Some(t) = &target
        {
            span.record("gen_ai.tool.name", t.as_str());
        }
        if let Some(sid) = header(headers, "mcp-session-id") {
            span.record("mcp.session.id", sid);
        }
    }
    let initialize = method == "initialize";
    let session = if initialize {
        None
    } else {
        Some(within(gw, caller, &server, headers)?)
    };

    let mut params = msg.get("params").cloned().unwrap_or_else(|| json!({}));
    let user_id = message::take_user_id(&mut params)
        .or_else(|| header(headers, "x-sluice-user-id").map(str::to_string));
    let mut req = McpRequest {
        request_id: caller.ctx.request_id.clone(),
        server: name.to_string(),
        session_id: session.as_ref().map(|s| s.id.clone()),
        user_id,
        target: message::target(&method, &params),
        method,
        params: params.to_string(),
    };
    let verdict = stages::run_mcp_request(&caller.pipeline, &mut req, &caller.principal).await?;
    // A call the stage answers itself (denied, or answered by a plugin) is still the key's call:
    // it is recorded like the others.
    let (ran, answered) = match verdict {
        McpVerdict::Deny(e) => {
            // A denial that says when to retry is a rate limit.
            let limited = e.data.as_deref().is_some_and(|d| d.contains("retry_after"));
            let st = if limited {
                status::RATE_LIMITED
            } else {
                status::DENIED
            };
            (Vec::new(), Some((st, message::error_answer(&id, &e))))
        }
        McpVerdict::Respond(result) => (
            Vec::new(),
            Some((status::OK, message::result_answer(&id, &result))),
        ),
        McpVerdict::Forward { params: new, ran } => {
            if let Some(p) = new {
                params = serde_json::from_str(&p).map_err(|_| {
                    ApiError::internal(
                        "An MCP policy plugin rewrote the params into something that is not JSON.",
                    )
                })?;
            }
            (ran, None)
        }
    };
    let mut call = Call::new(id, req, caller.principal.clone(), ran, &gw.usage);
    if let Some((st, answer)) = answered {
        call.finish(st);
        return Ok(json_answer(&answer));
    }
    if initialize {
        negotiate(&mut params);
    }
    if let Some(m) = msg.as_object_mut() {
        m.insert("params".into(), params);
    }
    let sent = match session {
        Some(s) => send(&server, &s, headers, &msg).await.map(|r| (r, s)),
        None => open(gw, caller, &server, &msg).await,
    };
    let (reply, session) = match sent {
        Ok(r) => r,
        Err(e) => {
            call.finish(status::UPSTREAM_FAILED);
            return Err(e.into());
        }
    };
    let mut resp = match reply {
        Reply::Json(bytes) => match String::from_utf8(bytes.to_vec()) {
            Ok(text) => {
                let answer = call.pass(text).await;
                ([(header::CONTENT_TYPE, "application/json")], answer).into_response()
            }
            Err(_) => {
                call.finish(status::UPSTREAM_FAILED);
                return Err(ApiError::from(TransportError::Malformed(name.to_string())).into());
            }
        },
        Reply::Stream(m) => call::sse(m, Some(call), Arc::clone(&session)),
        Reply::Accepted => {
            call.finish(status::SERVER_ERROR);
            StatusCode::ACCEPTED.into_response()
        }
        Reply::Refused {
            status,
            content_type,
            body,
        } => {
            call.finish(if status >= 500 {
                status::UPSTREAM_FAILED
            } else {
                status::SERVER_ERROR
            });
            if initialize {
                gw.mcp.end(&session);
            }
            return Ok(refused(gw, Some(&session), status, content_type, body));
        }
    };
    if initialize && let Ok(v) = HeaderValue::from_str(&session.id) {
        resp.headers_mut().insert("mcp-session-id", v);
    }
    Ok(resp)
}

/// `initialize` asks for a revision; one the gateway does not speak is asked for as the newest it
/// does, so the server's choice is one the gateway can carry (the spec's negotiation).
fn negotiate(params: &mut Value) {
    let asked = params.get("protocolVersion").and_then(Value::as_str);
    if !asked.is_some_and(|v| checks::SUPPORTED.contains(&v))
        && let Some(p) = params.as_object_mut()
    {
        p.insert("protocolVersion".into(), json!(checks::SUPPORTED[0]));
    }
}

fn json_answer(v: &Value) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], v.to_string()).into_response()
}

/// `initialize`: a new session with the server (a process of its own for a stdio server).
async fn open(
    gw: &AppState,
    caller: &Caller,
    server: &Arc<Server>,
    msg: &Value,
) -> Result<(Reply, Arc<Session>), ApiError> {
    let key = &caller.principal.key_id;
    match &server.kind {
        ServerKind::Stdio(pool) => {
            let process = pool.take()?;
            let reply = process.request(msg).await?;
            let session = gw.mcp.open(key, server, Upstream::Stdio(process))?;
            Ok((reply, session))
        }
        ServerKind::Http(h) => {
            let (reply, sid) = h
                .send(
                    reqwest::Method::POST,
                    Exchange::default(),
                    Some(msg.to_string().into()),
                )
                .await?;
            let session = gw.mcp.open(key, server, Upstream::Http(sid))?;
            Ok((reply, session))
        }
    }
}

/// Sends a request within a session.
async fn send(
    server: &Arc<Server>,
    session: &Arc<Session>,
    headers: &HeaderMap,
    msg: &Value,
) -> Result<Reply, ApiError> {
    match (&session.upstream, &server.kind) {
        (Upstream::Stdio(p), _) => Ok(p.request(msg).await?),
        (Upstream::Http(sid), ServerKind::Http(h)) => {
            let x = Exchange {
                session: sid.as_deref(),
                protocol: header(headers, "mcp-protocol-version"),
                last_event_id: None,
            };
            Ok(
                h.send(reqwest::Method::POST, x, Some(msg.to_string().into()))
                    .await?
                    .0,
            )
        }
        (Upstream::Http(_), ServerKind::Stdio(_)) => Err(super::session_not_found()),
    }
}

/// A notification or a response to a server request: 202 once the server has it.
async fn deliver(
    gw: &AppState,
    server: &Arc<Server>,
    session: &Arc<Session>,
    headers: &HeaderMap,
    msg: &Value,
) -> Result<Response, ApiError> {
    let reply = match &session.upstream {
        Upstream::Stdio(p) => p.send(msg).await?,
        Upstream::Http(_) => send(server, session, headers, msg).await?,
    };
    Ok(match reply {
        Reply::Refused {
            status,
            content_type,
            body,
        } => refused(gw, Some(session), status, content_type, body),
        _ => StatusCode::ACCEPTED.into_response(),
    })
}
