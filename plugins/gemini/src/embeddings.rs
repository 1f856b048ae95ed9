//! Embeddings: OpenAI `/embeddings` to `embedContent` (one input) or `batchEmbedContents` (a list).
//!
//! Gemini embeds text only, so token-array inputs are refused. `dimensions` becomes
//! `outputDimensionality`. `encoding_format: "base64"` answers each vector as base64 of its
//! little-endian `f32` values. The format (and the usage estimate) is remembered between
//! `to-upstream` and `from-upstream` in a thread-local of the instance: the contract gives an
//! adapter no per-request state of its own. If another instance answers `from-upstream`, the
//! answer falls back to float vectors and 0 prompt tokens.
//!
//! **Usage is estimated.** Gemini reports no token counts for embeddings, so `prompt_tokens` is
//! the sum over the inputs of ceil(characters / 4), the usual rough rate for English text.

use crate::model_id;
use crate::request::headers;
use base64::Engine;
use serde_json::{Value, json};
use sluice_plugin_sdk::openai::bad;
use sluice_plugin_sdk::openai::response::json_response;
use sluice_plugin_sdk::{ErrorBody, HttpResponse, Provider, UpstreamRequest};
use std::cell::RefCell;

/// What `from-upstream` needs to know about the embeddings request it answers.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Pending {
    /// Whether the client asked for `encoding_format: "base64"`.
    pub base64: bool,
    /// The estimated prompt tokens.
    pub prompt_tokens: u32,
    /// The model to name in the answer.
    pub model: String,
}

thread_local! {
    /// The embeddings request this instance is serving.
    static PENDING: RefCell<Option<Pending>> = const { RefCell::new(None) };
}

/// Remembers the request being served.
pub(crate) fn remember(p: Pending) {
    PENDING.with(|s| *s.borrow_mut() = Some(p));
}

/// Forgets any earlier request.
pub(crate) fn forget() {
    PENDING.with(|s| *s.borrow_mut() = None);
}

/// The request being served, if one was remembered (taken: it answers once).
pub(crate) fn take() -> Option<Pending> {
    PENDING.with(|s| s.borrow_mut().take())
}

/// Estimated tokens of `text`: ceil(characters / 4).
pub(crate) fn estimate_tokens(text: &str) -> u32 {
    u32::try_from(text.chars().count().div_ceil(4)).unwrap_or(u32::MAX)
}

/// The texts to embed and whether the input was a list.
fn inputs(req: &Value) -> Result<(Vec<&str>, bool), ErrorBody> {
    let tokens = || {
        bad(
            "input",
            "the gemini provider embeds text: token-array inputs are not supported",
        )
    };
    match req.get("input") {
        Some(Value::String(s)) if !s.is_empty() => Ok((vec![s.as_str()], false)),
        Some(Value::Array(items)) if !items.is_empty() => {
            if items.iter().any(|i| i.is_number() || i.is_array()) {
                return Err(tokens());
            }
            let texts: Option<Vec<&str>> = items
                .iter()
                .map(|i| i.as_str().filter(|s| !s.is_empty()))
                .collect();
            texts
                .map(|t| (t, true))
                .ok_or_else(|| bad("input", "every `input` must be a non-empty string"))
        }
        _ => Err(bad(
            "input",
            "`input` must be a non-empty string or a list of strings",
        )),
    }
}

/// The upstream call for an OpenAI embeddings request, and what to remember for the answer.
pub(crate) fn upstream_request(
    provider: &Provider,
    req: &Value,
) -> Result<(UpstreamRequest, Pending), ErrorBody> {
    let (texts, list) = inputs(req)?;
    let dims = match req.get("dimensions") {
        None | Some(Value::Null) => None,
        Some(d) => Some(
            d.as_u64()
                .filter(|d| *d >= 1)
                .ok_or_else(|| bad("dimensions", "`dimensions` must be a positive integer"))?,
        ),
    };
    let base64 = match req.get("encoding_format").and_then(Value::as_str) {
        None | Some("float") => false,
        Some("base64") => true,
        Some(other) => {
            return Err(bad(
                "encoding_format",
                format!("`encoding_format` must be `float` or `base64`, not `{other}`"),
            ));
        }
    };
    let model = model_id(provider);
    let content = |text: &str| {
        let mut c = json!({ "content": { "parts": [{ "text": text }] } });
        if let Some(d) = dims {
            c["outputDimensionality"] = json!(d);
        }
        c
    };
    let (path, body) = if list {
        let requests: Vec<Value> = texts
            .iter()
            .map(|t| {
                let mut r = content(t);
                r["model"] = json!(format!("models/{model}"));
                r
            })
            .collect();
        (
            format!("/models/{model}:batchEmbedContents"),
            json!({ "requests": requests }),
        )
    } else {
        (format!("/models/{model}:embedContent"), content(texts[0]))
    };
    let pending = Pending {
        base64,
        prompt_tokens: texts
            .iter()
            .map(|t| estimate_tokens(t))
            .fold(0, u32::saturating_add),
        model: model.to_string(),
    };
    let call = UpstreamRequest {
        method: "POST".into(),
        path,
        headers: headers(provider),
        body: Some(body.to_string().into_bytes()),
        stream: false,
    };
    Ok((call, pending))
}

/// One vector as OpenAI encodes it: the numbers, or base64 of little-endian `f32`s.
fn encode(values: &[Value], base64: bool) -> Result<Value, ErrorBody> {
    if !values.iter().all(Value::is_number) {
        return Err(ErrorBody::bad_upstream(
            "gemini answered an embedding that is not numbers",
        ));
    }
    if !base64 {
        return Ok(Value::Array(values.to_vec()));
    }
    let bytes: Vec<u8> = values
        .iter()
        .filter_map(Value::as_f64)
        .flat_map(|x| (x as f32).to_le_bytes())
        .collect();
    Ok(json!(
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

/// Translates an `embedContent` or `batchEmbedContents` answer into OpenAI's list.
pub(crate) fn translate(body: &Value, pending: &Pending) -> Result<Value, ErrorBody> {
    let vectors: Vec<&Vec<Value>> = if let Some(one) = body.pointer("/embedding/values") {
        vec![one.as_array().ok_or_else(bad_answer)?]
    } else {
        body.get("embeddings")
            .and_then(Value::as_array)
            .ok_or_else(bad_answer)?
            .iter()
            .map(|e| {
                e.get("values")
                    .and_then(Value::as_array)
                    .ok_or_else(bad_answer)
            })
            .collect::<Result<_, _>>()?
    };
    let mut data = Vec::with_capacity(vectors.len());
    for (i, values) in vectors.into_iter().enumerate() {
        let embedding = encode(values, pending.base64)?;
        data.push(json!({ "object": "embedding", "index": i, "embedding": embedding }));
    }
    Ok(json!({
        "object": "list",
        "data": data,
        "model": pending.model,
        "usage": { "prompt_tokens": pending.prompt_tokens, "total_tokens": pending.prompt_tokens },
    }))
}

fn bad_answer() -> ErrorBody {
    ErrorBody::bad_upstream("gemini answered embeddings in an unknown shape")
}

/// Translates an answer into the 200 response for the client.
pub(crate) fn respond(body: &Value, pending: &Pending) -> Result<HttpResponse, ErrorBody> {
    translate(body, pending).map(|v| json_response(&v))
}

#[cfg(test)]
mod tests;
