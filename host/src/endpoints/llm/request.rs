//! Parses a client's JSON body once: the fields the gateway needs, the summary plugins get, and
//! the body the upstream gets.

use crate::error::ApiError;
use crate::pipeline::bindings::types::LlmMeta;
use bytes::Bytes;
use serde_json::{Map, Value};

pub use super::endpoint::Endpoint;

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
    /// The client's bytes, while the body needs no rewrite of its own (no `user_id` to remove).
    raw: Option<Bytes>,
    /// The endpoint it is for.
    endpoint: Endpoint,
}

/// The model of a moderation that names none, as OpenAI's API defaults it.
pub const DEFAULT_MODERATION_MODEL: &str = "omni-moderation-latest";

/// Parses and checks a request body for `endpoint`; a `user_id` may be at most `max_user_id`
/// bytes long.
pub fn prepare(endpoint: Endpoint, bytes: Bytes, max_user_id: usize) -> Result<Prepared, ApiError> {
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
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
    let defaulted =
        endpoint == Endpoint::Moderations && matches!(body.get("model"), None | Some(Value::Null));
    if defaulted {
        body.insert("model".into(), DEFAULT_MODERATION_MODEL.into());
    }
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
        Some(Value::String(u)) if u.len() > max_user_id => {
            return Err(ApiError::bad_request(format!(
                "`user_id` is {} bytes long; it may be at most {max_user_id} bytes.",
                u.len()
            ))
            .code("user_id_too_long")
            .param("user_id"));
        }
        Some(Value::String(u)) => Some(u),
        Some(_) => {
            return Err(ApiError::bad_request("`user_id` must be a string.").param("user_id"));
        }
    };
    // A transcript stream's usage rides on its `transcript.text.done` event, always sent.
    let client_wants_usage = endpoint.transcript_stream()
        || body
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
    if endpoint == Endpoint::ChatCompletions {
        check_files(&body)?;
    }
    let raw = (user_id.is_none() && !defaulted).then_some(bytes);
    Ok(Prepared {
        body,
        model,
        stream,
        user_id,
        client_wants_usage,
        meta,
        raw,
        endpoint,
    })
}

impl Prepared {
    /// The ids of uploaded files that `file` content parts name (`file.file_id`).
    pub fn file_ids(&self) -> Vec<String> {
        file_parts(&self.body)
            .filter_map(|p| p.pointer("/file/file_id").and_then(Value::as_str))
            .map(str::to_string)
            .collect()
    }

    /// Replaces each `file_id` part with the file's data (`resolve` gives a file's name and its
    /// data URL), then checks the files' sizes again. The body is sent rewritten.
    pub fn inline_files(
        &mut self,
        mut resolve: impl FnMut(&str) -> Option<(String, String)>,
    ) -> Result<(), ApiError> {
        for part in file_parts_mut(&mut self.body) {
            let Some(id) = part.pointer("/file/file_id").and_then(Value::as_str) else {
                continue;
            };
            if let Some((filename, data_url)) = resolve(id) {
                part["file"] = serde_json::json!({ "filename": filename, "file_data": data_url });
            }
        }
        self.raw = None;
        check_files(&self.body)
    }

    /// Whether the client asked for a JSON answer (a transcript's `response_format` is `json`,
    /// `verbose_json` or `diarized_json`, or none), for answers that do not say what they are.
    pub fn asks_json(&self) -> bool {
        match self.body.get("response_format") {
            Some(Value::String(f)) => f.ends_with("json"),
            _ => true,
        }
    }

    /// The body the upstream gets: the upstream model name set and, for streams, usage asked for.
    /// The client's own bytes are sent when nothing needs changing (same model name, no
    /// `user_id`, usage already asked for on a stream), saving a serialization per request.
    pub fn upstream_body(&mut self, upstream_model: &str) -> Bytes {
        if let Some(raw) = &self.raw
            && self.model == upstream_model
            && (!self.stream || self.client_wants_usage)
        {
            return raw.clone();
        }
        if self.model != upstream_model {
            self.body
                .insert("model".into(), Value::String(upstream_model.to_string()));
        }
        if self.stream && !self.endpoint.multipart() {
            let options = self
                .body
                .entry("stream_options")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(o) = options {
                o.insert("include_usage".into(), Value::Bool(true));
            }
        }
        Bytes::from(serde_json::to_vec(&self.body).unwrap_or_default())
    }
}

/// The content parts of every message.
fn file_parts(body: &Map<String, Value>) -> impl Iterator<Item = &Value> {
    body.get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| m.get("content").and_then(Value::as_array))
        .flatten()
}

fn file_parts_mut(body: &mut Map<String, Value>) -> impl Iterator<Item = &mut Value> {
    body.get_mut("messages")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(|m| m.get_mut("content").and_then(Value::as_array_mut))
        .flatten()
}

/// Largest file in a `file` content part (decoded).
pub const MAX_FILE_BYTES: usize = 10 << 20;
/// Largest total of `file` content parts in one request (decoded).
pub const MAX_FILES_BYTES: usize = 32 << 20;

/// Checks the `file` content parts of chat messages against the size limits.
pub(super) fn check_files(body: &Map<String, Value>) -> Result<(), ApiError> {
    let mut total = 0usize;
    for part in file_parts(body) {
        let Some(data) = part
            .get("file")
            .and_then(|f| f.get("file_data"))
            .and_then(Value::as_str)
        else {
            continue;
        };
        // `data:<mime>;base64,<data>` or bare base64; the decoded size is 3/4 of the base64.
        let b64 = data.split_once(";base64,").map(|(_, d)| d).unwrap_or(data);
        let size = b64.trim_end_matches('=').len() / 4 * 3;
        let name = part
            .pointer("/file/filename")
            .and_then(Value::as_str)
            .unwrap_or("a file part");
        if size > MAX_FILE_BYTES {
            return Err(ApiError::bad_request(format!(
                "`{name}` is about {} MB; a file may be at most 10 MB.",
                size.div_ceil(1 << 20)
            ))
            .code("file_too_large")
            .param("messages"));
        }
        total += size;
        if total > MAX_FILES_BYTES {
            return Err(ApiError::bad_request(
                "The files of this request add up to more than 32 MB, the limit per request.",
            )
            .code("files_too_large")
            .param("messages"));
        }
    }
    Ok(())
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
mod props;
#[cfg(test)]
mod tests;
