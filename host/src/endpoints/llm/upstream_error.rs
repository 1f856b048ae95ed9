//! Upstream answers that are not a success, as the client's error.

use crate::error::ApiError;
use axum::http::StatusCode;
use serde::Deserialize;

/// An upstream's non-success answer as the client's error: OpenAI-shaped errors pass through with
/// their status; anything else becomes a 502 that says what the provider answered.
pub(super) fn upstream_error(
    provider: &str,
    status: StatusCode,
    body: &[u8],
    headers: &[(String, String)],
) -> ApiError {
    #[derive(Deserialize)]
    struct Wrapper {
        error: Inner,
    }
    #[derive(Deserialize)]
    struct Inner {
        message: String,
        #[serde(default, rename = "type")]
        kind: Option<String>,
        #[serde(default)]
        code: Option<serde_json::Value>,
        #[serde(default)]
        param: Option<String>,
    }
    let retry_after = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
        .and_then(|(_, v)| v.trim().parse::<u32>().ok());
    if let Ok(w) = serde_json::from_slice::<Wrapper>(body) {
        let status = if status.is_client_error() || status.is_server_error() {
            status
        } else {
            StatusCode::BAD_GATEWAY
        };
        return ApiError {
            status,
            kind: w.error.kind.unwrap_or_else(|| "upstream_error".into()),
            code: w.error.code.map(|c| match c {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            }),
            param: w.error.param,
            message: w.error.message,
            retry_after: retry_after.or((status == StatusCode::TOO_MANY_REQUESTS).then_some(1)),
        };
    }
    tracing::warn!(provider, %status, "provider answered with a non-OpenAI error body");
    // Some OpenAI-compatible servers (Ollama) answer `{"error": "text"}`.
    let text_error = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string));
    if status == StatusCode::TOO_MANY_REQUESTS {
        let mut e = ApiError::new(
            status,
            "rate_limit_exceeded",
            format!("The provider `{provider}` is rate limiting requests."),
        )
        .code("rate_limit_exceeded");
        e.retry_after = Some(retry_after.unwrap_or(1));
        return e;
    }
    if status.is_client_error() {
        // The request was refused for a reason of its own: keep the status so clients see a
        // 4xx they can fix (422 from validating servers, 404 for a model the provider lacks).
        let message = text_error.unwrap_or_else(|| {
            format!(
                "The provider `{provider}` refused the request with status {}.",
                status.as_u16()
            )
        });
        let code = match status.as_u16() {
            404 => "upstream_not_found",
            422 => "unprocessable_entity",
            _ => "upstream_rejected",
        };
        return ApiError::new(status, "invalid_request_error", message).code(code);
    }
    ApiError::bad_gateway(format!(
        "The provider `{provider}` answered with status {}.",
        status.as_u16()
    ))
}

pub(super) fn is_event_stream(headers: &[(String, String)]) -> bool {
    header_value(headers, "content-type").is_some_and(|v| v.contains("event-stream"))
}

pub(super) fn header_value(headers: &[(String, String)], name: &str) -> Option<String> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_shaped_upstream_errors_pass_through() {
        let e = upstream_error(
            "p",
            StatusCode::TOO_MANY_REQUESTS,
            br#"{"error":{"message":"slow","type":"requests","code":"rate_limit_exceeded"}}"#,
            &[("retry-after".into(), "3".into())],
        );
        assert_eq!(e.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(e.message, "slow");
        assert_eq!(e.retry_after, Some(3));
        let e = upstream_error(
            "p",
            StatusCode::INTERNAL_SERVER_ERROR,
            b"<html>oops</html>",
            &[],
        );
        assert_eq!(e.status, StatusCode::BAD_GATEWAY);
        assert!(!e.message.contains("oops"));
        let e = upstream_error(
            "p",
            StatusCode::UNPROCESSABLE_ENTITY,
            br#"{"detail":[{"loc":["body","messages"]}]}"#,
            &[],
        );
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.code.as_deref(), Some("unprocessable_entity"));
        let e = upstream_error(
            "p",
            StatusCode::NOT_FOUND,
            br#"{"error":"model 'x' not found"}"#,
            &[],
        );
        assert_eq!(e.status, StatusCode::NOT_FOUND);
        assert_eq!(e.message, "model 'x' not found");
    }
}

/// Whether a successful (2xx) JSON answer is in fact an error: a top-level `error` object with no
/// `id` or `object` beside it, the shape OpenAI-compatible servers use for errors (a stored
/// Response that failed carries `error` too, but also its `id`). Such an answer is handled as the
/// provider's 502: retried, failed over, and reported with the provider's message.
pub(super) fn error_in_success(body: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct Probe {
        #[serde(default)]
        error: Option<serde_json::Map<String, serde_json::Value>>,
        #[serde(default)]
        id: Option<serde::de::IgnoredAny>,
        #[serde(default)]
        object: Option<serde::de::IgnoredAny>,
    }
    // Most answers never mention the word: no parse for them.
    if memchr::memmem::find(body, b"\"error\"").is_none() {
        return false;
    }
    serde_json::from_slice::<Probe>(body)
        .is_ok_and(|p| p.error.is_some() && p.id.is_none() && p.object.is_none())
}

#[cfg(test)]
mod error_in_success_tests {
    use super::error_in_success;

    #[test]
    fn only_a_bare_error_object_is_an_error() {
        assert!(error_in_success(
            br#"{"error":{"message":"overloaded","type":"server_error"}}"#
        ));
        assert!(!error_in_success(
            br#"{"id":"r","object":"response","error":{"message":"x"}}"#
        ));
        assert!(!error_in_success(
            br#"{"id":"c","object":"chat.completion","error":null}"#
        ));
        assert!(!error_in_success(
            br#"{"choices":[{"message":{"content":"the \"error\" key"}}]}"#
        ));
        assert!(!error_in_success(b"[1,2]"));
    }
}
