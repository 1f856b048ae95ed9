//! OpenAI's Responses API in front of any provider.
//!
//! The gateway keeps the conversation: a stored response carries its items (the input items
//! that led to it, then its output items), so `previous_response_id` becomes explicit history
//! ([`request_to_chat`]'s `history`). A request is translated into a chat completion request, run
//! through the pipeline, and the chat completion is translated back into a Response
//! ([`answer_from_chat`]) or the chat chunks into Responses stream events ([`StreamTranslator`]).
//! When the provider speaks Responses itself the request passes through, and the gateway only
//! reads the answer's usage ([`usage_of_response`], [`NativeStream`]).

use crate::{Event, Invalid, Usage};
use serde_json::{Map, Value};

/// The request's `input` as items: a string is one user message item.
pub fn input_items(body: &Value) -> Result<Vec<Value>, Invalid> {
    let _ = body;
    unimplemented!("issue 15: helper")
}

/// The chat completion request for the Responses request `body`, after the conversation
/// `history` (the items of the previous response's chain, oldest first). The model stays the
/// client's; a stream asks for the usage chunk (`stream_options.include_usage`).
pub fn request_to_chat(body: &Value, history: &[Value]) -> Result<Map<String, Value>, Invalid> {
    let _ = (body, history);
    unimplemented!("issue 15: helper")
}

/// The Response (`object: "response"`) for a whole chat completion `chat` answering the request
/// `req`, with the id `id` and `created_at` (Unix seconds).
pub fn answer_from_chat(
    chat: &Value,
    req: &Value,
    id: &str,
    created_at: u64,
) -> Result<Value, Invalid> {
    let _ = (chat, req, id, created_at);
    unimplemented!("issue 15: helper")
}

/// The output items of a Response (what a later request's history continues with).
pub fn output_items(response: &Value) -> Vec<Value> {
    let _ = response;
    unimplemented!("issue 15: helper")
}

/// The usage of a whole Response.
pub fn usage_of_response(response: &Value) -> Option<Usage> {
    let _ = response;
    unimplemented!("issue 15: helper")
}

/// Reads a Responses stream a provider answered natively, event by event.
#[derive(Debug, Default)]
pub struct NativeStream {
    /// The usage, once `response.completed` (or `response.incomplete`) arrived.
    pub usage: Option<Usage>,
    /// The final Response, from that event.
    pub response: Option<Value>,
    /// The stream is complete.
    pub complete: bool,
}

impl NativeStream {
    /// Reads one event (`data` text). Returns true for an `error` or `response.failed` event.
    pub fn on_event(&mut self, data: &str) -> bool {
        let _ = data;
        unimplemented!("issue 15: helper")
    }
}

/// Translates one stream of chat completion chunks into Responses stream events.
#[derive(Debug)]
pub struct StreamTranslator {
    _todo: (),
}

impl StreamTranslator {
    /// A translator for the stream answering the request `req`, as the response `id` created at
    /// `created_at`.
    pub fn new(req: &Value, id: &str, created_at: u64) -> StreamTranslator {
        let _ = (req, id, created_at);
        unimplemented!("issue 15: helper")
    }

    /// The events for one chat completion chunk (the first also yields `response.created` and
    /// `response.in_progress`).
    pub fn on_chunk(&mut self, chunk: &Value) -> Vec<Event> {
        let _ = chunk;
        unimplemented!("issue 15: helper")
    }

    /// The stream ended well (`[DONE]`): the closing events, ending with `response.completed`
    /// (or `response.incomplete`). `extra` fields (the gateway's metadata object) join that
    /// event's response.
    pub fn finish(&mut self, extra: Map<String, Value>) -> Vec<Event> {
        let _ = extra;
        unimplemented!("issue 15: helper")
    }

    /// The stream failed with an error of HTTP `status`, OpenAI `type`/`code` and `message`: the
    /// `error` event that ends it.
    pub fn error(&mut self, status: u16, kind: &str, code: Option<&str>, message: &str) -> Event {
        let _ = (status, kind, code, message);
        unimplemented!("issue 15: helper")
    }

    /// The Response as it stands (complete after [`StreamTranslator::finish`]), for the store.
    pub fn response(&self) -> Value {
        unimplemented!("issue 15: helper")
    }
}
