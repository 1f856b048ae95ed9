//! Chat completion chunks as Responses stream events.

use super::answer::{Shell, echo, incomplete_reason, response_object, usage_value};
use crate::Event;
use serde_json::{Map, Value, json};

mod deltas;

use deltas::{Item, Kind};

/// Translates one stream of chat completion chunks into Responses stream events.
#[derive(Debug)]
pub struct StreamTranslator {
    id: String,
    created_at: u64,
    model: String,
    echo: Map<String, Value>,
    seq: u64,
    started: bool,
    items: Vec<Item>,
    /// The index of the open item, if one is.
    open: Option<usize>,
    /// The open item is a message whose last part is still open.
    part_open: bool,
    /// The chat tool call index of each call item: (chat index, output index).
    calls: Vec<(u64, usize)>,
    finish_reason: Option<String>,
    usage: Option<Value>,
    error: Option<Value>,
    done: Option<Value>,
}

impl StreamTranslator {
    /// A translator for the stream answering the request `req`, as the response `id` created at
    /// `created_at`.
    pub fn new(req: &Value, id: &str, created_at: u64) -> StreamTranslator {
        StreamTranslator {
            id: id.to_string(),
            created_at,
            model: req
                .get("model")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            echo: echo(req),
            seq: 0,
            started: false,
            items: Vec::new(),
            open: None,
            part_open: false,
            calls: Vec::new(),
            finish_reason: None,
            usage: None,
            error: None,
            done: None,
        }
    }

    /// The events for one chat completion chunk (the first also yields `response.created` and
    /// `response.in_progress`).
    pub fn on_chunk(&mut self, chunk: &Value) -> Vec<Event> {
        let mut out = Vec::new();
        if self.done.is_some() {
            return out;
        }
        if !self.started {
            if let Some(model) = chunk.get("model").and_then(Value::as_str) {
                self.model = model.to_string();
            }
            self.start(&mut out);
        }
        if let Some(usage) = chunk.get("usage").and_then(usage_value) {
            self.usage = Some(usage);
        }
        let choices = chunk.get("choices").and_then(Value::as_array);
        let Some(choice) = choices.and_then(|c| {
            c.iter()
                .find(|ch| ch.get("index").and_then(Value::as_u64).unwrap_or(0) == 0)
        }) else {
            return out;
        };
        let delta = choice.get("delta").unwrap_or(&Value::Null);
        if let Some(text) = delta.get("content").and_then(Value::as_str) {
            self.content(Kind::Text, text, &mut out);
        }
        if let Some(text) = delta.get("refusal").and_then(Value::as_str) {
            self.content(Kind::Refusal, text, &mut out);
        }
        let calls = delta.get("tool_calls").and_then(Value::as_array);
        for (position, call) in calls.into_iter().flatten().enumerate() {
            self.tool_call(position, call, &mut out);
        }
        if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
            self.finish_reason = Some(reason.to_string());
        }
        out
    }

    /// The stream ended well (`[DONE]`): the closing events, ending with `response.completed`
    /// (or `response.incomplete`). `extra` fields (the gateway's metadata object) join that
    /// event's response.
    pub fn finish(&mut self, extra: Map<String, Value>) -> Vec<Event> {
        let mut out = Vec::new();
        if self.done.is_some() {
            return out;
        }
        if !self.started {
            self.start(&mut out);
        }
        let cut_short = incomplete_reason(self.finish_reason.as_deref()).is_some();
        self.close(if cut_short { "incomplete" } else { "completed" }, &mut out);
        let mut response = self.snapshot(self.finish_reason.as_deref().or(Some("stop")));
        if let Some(r) = response.as_object_mut() {
            r.extend(extra);
        }
        let name = if cut_short {
            "response.incomplete"
        } else {
            "response.completed"
        };
        self.emit(&mut out, name, json!({"response": response.clone()}));
        self.done = Some(response);
        out
    }

    /// The stream failed with an error of HTTP `status`, OpenAI `type`/`code` and `message`: the
    /// `error` event that ends it.
    pub fn error(&mut self, status: u16, kind: &str, code: Option<&str>, message: &str) -> Event {
        let response_code = if status == 429 {
            "rate_limit_exceeded"
        } else {
            "server_error"
        };
        self.error = Some(json!({"code": response_code, "message": message}));
        let data = json!({
            "type": "error",
            "code": code.unwrap_or(kind),
            "message": message,
            "param": null,
            "sequence_number": self.seq,
        });
        self.seq += 1;
        Event {
            name: Some("error"),
            data,
        }
    }

    /// The Response as it stands (complete after [`StreamTranslator::finish`]), for the store.
    pub fn response(&self) -> Value {
        match &self.done {
            Some(response) => response.clone(),
            None => self.snapshot(None),
        }
    }

    /// The Response from the items so far: in progress (or failed) without a finish reason.
    fn snapshot(&self, finish: Option<&str>) -> Value {
        let mut response = response_object(&Shell {
            id: &self.id,
            created_at: self.created_at,
            model: &self.model,
            echo: &self.echo,
            finish,
            output: self.items.iter().map(Item::to_json).collect(),
            usage: self.usage.clone(),
        });
        if finish.is_none()
            && let Some(r) = response.as_object_mut()
        {
            let status = if self.error.is_some() {
                "failed"
            } else {
                "in_progress"
            };
            r.insert("status".into(), json!(status));
            r.insert("error".into(), self.error.clone().unwrap_or(Value::Null));
        }
        response
    }

    fn emit(&mut self, out: &mut Vec<Event>, name: &'static str, data: Value) {
        let mut data = match data {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        data.insert("type".into(), json!(name));
        data.insert("sequence_number".into(), json!(self.seq));
        self.seq += 1;
        out.push(Event {
            name: Some(name),
            data: Value::Object(data),
        });
    }

    fn start(&mut self, out: &mut Vec<Event>) {
        self.started = true;
        let response = self.snapshot(None);
        self.emit(out, "response.created", json!({"response": response}));
        let response = self.snapshot(None);
        self.emit(out, "response.in_progress", json!({"response": response}));
    }
}
