//! Streams through a front door's translated lane: the pump's OpenAI events (chunks, the
//! metadata chunk, `[DONE]`, an error event) become the client's API's events.

use super::responses::ResponsesFront;
use crate::http::sse::{self, Framer};
use bytes::{Bytes, BytesMut};
use serde_json::{Map, Value};
use sluice_dialects::{Event, anthropic, responses};

/// Translates the pump's OpenAI events into the client's API's.
pub(in crate::endpoints::llm) struct FrontStream {
    lane: Lane,
    /// The gateway's metadata object's field (it moves to the closing event).
    field: String,
    extra: Map<String, Value>,
    framer: Framer,
    /// The stream ended well (its closing events were sent).
    pub(in crate::endpoints::llm) finished: bool,
    /// A chunk was translated.
    started: bool,
}

enum Lane {
    Messages(anthropic::StreamTranslator),
    Responses(Box<responses::StreamTranslator>),
}

impl FrontStream {
    /// For a Messages stream of the model the client named `model`.
    pub(super) fn messages(model: &str, field: &str) -> FrontStream {
        FrontStream::new(
            Lane::Messages(anthropic::StreamTranslator::new(model)),
            field,
        )
    }

    /// For a Responses stream.
    pub(super) fn responses(r: &ResponsesFront, field: &str) -> FrontStream {
        let t = responses::StreamTranslator::new(&r.request, &r.id, r.created_at);
        FrontStream::new(Lane::Responses(Box::new(t)), field)
    }

    fn new(lane: Lane, field: &str) -> FrontStream {
        FrontStream {
            lane,
            field: field.to_string(),
            extra: Map::new(),
            framer: Framer::default(),
            finished: false,
            started: false,
        }
    }

    /// The client's bytes for `bytes`, whole OpenAI events.
    pub(in crate::endpoints::llm) fn translate(&mut self, bytes: &[u8]) -> Bytes {
        let mut events = self.framer.push(bytes).unwrap_or_default();
        events.extend(self.framer.finish());
        let mut out = BytesMut::new();
        for e in events {
            for t in self.event(&e.data) {
                let name = t.name;
                out.extend_from_slice(&sse::encode(name, &t.data.to_string()));
            }
        }
        out.freeze()
    }

    fn event(&mut self, data: &str) -> Vec<Event> {
        if data == "[DONE]" {
            self.finished = true;
            let extra = std::mem::take(&mut self.extra);
            return match &mut self.lane {
                Lane::Messages(t) => t.finish(extra),
                Lane::Responses(t) => t.finish(extra),
            };
        }
        let Ok(mut chunk) = serde_json::from_str::<Value>(data) else {
            return Vec::new();
        };
        if let Some(err) = chunk.get("error") {
            let status = err
                .get("status")
                .and_then(Value::as_u64)
                .and_then(|s| u16::try_from(s).ok())
                .unwrap_or(500);
            let kind = err
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("api_error");
            let message = err
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("The stream failed.");
            let code = err.get("code").and_then(Value::as_str);
            return match &mut self.lane {
                Lane::Messages(t) => vec![t.error(status, kind, message)],
                Lane::Responses(t) => {
                    // Clients expect `response.created` before anything else.
                    let mut events = if self.started {
                        Vec::new()
                    } else {
                        t.on_chunk(&Value::Object(Map::new()))
                    };
                    events.push(t.error(status, kind, code, message));
                    events
                }
            };
        }
        if let Some(obj) = chunk.as_object_mut()
            && let Some(meta) = obj.remove(&self.field)
        {
            self.extra.insert(self.field.clone(), meta);
        }
        self.started = true;
        match &mut self.lane {
            Lane::Messages(t) => t.on_chunk(&chunk),
            Lane::Responses(t) => t.on_chunk(&chunk),
        }
    }

    /// The finished Response of a Responses stream (to store).
    pub(in crate::endpoints::llm) fn response(&self) -> Option<Value> {
        match &self.lane {
            Lane::Responses(t) if self.finished => Some(t.response()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chunk(delta: Value, finish: Option<&str>) -> Vec<u8> {
        let c = json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1,
                       "model": "up", "choices": [{"index": 0, "delta": delta,
                       "finish_reason": finish}]});
        sse::encode(None, &c.to_string()).to_vec()
    }

    fn events(bytes: &[u8]) -> Vec<(String, Value)> {
        let mut framer = Framer::default();
        let mut out = framer.push(bytes).expect("frames");
        out.extend(framer.finish());
        out.into_iter()
            .map(|e| {
                let data = serde_json::from_str(&e.data).expect("JSON");
                (e.event.unwrap_or_default(), data)
            })
            .collect()
    }

    #[test]
    fn openai_events_become_anthropics_with_the_metadata_at_the_end() {
        let mut f = FrontStream::messages("claude-x", "sluice");
        let mut out = Vec::new();
        out.extend(f.translate(&chunk(json!({"role": "assistant", "content": "Hel"}), None)));
        out.extend(f.translate(&chunk(json!({"content": "lo"}), Some("stop"))));
        let usage = json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1,
            "model": "up", "choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 2,
            "total_tokens": 11}, "sluice": {"request_id": "req_1"}});
        // The metadata chunk and `[DONE]` arrive in one send.
        let mut last = sse::encode(None, &usage.to_string()).to_vec();
        last.extend_from_slice(sse::DONE);
        out.extend(f.translate(&last));
        assert!(f.finished);
        let ev = events(&out);
        let names: Vec<&str> = ev.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names.first(), Some(&"message_start"));
        assert_eq!(&names[names.len() - 2..], ["message_delta", "message_stop"]);
        let text: String = ev
            .iter()
            .filter_map(|(_, d)| d["delta"]["text"].as_str())
            .collect();
        assert_eq!(text, "Hello");
        let (_, delta) = &ev[ev.len() - 2];
        assert_eq!(delta["usage"]["output_tokens"], 2);
        assert_eq!(delta["sluice"]["request_id"], "req_1");
        assert_eq!(ev[0].1["message"]["model"], "claude-x");
    }

    #[test]
    fn an_error_before_any_chunk_still_opens_a_responses_stream() {
        let r = super::super::responses::ResponsesFront::for_test();
        let mut f = FrontStream::responses(&r, "sluice");
        let err = json!({"error": {"message": "boom", "type": "server_error", "status": 502}});
        let ev = events(&f.translate(&sse::encode(None, &err.to_string())));
        let names: Vec<&str> = ev.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names.first(), Some(&"response.created"), "{names:?}");
        assert_eq!(names.last(), Some(&"error"));
        assert!(f.response().is_none(), "a failed stream is not stored");
    }
}
