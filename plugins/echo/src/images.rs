//! Image generation: a 1x1 PNG per image, as base64 or a data URL (edits and variations, in
//! `image_edits`, answer the same).

use crate::json_response;
use serde_json::{Value, json};
use sluice_plugin_sdk::{ErrorBody, HttpResponse};

/// A valid 1x1 transparent PNG.
pub(crate) const PNG_1X1_BASE64: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

pub(crate) fn answer(req: &Value, created: u64) -> Result<HttpResponse, ErrorBody> {
    let prompt = req
        .get("prompt")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            ErrorBody::bad_request("`prompt` must be a non-empty string").with_param("prompt")
        })?;
    let data = pngs(count(req)?, b64(req)?, Some(prompt));
    Ok(json_response(&json!({ "created": created, "data": data })))
}

/// `n`: 1 to 10, default 1.
pub(crate) fn count(req: &Value) -> Result<u64, ErrorBody> {
    let n = req.get("n").and_then(Value::as_u64).unwrap_or(1);
    if !(1..=10).contains(&n) {
        return Err(ErrorBody::bad_request("`n` must be between 1 and 10").with_param("n"));
    }
    Ok(n)
}

/// Whether `response_format` asks for `b64_json` (else `url`).
pub(crate) fn b64(req: &Value) -> Result<bool, ErrorBody> {
    match req.get("response_format").and_then(Value::as_str) {
        None | Some("url") => Ok(false),
        Some("b64_json") => Ok(true),
        Some(other) => Err(ErrorBody::bad_request(format!(
            "`response_format` must be `url` or `b64_json`, not `{other}`"
        ))
        .with_param("response_format")),
    }
}

/// `n` images: the 1x1 PNG as base64 or a data URL, with `revised_prompt` when given.
pub(crate) fn pngs(n: u64, b64: bool, revised_prompt: Option<&str>) -> Vec<Value> {
    (0..n)
        .map(|_| {
            let mut image = if b64 {
                json!({ "b64_json": PNG_1X1_BASE64 })
            } else {
                json!({ "url": format!("data:image/png;base64,{PNG_1X1_BASE64}") })
            };
            if let Some(p) = revised_prompt {
                image["revised_prompt"] = json!(p);
            }
            image
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::json;
    use base64::Engine;

    #[test]
    fn makes_n_pngs() {
        let v = json(
            &answer(
                &json!({"prompt": "a cat", "n": 2, "response_format": "b64_json"}),
                5,
            )
            .expect("ok")
            .body,
        );
        assert_eq!(v["data"].as_array().map(Vec::len), Some(2));
        let png = base64::engine::general_purpose::STANDARD
            .decode(v["data"][0]["b64_json"].as_str().expect("b64"))
            .expect("base64");
        assert_eq!(&png[1..4], b"PNG");
        assert_eq!(v["data"][1]["revised_prompt"], "a cat");
        let v = json(&answer(&json!({"prompt": "a cat"}), 5).expect("ok").body);
        assert!(
            v["data"][0]["url"]
                .as_str()
                .expect("url")
                .starts_with("data:image/png;base64,")
        );
        assert_eq!(
            answer(&json!({"prompt": ""}), 5).expect_err("400").status,
            400
        );
        assert_eq!(
            answer(&json!({"prompt": "x", "n": 11}), 5)
                .expect_err("400")
                .status,
            400
        );
    }
}
