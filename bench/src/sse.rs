//! Reading an SSE stream as it arrives: events are framed whole even when split across reads, and
//! content events are timed: OpenAI chunks with non-empty `choices`, Anthropic's
//! `content_block_delta` and Responses' `response.output_text.delta` (scenario 9).

use anyhow::Context;
use tokio::time::Instant;

/// How a stream ends well.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StreamEnd {
    /// OpenAI's `data: [DONE]`.
    #[default]
    Done,
    /// The last event's JSON `type` is this (`message_stop`, `response.completed`); a
    /// `data: [DONE]` is then an error (it is not JSON).
    Event(&'static str),
}

impl std::fmt::Display for StreamEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StreamEnd::Done => f.write_str("data: [DONE]"),
            StreamEnd::Event(t) => write!(f, "`{t}`"),
        }
    }
}

/// Event types that end a stream badly (Anthropic's and Responses' error events).
const ERROR_TYPES: [&str; 3] = ["error", "response.failed", "response.incomplete"];

/// Event types that carry text (Anthropic's, Responses').
const CONTENT_TYPES: [&str; 2] = ["content_block_delta", "response.output_text.delta"];

/// The SSE parser of one stream: frames events and times the content events.
#[derive(Default)]
pub struct SseState {
    /// How the stream ends well.
    end: StreamEnd,
    /// Bytes of an event not yet complete.
    buf: Vec<u8>,
    /// When the previous content event arrived.
    last: Option<Instant>,
    /// Time between consecutive content events, in µs.
    pub gaps_us: Vec<u64>,
    /// When each gap ended (parallel to `gaps_us`).
    pub gaps_at: Vec<Instant>,
    /// Content events seen.
    pub events: u64,
    /// The stream ended well: `data: [DONE]` was seen, or (with [`StreamEnd::Event`]) the last
    /// event so far is the closing one.
    pub done: bool,
}

impl SseState {
    /// A parser for a stream that ends well with `end`.
    pub fn new(end: StreamEnd) -> SseState {
        SseState {
            end,
            ..SseState::default()
        }
    }

    /// Adds bytes that arrived at `now`; fails on an error event.
    pub fn push(&mut self, data: &[u8], now: Instant) -> anyhow::Result<()> {
        self.buf.extend_from_slice(data);
        while let Some((at, len)) = blank_line(&self.buf) {
            let event: Vec<u8> = self.buf.drain(..at + len).collect();
            let payload = data_of(&event[..at]);
            if payload.is_empty() {
                continue;
            }
            if payload == "[DONE]" && self.end == StreamEnd::Done {
                self.done = true;
                continue;
            }
            let v: serde_json::Value =
                serde_json::from_str(&payload).context("an event is not JSON")?;
            let kind = v["type"].as_str().unwrap_or_default();
            anyhow::ensure!(
                v.get("error").is_none() && !ERROR_TYPES.contains(&kind),
                "error event: {payload}"
            );
            if let StreamEnd::Event(end) = self.end {
                self.done = kind == end;
            }
            let content = v["choices"].as_array().is_some_and(|c| !c.is_empty())
                || CONTENT_TYPES.contains(&kind);
            if content {
                if let Some(prev) = self.last {
                    self.gaps_us.push((now - prev).as_micros() as u64);
                    self.gaps_at.push(now);
                }
                self.last = Some(now);
                self.events += 1;
            }
        }
        Ok(())
    }
}

/// The first event boundary in `buf`: its position and length (`\n\n` or `\r\n\r\n`).
fn blank_line(buf: &[u8]) -> Option<(usize, usize)> {
    let lf = buf.windows(2).position(|w| w == b"\n\n").map(|p| (p, 2));
    let crlf = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| (p, 4));
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// The joined `data:` lines of one event.
fn data_of(event: &[u8]) -> String {
    let text = String::from_utf8_lossy(event);
    let mut out = Vec::new();
    for line in text.lines() {
        if let Some(d) = line.strip_prefix("data:") {
            out.push(d.strip_prefix(' ').unwrap_or(d).trim_end_matches('\r'));
        }
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn frames_split_events_and_times_content_only() -> anyhow::Result<()> {
        let mut s = SseState::default();
        let t = Instant::now();
        s.push(b"data: {\"choices\":[{\"delta\":{}}]}\n\ndata: {\"cho", t)?;
        s.push(b"ices\":[{}]}\r\n\r\n", t + Duration::from_millis(50))?;
        s.push(
            b"data: {\"choices\":[],\"usage\":{}}\n\ndata: [DONE]\n\n",
            t + Duration::from_millis(51),
        )?;
        assert_eq!(s.events, 2);
        assert_eq!(s.gaps_us, vec![50_000]);
        assert!(s.done);
        Ok(())
    }

    #[test]
    fn other_apis_end_with_their_closing_event() -> anyhow::Result<()> {
        let t = Instant::now();
        let mut s = SseState::new(StreamEnd::Event("message_stop"));
        s.push(
            b"event: content_block_delta\ndata: {\"type\":\"content_block_delta\"}\n\n",
            t,
        )?;
        s.push(
            b"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
            t,
        )?;
        assert_eq!((s.events, s.done), (1, true));
        s.push(b"data: {\"type\":\"ping\"}\n\n", t)?;
        assert!(!s.done, "the closing event must be the last");
        assert!(s.push(b"data: [DONE]\n\n", t).is_err());
        let mut r = SseState::new(StreamEnd::Event("response.completed"));
        assert!(
            r.push(b"data: {\"type\":\"error\",\"message\":\"x\"}\n\n", t)
                .is_err()
        );
        Ok(())
    }

    #[test]
    fn error_events_fail_the_stream() {
        let mut s = SseState::default();
        assert!(
            s.push(b"data: {\"error\":{\"message\":\"x\"}}\n\n", Instant::now())
                .is_err()
        );
    }
}
