//! The parts of OpenAI JSON bodies the host reads (usage) and writes (the metadata object).

use crate::pipeline::bindings::types::Usage;
use serde::Deserialize;

/// The usage object of an OpenAI response or usage chunk.
#[derive(Deserialize, Default)]
pub(super) struct UsageJson {
    #[serde(default)]
    prompt_tokens: u32,
    #[serde(default)]
    completion_tokens: u32,
    #[serde(default)]
    prompt_tokens_details: Option<PromptDetails>,
}

#[derive(Deserialize, Default)]
struct PromptDetails {
    #[serde(default)]
    cached_tokens: u32,
}

impl From<UsageJson> for Usage {
    fn from(u: UsageJson) -> Usage {
        Usage {
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
            cached_tokens: u
                .prompt_tokens_details
                .map(|d| d.cached_tokens)
                .unwrap_or(0),
        }
    }
}

/// The parts of an OpenAI JSON answer the host reads.
#[derive(Deserialize)]
pub(super) struct AnswerJson {
    #[serde(default)]
    pub usage: Option<UsageJson>,
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
