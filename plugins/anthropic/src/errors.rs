//! Errors: Anthropic's `{"type":"error","error":{"type","message"}}` to OpenAI's shape.

use serde_json::{Value, json};
use sluice_plugin_sdk::HttpResponse;

/// An error in OpenAI's terms: the status to answer and the `error` object's fields.
#[derive(Debug, PartialEq)]
pub(crate) struct Mapped {
    /// HTTP status for the client.
    pub status: u16,
    /// OpenAI `type`.
    pub kind: &'static str,
    /// OpenAI `code`.
    pub code: Option<&'static str>,
    /// Human-readable message.
    pub message: String,
}

impl Mapped {
    /// The OpenAI error body: `{"error": {"message", "type", "param", "code"}}`.
    pub fn body(&self) -> Value {
        json!({ "error": {
            "message": self.message,
            "type": self.kind,
            "param": null,
            "code": self.code,
        }})
    }
}

/// Maps an Anthropic error type (and the HTTP status, when there is one) to OpenAI's terms.
///
/// | Anthropic                  | status | OpenAI type / code                          |
/// |----------------------------|--------|---------------------------------------------|
/// | 400 `invalid_request_error`| 400    | `invalid_request_error`                     |
/// | 401 `authentication_error` | 401    | `invalid_request_error` / `invalid_api_key` |
/// | 402 `billing_error`        | 429    | `insufficient_quota` / `insufficient_quota` |
/// | 403 `permission_error`     | 403    | `permission_error` / `forbidden`            |
/// | 404 `not_found_error`      | 404    | `invalid_request_error` / `not_found`       |
/// | 413 `request_too_large`    | 413    | `invalid_request_error` / `request_too_large` |
/// | 429 `rate_limit_error`     | 429    | `rate_limit_exceeded` / `rate_limit_exceeded` |
/// | 500 `api_error`            | 502    | `upstream_error` / `provider_error`         |
/// | 504 `timeout_error`        | 504    | `upstream_error` / `provider_timeout`       |
/// | 529 `overloaded_error`     | 503    | `upstream_error` / `provider_overloaded`    |
pub(crate) fn map(kind: Option<&str>, status: Option<u16>, message: String) -> Mapped {
    let (status, kind, code) = match (kind, status) {
        (Some("invalid_request_error"), _) | (None, Some(400)) => {
            (400, "invalid_request_error", None)
        }
        (Some("authentication_error"), _) | (None, Some(401)) => {
            (401, "invalid_request_error", Some("invalid_api_key"))
        }
        (Some("billing_error"), _) | (None, Some(402)) => {
            (429, "insufficient_quota", Some("insufficient_quota"))
        }
        (Some("permission_error"), _) | (None, Some(403)) => {
            (403, "permission_error", Some("forbidden"))
        }
        (Some("not_found_error"), _) | (None, Some(404)) => {
            (404, "invalid_request_error", Some("not_found"))
        }
        (Some("request_too_large"), _) | (None, Some(413)) => {
            (413, "invalid_request_error", Some("request_too_large"))
        }
        (Some("rate_limit_error"), _) | (None, Some(429)) => {
            (429, "rate_limit_exceeded", Some("rate_limit_exceeded"))
        }
        (Some("timeout_error"), _) | (None, Some(504)) => {
            (504, "upstream_error", Some("provider_timeout"))
        }
        (Some("overloaded_error"), _) | (None, Some(529 | 503)) => {
            (503, "upstream_error", Some("provider_overloaded"))
        }
        (_, Some(s @ 400..=499)) => (s, "invalid_request_error", None),
        _ => (502, "upstream_error", Some("provider_error")),
    };
    Mapped {
        status,
        kind,
        code,
        message,
    }
}

/// Maps an Anthropic error body (any JSON, or none) and status.
pub(crate) fn from_body(status: Option<u16>, body: &[u8]) -> Mapped {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let error = parsed.as_ref().and_then(|v| v.get("error"));
    let kind = error.and_then(|e| e.get("type")).and_then(Value::as_str);
    let message = match error.and_then(|e| e.get("message")).and_then(Value::as_str) {
        Some(m) => format!("anthropic: {m}"),
        None => {
            let text = String::from_utf8_lossy(body);
            let text: String = text.trim().chars().take(300).collect();
            match status {
                Some(s) => format!("anthropic answered HTTP {s}: {text}"),
                None => format!("anthropic reported an error: {text}"),
            }
        }
    };
    map(kind, status, message)
}

/// The client response for a non-2xx upstream answer: an OpenAI error body with the mapped
/// status, keeping the upstream's `retry-after` header.
pub(crate) fn error_response(resp: &HttpResponse) -> HttpResponse {
    let mapped = from_body(Some(resp.status), &resp.body);
    let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
    if let Some(retry) = resp.header("retry-after") {
        headers.push(("retry-after".to_string(), retry.to_string()));
    }
    HttpResponse {
        status: mapped.status,
        headers,
        body: mapped.body().to_string().into_bytes(),
    }
}

#[cfg(test)]
mod tests;
