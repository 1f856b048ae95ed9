//! Embeddings: deterministic unit vectors derived from a hash of each input.

use crate::{count_tokens, json_response};
use base64::Engine;
use serde_json::{Value, json};
use sluice_plugin_sdk::{ErrorBody, HttpResponse};

/// Dimensions of an echo embedding unless the request asks for fewer or more.
const DEFAULT_DIMENSIONS: usize = 16;

/// The inputs of a request as texts (token arrays are joined as numbers).
fn inputs(req: &Value) -> Result<Vec<String>, ErrorBody> {
    let bad = || {
        ErrorBody::bad_request("`input` must be a string, a list of strings or token arrays")
            .with_param("input")
    };
    let join = |items: &[Value]| {
        items
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    };
    match req.get("input") {
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(items)) if !items.is_empty() && items.iter().all(Value::is_string) => {
            Ok(items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect())
        }
        Some(Value::Array(items)) if !items.is_empty() && items.iter().all(Value::is_number) => {
            Ok(vec![join(items)])
        }
        Some(Value::Array(items)) if !items.is_empty() && items.iter().all(Value::is_array) => {
            Ok(items
                .iter()
                .filter_map(Value::as_array)
                .map(|t| join(t))
                .collect())
        }
        _ => Err(bad()),
    }
}

/// A unit vector of `dims` values derived from `text` (FNV-1a seeded xorshift).
fn vector(text: &str, dims: usize) -> Vec<f32> {
    let mut state: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        state = (state ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut v: Vec<f32> = (0..dims)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect();
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

pub(crate) fn answer(model: &str, req: &Value) -> Result<HttpResponse, ErrorBody> {
    let inputs = inputs(req)?;
    let dims = match req.get("dimensions") {
        None | Some(Value::Null) => DEFAULT_DIMENSIONS,
        Some(d) => d
            .as_u64()
            .filter(|d| (1..=4096).contains(d))
            .ok_or_else(|| {
                ErrorBody::bad_request("`dimensions` must be between 1 and 4096")
                    .with_param("dimensions")
            })? as usize,
    };
    let base64 = match req.get("encoding_format").and_then(Value::as_str) {
        None | Some("float") => false,
        Some("base64") => true,
        Some(other) => {
            return Err(ErrorBody::bad_request(format!(
                "`encoding_format` must be `float` or `base64`, not `{other}`"
            ))
            .with_param("encoding_format"));
        }
    };
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let v = vector(text, dims);
            let embedding = if base64 {
                let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                json!(base64::engine::general_purpose::STANDARD.encode(bytes))
            } else {
                json!(v)
            };
            json!({ "object": "embedding", "index": i, "embedding": embedding })
        })
        .collect();
    let tokens: u32 = inputs.iter().map(|t| count_tokens(t).max(1)).sum();
    Ok(json_response(&json!({
        "object": "list", "data": data, "model": model,
        "usage": { "prompt_tokens": tokens, "total_tokens": tokens },
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::json;

    #[test]
    fn vectors_are_deterministic_unit_vectors() {
        let a = vector("hello", 16);
        assert_eq!(a, vector("hello", 16));
        assert_ne!(a, vector("hellp", 16));
        let norm: f32 = a.iter().map(|x| x * x).sum();
        assert!((norm - 1.0).abs() < 1e-4);
    }

    #[test]
    fn base64_decodes_to_the_float_vector() {
        let floats = json(&answer("m", &json!({"input":["x","y"]})).expect("ok").body);
        let b64 = json(
            &answer("m", &json!({"input":["x","y"],"encoding_format":"base64"}))
                .expect("ok")
                .body,
        );
        assert_eq!(floats["data"].as_array().map(Vec::len), Some(2));
        let raw = base64::engine::general_purpose::STANDARD
            .decode(b64["data"][1]["embedding"].as_str().expect("string"))
            .expect("base64");
        let decoded: Vec<f32> = raw
            .chunks(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let expected: Vec<f32> = floats["data"][1]["embedding"]
            .as_array()
            .expect("list")
            .iter()
            .filter_map(Value::as_f64)
            .map(|x| x as f32)
            .collect();
        assert_eq!(decoded, expected);
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(
            answer("m", &json!({"input":[]})).expect_err("400").status,
            400
        );
        assert_eq!(
            answer("m", &json!({"input":"x","encoding_format":"hex"}))
                .expect_err("400")
                .status,
            400
        );
        assert_eq!(
            answer("m", &json!({"input":"x","dimensions":0}))
                .expect_err("400")
                .status,
            400
        );
    }
}
