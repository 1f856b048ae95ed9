//! A client request on its way through an MCP server: its answer passes the MCP policy stage's
//! result hooks, and a `tools/call` leaves a usage row and a log line however it ends.

use super::message::{answers, error_answer};
use crate::mcp::Session;
use crate::mcp::transport::{Messages, TransportError};
use crate::pipeline::McpPolicyWorld;
use crate::pipeline::bindings::mcp_types::{McpError, McpRequest};
use crate::pipeline::bindings::types::Principal;
use crate::pipeline::plugin::Plugin;
use crate::pipeline::stages;
use crate::store::{UsageRow, UsageWriter};
use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use bytes::Bytes;
use serde_json::Value;
use std::sync::Arc;
use std::time::Instant;

/// Usage statuses of a `tools/call` (the usage table's status column).
pub mod status {
    /// The tool answered.
    pub const OK: u16 = 200;
    /// The tool answered with `isError`.
    pub const TOOL_ERROR: u16 = 422;
    /// A policy denied the call.
    pub const DENIED: u16 = 403;
    /// The per-key tool-call rate was reached.
    pub const RATE_LIMITED: u16 = 429;
    /// The server answered with a JSON-RPC error.
    pub const SERVER_ERROR: u16 = 400;
    /// The server could not be reached or stopped answering.
    pub const UPSTREAM_FAILED: u16 = 502;
    /// The client went away first.
    pub const CLIENT_GONE: u16 = 499;
}

/// A request in flight.
pub struct Call {
    /// The request's JSON-RPC id.
    pub id: Value,
    /// What the policy stage saw.
    pub req: McpRequest,
    principal: Principal,
    ran: Vec<Arc<Plugin<McpPolicyWorld>>>,
    started: Instant,
    /// Where a `tools/call` is recorded; None for other methods.
    usage: Option<UsageWriter>,
    done: bool,
}

impl Call {
    /// A request that the plugins in `ran` let through.
    pub fn new(
        id: Value,
        req: McpRequest,
        principal: Principal,
        ran: Vec<Arc<Plugin<McpPolicyWorld>>>,
        usage: &UsageWriter,
    ) -> Call {
        let recorded = req.method == "tools/call";
        Call {
            id,
            req,
            principal,
            ran,
            started: Instant::now(),
            usage: recorded.then(|| usage.clone()),
            done: false,
        }
    }

    /// Passes a message from the server: the answer goes through the result hooks (and ends the
    /// call); anything else is returned as it came.
    pub async fn pass(&mut self, data: String) -> String {
        if self.done {
            return data;
        }
        let Ok(mut msg) = serde_json::from_str::<Value>(&data) else {
            return data;
        };
        if !answers(&msg, &self.id) {
            return data;
        }
        let status = match msg.get_mut("result") {
            Some(result) => {
                let text = result.to_string();
                match stages::run_mcp_result(&self.ran, &self.req, &self.principal, text).await {
                    Ok(filtered) => {
                        if let Ok(v) = serde_json::from_str::<Value>(&filtered) {
                            *result = v;
                        }
                        if result.get("isError").and_then(Value::as_bool) == Some(true) {
                            status::TOOL_ERROR
                        } else {
                            status::OK
                        }
                    }
                    Err(e) => {
                        msg = error_answer(&self.id, &e);
                        status::SERVER_ERROR
                    }
                }
            }
            None => status::SERVER_ERROR,
        };
        self.finish(status);
        msg.to_string()
    }

    /// The call failed in transit: the client gets this JSON-RPC error as the answer.
    pub fn fail(&mut self, e: &TransportError) -> String {
        self.finish(status::UPSTREAM_FAILED);
        let answer = McpError {
            code: -32603,
            message: e.to_string(),
            data: None,
        };
        error_answer(&self.id, &answer).to_string()
    }

    /// Whether the answer was passed.
    pub fn answered(&self) -> bool {
        self.done
    }

    /// Records the call once, with `status`.
    pub fn finish(&mut self, status: u16) {
        if std::mem::replace(&mut self.done, true) {
            return;
        }
        let Some(usage) = &self.usage else { return };
        let latency_ms = self.started.elapsed().as_millis().min(u32::MAX as u128) as u32;
        let tool = self.req.target.clone().unwrap_or_default();
        tracing::info!(
            target: "sluice::mcp",
            request_id = %self.req.request_id,
            key = %self.principal.key_id,
            user = self.req.user_id.as_deref().unwrap_or(""),
            server = %self.req.server,
            tool = %tool,
            status,
            latency_ms,
            "tools/call"
        );
        crate::telemetry::record::mcp_tool_call(&self.req.server, &tool, status);
        let row = UsageRow {
            at_ms: crate::time::now_ms(),
            request_id: self.req.request_id.clone(),
            key_id: Some(self.principal.key_id.clone()),
            team: self.principal.team.clone(),
            user_id: self.req.user_id.clone(),
            endpoint: "mcp.tools/call".into(),
            model: tool.clone(),
            served_model: tool,
            provider: self.req.server.clone(),
            status,
            latency_ms,
            ..Default::default()
        };
        usage.record(row);
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        self.finish(status::CLIENT_GONE);
    }
}

/// Messages as a `text/event-stream` response. With a call, its answer passes the result hooks,
/// and a stream that fails or ends before the answer ends with a JSON-RPC error for it, so the
/// client is never left waiting. Without one (a GET stream) a failure just ends the stream. Each
/// message keeps `session` from expiring as idle: a stream that flows is use.
pub fn sse(messages: Messages, call: Option<Call>, session: Arc<Session>) -> Response {
    struct State {
        messages: Messages,
        call: Option<Call>,
        session: Arc<Session>,
        over: bool,
    }
    let state = State {
        messages,
        call,
        session,
        over: false,
    };
    let events = futures::stream::unfold(state, |mut st| async move {
        use futures::StreamExt;
        if st.over {
            return None;
        }
        let frame = match st.messages.next().await {
            Some(Ok(m)) => {
                st.session.touch();
                let data = match st.call.as_mut() {
                    Some(c) => c.pass(m.data).await,
                    None => m.data,
                };
                if st.call.as_ref().is_some_and(Call::answered) {
                    st.over = true;
                }
                crate::http::sse::encode_with_id(m.id.as_deref(), None, &data)
            }
            Some(Err(e)) => {
                st.over = true;
                match st.call.as_mut() {
                    Some(c) => crate::http::sse::encode(None, &c.fail(&e)),
                    None => return None,
                }
            }
            None => {
                st.over = true;
                match st.call.as_mut() {
                    Some(c) if !c.answered() => {
                        let server = c.req.server.clone();
                        crate::http::sse::encode(None, &c.fail(&TransportError::Closed(server)))
                    }
                    _ => return None,
                }
            }
        };
        Some((Ok::<Bytes, std::convert::Infallible>(frame), st))
    });
    let mut resp = Response::new(Body::from_stream(events));
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}
