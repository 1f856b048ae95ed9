//! Stream translation for provider adapters.
//!
//! An adapter whose provider streams something other than OpenAI's `chat.completion.chunk`
//! events names a [`StreamTranslator`] as its [`Adapter::Stream`](crate::Adapter::Stream) and
//! creates one in [`Adapter::start_stream`](crate::Adapter::start_stream). The SDK creates it
//! when `to_upstream` sends a streaming request, hands it every upstream event, and consumes it
//! with [`StreamTranslator::finish`] when the upstream stream ends. What the translator remembers
//! between events (ids, tool call indexes, usage) is plain fields of its own: no thread-locals,
//! no reset. Adapters whose streams already are OpenAI's use [`PassThrough`].
//!
//! ```
//! use sluice_plugin_sdk::stream::StreamTranslator;
//! use sluice_plugin_sdk::{ErrorBody, SseEvent, Usage};
//!
//! /// Counts the events of one stream and reports them at the end.
//! struct Counting { events: u32 }
//!
//! impl StreamTranslator for Counting {
//!     fn on_event(&mut self, e: &SseEvent) -> Result<Vec<SseEvent>, ErrorBody> {
//!         self.events += 1;
//!         Ok(vec![e.clone()])
//!     }
//!     fn finish(self) -> Result<(Vec<SseEvent>, Option<Usage>), ErrorBody> {
//!         Ok((vec![SseEvent::data(format!("{{\"events\":{}}}", self.events))], None))
//!     }
//! }
//! ```

use crate::{ErrorBody, SseEvent, Usage};
use std::cell::RefCell;

/// How a stream ends: the last events to send and the stream's usage, or an error to send instead.
pub type StreamEnd = Result<(Vec<SseEvent>, Option<Usage>), ErrorBody>;

/// Translates one upstream stream into OpenAI chunk events. One value serves one stream.
pub trait StreamTranslator: 'static {
    /// The OpenAI events for one upstream event (none, one or several). An error ends the
    /// stream with that error.
    fn on_event(&mut self, event: &SseEvent) -> Result<Vec<SseEvent>, ErrorBody>;

    /// Called when the upstream stream ends: the last events to send and the stream's usage, if
    /// the translator tracked it (else the host reads usage from the chunks). An error (for
    /// example a stream cut short) is sent instead.
    fn finish(self) -> StreamEnd;
}

/// The translator of adapters whose upstream already streams OpenAI chunks: every event goes on
/// unchanged and nothing is added at the end.
#[derive(Debug, Default, Clone, Copy)]
pub struct PassThrough;

impl StreamTranslator for PassThrough {
    fn on_event(&mut self, event: &SseEvent) -> Result<Vec<SseEvent>, ErrorBody> {
        Ok(vec![event.clone()])
    }

    fn finish(self) -> StreamEnd {
        Ok((Vec::new(), None))
    }
}

/// The stream an instance is serving. Under `sluice:plugin@0.1.0` the instance that answered
/// `to-upstream` serves the whole stream, so the export glue keeps it here. Not for plugin
/// authors: the glue fills and empties it.
#[doc(hidden)]
pub struct StreamSlot<S>(RefCell<Option<S>>);

impl<S: StreamTranslator> StreamSlot<S> {
    /// An empty slot (usable in `thread_local!` with `const`).
    pub const fn new() -> Self {
        StreamSlot(RefCell::new(None))
    }

    /// Replaces whatever stream was held (a new request begins).
    pub fn set(&self, stream: Option<S>) {
        *self.0.borrow_mut() = stream;
    }

    /// Maps one event with the held stream, starting one with `start` if none is held.
    pub fn on_event(
        &self,
        event: &SseEvent,
        start: impl FnOnce() -> Result<S, ErrorBody>,
    ) -> Result<Vec<SseEvent>, ErrorBody> {
        let mut slot = self.0.borrow_mut();
        let stream = match &mut *slot {
            Some(s) => s,
            empty => empty.insert(start()?),
        };
        stream.on_event(event)
    }

    /// Ends the held stream (one started with `start` if none is held); the slot is then empty.
    pub fn finish(&self, start: impl FnOnce() -> Result<S, ErrorBody>) -> StreamEnd {
        let held = self.0.borrow_mut().take();
        match held {
            Some(s) => s.finish(),
            None => start()?.finish(),
        }
    }
}

impl<S: StreamTranslator> Default for StreamSlot<S> {
    fn default() -> Self {
        Self::new()
    }
}
