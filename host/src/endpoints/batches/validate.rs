//! Checking a batch's input file: one JSON request per line, each with a unique `custom_id`,
//! `method` POST, the batch's endpoint as `url`, and a model the creator's key may use. Every
//! problem is reported with its line, as OpenAI does.

use crate::pipeline::Pipeline;
use crate::pipeline::bindings::types::Principal;
use crate::pipeline::stages::model_allowed;
use crate::store::BatchError;
use serde_json::Value;
use std::collections::HashSet;

/// Whether `creator` may use `model` on `pipeline` (a batch line's check).
pub fn model_ok(pipeline: &Pipeline, creator: &Principal, model: &str) -> bool {
    pipeline
        .route(model)
        .is_some_and(|r| model_allowed(creator, &r.name, model))
}

/// Errors reported at most (the rest are summarised by the count).
const MAX_ERRORS: usize = 100;

fn error(code: &str, message: String, param: Option<&str>, line: u64) -> BatchError {
    BatchError {
        code: code.into(),
        message,
        param: param.map(str::to_string),
        line: Some(line),
    }
}

/// The lines of `input` as (custom_id, body JSON text), or every error found. `model_ok` says
/// whether the batch's creator may use a model.
pub fn lines(
    input: &str,
    endpoint: &str,
    max_lines: usize,
    model_ok: impl Fn(&str) -> bool,
) -> Result<Vec<(String, String)>, Vec<BatchError>> {
    // A byte-order mark some editors write is not part of the first line.
    let input = input.strip_prefix('\u{feff}').unwrap_or(input);
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    let bare = endpoint.trim_start_matches("/v1");
    for (i, text) in input.lines().enumerate() {
        let n = i as u64 + 1;
        if text.trim().is_empty() {
            continue;
        }
        if out.len() + errors.len() >= max_lines {
            errors.push(BatchError {
                code: "too_many_requests".into(),
                message: format!(
                    "The input has more than {max_lines} requests, the limit per batch."
                ),
                param: None,
                line: Some(n),
            });
            break;
        }
        match line(text, n, endpoint, bare, &model_ok, &mut seen) {
            Ok(l) => out.push(l),
            Err(e) => errors.push(e),
        }
        if errors.len() >= MAX_ERRORS {
            break;
        }
    }
    if out.is_empty() && errors.is_empty() {
        errors.push(BatchError {
            code: "empty_file".into(),
            message: "The input file has no requests.".into(),
            param: None,
            line: None,
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn line(
    text: &str,
    n: u64,
    endpoint: &str,
    bare: &str,
    model_ok: &impl Fn(&str) -> bool,
    seen: &mut HashSet<String>,
) -> Result<(String, String), BatchError> {
    let v: Value = serde_json::from_str(text).map_err(|e| {
        error(
            "invalid_json_line",
            format!("This line is not valid JSON: {e}."),
            None,
            n,
        )
    })?;
    let custom_id = match v.get("custom_id") {
        Some(Value::String(c)) if !c.is_empty() => c.clone(),
        _ => {
            return Err(error(
                "missing_required_parameter",
                "Each line needs a string `custom_id`.".into(),
                Some("custom_id"),
                n,
            ));
        }
    };
    if !seen.insert(custom_id.clone()) {
        return Err(error(
            "duplicate_custom_id",
            format!("The custom_id `{custom_id}` is used by an earlier line."),
            Some("custom_id"),
            n,
        ));
    }
    if v.get("method").and_then(Value::as_str) != Some("POST") {
        return Err(error(
            "invalid_method",
            "Each line's `method` must be `POST`.".into(),
            Some("method"),
            n,
        ));
    }
    let url = v.get("url").and_then(Value::as_str).unwrap_or_default();
    if url != endpoint && url != bare {
        return Err(error(
            "invalid_url",
            format!("Each line's `url` must be the batch's endpoint, `{endpoint}`, not `{url}`."),
            Some("url"),
            n,
        ));
    }
    let Some(body) = v.get("body").filter(|b| b.is_object()) else {
        return Err(error(
            "missing_required_parameter",
            "Each line needs a JSON object `body`.".into(),
            Some("body"),
            n,
        ));
    };
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !model_ok(model) {
        return Err(error(
            "model_not_found",
            format!("The model `{model}` does not exist or you do not have access to it."),
            Some("body.model"),
            n,
        ));
    }
    Ok((custom_id, body.to_string()))
}

#[cfg(test)]
#[path = "validate_props.rs"]
mod props;
