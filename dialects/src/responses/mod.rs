//! OpenAI's Responses API in front of any provider.
//!
//! The gateway keeps the conversation: a stored response carries its items (the input items
//! that led to it, then its output items), so `previous_response_id` becomes explicit history
//! ([`request_to_chat`]'s `history`). A request is translated into a chat completion request, run
//! through the pipeline, and the chat completion is translated back into a Response
//! ([`answer_from_chat`]) or the chat chunks into Responses stream events ([`StreamTranslator`]).
//! When the provider speaks Responses itself the request passes through, and the gateway only
//! reads the answer's usage ([`usage_of_response`], [`NativeStream`]).
//!
//! The files: `items.rs` (input items to chat messages), `request.rs` (the rest of the request),
//! `answer.rs` (the Response object, shared by whole answers and streams), `stream.rs` (chat
//! chunks to stream events).

mod answer;
mod items;
mod request;
mod stream;
#[cfg(test)]
mod tests;

use crate::{Invalid, Usage};
use serde_json::{Map, Value};

pub use stream::StreamTranslator;

/// The request's `input` as items: a string is one user message item.
///
/// A list is kept item by item; messages written the short way (`{"role", "content"}` without
/// `type`) get `type: "message"`, and a string content becomes one text part (`input_text`, or
/// `output_text` for the assistant). A missing or malformed `input` is refused naming it.
pub fn input_items(body: &Value) -> Result<Vec<Value>, Invalid> {
    items::input_items(body)
}

/// The chat completion request for the Responses request `body`, after the conversation
/// `history` (the items of the previous response's chain, oldest first). The model stays the
/// client's; a stream asks for the usage chunk (`stream_options.include_usage`).
pub fn request_to_chat(body: &Value, history: &[Value]) -> Result<Map<String, Value>, Invalid> {
    request::request_to_chat(body, history)
}

/// The Response (`object: "response"`) for a whole chat completion `chat` answering the request
/// `req`, with the id `id` and `created_at` (Unix seconds).
pub fn answer_from_chat(
    chat: &Value,
    req: &Value,
    id: &str,
    created_at: u64,
) -> Result<Value, Invalid> {
    answer::answer_from_chat(chat, req, id, created_at)
}

/// The output items of a Response (what a later request's history continues with).
pub fn output_items(response: &Value) -> Vec<Value> {
    response
        .get("output")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// The usage of a whole Response.
pub fn usage_of_response(response: &Value) -> Option<Usage> {
    answer::usage_of_response(response)
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
        let Ok(event) = serde_json::from_str::<Value>(data) else {
            return false;
        };
        match event.get("type").and_then(Value::as_str) {
            Some("response.completed" | "response.incomplete") => {
                if let Some(response) = event.get("response") {
                    self.usage = usage_of_response(response);
                    self.response = Some(response.clone());
                }
                self.complete = true;
                false
            }
            Some("response.failed") => {
                if let Some(response) = event.get("response") {
                    self.usage = usage_of_response(response);
                    self.response = Some(response.clone());
                }
                true
            }
            Some("error") => true,
            _ => false,
        }
    }
}
