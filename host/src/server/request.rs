//! Parses a client's JSON body once: the fields the gateway needs, the summary plugins get, and
//! the body the upstream gets.

use super::error::ApiError;
use crate::pipeline::bindings::types::LlmMeta;
use serde_json::{Map, Value};

/// The endpoint families that go through the full pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST /chat/completions`.
    ChatCompletions,
    /// `POST /completions`.
    Completions,
    /// `POST /embeddings`.
    Embeddings,
}

impl Endpoint {
    /// The name plugins see in `request-ctx.endpoint`.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::ChatCompletions => "chat.completions",
            Endpoint::Completions => "completions",
            Endpoint::Embeddings => "embeddings",
        }
    }

    /// The path without the `/v1` prefix.
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::ChatCompletions => "/chat/completions",
            Endpoint::Completions => "/completions",
            Endpoint::Embeddings => "/embeddings",
        }
    }

    /// Whether `stream: true` is allowed.
    pub fn streams(self) -> bool {
        !matches!(self, Endpoint::Embeddings)
    }
}

/// A parsed request body.
#[derive(Debug)]
pub struct Prepared {
    /// The JSON object, without `user_id`.
    pub body: Map<String, Value>,
    /// `model`.
    pub model: String,
    /// `stream`.
    pub stream: bool,
    /// `user_id`, removed from the body.
    pub user_id: Option<String>,
    /// Whether the client asked for a usage chunk at the end of a stream.
    pub client_wants_usage: bool,
    /// The summary plugins get.
    pub meta: LlmMeta,
}

/// Parses and checks a request body for `endpoint`.
pub fn prepare(endpoint: Endpoint, bytes: &[u8]) -> Result<Prepared, ApiError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(format!(
            "We could not parse the JSON body of your request ({e}). The body must be a JSON object."
        ))
        .code("invalid_json")
    })?;
    let Value::Object(mut body) = value else {
        return Err(
            ApiError::bad_request("The request body must be a JSON object.").code("invalid_json"),
        );
    };
    let model = match body.get("model") {
        Some(Value::String(m)) if !m.is_empty() => m.clone(),
        Some(Value::String(_)) | None | Some(Value::Null) => {
            return Err(ApiError::bad_request("You must provide a model parameter.")
                .code("missing_model")
                .param("model"));
        }
        Some(_) => {
            return Err(ApiError::bad_request("`model` must be a string.").param("model"));
        }
    };
    let stream = match body.get("stream") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(ApiError::bad_request("`stream` must be a boolean.").param("stream")),
    };
    if stream && !endpoint.streams() {
        return Err(ApiError::bad_request(format!(
            "`{}` does not support streaming.",
            endpoint.path()
        ))
        .param("stream"));
    }
    let user_id = match body.remove("user_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(u)) => Some(u),
        Some(_) => {
            return Err(ApiError::bad_request("`user_id` must be a string.").param("user_id"));
        }
    };
    let client_wants_usage = body
        .get("stream_options")
        .and_then(|o| o.get("include_usage"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let max_tokens = body
        .get("max_completion_tokens")
        .or_else(|| body.get("max_tokens"))
        .and_then(Value::as_u64)
        .map(|n| u32::try_from(n).unwrap_or(u32::MAX));
    let n = body
        .get("n")
        .and_then(Value::as_u64)
        .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
        .unwrap_or(1);
    let meta = LlmMeta {
        model: model.clone(),
        stream,
        max_tokens,
        est_prompt_tokens: estimate_prompt_tokens(&body),
        n,
    };
    if endpoint == Endpoint::ChatCompletions
        && body
            .get("messages")
            .and_then(Value::as_array)
            .is_none_or(|m| m.is_empty())
    {
        return Err(
            ApiError::bad_request("`messages` must be a non-empty list of messages.")
                .param("messages"),
        );
    }
    Ok(Prepared {
        body,
        model,
        stream,
        user_id,
        client_wants_usage,
        meta,
    })
}

impl Prepared {
    /// The body the upstream gets: the upstream model name set and, for streams, usage asked for.
    pub fn upstream_body(&mut self, upstream_model: &str) -> Vec<u8> {
        if self.model != upstream_model {
            self.body
                .insert("model".into(), Value::String(upstream_model.to_string()));
        }
        if self.stream {
            let options = self
                .body
                .entry("stream_options")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(o) = options {
                o.insert("include_usage".into(), Value::Bool(true));
            }
        }
        serde_json::to_vec(&self.body).unwrap_or_default()
    }
}

/// About four bytes of text a token, over `messages`, `prompt` and `input`.
fn estimate_prompt_tokens(body: &Map<String, Value>) -> u32 {
    fn text_len(v: &Value) -> usize {
        match v {
            Value::String(s) => s.len(),
            Value::Array(items) => items.iter().map(text_len).sum(),
            Value::Object(o) => {
                o.get("content").map(text_len).unwrap_or(0)
                    + o.get("text").map(text_len).unwrap_or(0)
            }
            Value::Number(_) => 4, // a token id
            _ => 0,
        }
    }
    let bytes: usize = ["messages", "prompt", "input"]
        .iter()
        .filter_map(|k| body.get(*k))
        .map(text_len)
        .sum();
    u32::try_from(bytes.div_ceil(4)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracts_fields_and_removes_user_id() {
        let p = prepare(
            Endpoint::ChatCompletions,
            br#"{"model":"m","stream":true,"user_id":"u1","max_tokens":9,"n":2,
                 "messages":[{"role":"user","content":"12345678"}]}"#,
        )
        .expect("valid");
        assert_eq!(p.model, "m");
        assert!(p.stream);
        assert_eq!(p.user_id.as_deref(), Some("u1"));
        assert!(!p.body.contains_key("user_id"));
        assert_eq!(p.meta.max_tokens, Some(9));
        assert_eq!(p.meta.n, 2);
        assert_eq!(p.meta.est_prompt_tokens, 2);
        assert!(!p.client_wants_usage);
    }

    #[test]
    fn upstream_body_sets_model_and_usage_and_keeps_the_rest() {
        let mut p = prepare(
            Endpoint::ChatCompletions,
            br#"{"model":"alias","stream":true,"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"x"}},"tools":[{"type":"function"}]}"#,
        )
        .expect("valid");
        let v: Value = serde_json::from_slice(&p.upstream_body("real")).expect("json");
        assert_eq!(v["model"], "real");
        assert_eq!(v["stream_options"]["include_usage"], true);
        assert_eq!(v["response_format"]["json_schema"]["name"], "x");
        assert_eq!(v["tools"][0]["type"], "function");
    }

    #[test]
    fn rejects_malformed_bodies_with_400() {
        for (body, param) in [
            (&b"{"[..], None),
            (b"[1]", None),
            (br#"{"messages":[]}"#, Some("model")),
            (br#"{"model":5,"messages":[]}"#, Some("model")),
            (
                br#"{"model":"m","stream":"yes","messages":[]}"#,
                Some("stream"),
            ),
            (
                br#"{"model":"m","user_id":7,"messages":[]}"#,
                Some("user_id"),
            ),
            (br#"{"model":"m"}"#, Some("messages")),
            (br#"{"model":"m","messages":[]}"#, Some("messages")),
        ] {
            let e = prepare(Endpoint::ChatCompletions, body).expect_err("invalid");
            assert_eq!(e.status, 400, "{}", String::from_utf8_lossy(body));
            assert_eq!(e.param.as_deref(), param);
        }
        assert!(prepare(Endpoint::Embeddings, br#"{"model":"m","stream":true}"#).is_err());
    }
}
