//! Chat completions: the answer repeats the last user message.

use crate::sse::{SseBody, include_usage, pieces};
use crate::{count_tokens, json_response};
use serde_json::{Value, json};
use sluice_plugin_sdk::{ErrorBody, HttpResponse, RequestCtx};

/// The text of a message's `content`: a string, or the text parts of a list of parts.
fn content_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| match p.get("type").and_then(Value::as_str) {
                Some("text") => p.get("text").and_then(Value::as_str).map(str::to_string),
                Some("image_url") => Some("[image]".to_string()),
                Some("input_audio") => Some("[audio]".to_string()),
                Some("file") => Some("[file]".to_string()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}

/// Cuts `text` at the first stop sequence, if any.
/// Returns the kept text and whether a stop sequence cut it.
fn apply_stop<'a>(text: &'a str, stop: Option<&Value>) -> (&'a str, bool) {
    let stops: Vec<&str> = match stop {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let cut = stops
        .iter()
        .filter(|s| !s.is_empty())
        .filter_map(|s| text.find(s))
        .min();
    match cut {
        Some(at) => (&text[..at], true),
        None => (text, false),
    }
}

/// Keeps at most `max` words of `text`.
fn apply_max_tokens(text: &str, max: Option<u64>) -> (String, bool) {
    match max {
        Some(max) if (count_tokens(text) as u64) > max => {
            let kept: Vec<&str> = text.split_whitespace().take(max as usize).collect();
            (kept.join(" "), true)
        }
        _ => (text.to_string(), false),
    }
}

/// The tool to call, when `tool_choice` asks for one.
fn forced_tool(req: &Value) -> Option<String> {
    let tools = req.get("tools")?.as_array()?;
    match req.get("tool_choice")? {
        Value::String(s) if s == "required" => tools
            .first()?
            .pointer("/function/name")?
            .as_str()
            .map(str::to_string),
        Value::Object(_) => req
            .pointer("/tool_choice/function/name")?
            .as_str()
            .map(str::to_string),
        _ => None,
    }
}

pub(crate) fn answer(
    ctx: &RequestCtx,
    model: &str,
    req: &Value,
    created: u64,
) -> Result<HttpResponse, ErrorBody> {
    let messages = req
        .get("messages")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            ErrorBody::bad_request("`messages` must be a list").with_param("messages")
        })?;
    let prompt: String = messages
        .iter()
        .filter_map(|m| m.get("content"))
        .map(content_text)
        .collect::<Vec<_>>()
        .join(" ");
    let last_user = messages
        .iter()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .and_then(|m| m.get("content"))
        .map(content_text)
        .unwrap_or_default();
    let n = req
        .get("n")
        .and_then(Value::as_u64)
        .unwrap_or(1)
        .clamp(1, 128);
    let max = req
        .get("max_completion_tokens")
        .or_else(|| req.get("max_tokens"))
        .and_then(Value::as_u64);

    let (text, _stopped) = apply_stop(&last_user, req.get("stop"));
    let (text, truncated) = apply_max_tokens(text, max);
    let json_mode = matches!(
        req.pointer("/response_format/type").and_then(Value::as_str),
        Some("json_object" | "json_schema")
    );
    let content = if json_mode {
        json!({ "echo": text }).to_string()
    } else {
        text
    };
    let tool = forced_tool(req);
    let finish = if tool.is_some() {
        "tool_calls"
    } else if truncated {
        "length"
    } else {
        "stop"
    };
    let prompt_tokens = count_tokens(&prompt).max(1);
    let completion_tokens = count_tokens(&content) * n as u32;
    let usage = json!({
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    });
    let id = format!("chatcmpl-{}", ctx.request_id);
    let tool_call = |i: u64| {
        tool.as_ref().map(|name| {
            json!([{
                "index": 0,
                "id": format!("call_{}_{i}", ctx.request_id),
                "type": "function",
                "function": { "name": name, "arguments": json!({ "echo": content }).to_string() },
            }])
        })
    };

    if !ctx.stream {
        let choices: Vec<Value> = (0..n)
            .map(|i| {
                let mut message = json!({ "role": "assistant", "content": content });
                if let Some(calls) = tool_call(i) {
                    message["content"] = Value::Null;
                    message["tool_calls"] = calls;
                }
                json!({ "index": i, "message": message, "logprobs": null, "finish_reason": finish })
            })
            .collect();
        return Ok(json_response(&json!({
            "id": id, "object": "chat.completion", "created": created, "model": model,
            "choices": choices, "usage": usage,
        })));
    }

    let chunk = |choices: Value| {
        json!({ "id": id, "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": choices })
    };
    let mut out = SseBody::new();
    for i in 0..n {
        out.push(&chunk(
            json!([{ "index": i, "delta": { "role": "assistant", "content": "" },
                                  "logprobs": null, "finish_reason": null }]),
        ));
    }
    for i in 0..n {
        if let Some(calls) = tool_call(i) {
            out.push(&chunk(
                json!([{ "index": i, "delta": { "tool_calls": calls },
                                      "logprobs": null, "finish_reason": null }]),
            ));
            continue;
        }
        for piece in pieces(&content) {
            out.push(&chunk(json!([{ "index": i, "delta": { "content": piece },
                                      "logprobs": null, "finish_reason": null }])));
        }
    }
    for i in 0..n {
        out.push(&chunk(
            json!([{ "index": i, "delta": {}, "logprobs": null, "finish_reason": finish }]),
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

    fn chat(req: Value, stream: bool) -> HttpResponse {
        answer(&ctx(Endpoint::ChatCompletions, stream), "echo-1", &req, 7).expect("answers")
    }

    #[test]
    fn repeats_the_last_user_message_with_usage() {
        let r = chat(
            json!({"messages":[{"role":"system","content":"be brief"},
                                {"role":"user","content":"hello there world"}]}),
            false,
        );
        let v = json(&r.body);
        assert_eq!(v["choices"][0]["message"]["content"], "hello there world");
        assert_eq!(v["choices"][0]["finish_reason"], "stop");
        assert_eq!(v["usage"]["prompt_tokens"], 5);
        assert_eq!(v["usage"]["completion_tokens"], 3);
        assert_eq!(v["model"], "echo-1");
        assert_eq!(v["id"], "chatcmpl-req-1");
    }

    #[test]
    fn honours_n_stop_max_tokens_and_json_mode() {
        let v = json(
            &chat(
                json!({"n":3,"stop":["END"],
            "messages":[{"role":"user","content":"a b END c"}]}),
                false,
            )
            .body,
        );
        assert_eq!(v["choices"].as_array().map(Vec::len), Some(3));
        assert_eq!(v["choices"][2]["message"]["content"], "a b ");
        assert_eq!(v["usage"]["completion_tokens"], 6);

        let v = json(
            &chat(
                json!({"max_tokens":2,
            "messages":[{"role":"user","content":"one two three"}]}),
                false,
            )
            .body,
        );
        assert_eq!(v["choices"][0]["message"]["content"], "one two");
        assert_eq!(v["choices"][0]["finish_reason"], "length");

        let v = json(
            &chat(
                json!({"response_format":{"type":"json_schema","json_schema":{}},
            "messages":[{"role":"user","content":[{"type":"text","text":"hi"},
                {"type":"image_url","image_url":{"url":"data:image/png;base64,AA=="}}]}]}),
                false,
            )
            .body,
        );
        let content = v["choices"][0]["message"]["content"]
            .as_str()
            .expect("text");
        assert_eq!(
            serde_json::from_str::<Value>(content).expect("JSON content"),
            json!({"echo": "hi [image]"})
        );
    }

    #[test]
    fn answers_a_forced_tool_with_a_tool_call() {
        let v = json(
            &chat(
                json!({"tool_choice":"required",
            "tools":[{"type":"function","function":{"name":"lookup","parameters":{}}}],
            "messages":[{"role":"user","content":"find x"}]}),
                false,
            )
            .body,
        );
        let call = &v["choices"][0]["message"]["tool_calls"][0];
        assert_eq!(call["function"]["name"], "lookup");
        assert_eq!(v["choices"][0]["finish_reason"], "tool_calls");
    }

    #[test]
    fn streams_words_then_finish_then_usage_then_done() {
        let r = chat(
            json!({"stream":true,"stream_options":{"include_usage":true},
            "messages":[{"role":"user","content":"one two"}]}),
            true,
        );
        assert_eq!(r.headers[0].1, "text/event-stream");
        let text = String::from_utf8(r.body).expect("utf-8");
        let events: Vec<&str> = text.split("\n\n").filter(|e| !e.is_empty()).collect();
        assert_eq!(events.last(), Some(&"data: [DONE]"));
        let chunks: Vec<Value> = events[..events.len() - 1]
            .iter()
            .map(|e| json(e.trim_start_matches("data: ").as_bytes()))
            .collect();
        let content: String = chunks
            .iter()
            .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
            .collect();
        assert_eq!(content, "one two");
        assert_eq!(
            chunks[chunks.len() - 2]["choices"][0]["finish_reason"],
            "stop"
        );
        assert_eq!(chunks[chunks.len() - 1]["usage"]["completion_tokens"], 2);
    }

    #[test]
    fn rejects_a_body_without_messages() {
        let e =
            answer(&ctx(Endpoint::ChatCompletions, false), "m", &json!({}), 0).expect_err("400");
        assert_eq!(e.status, 400);
        assert_eq!(e.param.as_deref(), Some("messages"));
    }
}
