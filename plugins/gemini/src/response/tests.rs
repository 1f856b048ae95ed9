use super::*;
use crate::TEST;
use sluice_plugin_sdk::openai::test_support::json as parse;

const TEXT: &str = include_str!("../../../../tests/fixtures/gemini/text.json");
const CALLS: &str = include_str!("../../../../tests/fixtures/gemini/function_call.json");
const MANY: &str = include_str!("../../../../tests/fixtures/gemini/two_candidates.json");
const BLOCKED: &str = include_str!("../../../../tests/fixtures/gemini/blocked_prompt.json");
const EXHAUSTED: &str =
    include_str!("../../../../tests/fixtures/gemini/error_resource_exhausted.json");
const ONE: &str = include_str!("../../../../tests/fixtures/gemini/embed_content.json");

fn answer(endpoint: &str, status: u16, body: &str) -> HttpResponse {
    let resp = HttpResponse {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.as_bytes().to_vec(),
    };
    let ctx = TEST.ctx(Endpoint::from_name(endpoint).expect("an endpoint"), false);
    from_upstream(&ctx, &resp, 1_700_000_000).expect("maps")
}

#[test]
fn text_answer_maps_with_usage() {
    let r = answer("chat.completions", 200, TEXT);
    assert_eq!(r.status, 200);
    assert_eq!(
        parse(&r.body),
        json!({
            "id": "chatcmpl-mJ2aaPqXN9exnvgPkqLu-QI",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": "gemini-2.5-flash",
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "refusal": null,
                            "content": "The capital of France is Paris. It lies on the Seine."},
                "logprobs": null,
                "finish_reason": "stop"
            }],
            "usage": {"prompt_tokens": 12, "completion_tokens": 38, "total_tokens": 50,
                      "prompt_tokens_details": {"cached_tokens": 4},
                      "completion_tokens_details": {"reasoning_tokens": 24}}
        })
    );
}

#[test]
fn function_calls_become_tool_calls() {
    let v = parse(&answer("chat.completions", 200, CALLS).body);
    let choice = &v["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(choice["message"]["content"], "Let me look that up.");
    assert_eq!(
        choice["message"]["tool_calls"],
        json!([
            {"id":"call_0","type":"function","function":{"name":"get_weather",
                "arguments":"{\"location\":\"Paris, France\",\"unit\":\"celsius\"}"}},
            {"id":"call_1","type":"function","function":{"name":"get_time","arguments":"{}"}}
        ])
    );
    let only_call = json!({"candidates":[{"content":{"role":"model","parts":[
        {"functionCall":{"id":"fc-9","name":"f","args":{"a":1}}}]},"finishReason":"STOP"}]});
    let v = translate(&only_call, "req-1", "gemini", 1).expect("maps");
    assert_eq!(v["choices"][0]["message"]["content"], Value::Null);
    assert_eq!(v["choices"][0]["message"]["tool_calls"][0]["id"], "fc-9");
    assert_eq!(v["id"], "chatcmpl-req-1");
    assert_eq!(v["model"], "gemini");
}

#[test]
fn candidates_become_choices_with_finish_reasons() {
    let v = parse(&answer("chat.completions", 200, MANY).body);
    let choices = v["choices"].as_array().expect("choices");
    assert_eq!(choices.len(), 3);
    assert_eq!(choices[0]["message"]["content"], "Roses are red");
    assert_eq!(choices[1]["index"], 1);
    assert_eq!(choices[1]["finish_reason"], "length");
    assert_eq!(choices[2]["finish_reason"], "content_filter");
    assert_eq!(choices[2]["message"]["content"], "");
    for (reason, tools, want) in [
        ("STOP", false, "stop"),
        ("STOP", true, "tool_calls"),
        ("MAX_TOKENS", false, "length"),
        ("SAFETY", false, "content_filter"),
        ("RECITATION", false, "content_filter"),
        ("BLOCKLIST", false, "content_filter"),
        ("PROHIBITED_CONTENT", false, "content_filter"),
        ("SPII", false, "content_filter"),
        ("MALFORMED_FUNCTION_CALL", false, "stop"),
        ("OTHER", false, "stop"),
    ] {
        assert_eq!(finish_reason(reason, tools).as_str(), want, "{reason}");
    }
}

#[test]
fn thoughts_are_left_out() {
    let v = translate(
        &json!({"candidates":[{"content":{"parts":[{"text":"pondering","thought":true},{"text":"42"}]},
                               "finishReason":"STOP"}]}),
        "r", "m", 0,
    )
    .expect("maps");
    assert_eq!(v["choices"][0]["message"]["content"], "42");
}

#[test]
fn a_blocked_prompt_is_a_content_filter_choice() {
    let v = parse(&answer("chat.completions", 200, BLOCKED).body);
    assert_eq!(v["choices"][0]["finish_reason"], "content_filter");
    assert_eq!(v["choices"][0]["message"]["content"], Value::Null);
    assert_eq!(
        v["choices"][0]["message"]["refusal"],
        "The prompt was blocked (SAFETY)."
    );
    assert_eq!(v["usage"]["prompt_tokens"], 18);
    assert_eq!(
        translate(&json!({}), "r", "m", 0).expect_err("502").status,
        502
    );
}

#[test]
fn errors_garbage_and_embeddings_dispatch() {
    let r = answer("chat.completions", 429, EXHAUSTED);
    assert_eq!(r.status, 429);
    assert_eq!(parse(&r.body)["error"]["code"], "rate_limit_exceeded");
    let resp = HttpResponse {
        status: 200,
        headers: vec![],
        body: b"<html>".to_vec(),
    };
    let e = from_upstream(&TEST.ctx(Endpoint::ChatCompletions, false), &resp, 0).expect_err("502");
    assert_eq!(e.status, 502);

    embeddings::remember(embeddings::Pending {
        base64: false,
        prompt_tokens: 4,
        model: "text-embedding-004".into(),
    });
    let v = parse(&answer("embeddings", 200, ONE).body);
    assert_eq!(v["object"], "list");
    assert_eq!(v["model"], "text-embedding-004");
    assert_eq!(v["usage"]["prompt_tokens"], 4);
    // Without a remembered request (never in practice) it still answers floats.
    let v = parse(&answer("embeddings", 200, ONE).body);
    assert_eq!(v["model"], "gemini");
    assert!(v["data"][0]["embedding"].is_array());
}
