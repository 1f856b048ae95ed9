//! A provider's error in OpenAI's terms, and the client response for it.

use crate::{ErrorBody, HttpResponse};
use serde_json::{Value, json};

/// An error in OpenAI's terms: the status to answer and the `error` object's fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapped {
    /// HTTP status for the client.
    pub status: u16,
    /// OpenAI `type`.
    pub kind: &'static str,
    /// OpenAI `code`.
    pub code: Option<&'static str>,
    /// Human-readable message.
    pub message: String,
    /// Seconds after which a retry may succeed, when the provider said so in its body.
    pub retry_after: Option<u32>,
}

impl Mapped {
    /// A mapped error without `retry_after`.
    pub fn new(
        status: u16,
        kind: &'static str,
        code: Option<&'static str>,
        message: String,
    ) -> Self {
        Mapped {
            status,
            kind,
            code,
            message,
            retry_after: None,
        }
    }

    /// The mapping every provider shares for an upstream HTTP status:
    ///
    /// | upstream           | status | OpenAI type / code                            |
    /// |--------------------|--------|-----------------------------------------------|
    /// | 401                | 401    | `invalid_request_error` / `invalid_api_key`   |
    /// | 403                | 403    | `permission_error` / `forbidden`              |
    /// | 404                | 404    | `invalid_request_error` / `not_found`         |
    /// | 429                | 429    | `rate_limit_exceeded` / `rate_limit_exceeded` |
    /// | other 4xx          | same   | `invalid_request_error`                       |
    /// | anything else      | 502    | `upstream_error` / `provider_error`           |
    pub fn from_status(status: u16, message: String) -> Self {
        let (status, kind, code) = match status {
            401 => (401, "invalid_request_error", Some("invalid_api_key")),
            403 => (403, "permission_error", Some("forbidden")),
            404 => (404, "invalid_request_error", Some("not_found")),
            429 => (429, "rate_limit_exceeded", Some("rate_limit_exceeded")),
            s @ 400..=499 => (s, "invalid_request_error", None),
            _ => (502, "upstream_error", Some("provider_error")),
        };
        Mapped::new(status, kind, code, message)
    }

    /// The OpenAI error body: `{"error": {"message", "type", "param", "code"}}`.
    pub fn body(&self) -> Value {
        json!({ "error": {
            "message": self.message,
            "type": self.kind,
            "param": null,
            "code": self.code,
        }})
    }

    /// The error as the gateway's [`ErrorBody`].
    pub fn error_body(&self) -> ErrorBody {
        let mut e = ErrorBody::new(self.status, self.kind, self.code, self.message.clone());
        e.retry_after = self.retry_after;
        e
    }

    /// The client response for the upstream answer `upstream`: this error's body and status,
    /// with a `retry-after` header from the upstream's header, else from [`Mapped::retry_after`].
    pub fn response(&self, upstream: &HttpResponse) -> HttpResponse {
        let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
        let retry = upstream
            .header("retry-after")
            .map(str::to_string)
            .or_else(|| self.retry_after.map(|s| s.to_string()));
        if let Some(retry) = retry {
            headers.push(("retry-after".to_string(), retry));
        }
        HttpResponse {
            status: self.status,
            headers,
            body: self.body().to_string().into_bytes(),
        }
    }
}

/// The message for a provider's error: `<provider>: <message>` when its body had one, else the
/// start of the raw body (300 characters) with the HTTP status when there is one.
pub fn upstream_message(
    provider: &str,
    message: Option<&str>,
    status: Option<u16>,
    raw: &[u8],
) -> String {
    if let Some(m) = message {
        return format!("{provider}: {m}");
    }
    let text = String::from_utf8_lossy(raw);
    let text: String = text.trim().chars().take(300).collect();
    match status {
        Some(s) => format!("{provider} answered HTTP {s}: {text}"),
        None => format!("{provider} reported an error: {text}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_and_responses_keep_retry_after() {
        assert_eq!(Mapped::from_status(418, String::new()).status, 418);
        assert_eq!(Mapped::from_status(500, String::new()).status, 502);
        let mut m = Mapped::from_status(429, "slow down".into());
        m.retry_after = Some(5);
        let upstream = HttpResponse {
            status: 429,
            headers: vec![],
            body: vec![],
        };
        let r = m.response(&upstream);
        assert_eq!(r.status, 429);
        assert!(r.headers.contains(&("retry-after".into(), "5".into())));
        assert_eq!(m.error_body().retry_after, Some(5));
        assert_eq!(m.body()["error"]["code"], "rate_limit_exceeded");
    }

    #[test]
    fn messages_prefer_the_providers_own() {
        assert_eq!(upstream_message("p", Some("no"), Some(400), b"x"), "p: no");
        assert_eq!(
            upstream_message("p", None, Some(500), b" oops "),
            "p answered HTTP 500: oops"
        );
        assert_eq!(
            upstream_message("p", None, None, b"x"),
            "p reported an error: x"
        );
    }
}
