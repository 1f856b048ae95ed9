//! Constructors for OpenAI-shaped errors.

use crate::ErrorBody;

impl ErrorBody {
    /// An error with the given status, OpenAI `type`, optional code and message.
    pub fn new(status: u16, kind: &str, code: Option<&str>, message: impl Into<String>) -> Self {
        ErrorBody {
            status,
            type_: kind.to_string(),
            code: code.map(str::to_string),
            param: None,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 400 `invalid_request_error`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "invalid_request_error", None, message)
    }

    /// 401 `invalid_request_error` / `invalid_api_key`.
    pub fn invalid_api_key(message: impl Into<String>) -> Self {
        Self::new(
            401,
            "invalid_request_error",
            Some("invalid_api_key"),
            message,
        )
    }

    /// 403 `permission_error`.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(403, "permission_error", Some("forbidden"), message)
    }

    /// 404 `invalid_request_error` / `model_not_found`.
    pub fn model_not_found(model: &str) -> Self {
        Self::new(
            404,
            "invalid_request_error",
            Some("model_not_found"),
            format!("The model `{model}` does not exist or you do not have access to it."),
        )
        .with_param("model")
    }

    /// 429 `rate_limit_exceeded`, retryable after `retry_after_s` seconds.
    pub fn rate_limited(message: impl Into<String>, retry_after_s: u32) -> Self {
        let mut e = Self::new(
            429,
            "rate_limit_exceeded",
            Some("rate_limit_exceeded"),
            message,
        );
        e.retry_after = Some(retry_after_s);
        e
    }

    /// 502 `upstream_error`: the provider answered something that could not be used.
    pub fn bad_upstream(message: impl Into<String>) -> Self {
        Self::new(
            502,
            "upstream_error",
            Some("bad_upstream_response"),
            message,
        )
    }

    /// Names the request parameter at fault.
    pub fn with_param(mut self, param: &str) -> Self {
        self.param = Some(param.to_string());
        self
    }
}
