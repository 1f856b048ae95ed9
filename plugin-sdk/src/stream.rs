//! Stream translation for provider adapters.
//!
//! An adapter whose provider streams something other than OpenAI's `chat.completion.chunk`
//! events names a [`StreamTranslator`] as its [`Adapter::Stream`](crate::Adapter::Stream) and
//! creates one in [`Adapter::start_stream`](crate::Adapter::start_stream). When the provider
//! answers a streaming request with a stream, the host creates a `stream-translator` resource
//! (`sluice:plugin@0.2.0`) for it; the SDK builds the translator in that resource's constructor,
//! hands it every upstream event, and consumes it with [`StreamTranslator::finish`] when the
//! upstream stream ends. The host then drops the resource. What the translator remembers
//! between events (ids, tool call indexes, usage) is plain fields of its own: no thread-locals,
//! no reset, and no tie between a stream and the instance that answered `to_upstream`.
//! Adapters whose streams already are OpenAI's declare [`PluginInfo::passthrough`](
//! crate::PluginInfo::passthrough) and use [`PassThrough`]: the host then creates no
//! translator and makes no Wasm call per event.
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
