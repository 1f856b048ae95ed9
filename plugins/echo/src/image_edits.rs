//! Image edits and variations: the same 1x1 PNG as generations, `n` times. Edits need a
//! `prompt` and report usage the way `gpt-image-1` does (input: the prompt's words plus one a
//! source image; output: one an image); variations report none, like `dall-e-2`.

use crate::images::{b64, count, pngs};
use crate::{count_tokens, json_response};
use serde_json::{Value, json};
use sluice_plugin_sdk::{ErrorBody, HttpResponse};

/// How many source images the host's rendering of the form describes under `image`.
fn images(req: &Value) -> Result<u32, ErrorBody> {
    let n = match req.get("image") {
        Some(Value::Object(_)) => 1,
        Some(Value::Array(items)) => items.iter().filter(|i| i.is_object()).count(),
        _ => 0,
    };
    if n == 0 {
        return Err(ErrorBody::bad_request("an `image` file is required").with_param("image"));
    }
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// `POST /images/edits`.
pub(crate) fn edit(req: &Value, created: u64) -> Result<HttpResponse, ErrorBody> {
    let sources = images(req)?;
    let prompt = req
        .get("prompt")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            ErrorBody::bad_request("`prompt` must be a non-empty string").with_param("prompt")
        })?;
    let n = count(req)?;
    let text = count_tokens(prompt);
    let output = u32::try_from(n).unwrap_or(u32::MAX);
    Ok(json_response(&json!({
        "created": created,
        "data": pngs(n, b64(req)?, None),
        "usage": {
            "input_tokens": text + sources,
            "output_tokens": output,
            "total_tokens": text + sources + output,
            "input_tokens_details": { "text_tokens": text, "image_tokens": sources },
        },
    })))
}

/// `POST /images/variations`.
pub(crate) fn variation(req: &Value, created: u64) -> Result<HttpResponse, ErrorBody> {
    images(req)?;
    let data = pngs(count(req)?, b64(req)?, None);
    Ok(json_response(&json!({ "created": created, "data": data })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::json;

    fn file() -> Value {
        json!({"filename": "a.png", "content_type": "image/png", "bytes": 70})
    }

    #[test]
    fn edits_make_n_images_and_report_usage() {
        let req = json!({"image": [file(), file()], "prompt": "add a hat", "n": 3,
                         "response_format": "b64_json"});
        let v = json(&edit(&req, 5).expect("ok").body);
        assert_eq!(v["data"].as_array().map(Vec::len), Some(3));
        assert!(v["data"][0]["b64_json"].is_string());
        assert_eq!(v["usage"]["input_tokens"], 3 + 2);
        assert_eq!(v["usage"]["output_tokens"], 3);
        let no_prompt = edit(&json!({"image": file()}), 5).expect_err("400");
        assert_eq!(no_prompt.param.as_deref(), Some("prompt"));
        let no_image = edit(&json!({"prompt": "x"}), 5).expect_err("400");
        assert_eq!(no_image.param.as_deref(), Some("image"));
    }

    #[test]
    fn variations_make_n_urls() {
        let v = json(
            &variation(&json!({"image": file(), "n": 2}), 5)
                .expect("ok")
                .body,
        );
        assert_eq!(v["data"].as_array().map(Vec::len), Some(2));
        assert!(
            v["data"][1]["url"]
                .as_str()
                .is_some_and(|u| u.starts_with("data:image/png;base64,"))
        );
        assert!(v.get("usage").is_none());
    }
}
