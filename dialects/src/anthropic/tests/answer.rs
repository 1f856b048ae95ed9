//! `answer_from_chat`, `error_body`, `usage_of_message` and `NativeStreamUsage`.

use super::super::{NativeStreamUsage, answer_from_chat, error_body, usage_of_message};
use crate::Usage;
use serde_json::{Value, json};

fn completion(message: Value, finish: &str) -> Value {
    json!({
        "id": "chatcmpl-abc", "object": "chat.completion", "model": "gpt-x",
        "choices": [{ "index": 0, "message": message, "finish_reason": finish }],
        "usage": { "prompt_tokens": 100, "completion_tokens": 20,
                   "prompt_tokens_details": { "cached_tokens": 30 } },
    })
}

#[test]
fn a_text_answer_becomes_a_message() {
    let m = answer_from_chat(&completion(
        json!({ "role": "assistant", "content": "Hello" }),
        "stop",
    ))
    .expect("message");
    assert_eq!(
        m,
        json!({
            "id": "msg_abc", "type": "message", "role": "assistant", "model": "gpt-x",
            "content": [{ "type": "text", "text": "Hello" }],
            "stop_reason": "end_turn", "stop_sequence": null,
            "usage": { "input_tokens": 70, "output_tokens": 20,
                       "cache_read_input_tokens": 30, "cache_creation_input_tokens": 0 },
        })
    );
}

#[test]
fn tool_calls_become_tool_use_blocks() {
    let m = answer_from_chat(&completion(
        json!({ "role": "assistant", "content": "Let me look.", "tool_calls": [
            { "id": "call_1", "type": "function",
              "function": { "name": "get", "arguments": "{\"city\":\"Oslo\"}" } },
            { "id": "call_2", "type": "function",
              "function": { "name": "bad", "arguments": "not json" } },
            { "id": "call_3", "type": "function", "function": { "name": "none", "arguments": "" } },
        ]}),
        "tool_calls",
    ))
    .expect("message");
    assert_eq!(
        m["content"],
        json!([
            { "type": "text", "text": "Let me look." },
            { "type": "tool_use", "id": "call_1", "name": "get", "input": { "city": "Oslo" } },
            { "type": "tool_use", "id": "call_2", "name": "bad", "input": { "_raw": "not json" } },
            { "type": "tool_use", "id": "call_3", "name": "none", "input": {} },
        ])
    );
    assert_eq!(m["stop_reason"], "tool_use");
}

#[test]
fn finish_reasons_refusals_and_missing_parts() {
    for (finish, want) in [
        ("stop", "end_turn"),
        ("length", "max_tokens"),
        ("function_call", "tool_use"),
        ("content_filter", "refusal"),
        ("other", "end_turn"),
    ] {
        let m = answer_from_chat(&completion(json!({ "content": "x" }), finish)).expect("message");
        assert_eq!(m["stop_reason"], want);
    }
    let m = answer_from_chat(&completion(
        json!({ "content": null, "refusal": "I can't." }),
        "stop",
    ))
    .expect("message");
    assert_eq!(
        m["content"],
        json!([{ "type": "text", "text": "I can't." }])
    );
    let bare = json!({ "id": "x1", "choices": [{ "message": { "content": "" } }] });
    let m = answer_from_chat(&bare).expect("message");
    assert_eq!(m["id"], "msg_x1");
    assert_eq!(m["content"], json!([]));
    assert_eq!(m["usage"]["input_tokens"], 0);
    assert!(answer_from_chat(&json!({ "choices": [] })).is_err());
    assert!(answer_from_chat(&json!("x")).is_err());
}

#[test]
fn error_bodies_follow_anthropics_types() {
    for (status, kind, want) in [
        (400, "invalid_request_error", "invalid_request_error"),
        (401, "invalid_request_error", "authentication_error"),
        (402, "insufficient_quota", "billing_error"),
        (403, "permission_error", "permission_error"),
        (404, "invalid_request_error", "not_found_error"),
        (409, "conflict", "invalid_request_error"),
        (413, "invalid_request_error", "request_too_large"),
        (429, "rate_limit_exceeded", "rate_limit_error"),
        (500, "server_error", "api_error"),
        (502, "upstream_error", "api_error"),
        (503, "upstream_error", "overloaded_error"),
        (529, "x", "overloaded_error"),
        (504, "upstream_error", "timeout_error"),
        (502, "overloaded_error", "overloaded_error"),
        (400, "request_too_large", "request_too_large"),
        (500, "invalid_request_error", "api_error"),
    ] {
        assert_eq!(
            error_body(status, kind, "why"),
            json!({ "type": "error", "error": { "type": want, "message": "why" } }),
            "{status} {kind}"
        );
    }
}

#[test]
fn native_usage_counts_cache_reads_and_writes_as_prompt() {
    let m = json!({ "usage": { "input_tokens": 10, "output_tokens": 5,
        "cache_read_input_tokens": 100, "cache_creation_input_tokens": 20 } });
    assert_eq!(
        usage_of_message(&m),
        Some(Usage {
            prompt_tokens: 130,
            completion_tokens: 5,
            cached_tokens: 100
        })
    );
    assert_eq!(usage_of_message(&json!({ "content": [] })), None);
}

#[test]
fn native_stream_usage_reads_start_delta_and_stop() {
    let mut u = NativeStreamUsage::default();
    let start = json!({ "type": "message_start", "message": { "usage": {
        "input_tokens": 10, "output_tokens": 1,
        "cache_read_input_tokens": 100, "cache_creation_input_tokens": 20 } } });
    assert!(!u.on_event(Some("message_start"), &start.to_string()));
    assert!(!u.on_event(Some("ping"), r#"{"type":"ping"}"#));
    assert!(!u.on_event(None, r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":42}}"#));
    assert_eq!(
        u.usage,
        Some(Usage {
            prompt_tokens: 130,
            completion_tokens: 42,
            cached_tokens: 100
        })
    );
    assert!(!u.complete);
    // A delta with the input fields (cumulative) replaces them.
    u.on_event(
        Some("message_delta"),
        r#"{"type":"message_delta","usage":{"output_tokens":50,"input_tokens":12,"cache_read_input_tokens":100,"cache_creation_input_tokens":20}}"#,
    );
    assert_eq!(
        u.usage,
        Some(Usage {
            prompt_tokens: 132,
            completion_tokens: 50,
            cached_tokens: 100
        })
    );
    assert!(!u.on_event(None, r#"{"type":"message_stop"}"#));
    assert!(u.complete);
    assert!(u.on_event(
        Some("error"),
        r#"{"type":"error","error":{"type":"overloaded_error","message":"x"}}"#
    ));
    assert!(u.on_event(None, r#"{"type":"error"}"#));
    assert!(!u.on_event(None, "not json"));
}
