//! The OpenAI side of provider adapters: the pieces every translating adapter needs.
//!
//! - [`request`]: reading a chat completion request: the body, fields, content parts (text,
//!   images, files, audio), data URLs, tools, `tool_choice`, assistant tool calls, `stop` and
//!   `response_format`, with 400s that name the parameter at fault.
//! - [`response`]: building chat completions, chunks (`chat.completion.chunk` and the usage
//!   chunk), tool calls, usage objects and finish reasons.
//! - [`errors`]: a provider error in OpenAI's terms ([`Mapped`]) and the client response for it.
//! - `test_support` (with the `test-support` feature): builders for adapters' unit tests.
//!
//! An adapter maps a provider's API onto these; the OpenAI shapes live here once.

pub mod errors;
pub mod request;
pub mod response;
#[cfg(any(test, feature = "test-support"))]
pub mod test_support;

pub use errors::Mapped;
pub use request::{ChatRequest, Content, Part, ResponseFormat, Tool, ToolCall, ToolChoice};
pub use response::{ChunkBuilder, ChunkTranslator, FinishReason};

use crate::ErrorBody;

/// A 400 `invalid_request_error` naming `param`.
pub fn bad(param: &str, message: impl Into<String>) -> ErrorBody {
    ErrorBody::bad_request(message).with_param(param)
}

/// Splits a `data:` URL (`data:<type>[;...];base64,<data>`) into its media type and base64
/// payload; none for other URLs and for data URLs that are not base64.
pub fn parse_data_url(url: &str) -> Option<(&str, &str)> {
    let (meta, data) = url.strip_prefix("data:")?.split_once(',')?;
    let mut fields = meta.split(';');
    let media_type = fields.next().filter(|m| !m.is_empty())?;
    fields
        .any(|f| f.eq_ignore_ascii_case("base64"))
        .then_some((media_type, data))
}

/// The 400 for an endpoint a provider does not serve.
pub fn unsupported_endpoint(endpoint: &str, kind: &str, provider: &str) -> ErrorBody {
    ErrorBody::new(
        400,
        "invalid_request_error",
        Some("unsupported_endpoint"),
        format!("the endpoint `{endpoint}` is not supported by the {kind} provider `{provider}`"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_urls_split_into_type_and_payload() {
        assert_eq!(
            parse_data_url("data:image/png;base64,iVBORw0"),
            Some(("image/png", "iVBORw0"))
        );
        assert_eq!(
            parse_data_url("data:application/pdf;name=x.pdf;base64,JVBER"),
            Some(("application/pdf", "JVBER"))
        );
        assert_eq!(parse_data_url("data:text/plain,hello"), None);
        assert_eq!(parse_data_url("data:;base64,AA"), None);
        assert_eq!(parse_data_url("https://x"), None);
        assert_eq!(
            parse_data_url("data:image/gif;base64,R0lG"),
            Some(("image/gif", "R0lG"))
        );
        assert_eq!(parse_data_url("data:image/gif,R0lG"), None);
    }

    #[test]
    fn unsupported_endpoints_name_the_provider() {
        let e = unsupported_endpoint("embeddings", "anthropic", "claude");
        assert_eq!(e.status, 400);
        assert_eq!(e.code.as_deref(), Some("unsupported_endpoint"));
        assert!(e.message.contains("anthropic provider `claude`"));
    }
}
