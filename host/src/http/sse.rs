//! Server-sent events: framing a byte stream into whole events (an event may arrive split across
//! any number of reads), and writing events back out.

use bytes::{BufMut, Bytes, BytesMut};

/// One whole event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// `event:` field.
    pub event: Option<String>,
    /// `id:` field (MCP servers number events so a client can resume after them).
    pub id: Option<String>,
    /// `data:` lines joined by `\n`.
    pub data: String,
}

/// Longest event accepted (a safeguard against an upstream that never ends an event).
pub const MAX_EVENT_BYTES: usize = 16 << 20;

/// Error of a framer whose pending event outgrew [`MAX_EVENT_BYTES`].
#[derive(Debug, thiserror::Error)]
#[error("an upstream stream event exceeded {MAX_EVENT_BYTES} bytes")]
pub struct EventTooLarge;

/// Frames bytes into events.
#[derive(Default)]
pub struct Framer {
    buf: BytesMut,
    /// How far `buf` was already searched for an event boundary.
    scanned: usize,
}

impl Framer {
    /// Feeds `chunk` and returns the events it completed.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<Event>, EventTooLarge> {
        self.buf.extend_from_slice(chunk);
        let mut events = Vec::new();
        loop {
            match find_boundary(&self.buf, self.scanned) {
                Some((end, len)) => {
                    let raw = self.buf.split_to(end + len);
                    self.scanned = 0;
                    if let Some(e) = parse_event(&raw[..end]) {
                        events.push(e);
                    }
                }
                None => {
                    // Re-scan the last 3 bytes next time: a boundary may straddle two reads.
                    self.scanned = self.buf.len().saturating_sub(3);
                    break;
                }
            }
        }
        if self.buf.len() > MAX_EVENT_BYTES {
            return Err(EventTooLarge);
        }
        Ok(events)
    }

    /// Ends the stream: a last event not followed by a blank line still counts.
    pub fn finish(&mut self) -> Option<Event> {
        let rest = std::mem::take(&mut self.buf);
        self.scanned = 0;
        parse_event(&rest)
    }
}

/// Finds the first blank line (`\n\n`, `\r\n\r\n` or `\r\r`) at or after `from`: (start, length).
fn find_boundary(buf: &[u8], from: usize) -> Option<(usize, usize)> {
    let mut i = from;
    while let Some(off) = memchr::memchr2(b'\n', b'\r', &buf[i..]) {
        let at = i + off;
        let rest = &buf[at..];
        if rest.starts_with(b"\n\n") || rest.starts_with(b"\r\r") {
            return Some((at, 2));
        }
        if rest.starts_with(b"\r\n\r\n") {
            return Some((at, 4));
        }
        if rest.starts_with(b"\n\r\n") {
            return Some((at, 3));
        }
        i = at + 1;
    }
    None
}

/// Parses one event's lines; None when it has no data (comments, keep-alives).
fn parse_event(raw: &[u8]) -> Option<Event> {
    let text = String::from_utf8_lossy(raw);
    let mut event = None;
    let mut id = None;
    let mut data: Option<String> = None;
    for line in text.split(['\n', '\r']) {
        if line.is_empty() || line.starts_with(':') {
            continue;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "data" => match &mut data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => data = Some(value.to_string()),
            },
            "event" => event = Some(value.to_string()),
            // An id with a NUL is ignored, as the SSE spec says.
            "id" if !value.contains('\0') => id = Some(value.to_string()),
            _ => {}
        }
    }
    data.map(|data| Event { event, id, data })
}

/// Writes an event with its `event:` field, if any.
pub fn encode(event: Option<&str>, data: &str) -> Bytes {
    encode_with_id(None, event, data)
}

/// Writes an event with its `id:` and `event:` fields, if any.
pub fn encode_with_id(id: Option<&str>, event: Option<&str>, data: &str) -> Bytes {
    let mut out = BytesMut::with_capacity(data.len() + 16);
    if let Some(id) = id {
        out.put_slice(b"id: ");
        out.put_slice(id.as_bytes());
        out.put_u8(b'\n');
    }
    if let Some(e) = event {
        out.put_slice(b"event: ");
        out.put_slice(e.as_bytes());
        out.put_u8(b'\n');
    }
    for line in data.split('\n') {
        out.put_slice(b"data: ");
        out.put_slice(line.as_bytes());
        out.put_u8(b'\n');
    }
    out.put_u8(b'\n');
    out.freeze()
}

/// The stream's terminator.
pub const DONE: &[u8] = b"data: [DONE]\n\n";

#[cfg(test)]
#[path = "sse_props.rs"]
mod props;

#[cfg(test)]
mod tests {
    use super::*;

    fn data(events: &[Event]) -> Vec<&str> {
        events.iter().map(|e| e.data.as_str()).collect()
    }

    #[test]
    fn frames_whole_events() {
        let mut f = Framer::default();
        let e = f.push(b"data: a\n\ndata: b\n\n").expect("frames");
        assert_eq!(data(&e), vec!["a", "b"]);
    }

    #[test]
    fn an_event_split_at_every_byte_is_framed_once() {
        let stream = b"event: message_start\ndata: {\"x\":1}\r\n\r\n: ping\n\ndata: line1\ndata: line2\n\ndata: [DONE]\n\n";
        let mut f = Framer::default();
        let mut all = Vec::new();
        for b in stream.iter() {
            all.extend(f.push(std::slice::from_ref(b)).expect("frames"));
        }
        assert_eq!(data(&all), vec!["{\"x\":1}", "line1\nline2", "[DONE]"]);
        assert_eq!(all[0].event.as_deref(), Some("message_start"));
        assert!(f.finish().is_none());
    }

    #[test]
    fn a_last_event_without_a_blank_line_is_kept_at_finish() {
        let mut f = Framer::default();
        assert!(f.push(b"data: tail").expect("frames").is_empty());
        assert_eq!(f.finish().map(|e| e.data), Some("tail".to_string()));
    }

    #[test]
    fn encode_splits_multiline_data() {
        assert_eq!(
            &encode(Some("x"), "a\nb")[..],
            b"event: x\ndata: a\ndata: b\n\n"
        );
    }

    #[test]
    fn an_endless_event_is_refused() {
        let mut f = Framer::default();
        let big = vec![b'a'; MAX_EVENT_BYTES + 1];
        assert!(f.push(&big).is_err());
    }
}
