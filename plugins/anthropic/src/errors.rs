//! Errors: Anthropic's `{"type":"error","error":{"type","message"}}` to OpenAI's shape.

use serde_json::Value;
use sluice_plugin_sdk::HttpResponse;
use sluice_plugin_sdk::openai::Mapped;
use sluice_plugin_sdk::openai::errors::upstream_message;

/// Maps an Anthropic error type (and the HTTP status, when there is one) to OpenAI's terms: the
/// type names a status, which maps as [`Mapped::from_status`] does, apart from these:
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
    let by_kind = match kind {
        Some("invalid_request_error") => Some(400),
        Some("authentication_error") => Some(401),
        Some("billing_error") => Some(402),
        Some("permission_error") => Some(403),
        Some("not_found_error") => Some(404),
        Some("request_too_large") => Some(413),
        Some("rate_limit_error") => Some(429),
        Some("timeout_error") => Some(504),
        Some("overloaded_error") => Some(529),
        _ => None,
    };
    let status = match (by_kind, kind) {
        (Some(s), _) => s,
        (None, None) => status.unwrap_or(500),
        // A type this table does not know: only the status class counts.
        (None, Some(_)) => match status {
            Some(s @ 400..=499) => return Mapped::new(s, "invalid_request_error", None, message),
            _ => 500,
        },
    };
    match status {
        402 => Mapped::new(
            429,
            "insufficient_quota",
            Some("insufficient_quota"),
            message,
        ),
        413 => Mapped::new(
            413,
            "invalid_request_error",
            Some("request_too_large"),
            message,
        ),
        504 => Mapped::new(504, "upstream_error", Some("provider_timeout"), message),
        503 | 529 => Mapped::new(503, "upstream_error", Some("provider_overloaded"), message),
        s => Mapped::from_status(s, message),
    }
}

/// Maps an Anthropic error body (any JSON, or none) and status.
pub(crate) fn from_body(status: Option<u16>, body: &[u8]) -> Mapped {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let error = parsed.as_ref().and_then(|v| v.get("error"));
    let kind = error.and_then(|e| e.get("type")).and_then(Value::as_str);
    let message = error.and_then(|e| e.get("message")).and_then(Value::as_str);
    map(
        kind,
        status,
        upstream_message("anthropic", message, status, body),
    )
}

/// The client response for a non-2xx upstream answer: an OpenAI error body with the mapped
/// status, keeping the upstream's `retry-after` header.
pub(crate) fn error_response(resp: &HttpResponse) -> HttpResponse {
    from_body(Some(resp.status), &resp.body).response(resp)
}

#[cfg(test)]
mod tests;
