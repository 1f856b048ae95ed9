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

/// Redacts a body: `redact` gets each text [`for_each_text`] visits and returns its replacement,
/// or none to keep it. [`GuardVerdict::Rewrite`] with the new body when a text changed, else
/// [`GuardVerdict::Allow`].
///
/// ```
/// use sluice_plugin_sdk::guard::redact_texts;
/// use sluice_plugin_sdk::GuardVerdict;
/// let body = serde_json::json!({"prompt": "my pin is 1234"});
/// let v = redact_texts(&body, |t| t.contains("1234").then(|| t.replace("1234", "****")));
/// assert!(matches!(v, GuardVerdict::Rewrite(b) if b["prompt"] == "my pin is ****"));
/// ```
pub fn redact_texts(body: &Value, mut redact: impl FnMut(&str) -> Option<String>) -> GuardVerdict {
    let mut body = body.clone();
    let changed = for_each_text(&mut body, |t| match redact(t) {
        Some(r) => {
            *t = r;
            true
        }
        None => false,
    });
    if changed {
        GuardVerdict::Rewrite(body)
    } else {
        GuardVerdict::Allow
    }
}

pub mod hold {
    //! The host's hold-back of stream text, for guards' tests: [`stream`] feeds deltas to a
    //! guard exactly as the gateway does, so a test can check that a match split across chunks
    //! is caught. It mirrors the host (`host/src/pipeline/stages/guard.rs`), whose unit tests
    //! share [`split_tail`]'s case table.

    use crate::{ErrorBody, Guard, RequestCtx, TextVerdict};

    /// Whether the host calls the guard on `len` bytes of text (held text and the new delta):
    /// at the choice's end, or once half a look-behind more than the look-behind has gathered.
    pub fn checks(len: usize, window: usize, last: bool) -> bool {
        last || len > window + window / 2
    }

    /// Splits checked text before its last `window` bytes: (what is sent, what is held). The
    /// cut moves back to a word's start (the text's start, or after whitespace, but not inside
    /// a number written in groups), looking back at most another `window` bytes; without one,
    /// to a character boundary.
    pub fn split_tail(text: &str, window: usize) -> (&str, &str) {
        let mut cut = text.len().saturating_sub(window);
        let b = text.as_bytes();
        let starts_word = |i: usize| {
            i == 0
                || (b[i - 1].is_ascii_whitespace()
                    && !(i >= 2
                        && b[i - 2].is_ascii_digit()
                        && b.get(i).is_some_and(u8::is_ascii_digit)))
        };
        match (cut.saturating_sub(window)..=cut)
            .rev()
            .find(|&i| starts_word(i))
        {
            Some(i) => cut = i,
            None => {
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
            }
        }
        text.split_at(cut)
    }

    /// Streams one choice's `deltas` (each with whether the choice ends with it; when none
    /// does, the stream's end flushes what is held, as the host does) through `instances` in
    /// turn (a warm guard's calls may go to different instances) with the look-behind `window`.
    /// Returns the text the client gets, and the error a stop ended the stream with.
    pub fn stream<G: Guard>(
        instances: &[&G],
        ctx: &RequestCtx,
        window: usize,
        deltas: &[(&str, bool)],
    ) -> (String, Option<ErrorBody>) {
        let mut turn = instances.iter().cycle();
        let (mut sent, mut held) = (String::new(), String::new());
        let ended = deltas.last().is_some_and(|d| d.1);
        let flush = (!ended).then_some(("", true));
        for (delta, last) in deltas.iter().copied().chain(flush) {
            let text = std::mem::take(&mut held) + delta;
            if text.is_empty() {
                continue;
            }
            if !checks(text.len(), window, last) {
                held = text;
                continue;
            }
            let Some(guard) = turn.next() else {
                return (sent, None);
            };
            let checked = match guard.check_text(ctx, None, 0, &text, last) {
                TextVerdict::Allow => text,
                TextVerdict::Replace(r) => r,
                TextVerdict::Stop(e) => return (sent, Some(e)),
            };
            if last {
                sent.push_str(&checked);
                continue;
            }
            let (send, keep) = split_tail(&checked, window);
            sent.push_str(send);
            held = keep.to_string();
        }
        (sent, None)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        /// The same table is in the host's guard-stage tests: the two must agree.
        const CASES: [(&str, usize, &str); 9] = [
            ("hello world", 5, "world"),
            ("call 2024-01-15", 6, "2024-01-15"),
            ("abcdefgh", 4, "abcdefgh"),
            ("abc", 10, "abc"),
            ("abc", 0, ""),
            ("card 4111 1111 1111", 9, "4111 1111 1111"),
            ("a bcdefghijkl", 3, "jkl"),
            ("a bcdefghijk\u{e9}", 3, "k\u{e9}"),
            ("x caf\u{e9}s", 2, "\u{e9}s"),
        ];

        #[test]
        fn the_tail_starts_at_a_word_as_in_the_host() {
            for (text, window, held) in CASES {
                let (sent, kept) = split_tail(text, window);
                assert_eq!(kept, held, "{text:?} with {window}");
                assert_eq!(format!("{sent}{kept}"), text);
            }
        }
    }
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
