//! The one error type: every failure (a request's own, a plugin's, an upstream's) maps to it, and
//! it becomes OpenAI's error body `{"error": {"message", "type", "param", "code"}}` with a status. 5xx bodies never carry
//! internals (those go to the log).

use crate::mcp::transport::TransportError;
use crate::pipeline::bindings::types::ErrorBody;
use crate::pipeline::plugin::PluginError;
use crate::store::StoreError;
use crate::upstream::UpstreamError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error as the client sees it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{status} {kind}: {message}")]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// OpenAI error `type`.
    pub kind: String,
    /// OpenAI error `code`.
    pub code: Option<String>,
    /// The parameter at fault.
    pub param: Option<String>,
    /// Message for the client.
    pub message: String,
    /// Seconds until a retry may succeed (sent as `retry_after` and `Retry-After`).
    pub retry_after: Option<u32>,
}

impl ApiError {
    /// An error with no code or param.
    pub fn new(status: StatusCode, kind: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            kind: kind.into(),
            code: None,
            param: None,
            message: message.into(),
            retry_after: None,
        }
    }

    /// Sets the code.
    pub fn code(mut self, code: &str) -> Self {
        self.code = Some(code.into());
        self
    }

    /// Sets the param.
    pub fn param(mut self, param: &str) -> Self {
        self.param = Some(param.into());
        self
    }

    /// 400 `invalid_request_error`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
    }

    /// 404 for a model that does not exist or that the key may not use.
    pub fn model_not_found(model: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            format!("The model `{model}` does not exist or you do not have access to it."),
        )
        .code("model_not_found")
        .param("model")
    }

    /// 404 for an unknown path.
    pub fn unknown_route(method: &str, path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            format!("Unrecognized request URL ({method} {path})."),
        )
        .code("unknown_url")
    }

    /// 413 for a body over the limit.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request_error",
            format!("The request body is larger than the gateway's limit of {limit} bytes."),
        )
        .code("request_too_large")
    }

    /// 408 for a client that did not send its body in time.
    pub fn body_timeout(ms: u64) -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "invalid_request_error",
            format!("The request body did not arrive within {ms} ms."),
        )
        .code("request_timeout")
    }

    /// 502 for an upstream that failed or answered something unusable.
    pub fn bad_gateway(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_GATEWAY, "upstream_error", message).code("bad_upstream_response")
    }

    /// 504 for an upstream that did not answer in time.
    pub fn gateway_timeout(provider: &str, ms: u128) -> Self {
        Self::new(
            StatusCode::GATEWAY_TIMEOUT,
            "timeout_error",
            format!("The provider `{provider}` did not answer within {ms} ms."),
        )
        .code("upstream_timeout")
    }

    /// 500 with a message safe to show.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", message)
    }

    /// The JSON body.
    pub fn body(&self) -> serde_json::Value {
        let mut error = json!({
            "message": self.message,
            "type": self.kind,
            "param": self.param,
            "code": self.code,
        });
        if let Some(s) = self.retry_after {
            error["retry_after"] = json!(s);
        }
        json!({ "error": error })
    }
}

impl From<ErrorBody> for ApiError {
    fn from(e: ErrorBody) -> Self {
        let status = StatusCode::from_u16(e.status)
            .ok()
            .filter(|s| s.is_client_error() || s.is_server_error())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        ApiError {
            status,
            kind: e.type_,
            code: e.code,
            param: e.param,
            message: e.message,
            retry_after: e.retry_after,
        }
    }
}

/// A plugin's error body as the client's error. A plugin that refuses with a status that is not
/// an error (a 200, a 1000) returned nonsense: the client gets a 500 that names the plugin, and the
/// operator a warning.
pub fn refused_by(plugin: &str, e: ErrorBody) -> ApiError {
    let valid =
        StatusCode::from_u16(e.status).is_ok_and(|s| s.is_client_error() || s.is_server_error());
    if valid {
        return e.into();
    }
    tracing::warn!(
        plugin,
        status = e.status,
        "a plugin refused with a status that is not an error"
    );
    ApiError::internal(format!(
        "The plugin `{plugin}` refused the request with status {}, which is not an error status.",
        e.status
    ))
}

