//! The conversation: OpenAI `messages` to Anthropic's `system` text and alternating turns.

use crate::content;
use serde_json::{Value, json};
use sluice_plugin_sdk::ErrorBody;
use sluice_plugin_sdk::openai::{ToolCall, bad};

/// A converted conversation.
#[derive(Debug, PartialEq)]
pub(crate) struct Conversation {
    /// The texts of the system and developer messages, in order.
    pub system: Vec<String>,
    /// Anthropic `messages`: `{role, content: [blocks]}`, roles alternating.
    pub messages: Vec<Value>,
}

/// Turns under construction: (role, blocks).
struct Turns(Vec<(&'static str, Vec<Value>)>);

impl Turns {
    /// Adds blocks to the conversation, merging them into the last turn when it has the same
    /// role (the Messages API wants roles to alternate). Empty block lists add nothing.
    fn push(&mut self, role: &'static str, blocks: Vec<Value>) {
        if blocks.is_empty() {
            return;
        }
        match self.0.last_mut() {
            Some((last, existing)) if *last == role => existing.extend(blocks),
            _ => self.0.push((role, blocks)),
        }
    }

    /// The finished `messages`. In user turns, `tool_result` blocks go first, as Anthropic
    /// requires them to open the turn that follows a `tool_use`.
    fn finish(self) -> Vec<Value> {
        self.0
            .into_iter()
            .map(|(role, mut blocks)| {
                if role == "user" {
                    blocks.sort_by_key(|b| {
                        b.get("type").and_then(Value::as_str) != Some("tool_result")
                    });
                }
                json!({ "role": role, "content": blocks })
            })
            .collect()
    }
}

/// The `tool_use` blocks of an assistant message's `tool_calls` (each needs an `id`).
fn tool_use_blocks(message: &Value, param: &str) -> Result<Vec<Value>, ErrorBody> {
    Ok(ToolCall::list(message, param, true)?
        .into_iter()
        .map(|c| json!({ "type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments }))
        .collect())
}

/// Converts OpenAI `messages`.
pub(crate) fn convert(messages: &[Value]) -> Result<Conversation, ErrorBody> {
    let mut system = Vec::new();
    let mut turns = Turns(Vec::with_capacity(messages.len()));
    for (i, m) in messages.iter().enumerate() {
        let param = format!("messages[{i}]");
        let role = m
            .get("role")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(&param, "every message needs a string `role`"))?;
        let content = m.get("content");
        let content_param = format!("{param}.content");
        match role {
            "system" | "developer" => {
                let text = content::system_text(content, &content_param)?;
                if !text.is_empty() {
                    system.push(text);
                }
            }
            "user" => turns.push("user", content::user_blocks(content, &content_param)?),
            "assistant" => {
                if m.get("function_call").is_some_and(|v| !v.is_null()) {
                    return Err(bad(
                        &param,
                        "the legacy `function_call` is not supported; use `tool_calls`",
                    ));
                }
                let mut blocks = content::assistant_blocks(content, &content_param)?;
                blocks.extend(tool_use_blocks(m, &param)?);
                turns.push("assistant", blocks);
            }
            "tool" => {
                let id = m
                    .get("tool_call_id")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad(&param, "a tool message needs a string `tool_call_id`"))?;
                let result = content::tool_result_content(content, &content_param)?;
                turns.push(
                    "user",
                    vec![json!({ "type": "tool_result", "tool_use_id": id, "content": result })],
                );
            }
            other => {
                return Err(bad(
                    &param,
                    format!("the anthropic provider does not support the `{other}` role"),
                ));
            }
        }
    }
    let messages = turns.finish();
    if messages.is_empty() {
        return Err(bad(
            "messages",
            "`messages` must hold at least one non-empty user or assistant message",
        ));
    }
    Ok(Conversation { system, messages })
}

#[cfg(test)]
mod tests;
