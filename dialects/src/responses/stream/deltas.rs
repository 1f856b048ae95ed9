//! The stream's output items and content parts: opened, grown by deltas, closed.

use super::StreamTranslator;
use crate::Event;
use crate::responses::answer::{call_item, item_id, message_item, refusal_part, text_part};
use serde_json::{Value, json};

/// A content part of the open message: text or refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Text,
    Refusal,
}

/// One output item as it is built.
#[derive(Debug)]
pub(super) enum Item {
    Message {
        id: String,
        parts: Vec<(Kind, String)>,
        status: &'static str,
    },
    Call {
        id: String,
        call_id: String,
        name: String,
        args: String,
        status: &'static str,
    },
}

impl Item {
    fn id(&self) -> &str {
        match self {
            Item::Message { id, .. } | Item::Call { id, .. } => id,
        }
    }

    pub(super) fn to_json(&self) -> Value {
        match self {
            Item::Message { id, parts, status } => {
                message_item(id, parts.iter().map(|(k, t)| part(*k, t)).collect(), status)
            }
            Item::Call {
                id,
                call_id,
                name,
                args,
                status,
            } => call_item(id, call_id, name, args, status),
        }
    }
}

fn part(kind: Kind, text: &str) -> Value {
    match kind {
        Kind::Text => text_part(text),
        Kind::Refusal => refusal_part(text),
    }
}

impl StreamTranslator {
    /// A text or refusal delta for the message item, opening it (or a new part) as needed.
    pub(super) fn content(&mut self, kind: Kind, delta: &str, out: &mut Vec<Event>) {
        if delta.is_empty() {
            return;
        }
        let open_message = self
            .open
            .filter(|&i| matches!(self.items.get(i), Some(Item::Message { .. })));
        let index = match open_message {
            Some(index) => index,
            None => {
                self.close("completed", out);
                let index = self.items.len();
                let id = item_id(&self.id, "msg", index);
                self.items.push(Item::Message {
                    id,
                    parts: Vec::new(),
                    status: "in_progress",
                });
                let item = self.items[index].to_json();
                self.emit(
                    out,
                    "response.output_item.added",
                    json!({"output_index": index, "item": item}),
                );
                self.open = Some(index);
                index
            }
        };
        let item_id = self.items[index].id().to_string();
        let Some(Item::Message { parts, .. }) = self.items.get_mut(index) else {
            return;
        };
        let same_kind = self.part_open && parts.last().is_some_and(|(k, _)| *k == kind);
        if !same_kind {
            self.close_part(out);
            if let Some(Item::Message { parts, .. }) = self.items.get_mut(index) {
                parts.push((kind, String::new()));
            }
            let content_index = self.parts_len(index) - 1;
            self.emit(
                out,
                "response.content_part.added",
                json!({"item_id": item_id, "output_index": index, "content_index": content_index,
                       "part": part(kind, "")}),
            );
            self.part_open = true;
        }
        if let Some(Item::Message { parts, .. }) = self.items.get_mut(index)
            && let Some((_, text)) = parts.last_mut()
        {
            text.push_str(delta);
        }
        let content_index = self.parts_len(index) - 1;
        let common = json!({"item_id": item_id, "output_index": index,
                            "content_index": content_index, "delta": delta});
        match kind {
            Kind::Text => {
                let mut data = common;
                data["logprobs"] = json!([]);
                self.emit(out, "response.output_text.delta", data);
            }
            Kind::Refusal => self.emit(out, "response.refusal.delta", common),
        }
    }

    fn parts_len(&self, index: usize) -> usize {
        match self.items.get(index) {
            Some(Item::Message { parts, .. }) => parts.len(),
            _ => 0,
        }
    }

    /// One tool call delta (at `position` in its chunk's list).
    pub(super) fn tool_call(&mut self, position: usize, call: &Value, out: &mut Vec<Event>) {
        let chat_index = call
            .get("index")
            .and_then(Value::as_u64)
            .unwrap_or(position as u64);
        let fragment = call
            .pointer("/function/arguments")
            .and_then(Value::as_str)
            .unwrap_or("");
        let name = call
            .pointer("/function/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        let known = self
            .calls
            .iter()
            .find(|(c, _)| *c == chat_index)
            .map(|(_, i)| *i);
        let index = match known {
            Some(index) => index,
            None => {
                self.close("completed", out);
                let index = self.items.len();
                let call_id = match call.get("id").and_then(Value::as_str) {
                    Some(call_id) => call_id.to_string(),
                    None => item_id(&self.id, "call", index),
                };
                let id = item_id(&self.id, "fc", index);
                let name = name.to_string();
                let item = Item::Call {
                    id,
                    call_id,
                    name,
                    args: String::new(),
                    status: "in_progress",
                };
                self.items.push(item);
                self.calls.push((chat_index, index));
                let item = self.items[index].to_json();
                self.emit(
                    out,
                    "response.output_item.added",
                    json!({"output_index": index, "item": item}),
                );
                self.open = Some(index);
                index
            }
        };
        let Some(Item::Call {
            id,
            args,
            name: known_name,
            ..
        }) = self.items.get_mut(index)
        else {
            return;
        };
        if known_name.is_empty() && !name.is_empty() {
            *known_name = name.to_string();
        }
        if fragment.is_empty() {
            return;
        }
        args.push_str(fragment);
        let id = id.clone();
        self.emit(
            out,
            "response.function_call_arguments.delta",
            json!({"item_id": id, "output_index": index, "delta": fragment}),
        );
    }

    /// Closes the open message's open part.
    fn close_part(&mut self, out: &mut Vec<Event>) {
        if !self.part_open {
            return;
        }
        self.part_open = false;
        let Some(index) = self.open else { return };
        let Some(Item::Message { id, parts, .. }) = self.items.get(index) else {
            return;
        };
        let Some((kind, text)) = parts.last() else {
            return;
        };
        let (id, kind, text, content_index) = (id.clone(), *kind, text.clone(), parts.len() - 1);
        let common = json!({"item_id": id, "output_index": index, "content_index": content_index});
        let mut done = common.clone();
        match kind {
            Kind::Text => {
                done["text"] = json!(text);
                done["logprobs"] = json!([]);
                self.emit(out, "response.output_text.done", done);
            }
            Kind::Refusal => {
                done["refusal"] = json!(text);
                self.emit(out, "response.refusal.done", done);
            }
        }
        let mut part_done = common;
        part_done["part"] = part(kind, &text);
        self.emit(out, "response.content_part.done", part_done);
    }

    /// Closes the open item, if one is, with `status`.
    pub(super) fn close(&mut self, status: &'static str, out: &mut Vec<Event>) {
        self.close_part(out);
        let Some(index) = self.open.take() else {
            return;
        };
        match self.items.get_mut(index) {
            Some(Item::Message { status: s, .. }) => *s = status,
            Some(Item::Call {
                id,
                name,
                args,
                status: s,
                ..
            }) => {
                *s = status;
                let data = json!({"item_id": id, "output_index": index, "arguments": args,
                                  "name": name});
                self.emit(out, "response.function_call_arguments.done", data);
            }
            None => return,
        }
        let item = self.items[index].to_json();
        self.emit(
            out,
            "response.output_item.done",
            json!({"output_index": index, "item": item}),
        );
    }
}
