use super::*;
use crate::TEST;
use sluice_plugin_sdk::Endpoint;
use sluice_plugin_sdk::openai::test_support::json as parse;

const TEXT: &str = include_str!("../../../../tests/fixtures/anthropic/text.json");
const TOOL_USE: &str = include_str!("../../../../tests/fixtures/anthropic/tool_use.json");
const TOOL_ONLY: &str = include_str!("../../../../tests/fixtures/anthropic/tool_use_only.json");
const MAX_TOKENS: &str = include_str!("../../../../tests/fixtures/anthropic/max_tokens.json");
const OVERLOADED: &str = include_str!("../../../../tests/fixtures/anthropic/error_overloaded.json");

fn answer(status: u16, body: &str) -> HttpResponse {
    let resp = HttpResponse {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.as_bytes().to_vec(),
    };
    from_upstream(
        &TEST.ctx(Endpoint::ChatCompletions, false),
        &resp,
        1_700_000_000,
    )
    .expect("maps")
}

#[test]
fn text_blocks_join_and_cache_tokens_count_as_prompt() {
    let r = answer(200, TEXT);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.headers,
        vec![("content-type".to_string(), "application/json".to_string())]
    );
    assert_eq!(
        parse(&r.body),
        json!({
            "id": "chatcmpl-msg_01XFDUDYJgAACzvnptvVoYEL",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": "claude-sonnet-4-5-20250929",
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "refusal": null,
                    "content": "Hello! The capital of France is Paris. It has been the capital since 987 AD."},
                "logprobs": null,
                "finish_reason": "stop"
            }],
            "usage": {"prompt_tokens": 1233, "completion_tokens": 35, "total_tokens": 1268,
                      "prompt_tokens_details": {"cached_tokens": 1024}}
        })
    );
}

#[test]
fn tool_use_becomes_tool_calls() {
    let v = parse(&answer(200, TOOL_USE).body);
    let choice = &v["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(
        choice["message"]["content"],
        "I'll check the current weather in Paris for you."
    );
    let calls = choice["message"]["tool_calls"].as_array().expect("calls");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["id"], "toolu_01A09q90qw90lq917835lq9");
    assert_eq!(calls[0]["type"], "function");
    assert_eq!(calls[0]["function"]["name"], "get_weather");
    let args: Value =
        serde_json::from_str(calls[0]["function"]["arguments"].as_str().expect("string"))
            .expect("JSON");
    assert_eq!(
        args,
        json!({"location": "Paris, France", "unit": "celsius"})
    );
    assert_eq!(v["usage"]["prompt_tokens"], 384);
    assert_eq!(v["usage"]["completion_tokens"], 67);
}

#[test]
fn tool_use_without_text_has_null_content() {
    let v = parse(&answer(200, TOOL_ONLY).body);
    let message = &v["choices"][0]["message"];
    assert_eq!(message["content"], Value::Null);
    assert_eq!(message["tool_calls"][1]["function"]["name"], "get_time");
    assert_eq!(message["tool_calls"][1]["function"]["arguments"], "{}");
    assert_eq!(v["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
}

#[test]
fn stop_reasons_map_to_finish_reasons() {
    let v = parse(&answer(200, MAX_TOKENS).body);
    assert_eq!(v["choices"][0]["finish_reason"], "length");
    assert_eq!(v["model"], "claude-3-5-haiku-20241022");
    for (stop, finish) in [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("pause_turn", "stop"),
        ("refusal", "content_filter"),
        ("model_context_window_exceeded", "length"),
    ] {
        assert_eq!(finish_reason(stop).as_str(), finish, "{stop}");
    }
}

#[test]
fn a_message_without_id_model_or_text_still_maps() {
    let v = translate(
        &json!({"content": [], "stop_reason": null}),
        "req-9",
        "fallback",
        5,
    )
    .expect("maps");
    assert_eq!(v["id"], "chatcmpl-req-9");
    assert_eq!(v["model"], "fallback");
    assert_eq!(v["choices"][0]["message"]["content"], "");
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert_eq!(v["usage"]["total_tokens"], 0);
}

#[test]
fn errors_and_garbage() {
    let r = answer(529, OVERLOADED);
    assert_eq!(r.status, 503);
    assert_eq!(parse(&r.body)["error"]["message"], "anthropic: Overloaded");
    let resp = HttpResponse {
        status: 200,
        headers: vec![],
        body: b"not json".to_vec(),
    };
    let e = from_upstream(&TEST.ctx(Endpoint::ChatCompletions, false), &resp, 0).expect_err("502");
    assert_eq!(e.status, 502);
    let e = translate(&json!({"id": "x"}), "r", "m", 0).expect_err("502");
    assert_eq!(e.status, 502);
}
