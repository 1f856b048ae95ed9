//! Anthropic's Messages API in front of any provider.
//!
//! The gateway translates a Messages request into a chat completion request
//! ([`request_to_chat`]), runs it through its pipeline, and translates the chat completion back
//! into a Message ([`answer_from_chat`]) or the chat chunks into Messages stream events
//! ([`StreamTranslator`]). Errors take Anthropic's shape ([`error_body`]). When the provider
//! speaks Messages itself the request passes through untranslated, and the gateway only reads
//! the answer's usage ([`usage_of_message`], [`NativeStreamUsage`]).
//!
//! What is translated, refused and ignored is told in each part's module doc: the request
//! (`request`, `content`, `media`), the answer (`answer`), streams (`stream`), errors (`errors`) and the
//! token estimate of `count_tokens` (`count`). In short, for a client: `top_k`, extended
//! `thinking`, server tools, containers, MCP servers, Files API sources, URL PDFs, images in tool
//! results and more than 4 stop sequences are refused with a 400 naming the field; `thinking`
//! blocks of earlier turns, `cache_control` and `service_tier` are dropped; a `tool_result` with
//! `is_error: true` reaches the model as text starting `Error: `; `count_tokens` is an estimate.

mod answer;
mod content;
mod count;
mod errors;
mod media;
mod request;
mod shape;
mod stream;

pub use stream::StreamTranslator;

use crate::{Invalid, Usage};
use serde_json::{Map, Value};

/// The chat completion request for the Messages request `body`. The model stays the client's;
/// a stream asks for the usage chunk (`stream_options.include_usage`).
pub fn request_to_chat(body: &Value) -> Result<Map<String, Value>, Invalid> {
    request::to_chat(body, request::Mode::Run)
}

/// The Message for a whole chat completion `chat` (its first choice).
pub fn answer_from_chat(chat: &Value) -> Result<Value, Invalid> {
    answer::from_chat(chat)
}

/// The Messages error body for an error of HTTP `status` with OpenAI's `type` and `message`:
/// `{"type":"error","error":{"type":...,"message":...}}`.
pub fn error_body(status: u16, kind: &str, message: &str) -> Value {
    errors::body(status, kind, message)
}

/// An estimate of the input tokens of the Messages request `body` (for `count_tokens`): about
/// four bytes of text a token, 1600 tokens an image (see the `count` module). The provider's
/// tokenizer decides the real count.
pub fn count_tokens(body: &Value) -> Result<u32, Invalid> {
    count::estimate(body)
}

/// The usage of a whole Message a provider answered natively: prompt tokens are
/// `input_tokens` + `cache_read_input_tokens` + `cache_creation_input_tokens`. None when the
/// message has no `usage` object.
pub fn usage_of_message(message: &Value) -> Option<Usage> {
    message
        .get("usage")
        .filter(|u| u.is_object())
        .map(answer::usage_of)
}

/// Reads the usage of a Messages stream a provider answered natively, event by event.
#[derive(Debug, Default)]
pub struct NativeStreamUsage {
    /// The usage so far.
    pub usage: Option<Usage>,
    /// `message_stop` arrived: the stream is complete.
    pub complete: bool,
}

impl NativeStreamUsage {
    /// Reads one event (`event` name, `data` text). Returns true for an `error` event. Without
    /// an event name, the data's `type` names it.
    pub fn on_event(&mut self, event: Option<&str>, data: &str) -> bool {
        self.read(event, data)
    }
}

#[cfg(test)]
mod tests;
