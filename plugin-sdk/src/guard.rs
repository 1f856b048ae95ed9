//! The guard stage ([`Guard`]): sees request bodies and answers, whole and streamed, and may
//! refuse or redact them. Helpers here find the text a guard inspects in OpenAI bodies.

use crate::{Direction, ErrorBody, Principal, RequestCtx, TextVerdict, Verdict};
use serde_json::Value;

/// A guard's decision on a whole JSON body, with the body as a [`serde_json::Value`].
#[derive(Debug, Clone)]
pub enum GuardVerdict {
    /// Let the body through unchanged.
    Allow,
    /// Refuse it: the client gets this error and nothing of the body.
    Deny(ErrorBody),
    /// Let this body through instead.
    Rewrite(Value),
}

impl From<GuardVerdict> for Verdict {
    fn from(v: GuardVerdict) -> Verdict {
        match v {
            GuardVerdict::Allow => Verdict::Allow,
            GuardVerdict::Deny(e) => Verdict::Deny(e),
            GuardVerdict::Rewrite(body) => Verdict::Rewrite(body.to_string()),
        }
    }
}

/// The guard stage: content safety, PII redaction, blocked terms.
///
/// Requests: every LLM request's JSON body, after the policy stage. Answers: whole
/// `chat.completions` and `completions` answers, and their streams as text. Declare the stream
/// look-behind in [`Plugin::info`](crate::Plugin::info) with [`PluginInfo::guard`](crate::PluginInfo::guard):
/// the host holds back that many bytes of each choice's text, so a match split across two chunks
/// reaches [`Guard::check_text`] whole.
pub trait Guard: crate::Plugin {
    /// Checks a whole JSON body (a request, or an answer in OpenAI's shape). [`for_each_text`]
    /// visits the text in it.
    fn check_json(
        &self,
        ctx: &RequestCtx,
        principal: Option<&Principal>,
        direction: Direction,
        body: &Value,
    ) -> GuardVerdict;

    /// Checks stream text of choice `choice`: the text still held from earlier deltas followed by
    /// the new one. [`TextVerdict::Replace`] sends other text in its place (redaction);
    /// [`TextVerdict::Stop`] ends the stream with an error event. `last` is true when the choice
    /// ends. The default lets every text through.
    fn check_text(
        &self,
        ctx: &RequestCtx,
        principal: Option<&Principal>,
        choice: u32,
        text: &str,
        last: bool,
    ) -> TextVerdict {
        let _ = (ctx, principal, choice, text, last);
        TextVerdict::Allow
    }
}

/// Calls `f` on every piece of model-facing or model-made text in an OpenAI body, which it may
/// change in place: in requests, `messages[].content` (a string, or the `text` of its parts),
/// `prompt` and `input` (strings or arrays of strings); in answers, `choices[].message.content`,
/// `choices[].message.refusal`, `choices[].text` and `choices[].delta.content`. Returns whether
/// `f` changed anything (it reports that by returning true).
///
/// ```
/// use sluice_plugin_sdk::guard::for_each_text;
/// let mut body = serde_json::json!({"messages": [{"role": "user", "content": "hi bob"}]});
/// let changed = for_each_text(&mut body, |t| {
///     let had = t.contains("bob");
///     *t = t.replace("bob", "[NAME]");
///     had
/// });
/// assert!(changed);
/// assert_eq!(body["messages"][0]["content"], "hi [NAME]");
/// ```
pub fn for_each_text(body: &mut Value, mut f: impl FnMut(&mut String) -> bool) -> bool {
    let mut changed = false;
    let mut visit = |v: &mut Value| match v {
        Value::String(s) => changed |= f(s),
        Value::Array(items) => {
            for item in items {
                match item {
                    Value::String(s) => changed |= f(s),
                    Value::Object(part) => {
                        if let Some(Value::String(s)) = part.get_mut("text") {
                            changed |= f(s);
                        }
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    };
    if let Some(Value::Array(messages)) = body.get_mut("messages") {
        for m in messages {
            if let Some(c) = m.get_mut("content") {
                visit(c);
            }
        }
    }
    for field in ["prompt", "input"] {
        if let Some(v) = body.get_mut(field) {
            visit(v);
        }
    }
    if let Some(Value::Array(choices)) = body.get_mut("choices") {
        for c in choices {
            for path in [
                ["message", "content"],
                ["message", "refusal"],
                ["delta", "content"],
            ] {
                if let Some(v) = c.get_mut(path[0]).and_then(|m| m.get_mut(path[1])) {
                    visit(v);
                }
            }
            if let Some(v) = c.get_mut("text") {
                visit(v);
            }
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn upper(t: &mut String) -> bool {
        *t = t.to_uppercase();
        true
    }

    #[test]
    fn visits_request_texts_in_every_shape() {
        let mut body = json!({
            "model": "m",
            "messages": [
                {"role": "system", "content": "a"},
                {"role": "user", "content": [{"type": "text", "text": "b"},
                                             {"type": "image_url", "image_url": {"url": "x"}}]},
            ],
        });
        assert!(for_each_text(&mut body, upper));
        assert_eq!(body["messages"][0]["content"], "A");
        assert_eq!(body["messages"][1]["content"][0]["text"], "B");
        assert_eq!(body["messages"][1]["content"][1]["image_url"]["url"], "x");
        assert_eq!(body["model"], "m");
        let mut emb = json!({"input": ["x", "y"]});
        for_each_text(&mut emb, upper);
        assert_eq!(emb["input"], json!(["X", "Y"]));
    }

    #[test]
    fn visits_answer_texts_and_reports_no_change() {
        let mut body = json!({"id": "abc", "choices": [
            {"message": {"role": "assistant", "content": "c"}},
            {"text": "d"},
        ]});
        assert!(for_each_text(&mut body, upper));
        assert_eq!(body["choices"][0]["message"]["content"], "C");
        assert_eq!(body["choices"][1]["text"], "D");
        assert_eq!(body["id"], "abc");
        assert!(!for_each_text(&mut body, |_| false));
    }
}
