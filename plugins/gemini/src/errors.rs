//! Errors: Gemini's `{"error": {"code", "message", "status", "details"}}` to OpenAI's shape.

use serde_json::{Value, json};
use sluice_plugin_sdk::HttpResponse;

/// An error in OpenAI's terms.
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
    /// Seconds to wait before retrying, from Gemini's `RetryInfo`.
    pub retry_after: Option<u32>,
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
    match (status, grpc, reason) {
        (_, _, Some("API_KEY_INVALID")) | (401, _, _) | (_, Some("UNAUTHENTICATED"), _) => {
            (401, "invalid_request_error", Some("invalid_api_key"))
        }
        (429, _, _) | (_, Some("RESOURCE_EXHAUSTED"), _) => {
            (429, "rate_limit_exceeded", Some("rate_limit_exceeded"))
        }
        (403, _, _) | (_, Some("PERMISSION_DENIED"), _) => {
            (403, "permission_error", Some("forbidden"))
        }
        (404, _, _) | (_, Some("NOT_FOUND"), _) => {
            (404, "invalid_request_error", Some("not_found"))
        }
        (503, _, _) | (_, Some("UNAVAILABLE"), _) => {
            (503, "upstream_error", Some("provider_unavailable"))
        }
        (s @ 400..=499, _, _) => (s, "invalid_request_error", None),
        _ => (502, "upstream_error", Some("provider_error")),
    }
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
    let message = match field("message").and_then(Value::as_str) {
        Some(m) => format!("gemini: {}", m.trim_end()),
        None => {
            let text = String::from_utf8_lossy(raw);
            let text: String = text.trim().chars().take(300).collect();
            match status {
                Some(s) => format!("gemini answered HTTP {s}: {text}"),
                None => format!("gemini reported an error: {text}"),
            }
        }
    };
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
    let mapped = from_value(Some(resp.status), parsed.as_ref(), &resp.body);
    let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
    let retry = resp
        .header("retry-after")
        .map(str::to_string)
        .or_else(|| mapped.retry_after.map(|s| s.to_string()));
    if let Some(retry) = retry {
        headers.push(("retry-after".to_string(), retry));
    }
    HttpResponse {
        status: mapped.status,
        headers,
        body: mapped.body().to_string().into_bytes(),
    }
}

#[cfg(test)]
mod tests;
