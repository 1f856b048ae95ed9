//! Anthropic's Messages API in front of any provider.
//!
//! The gateway translates a Messages request into a chat completion request
//! ([`request_to_chat`]), runs it through its pipeline, and translates the chat completion back
//! into a Message ([`answer_from_chat`]) or the chat chunks into Messages stream events
//! ([`StreamTranslator`]). Errors take Anthropic's shape ([`error_body`]). When the provider
//! speaks Messages itself the request passes through untranslated, and the gateway only reads
//! the answer's usage ([`usage_of_message`], [`NativeStreamUsage`]).

use crate::{Event, Invalid, Usage};
use serde_json::{Map, Value};

/// The chat completion request for the Messages request `body`. The model stays the client's;
/// a stream asks for the usage chunk (`stream_options.include_usage`).
pub fn request_to_chat(body: &Value) -> Result<Map<String, Value>, Invalid> {
    let _ = body;
    unimplemented!("issue 15: helper")
}

/// The Message for a whole chat completion `chat` (its first choice).
pub fn answer_from_chat(chat: &Value) -> Result<Value, Invalid> {
    let _ = chat;
    unimplemented!("issue 15: helper")
}

/// The Messages error body for an error of HTTP `status` with OpenAI's `type` and `message`:
/// `{"type":"error","error":{"type":...,"message":...}}`.
pub fn error_body(status: u16, kind: &str, message: &str) -> Value {
    let _ = (status, kind, message);
    unimplemented!("issue 15: helper")
}

/// An estimate of the input tokens of the Messages request `body` (for `count_tokens`).
pub fn count_tokens(body: &Value) -> Result<u32, Invalid> {
    let _ = body;
    unimplemented!("issue 15: helper")
}

/// The usage of a whole Message a provider answered natively.
pub fn usage_of_message(message: &Value) -> Option<Usage> {
    let _ = message;
    unimplemented!("issue 15: helper")
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
    /// Reads one event (`event` name, `data` text). Returns true for an `error` event.
    pub fn on_event(&mut self, event: Option<&str>, data: &str) -> bool {
        let _ = (event, data);
        unimplemented!("issue 15: helper")
    }
}

/// Translates one stream of chat completion chunks into Messages stream events.
#[derive(Debug)]
pub struct StreamTranslator {
    _todo: (),
}

impl StreamTranslator {
    /// A translator for a stream of the model `model` (the name the client asked for).
    pub fn new(model: &str) -> StreamTranslator {
        let _ = model;
        unimplemented!("issue 15: helper")
    }

    /// The events for one chat completion chunk.
    pub fn on_chunk(&mut self, chunk: &Value) -> Vec<Event> {
        let _ = chunk;
        unimplemented!("issue 15: helper")
    }

    /// The stream ended well (`[DONE]`): the closing events. `extra` fields (the gateway's
    /// metadata object) join the `message_delta` event's data.
    pub fn finish(&mut self, extra: Map<String, Value>) -> Vec<Event> {
        let _ = extra;
        unimplemented!("issue 15: helper")
    }

    /// The stream failed with an error of HTTP `status`, OpenAI `type` and `message`: the
    /// `error` event that ends it.
    pub fn error(&mut self, status: u16, kind: &str, message: &str) -> Event {
        let _ = (status, kind, message);
        unimplemented!("issue 15: helper")
    }
}
