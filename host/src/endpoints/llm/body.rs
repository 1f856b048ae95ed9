//! The parts of OpenAI JSON bodies the host reads (usage) and writes (the metadata object).

use crate::pipeline::bindings::types::Usage;
use serde::Deserialize;

/// The usage object of an OpenAI response or usage chunk: chat's `prompt_tokens` and
/// `completion_tokens`, or the audio and image APIs' `input_tokens` and `output_tokens`, or a
/// transcript's `{"type": "duration", "seconds": N}`.
#[derive(Deserialize, Default)]
pub(super) struct UsageJson {
    #[serde(default, alias = "input_tokens")]
    prompt_tokens: Option<u32>,
    #[serde(default, alias = "output_tokens")]
    completion_tokens: Option<u32>,
    #[serde(default, alias = "input_tokens_details")]
    prompt_tokens_details: Option<PromptDetails>,
    /// Seconds of audio billed (`"type": "duration"`).
    #[serde(default)]
    pub seconds: Option<f64>,
}

#[derive(Deserialize, Default)]
struct PromptDetails {
    #[serde(default)]
    cached_tokens: u32,
}

impl UsageJson {
    /// The token counts, when the object has any (a duration has none).
    pub fn tokens(&self) -> Option<Usage> {
        if self.prompt_tokens.is_none() && self.completion_tokens.is_none() {
            return None;
        }
        Some(Usage {
            prompt_tokens: self.prompt_tokens.unwrap_or(0),
            completion_tokens: self.completion_tokens.unwrap_or(0),
            cached_tokens: self
                .prompt_tokens_details
                .as_ref()
                .map(|d| d.cached_tokens)
                .unwrap_or(0),
        })
    }
}

/// The parts of an OpenAI JSON answer the host reads.
#[derive(Deserialize)]
pub(super) struct AnswerJson {
    #[serde(default)]
    pub usage: Option<UsageJson>,
    /// A `verbose_json` transcript's length in seconds.
    #[serde(default)]
    pub duration: Option<f64>,
}

impl AnswerJson {
    /// Seconds of audio: the usage's, else the transcript's duration.
    pub fn audio_seconds(&self) -> Option<f64> {
        self.usage
            .as_ref()
            .and_then(|u| u.seconds)
            .or(self.duration)
            .filter(|s| s.is_finite() && *s >= 0.0)
    }
}

/// Inserts `"field": value` as the last member of the JSON object in `body`.
pub(super) fn splice_field(body: &[u8], field: &str, value: &str) -> Option<Vec<u8>> {
    let end = body.iter().rposition(|b| !b.is_ascii_whitespace())?;
    let start = body.iter().position(|b| !b.is_ascii_whitespace())?;
    if body[start] != b'{' || body[end] != b'}' {
        return None;
    }
    let empty = body[start + 1..end].iter().all(u8::is_ascii_whitespace);
    let key = serde_json::to_string(field).ok()?;
    let mut out = Vec::with_capacity(body.len() + key.len() + value.len() + 2);
    out.extend_from_slice(&body[..end]);
    if !empty {
        out.push(b',');
    }
    out.extend_from_slice(key.as_bytes());
    out.push(b':');
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(&body[end..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_reads_chat_audio_and_image_shapes() {
        let read = |s: &str| serde_json::from_str::<AnswerJson>(s).expect("answer");
        let chat = read(
            r#"{"usage":{"prompt_tokens":3,"completion_tokens":4,"prompt_tokens_details":{"cached_tokens":1}}}"#,
        );
        let u = chat
            .usage
            .as_ref()
            .and_then(UsageJson::tokens)
            .expect("tokens");
        assert_eq!(
            (u.prompt_tokens, u.completion_tokens, u.cached_tokens),
            (3, 4, 1)
        );
        let audio = read(
            r#"{"text":"x","usage":{"type":"tokens","input_tokens":14,"input_token_details":{"audio_tokens":14},"output_tokens":45,"total_tokens":59}}"#,
        );
        let u = audio
            .usage
            .as_ref()
            .and_then(UsageJson::tokens)
            .expect("tokens");
        assert_eq!((u.prompt_tokens, u.completion_tokens), (14, 45));
        assert_eq!(audio.audio_seconds(), None);
        let whisper = read(r#"{"text":"x","usage":{"type":"duration","seconds":3}}"#);
        assert!(whisper.usage.as_ref().and_then(UsageJson::tokens).is_none());
        assert_eq!(whisper.audio_seconds(), Some(3.0));
        let verbose = read(r#"{"text":"x","duration":8.47,"segments":[]}"#);
        assert_eq!(verbose.audio_seconds(), Some(8.47));
    }

    #[test]
    fn splice_adds_a_last_member() {
        let out = splice_field(b"{\"a\":1}\n", "sluice", "{\"x\":2}").expect("object");
        let v: serde_json::Value = serde_json::from_slice(&out).expect("valid json");
        assert_eq!(v["a"], 1);
        assert_eq!(v["sluice"]["x"], 2);
        let out = splice_field(b" { } ", "s", "1").expect("object");
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&out).expect("json")["s"],
            1
        );
        assert!(splice_field(b"[1]", "s", "1").is_none());
    }
}
