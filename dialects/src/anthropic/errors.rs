//! Errors in Anthropic's shape: `{"type":"error","error":{"type":...,"message":...}}`.
//!
//! | status        | `error.type`            |
//! |---------------|-------------------------|
//! | 400           | `invalid_request_error` |
//! | 401           | `authentication_error`  |
//! | 402           | `billing_error`         |
//! | 403           | `permission_error`      |
//! | 404           | `not_found_error`       |
//! | 413           | `request_too_large`     |
//! | 429           | `rate_limit_error`      |
//! | 503, 529      | `overloaded_error`      |
//! | 504           | `timeout_error`         |
//! | other 4xx     | `invalid_request_error` |
//! | 500, other 5xx and anything else | `api_error` |
//!
//! The status decides, except where it only gives a generic type (`invalid_request_error`,
//! `api_error`) and the OpenAI error type already is one of Anthropic's specific names: that
//! one is kept. (OpenAI calls a bad key `invalid_request_error` too, so the generic names never
//! override the status.)

use serde_json::{Value, json};

/// Anthropic's error types (the SDK's `ErrorObject` union, and `request_too_large`).
const ANTHROPIC_TYPES: &[&str] = &[
    "invalid_request_error",
    "authentication_error",
    "billing_error",
    "permission_error",
    "not_found_error",
    "request_too_large",
    "rate_limit_error",
    "timeout_error",
    "api_error",
    "overloaded_error",
];

/// Anthropic's error type for an HTTP status.
fn type_for_status(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        503 | 529 => "overloaded_error",
        504 => "timeout_error",
        // 400 and the 4xx not named above.
        400..=499 => "invalid_request_error",
        _ => "api_error",
    }
}

/// See [`super::error_body`].
pub(super) fn body(status: u16, kind: &str, message: &str) -> Value {
    let by_status = type_for_status(status);
    let generic = |t: &str| t == "invalid_request_error" || t == "api_error";
    let kind = if generic(by_status) && !generic(kind) && ANTHROPIC_TYPES.contains(&kind) {
        kind
    } else {
        by_status
    };
    json!({ "type": "error", "error": { "type": kind, "message": message } })
}
