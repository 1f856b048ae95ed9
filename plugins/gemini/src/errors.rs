//! Errors: Gemini's `{"error": {"code", "message", "status", "details"}}` to OpenAI's shape.

use serde_json::Value;
use sluice_plugin_sdk::HttpResponse;
use sluice_plugin_sdk::openai::Mapped;
use sluice_plugin_sdk::openai::errors::upstream_message;

/// Maps a Gemini error by HTTP status, gRPC status name and `ErrorInfo` reason.
///
/// | Gemini                                      | status | OpenAI type / code                          |
/// |---------------------------------------------|--------|---------------------------------------------|
/// | 400 `INVALID_ARGUMENT` reason `API_KEY_INVALID`, 401 `UNAUTHENTICATED` | 401 | `invalid_request_error` / `invalid_api_key` |
/// | 403 `PERMISSION_DENIED`                     | 403    | `permission_error` / `forbidden`            |
/// | 404 `NOT_FOUND`                             | 404    | `invalid_request_error` / `not_found`       |
/// | 429 `RESOURCE_EXHAUSTED`                    | 429    | `rate_limit_exceeded` / `rate_limit_exceeded` |
/// | other 4xx (`INVALID_ARGUMENT`, `FAILED_PRECONDITION`) | same | `invalid_request_error`          |
/// | 503 `UNAVAILABLE`                           | 503    | `upstream_error` / `provider_unavailable`   |
/// | other 5xx (`INTERNAL`, `DEADLINE_EXCEEDED`) | 502    | `upstream_error` / `provider_error`         |
pub(crate) fn map(
    status: u16,
    grpc: Option<&str>,
    reason: Option<&str>,
) -> (u16, &'static str, Option<&'static str>) {
    let status = match (status, grpc, reason) {
        (_, _, Some("API_KEY_INVALID")) | (401, _, _) | (_, Some("UNAUTHENTICATED"), _) => 401,
        (429, _, _) | (_, Some("RESOURCE_EXHAUSTED"), _) => 429,
        (403, _, _) | (_, Some("PERMISSION_DENIED"), _) => 403,
        (404, _, _) | (_, Some("NOT_FOUND"), _) => 404,
        (503, _, _) | (_, Some("UNAVAILABLE"), _) => {
            return (503, "upstream_error", Some("provider_unavailable"));
        }
        (s, _, _) => s,
    };
    let m = Mapped::from_status(status, String::new());
    (m.status, m.kind, m.code)
}

/// Seconds from a `RetryInfo.retryDelay` such as `"37s"` or `"1.5s"`, rounded up.
fn retry_delay(details: Option<&Value>) -> Option<u32> {
    details?.as_array()?.iter().find_map(|d| {
        let delay = d.get("retryDelay")?.as_str()?.strip_suffix('s')?;
        let secs: f64 = delay.parse().ok()?;
        (secs.is_finite() && secs >= 0.0).then(|| secs.ceil().min(f64::from(u32::MAX)) as u32)
    })
}

/// Maps a Gemini error value (`{"error": {...}}`, or a list holding one) with the HTTP status,
/// when there is one; without a status, the error's `code` stands in.
pub(crate) fn from_value(status: Option<u16>, v: Option<&Value>, raw: &[u8]) -> Mapped {
    let v = match v {
        Some(Value::Array(items)) => items.first(),
        other => other,
    };
    let error = v.and_then(|v| v.get("error"));
    let field = |k: &str| error.and_then(|e| e.get(k));
    let code = field("code")
        .and_then(Value::as_u64)
        .and_then(|c| u16::try_from(c).ok());
    let grpc = field("status").and_then(Value::as_str);
    let details = field("details");
    let reason = details.and_then(Value::as_array).and_then(|d| {
        d.iter()
            .find_map(|x| x.get("reason").and_then(Value::as_str))
    });
    let message = field("message").and_then(Value::as_str).map(str::trim_end);
    let message = upstream_message("gemini", message, status, raw);
    let (status, kind, code) = map(status.or(code).unwrap_or(500), grpc, reason);
    Mapped {
        status,
        kind,
        code,
        message,
        retry_after: retry_delay(details),
    }
}

/// The client response for a non-2xx upstream answer: an OpenAI error body with the mapped
/// status and a `retry-after` header from the upstream's header or Gemini's `RetryInfo`.
pub(crate) fn error_response(resp: &HttpResponse) -> HttpResponse {
    let parsed: Option<Value> = serde_json::from_slice(&resp.body).ok();
    from_value(Some(resp.status), parsed.as_ref(), &resp.body).response(resp)
}

#[cfg(test)]
mod tests;
