//! A Streamable HTTP MCP server: each client exchange becomes one HTTP exchange with the server,
//! carrying the server's own session id and the configured headers.

use super::transport::{Message, Messages, Reply, TransportError};
use crate::http::sse::Framer;
use bytes::Bytes;
use futures::StreamExt;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use std::time::Duration;

/// Largest JSON answer read whole.
const MAX_JSON_BYTES: usize = 16 << 20;

/// A Streamable HTTP server.
pub struct HttpServer {
    /// Its name.
    pub name: String,
    url: String,
    headers: HeaderMap,
    timeout: Duration,
    client: crate::upstream::UpstreamClient,
}

/// What one exchange carries besides the body.
#[derive(Default)]
pub struct Exchange<'a> {
    /// The server's session id.
    pub session: Option<&'a str>,
    /// `MCP-Protocol-Version`.
    pub protocol: Option<&'a str>,
    /// `Last-Event-ID` (GET resumption).
    pub last_event_id: Option<&'a str>,
}

impl HttpServer {
    /// A server at `url`; `headers` go with every request.
    pub fn new(
        name: &str,
        url: &str,
        headers: HeaderMap,
        timeout: Duration,
        client: crate::upstream::UpstreamClient,
    ) -> HttpServer {
        HttpServer {
            name: name.to_string(),
            url: url.to_string(),
            headers,
            timeout,
            client,
        }
    }

    /// Sends one exchange: POST with a body, GET (the server's stream) or DELETE (end the
    /// session). Returns the reply and the session id the server gave, if any.
    pub async fn send(
        &self,
        method: reqwest::Method,
        x: Exchange<'_>,
        body: Option<Bytes>,
    ) -> Result<(Reply, Option<String>), TransportError> {
        let mut req = self
            .client
            .local()
            .request(method.clone(), &self.url)
            .headers(self.headers.clone());
        let accept = if method == reqwest::Method::GET {
            "text/event-stream"
        } else {
            "application/json, text/event-stream"
        };
        req = req.header(reqwest::header::ACCEPT, accept);
        for (name, value) in [
            ("mcp-session-id", x.session),
            ("mcp-protocol-version", x.protocol),
            ("last-event-id", x.last_event_id),
        ] {
            if let Some(v) = value {
                req = req.header(name, v);
            }
        }
        if let Some(body) = body {
            req = req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let resp = match tokio::time::timeout(self.timeout, req.send()).await {
            Err(_) => return Err(self.timed_out()),
            Ok(Err(e)) => {
                tracing::warn!(server = %self.name, error = %crate::error::error_chain(&e), "MCP server call failed");
                return Err(if e.is_connect() {
                    TransportError::Connect(self.name.clone())
                } else {
                    TransportError::Closed(self.name.clone())
                });
            }
            Ok(Ok(r)) => r,
        };
        let session = resp
            .headers()
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.to_ascii_lowercase());
        let is = |t: &str| content_type.as_deref().is_some_and(|c| c.starts_with(t));
        let reply = if !(200..300).contains(&status) {
            Reply::Refused {
                status,
                content_type: content_type.clone(),
                body: self.read(resp).await.unwrap_or_default(),
            }
        } else if status == 202 || (method != reqwest::Method::POST && !is("text/event-stream")) {
            Reply::Accepted
        } else if is("text/event-stream") {
            Reply::Stream(self.events(resp))
        } else if is("application/json") {
            Reply::Json(self.read(resp).await?)
        } else {
            return Err(TransportError::Malformed(self.name.clone()));
        };
        Ok((reply, session))
    }

    fn timed_out(&self) -> TransportError {
        TransportError::Timeout {
            server: self.name.clone(),
            ms: self.timeout.as_millis() as u64,
        }
    }

    async fn read(&self, resp: reqwest::Response) -> Result<Bytes, TransportError> {
        let mut out = bytes::BytesMut::new();
        let mut body = resp.bytes_stream();
        loop {
            match tokio::time::timeout(self.timeout, body.next()).await {
                Err(_) => return Err(self.timed_out()),
                Ok(None) => return Ok(out.freeze()),
                Ok(Some(Err(_))) => return Err(TransportError::Closed(self.name.clone())),
                Ok(Some(Ok(chunk))) => {
                    if out.len() + chunk.len() > MAX_JSON_BYTES {
                        return Err(TransportError::Malformed(self.name.clone()));
                    }
                    out.extend_from_slice(&chunk);
                }
            }
        }
    }

    /// The response's events as messages. A read that stays silent past the timeout, or a
    /// broken connection, ends the stream with an error.
    fn events(&self, resp: reqwest::Response) -> Messages {
        struct State {
            body: futures::stream::BoxStream<'static, reqwest::Result<Bytes>>,
            framer: Framer,
            queue: std::collections::VecDeque<Message>,
            done: bool,
        }
        let state = State {
            body: resp.bytes_stream().boxed(),
            framer: Framer::default(),
            queue: Default::default(),
            done: false,
        };
        let (name, timeout) = (self.name.clone(), self.timeout);
        Box::pin(futures::stream::unfold(state, move |mut st| {
            let name = name.clone();
            async move {
                loop {
                    if let Some(m) = st.queue.pop_front() {
                        return Some((Ok(m), st));
                    }
                    if st.done {
                        return None;
                    }
                    let chunk = match tokio::time::timeout(timeout, st.body.next()).await {
                        Err(_) => Err(TransportError::Timeout {
                            server: name.clone(),
                            ms: timeout.as_millis() as u64,
                        }),
                        Ok(None) => {
                            st.done = true;
                            if let Some(e) = st.framer.finish() {
                                st.queue.push_back(Message {
                                    id: e.id,
                                    data: e.data,
                                });
                            }
                            continue;
                        }
                        Ok(Some(Err(_))) => Err(TransportError::Closed(name.clone())),
                        Ok(Some(Ok(c))) => Ok(c),
                    };
                    let chunk = match chunk {
                        Ok(c) => c,
                        Err(e) => {
                            st.done = true;
                            return Some((Err(e), st));
                        }
                    };
                    match st.framer.push(&chunk) {
                        Ok(events) => st.queue.extend(events.into_iter().map(|e| Message {
                            id: e.id,
                            data: e.data,
                        })),
                        Err(_) => {
                            st.done = true;
                            return Some((Err(TransportError::Malformed(name.clone())), st));
                        }
                    }
                }
            }
        }))
    }
}

/// The configured headers, with the bearer token from `api_key_env` when it is set.
pub fn headers(
    configured: &std::collections::BTreeMap<String, String>,
    token: Option<&str>,
) -> HeaderMap {
    let mut out = HeaderMap::new();
    for (k, v) in configured {
        match (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            (Ok(k), Ok(v)) => {
                out.insert(k, v);
            }
            _ => tracing::warn!(header = %k, "MCP server header skipped: not a valid header"),
        }
    }
    if let Some(t) = token
        && let Ok(v) = HeaderValue::from_str(&format!("Bearer {t}"))
    {
        out.insert(reqwest::header::AUTHORIZATION, v);
    }
    out
}
