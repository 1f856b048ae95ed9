//! A stream's text through the guard stage: each OpenAI chunk's text (`choices[].delta.content`,
//! or `choices[].text` for completions) goes through [`StreamGuards`] before the chunk is sent;
//! what a guard holds back is sent with a later chunk, at the choice's `finish_reason`, or in a
//! chunk of its own when the stream ends.

use crate::error::ApiError;
use crate::pipeline::stages::StreamGuards;
use serde_json::{Map, Value};
use std::collections::HashSet;

/// The guards of one stream and the choices that have ended.
pub(super) struct Guarded {
    pub guards: StreamGuards,
    ended: HashSet<u32>,
}

impl Guarded {
    pub fn new(guards: StreamGuards) -> Guarded {
        Guarded {
            guards,
            ended: HashSet::new(),
        }
    }

    /// The chunk to send in place of `data` (JSON text of one event), or none when nothing of it
    /// is left to send (all its text is held). Events that are not chunks pass unchanged.
    pub async fn chunk(&mut self, data: &str) -> Result<Option<String>, ApiError> {
        if data == "[DONE]" || data.trim_start().starts_with("{\"error\"") {
            return Ok(Some(data.to_string()));
        }
        let Ok(Value::Object(mut chunk)) = serde_json::from_str::<Value>(data) else {
            return Ok(Some(data.to_string()));
        };
        let Some(Value::Array(choices)) = chunk.get_mut("choices") else {
            return Ok(Some(data.to_string()));
        };
        if choices.is_empty() {
            return Ok(Some(data.to_string()));
        }
        let mut kept = Vec::with_capacity(choices.len());
        for (i, mut choice) in std::mem::take(choices).into_iter().enumerate() {
            if self.choice(&mut choice, i).await? {
                kept.push(choice);
            }
        }
        let has_usage = chunk.get("usage").is_some_and(Value::is_object);
        if kept.is_empty() && !has_usage {
            return Ok(None);
        }
        chunk.insert("choices".into(), Value::Array(kept));
        Ok(Some(Value::Object(chunk).to_string()))
    }

    /// Guards one choice of a chunk in place; false when nothing of it is left to send.
    async fn choice(&mut self, choice: &mut Value, position: usize) -> Result<bool, ApiError> {
        let Value::Object(c) = choice else {
            return Ok(true);
        };
        let index = c
            .get("index")
            .and_then(Value::as_u64)
            .and_then(|i| u32::try_from(i).ok())
            .unwrap_or(u32::try_from(position).unwrap_or(u32::MAX));
        let finished = c.get("finish_reason").is_some_and(|f| !f.is_null());
        let chat = c.contains_key("delta");
        let slot = text_slot(c, chat);
        let text = slot
            .as_ref()
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string();
        if text.is_empty() && !finished {
            return Ok(true);
        }
        let out = self.guards.text(index, &text, finished).await?;
        if finished {
            self.ended.insert(index);
        }
        let only_text = !finished && only_text(c, chat);
        if out.is_empty() && only_text {
            return Ok(false);
        }
        if slot.is_some() || !out.is_empty() {
            set_text(c, chat, out);
        }
        Ok(true)
    }

    /// At the stream's end: the text guards still hold for choices that never finished, as one
    /// chunk built from `template` (the first chunk's `id`, `object`, `created` and `model`).
    pub async fn flush(
        &mut self,
        template: Map<String, Value>,
    ) -> Result<Option<String>, ApiError> {
        let chat = template
            .get("object")
            .and_then(Value::as_str)
            .is_none_or(|o| o.starts_with("chat."));
        let mut choices = Vec::new();
        for index in self.guards.pending() {
            if self.ended.contains(&index) {
                continue;
            }
            let out = self.guards.text(index, "", true).await?;
            if out.is_empty() {
                continue;
            }
            choices.push(if chat {
                serde_json::json!({"index": index, "delta": {"content": out}, "finish_reason": null})
            } else {
                serde_json::json!({"index": index, "text": out, "finish_reason": null})
            });
        }
        if choices.is_empty() {
            return Ok(None);
        }
        let mut chunk = template;
        chunk.insert("choices".into(), Value::Array(choices));
        Ok(Some(Value::Object(chunk).to_string()))
    }
}

/// The choice's text field, if it has one.
fn text_slot(c: &Map<String, Value>, chat: bool) -> Option<&Value> {
    if chat {
        c.get("delta").and_then(|d| d.get("content"))
    } else {
        c.get("text")
    }
}

fn set_text(c: &mut Map<String, Value>, chat: bool, text: String) {
    if chat {
        if let Some(Value::Object(d)) = c.get_mut("delta") {
            d.insert("content".into(), Value::String(text));
        }
    } else {
        c.insert("text".into(), Value::String(text));
    }
}

/// Whether the choice carries nothing but its text (so it may be left out while its text is
/// held): no role, tool calls, refusal or log probabilities.
fn only_text(c: &Map<String, Value>, chat: bool) -> bool {
    let others_empty = |m: &Map<String, Value>, allowed: &[&str]| {
        m.iter()
            .all(|(k, v)| allowed.contains(&k.as_str()) || v.is_null())
    };
    if !others_empty(c, &["index", "delta", "text", "finish_reason"]) {
        return false;
    }
    if !chat {
        return true;
    }
    match c.get("delta") {
        Some(Value::Object(d)) => others_empty(d, &["content"]),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn a_choice_with_only_text_may_be_left_out() {
        let c = obj(json!({"index": 0, "delta": {"content": "x"}, "finish_reason": null}));
        assert!(only_text(&c, true));
        let c = obj(json!({"index": 0, "delta": {"role": "assistant", "content": "x"}}));
        assert!(!only_text(&c, true));
        let c = obj(json!({"index": 0, "delta": {"content": "x"}, "logprobs": {"content": []}}));
        assert!(!only_text(&c, true));
        let c = obj(json!({"index": 0, "text": "x", "logprobs": null, "finish_reason": null}));
        assert!(only_text(&c, false));
    }

    #[test]
    fn text_is_read_and_written_where_each_endpoint_keeps_it() {
        let mut chat = obj(json!({"index": 0, "delta": {"content": "a"}}));
        assert_eq!(text_slot(&chat, true), Some(&json!("a")));
        set_text(&mut chat, true, "b".into());
        assert_eq!(chat["delta"]["content"], "b");
        let mut completion = obj(json!({"index": 0, "text": "a"}));
        set_text(&mut completion, false, "c".into());
        assert_eq!(completion["text"], "c");
    }
}
