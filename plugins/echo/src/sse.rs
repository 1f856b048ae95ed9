//! Writes a whole `text/event-stream` body.

use sluice_plugin_sdk::HttpResponse;

/// A stream body under construction: each chunk becomes one `data:` event.
pub(crate) struct SseBody(Vec<u8>);

impl SseBody {
    pub(crate) fn new() -> Self {
        SseBody(Vec::with_capacity(1024))
    }

    /// Appends one event holding `chunk` as JSON.
    pub(crate) fn push(&mut self, chunk: &serde_json::Value) {
        self.0.extend_from_slice(b"data: ");
        self.0.extend_from_slice(chunk.to_string().as_bytes());
        self.0.extend_from_slice(b"\n\n");
    }

    /// Ends the stream with `data: [DONE]` and wraps it in a response.
    pub(crate) fn finish(mut self) -> HttpResponse {
        self.0.extend_from_slice(b"data: [DONE]\n\n");
        HttpResponse {
            status: 200,
            headers: vec![("content-type".into(), "text/event-stream".into())],
            body: self.0,
        }
    }
}

/// Whether the request asked for a usage chunk at the end of the stream.
pub(crate) fn include_usage(req: &serde_json::Value) -> bool {
    req.pointer("/stream_options/include_usage")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false)
}

/// Splits `text` into stream pieces: one per word, each keeping its following whitespace.
pub(crate) fn pieces(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_space = false;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            in_space = true;
        } else if in_space {
            out.push(&text[start..i]);
            start = i;
            in_space = false;
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_rejoin_to_the_text() {
        for text in ["", "one", "one two  three ", " lead", "ünï cödé ok"] {
            assert_eq!(pieces(text).concat(), text);
        }
        assert_eq!(pieces("a b c"), vec!["a ", "b ", "c"]);
    }
}
