//! The APIs Sluice serves besides OpenAI's chat completions, translated to and from the chat
//! completion the gateway's pipeline runs on:
//!
//! - [`anthropic`]: Anthropic's Messages API (`POST /v1/messages`, `/v1/messages/count_tokens`).
//! - [`responses`]: OpenAI's Responses API (`POST /v1/responses`).
//!
//! Every function here is pure (JSON in, JSON out), so the host's front doors stay thin and the
//! translations are tested on their own. A request that cannot be translated without changing
//! its meaning is refused with an [`Invalid`] naming the field.

pub mod anthropic;
pub mod responses;

/// A request the translation refuses: the client gets a 400 naming `param`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Invalid {
    /// The field at fault, as a path (`messages[2].content[0].source`), if one is.
    pub param: Option<String>,
    /// What is wrong and what to do, for the client.
    pub message: String,
}

impl Invalid {
    /// A refusal of the field `param`.
    pub fn field(param: impl Into<String>, message: impl Into<String>) -> Invalid {
        Invalid {
            param: Some(param.into()),
            message: message.into(),
        }
    }

    /// A refusal of the body as a whole.
    pub fn body(message: impl Into<String>) -> Invalid {
        Invalid {
            param: None,
            message: message.into(),
        }
    }
}

/// Token counts of one answer, in the gateway's terms (what its usage rows record).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Input tokens, cached ones included.
    pub prompt_tokens: u32,
    /// Output tokens.
    pub completion_tokens: u32,
    /// Input tokens read from the provider's prompt cache.
    pub cached_tokens: u32,
}

/// One server-sent event to send: its `event:` name (none for data-only events) and its data.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The `event:` field.
    pub name: Option<&'static str>,
    /// The `data:` field, a JSON value.
    pub data: serde_json::Value,
}
