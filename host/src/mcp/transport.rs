//! What an MCP server answers, whichever transport reaches it, and how reaching it fails.

use bytes::Bytes;
use futures::stream::BoxStream;

/// One message a server sent, with the SSE event id it came under (HTTP servers that support
/// resumption number their events; stdio messages have none).
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// The event id, if any.
    pub id: Option<String>,
    /// The JSON-RPC message (JSON text).
    pub data: String,
}

/// A stream of messages from a server; an error ends it.
pub type Messages = BoxStream<'static, Result<Message, TransportError>>;

/// A server's answer to one HTTP exchange.
pub enum Reply {
    /// It took a notification or a response (202), or ended a session.
    Accepted,
    /// One JSON-RPC message (`application/json`).
    Json(Bytes),
    /// Messages as server-sent events: for a request, notifications and server requests, then the
    /// answer; for GET, whatever the server sends outside of requests.
    Stream(Messages),
    /// It refused at the HTTP level; its status and body are passed on.
    Refused {
        /// Its status.
        status: u16,
        /// Its content type.
        content_type: Option<String>,
        /// Its body.
        body: Bytes,
    },
}

/// Why a server could not be reached or stopped answering. Messages name the server and never
/// carry transport internals (those are logged).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TransportError {
    /// No connection could be made, or the process could not start (502).
    #[error("Could not reach the MCP server `{0}`.")]
    Connect(String),
    /// It stayed silent too long (504).
    #[error("The MCP server `{server}` sent nothing for {ms} ms.")]
    Timeout {
        /// The server.
        server: String,
        /// The limit.
        ms: u64,
    },
    /// The connection broke, or the stream ended before the answer (502).
    #[error("The MCP server `{0}` closed the connection before answering.")]
    Closed(String),
    /// The stdio server's process exited (502); its sessions are over.
    #[error("The MCP server `{0}` exited.")]
    Exited(String),
    /// It answered with something that is not MCP (502).
    #[error("The MCP server `{0}` sent an answer that is not a JSON-RPC message.")]
    Malformed(String),
    /// Every process a stdio server may run is busy (503).
    #[error("The MCP server `{0}` is at its limit of sessions; try again later.")]
    Busy(String),
    /// The server was removed or changed by a reload, or the gateway is stopping (404 for the
    /// session).
    #[error("The MCP server `{0}` was stopped.")]
    Stopped(String),
}
