//! Moderations: one result per input, nothing flagged, every score 0, unless an input holds the
//! marker `[flag:<category>]` (such as `[flag:violence]` or `[flag:self-harm/intent]`): that
//! category is then flagged with score 1.0. Inputs: a string, a list of strings, or a list of
//! multimodal parts (`text` and `image_url`), which is one input.

use crate::json_response;
use serde_json::{Map, Value, json};
use sluice_plugin_sdk::{ErrorBody, HttpResponse};

/// OpenAI's moderation categories.
const CATEGORIES: [&str; 13] = [
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/intent",
    "self-harm/instructions",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
];

/// The inputs as texts, and whether each had an image.
fn inputs(req: &Value) -> Result<Vec<(String, bool)>, ErrorBody> {
    let bad = || {
        ErrorBody::bad_request(
            "`input` must be a string, a list of strings or a list of text and image_url parts",
        )
        .with_param("input")
    };
    match req.get("input") {
        Some(Value::String(s)) => Ok(vec![(s.clone(), false)]),
        Some(Value::Array(items)) if !items.is_empty() && items.iter().all(Value::is_string) => {
            Ok(items
                .iter()
                .filter_map(Value::as_str)
                .map(|s| (s.to_string(), false))
                .collect())
        }
        Some(Value::Array(parts)) if !parts.is_empty() && parts.iter().all(Value::is_object) => {
            let text: Vec<&str> = parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect();
            let image = parts
                .iter()
                .any(|p| p.get("type") == Some(&json!("image_url")));
            Ok(vec![(text.join(" "), image)])
        }
        _ => Err(bad()),
    }
}

fn result(text: &str, image: bool) -> Value {
    let (mut categories, mut scores, mut applied) = (Map::new(), Map::new(), Map::new());
    let mut flagged = false;
    for c in CATEGORIES {
        let hit = text.contains(&format!("[flag:{c}]"));
        flagged |= hit;
        categories.insert(c.into(), json!(hit));
        scores.insert(c.into(), json!(if hit { 1.0 } else { 0.0 }));
        let types: Vec<&str> = match (hit, image) {
            (false, _) => vec![],
            (true, false) => vec!["text"],
            (true, true) => vec!["text", "image"],
        };
        applied.insert(c.into(), json!(types));
    }
    json!({
        "flagged": flagged, "categories": categories, "category_scores": scores,
        "category_applied_input_types": applied,
    })
}

/// `POST /moderations`.
pub(crate) fn answer(
    model: &str,
    req: &Value,
    request_id: &str,
) -> Result<HttpResponse, ErrorBody> {
    let results: Vec<Value> = inputs(req)?
        .iter()
        .map(|(text, image)| result(text, *image))
        .collect();
    let id = request_id.trim_start_matches("req_");
    Ok(json_response(
        &json!({ "id": format!("modr-{id}"), "model": model, "results": results }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::json;

    #[test]
    fn one_result_per_input_flagged_by_marker_only() {
        let v = json(
            &answer(
                "m",
                &json!({"input": ["fine", "bad [flag:violence]"]}),
                "req_1",
            )
            .expect("ok")
            .body,
        );
        let results = v["results"].as_array().expect("results");
        assert_eq!(results.len(), 2);
        assert_eq!(results[0]["flagged"], false);
        assert_eq!(results[0]["category_scores"]["hate"], 0.0);
        assert_eq!(results[1]["flagged"], true);
        assert_eq!(results[1]["categories"]["violence"], true);
        assert_eq!(results[1]["categories"]["violence/graphic"], false);
        assert_eq!(v["id"], "modr-1");
        let parts = json!({"input": [{"type": "text", "text": "[flag:self-harm/intent]"},
                                     {"type": "image_url", "image_url": {"url": "data:,"}}]});
        let v = json(&answer("m", &parts, "r").expect("ok").body);
        assert_eq!(v["results"].as_array().map(Vec::len), Some(1));
        assert_eq!(
            v["results"][0]["category_applied_input_types"]["self-harm/intent"],
            json!(["text", "image"])
        );
        assert!(answer("m", &json!({"input": 3}), "r").is_err());
    }
}
