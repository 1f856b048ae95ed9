//! Per-stream state for translating adapters.
//!
//! The instance that answered `to-upstream` serves the whole stream, one request at a time, so an
//! adapter keeps what it must remember between events (ids, tool call indexes, usage) in a
//! thread-local [`StreamSlot`]:
//!
//! ```ignore
//! thread_local! {
//!     static STATE: StreamSlot<MyState> = const { StreamSlot::new() };
//! }
//! // to_upstream:          STATE.with(|s| s.begin(&ctx.request_id, &model, now_s()));
//! // from_upstream_event:  STATE.with(|s| s.on_event(&event, now_s))
//! // finish_stream:        STATE.with(|s| s.finish_complete("the stream was cut short"))
//! ```

use crate::{ErrorBody, SseEvent, Usage};
use std::cell::RefCell;

/// What an adapter remembers while it translates one stream.
pub trait StreamState: Sized {
    /// A stream for request `request_id` to `model`, created at `created` (Unix seconds).
    fn new(request_id: &str, model: &str, created: u64) -> Self;
    /// The OpenAI chunks for one upstream event.
    fn handle(&mut self, event: &SseEvent) -> Result<Vec<serde_json::Value>, ErrorBody>;
    /// Whether the provider's stream reached its end (its final event arrived).
    fn completed(&self) -> bool;
    /// The last chunks (typically the usage chunk) and the stream's usage.
    fn finish(&self) -> (Vec<serde_json::Value>, Option<Usage>);
}

/// Holds the state of the stream an instance is serving; see the module docs.
pub struct StreamSlot<S>(RefCell<Option<S>>);

impl<S> Default for StreamSlot<S> {
    fn default() -> Self {
        Self::new()
    }
}

fn events(chunks: &[serde_json::Value]) -> Vec<SseEvent> {
    chunks
        .iter()
        .map(|c| SseEvent::data(c.to_string()))
        .collect()
}

impl<S> StreamSlot<S> {
    /// An empty slot (usable in `thread_local!` with `const`).
    pub const fn new() -> Self {
        StreamSlot(RefCell::new(None))
    }

    /// Forgets any previous stream (call it for every new request).
    pub fn reset(&self) {
        *self.0.borrow_mut() = None;
    }
}

impl<S: StreamState> StreamSlot<S> {
    /// Starts a stream.
    pub fn begin(&self, request_id: &str, model: &str, created: u64) {
        *self.0.borrow_mut() = Some(S::new(request_id, model, created));
    }

    /// Maps one upstream event; `now` gives `created` when no stream was begun.
    pub fn on_event(&self, event: &SseEvent, now: fn() -> u64) -> Result<Vec<SseEvent>, ErrorBody> {
        let mut slot = self.0.borrow_mut();
        let state = slot.get_or_insert_with(|| S::new("stream", "", now()));
        Ok(events(&state.handle(event)?))
    }

    /// Whether the stream being served reached its end.
    pub fn completed(&self) -> bool {
        self.0.borrow().as_ref().is_some_and(S::completed)
    }

    /// Ends the stream: its last events and usage. The state is dropped, so this answers once.
    pub fn finish(&self) -> (Vec<SseEvent>, Option<Usage>) {
        match self.0.borrow_mut().take() {
            Some(state) => {
                let (chunks, usage) = state.finish();
                (events(&chunks), usage)
            }
            None => (Vec::new(), None),
        }
    }

    /// Like [`StreamSlot::finish`], but a stream that never reached its end is an error (502 with
    /// `cut_short` as the message) rather than a normal ending.
    pub fn finish_complete(
        &self,
        cut_short: &str,
    ) -> Result<(Vec<SseEvent>, Option<Usage>), ErrorBody> {
        let complete = self.completed();
        let end = self.finish();
        if complete {
            Ok(end)
        } else {
            Err(ErrorBody::bad_upstream(cut_short))
        }
    }
}