/// An error and its causes, `: `-separated: what the operator needs in the log when a library's
/// own message hides the cause (reqwest's "error sending request" over a TLS verification failure,
/// say).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        // Some layers repeat their source's message; say each thing once.
        if !s.ends_with(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        cause = c.source();
    }
    s
}

/// Runs `f` (a store call) on a blocking thread, off the async workers; its error, or the task's
/// failure, becomes the one error type.
pub async fn blocking<T, E>(
    f: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, ApiError>
where
    T: Send + 'static,
    E: Into<ApiError> + Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(Into::into),
        Err(e) => {
            tracing::error!(error = %e, "a store task failed");
            Err(ApiError::internal("The gateway's store is unavailable."))
        }
    }
}

impl From<UpstreamError> for ApiError {
    fn from(e: UpstreamError) -> Self {
        let message = e.to_string();
        match e {
            UpstreamError::Timeout { provider, ms } => ApiError::gateway_timeout(&provider, ms),
            UpstreamError::Connect { .. } => {
                ApiError::bad_gateway(message).code("upstream_unreachable")
            }
            UpstreamError::Build { .. } => ApiError::internal(message),
            UpstreamError::Transport { .. } | UpstreamError::TooLarge { .. } => {
                ApiError::bad_gateway(message)
            }
        }
    }
}

impl From<TransportError> for ApiError {
    fn from(e: TransportError) -> Self {
        let message = e.to_string();
        match e {
            TransportError::Timeout { .. } => {
                ApiError::new(StatusCode::GATEWAY_TIMEOUT, "timeout", message).code("mcp_timeout")
            }
            TransportError::Busy(_) => {
                let mut e = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "server_error", message)
                    .code("mcp_busy");
                e.retry_after = Some(1);
                e
            }
            TransportError::Stopped(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "invalid_request_error", message)
                    .code("session_not_found")
            }
            TransportError::Connect(_)
            | TransportError::Closed(_)
            | TransportError::Exited(_)
            | TransportError::Malformed(_) => {
                ApiError::bad_gateway(message).code("mcp_upstream_error")
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Invalid(m) => ApiError::bad_request(m),
            other => {
                tracing::error!(error = %other, "store failure");
                ApiError::internal("The gateway's store failed.")
            }
        }
    }
}

impl From<PluginError> for ApiError {
    fn from(e: PluginError) -> Self {
        tracing::warn!(error = %e, "plugin failure");
        let (status, code) = match &e {
            PluginError::Trap { .. } => (StatusCode::INTERNAL_SERVER_ERROR, "plugin_failed"),
            PluginError::OutOfMemory { .. } => {
                (StatusCode::INTERNAL_SERVER_ERROR, "plugin_out_of_memory")
            }
            PluginError::Timeout { .. } => (StatusCode::SERVICE_UNAVAILABLE, "plugin_timeout"),
            PluginError::Unavailable { .. } => {
                (StatusCode::SERVICE_UNAVAILABLE, "plugin_unavailable")
            }
            PluginError::Store { .. } => (StatusCode::SERVICE_UNAVAILABLE, "kv_unavailable"),
        };
        // The message names the plugin and the kind of failure; trap details stay in the log.
        let message = match &e {
            PluginError::Trap { plugin, .. } => {
                format!("The plugin `{plugin}` failed on this request.")
            }
            PluginError::Store { plugin, .. } => format!(
                "The plugin `{plugin}` could not reach the gateway's shared store; try again shortly."
            ),
            other => other.to_string(),
        };
        ApiError::new(status, "server_error", message).code(code)
    }
}

/// The longest `Retry-After` the SDKs wait for before retrying on their own.
const MAX_SDK_RETRY_WAIT_S: u32 = 60;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, axum::Json(self.body())).into_response();
        if let Some(s) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&s.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
            // The OpenAI and Anthropic SDKs retry a 429 at once when its wait is over a minute
            // (they ignore such a Retry-After); this header, which they honour, stops them
            // spending retries on a budget that resets next month.
            if s > MAX_SDK_RETRY_WAIT_S {
                resp.headers_mut()
                    .insert("x-should-retry", HeaderValue::from_static("false"));
            }
        }
        resp
    }
}

#[cfg(test)]
#[path = "error_props.rs"]
mod props;

#[cfg(test)]
#[path = "error_tests.rs"]
mod tests;
