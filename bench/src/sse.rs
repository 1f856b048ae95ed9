//! Reading an SSE stream as it arrives: events are framed whole even when split across reads, and
//! content events (non-empty `choices`) are timed.

use anyhow::Context;
use tokio::time::Instant;

/// The SSE parser of one stream: frames events and times the content events.
#[derive(Default)]
pub struct SseState {
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
    /// `data: [DONE]` was seen.
    pub done: bool,
}

impl SseState {
    /// Adds bytes that arrived at `now`; fails on an error event.
    pub fn push(&mut self, data: &[u8], now: Instant) -> anyhow::Result<()> {
        self.buf.extend_from_slice(data);
        while let Some((at, len)) = blank_line(&self.buf) {
            let event: Vec<u8> = self.buf.drain(..at + len).collect();
            let payload = data_of(&event[..at]);
            if payload.is_empty() {
                continue;
            }
            if payload == "[DONE]" {
                self.done = true;
                continue;
            }
            let v: serde_json::Value =
                serde_json::from_str(&payload).context("an event is not JSON")?;
            anyhow::ensure!(v.get("error").is_none(), "error event: {payload}");
            let content = v["choices"].as_array().is_some_and(|c| !c.is_empty());
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
    fn error_events_fail_the_stream() {
        let mut s = SseState::default();
        assert!(
            s.push(b"data: {\"error\":{\"message\":\"x\"}}\n\n", Instant::now())
                .is_err()
        );
    }
}
