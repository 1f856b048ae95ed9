//! Legacy text completions: the answer repeats the prompt (and the suffix, if any).

use crate::sse::{SseBody, include_usage, pieces};
use crate::{count_tokens, json_response};
use serde_json::{Value, json};
use sluice_plugin_sdk::{ErrorBody, HttpResponse, RequestCtx};

/// The prompts of a request: a string, a list of strings, or token arrays (echoed as numbers).
fn prompts(req: &Value) -> Result<Vec<String>, ErrorBody> {
    let bad = || {
        ErrorBody::bad_request("`prompt` must be a string, a list of strings or token arrays")
            .with_param("prompt")
    };
    match req.get("prompt") {
        None => Ok(vec![String::new()]),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => Ok(items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()),
        Some(Value::Array(items)) if items.iter().all(Value::is_number) => Ok(vec![tokens(items)]),
        Some(Value::Array(items)) if items.iter().all(Value::is_array) => Ok(items
            .iter()
            .filter_map(Value::as_array)
            .map(|t| tokens(t))
            .collect()),
        Some(_) => Err(bad()),
    }
}

fn tokens(items: &[Value]) -> String {
    items
        .iter()
        .map(|t| t.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

pub(crate) fn answer(
    ctx: &RequestCtx,
    model: &str,
    req: &Value,
    created: u64,
) -> Result<HttpResponse, ErrorBody> {
    let prompts = prompts(req)?;
    let n = req
        .get("n")
        .and_then(Value::as_u64)
        .unwrap_or(1)
        .clamp(1, 128);
    let suffix = req.get("suffix").and_then(Value::as_str).unwrap_or("");
    let max = req.get("max_tokens").and_then(Value::as_u64);
    let texts: Vec<(String, &str)> = prompts
        .iter()
        .map(|p| {
            let full = format!("{p}{suffix}");
            match max {
                Some(max) if u64::from(count_tokens(&full)) > max => {
                    let kept: Vec<&str> = full.split_whitespace().take(max as usize).collect();
                    (kept.join(" "), "length")
                }
                _ => (full, "stop"),
            }
        })
        .collect();
    let prompt_tokens: u32 = prompts.iter().map(|p| count_tokens(p).max(1)).sum();
    let completion_tokens: u32 = texts.iter().map(|(t, _)| count_tokens(t)).sum::<u32>() * n as u32;
    let usage = json!({
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    });
    let id = format!("cmpl-{}", ctx.request_id);
    // Choices are ordered prompt by prompt, `n` for each, as OpenAI does.
    let choices = texts
        .iter()
        .flat_map(|t| std::iter::repeat_n(t, n as usize))
        .enumerate();

    if !ctx.stream {
        let choices: Vec<Value> = choices
            .map(|(i, (text, finish))| {
                json!({ "index": i, "text": text, "logprobs": null, "finish_reason": finish })
            })
            .collect();
        return Ok(json_response(&json!({
            "id": id, "object": "text_completion", "created": created, "model": model,
            "choices": choices, "usage": usage,
        })));
    }

    let chunk = |choices: Value| {
        json!({ "id": id, "object": "text_completion", "created": created, "model": model,
                "choices": choices })
    };
    let mut out = SseBody::new();
    for (i, (text, finish)) in choices {
        for piece in pieces(text) {
            out.push(&chunk(
                json!([{ "index": i, "text": piece, "logprobs": null, "finish_reason": null }]),
            ));
        }
        out.push(&chunk(
            json!([{ "index": i, "text": "", "logprobs": null, "finish_reason": finish }]),
        ));
    }
    if include_usage(req) {
        let mut last = chunk(json!([]));
        last["usage"] = usage;
        out.push(&last);
    }
    Ok(out.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{ctx, json};
    use sluice_plugin_sdk::Endpoint;

    #[test]
    fn echoes_each_prompt_n_times_with_the_suffix() {
        let r = answer(
            &ctx(Endpoint::Completions, false),
            "m",
            &json!({"prompt":["a b","c"],"n":2,"suffix":" z"}),
            1,
        )
        .expect("answers");
        let v = json(&r.body);
        let texts: Vec<&str> = v["choices"]
            .as_array()
            .expect("choices")
            .iter()
            .filter_map(|c| c["text"].as_str())
            .collect();
        assert_eq!(texts, vec!["a b z", "a b z", "c z", "c z"]);
        assert_eq!(v["usage"]["prompt_tokens"], 3);
        assert_eq!(v["usage"]["completion_tokens"], 10);
    }

    #[test]
    fn accepts_token_arrays_and_rejects_other_prompts() {
        let r = answer(
            &ctx(Endpoint::Completions, false),
            "m",
            &json!({"prompt":[1,2,3]}),
            1,
        )
        .expect("answers");
        assert_eq!(json(&r.body)["choices"][0]["text"], "1 2 3");
        let e = answer(
            &ctx(Endpoint::Completions, false),
            "m",
            &json!({"prompt":{"x":1}}),
            1,
        )
        .expect_err("400");
        assert_eq!(e.status, 400);
    }
}
