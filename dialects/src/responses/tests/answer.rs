//! `answer_from_chat`, `output_items`, `usage_of_response`, `NativeStream`.

use super::{request, whole_completion};
use crate::Usage;
use crate::responses::{NativeStream, answer_from_chat, output_items, usage_of_response};
use serde_json::json;

#[test]
fn a_completion_becomes_a_response_with_the_request_echoed() {
    let r = answer_from_chat(&whole_completion(), &request(), "resp_abc", 7).expect("answer");
    assert_eq!(r["id"], json!("resp_abc"));
    assert_eq!(r["object"], json!("response"));
    assert_eq!(r["created_at"], json!(7));
    assert_eq!(r["status"], json!("completed"));
    assert_eq!(r["incomplete_details"], json!(null));
    assert_eq!(r["error"], json!(null));
    assert_eq!(r["model"], json!("gpt-x"));
    assert_eq!(
        r["output"],
        json!([
            {"id": "msg_abc_0", "type": "message", "role": "assistant", "status": "completed",
             "content": [{"type": "output_text", "text": "Let me check.", "annotations": [],
                          "logprobs": []}]},
            {"id": "fc_abc_1", "type": "function_call", "call_id": "call_a", "name": "weather",
             "arguments": "{\"city\":\"Paris\"}", "status": "completed"},
            {"id": "fc_abc_2", "type": "function_call", "call_id": "call_b", "name": "weather",
             "arguments": "{\"city\":\"Rome\"}", "status": "completed"},
        ])
    );
    assert_eq!(
        r["usage"],
        json!({"input_tokens": 20, "input_tokens_details": {"cached_tokens": 4, "cache_write_tokens": 0},
               "output_tokens": 9, "output_tokens_details": {"reasoning_tokens": 2},
               "total_tokens": 29})
    );
    assert_eq!(r["instructions"], json!("Be brief."));
    assert_eq!(r["tools"], request()["tools"]);
    assert_eq!(r["tool_choice"], json!("auto"));
    assert_eq!(r["temperature"], json!(0.5));
    assert_eq!(r["top_p"], json!(null));
    assert_eq!(r["parallel_tool_calls"], json!(true));
    assert_eq!(r["store"], json!(true));
    assert_eq!(r["metadata"], json!({"k": "v"}));
    assert_eq!(r["text"], json!({"format": {"type": "text"}}));
    assert_eq!(r["truncation"], json!("disabled"));
    assert_eq!(r["previous_response_id"], json!(null));
    assert_eq!(
        output_items(&r),
        r["output"].as_array().cloned().unwrap_or_default()
    );
    assert_eq!(
        usage_of_response(&r),
        Some(Usage {
            prompt_tokens: 20,
            completion_tokens: 9,
            cached_tokens: 4
        })
    );
}

#[test]
fn a_refusal_and_a_cut_short_answer() {
    let chat = json!({"model": "m", "choices": [{"index": 0, "finish_reason": "stop",
        "message": {"role": "assistant", "content": null, "refusal": "I can't."}}]});
    let r = answer_from_chat(&chat, &json!({"model": "m", "input": "x"}), "resp_1", 1).expect("ok");
    assert_eq!(
        r["output"][0]["content"],
        json!([{"type": "refusal", "refusal": "I can't."}])
    );
    assert_eq!(r["usage"], json!(null));
    assert_eq!(usage_of_response(&r), None);

    let chat = json!({"model": "m", "choices": [{"index": 0, "finish_reason": "length",
        "message": {"role": "assistant", "content": "partial"}}]});
    let req = json!({"model": "m", "input": "x", "max_output_tokens": 5, "store": false,
                     "tool_choice": "none", "user": "u"});
    let r = answer_from_chat(&chat, &req, "resp_2", 1).expect("ok");
    assert_eq!(r["status"], json!("incomplete"));
    assert_eq!(
        r["incomplete_details"],
        json!({"reason": "max_output_tokens"})
    );
    assert_eq!(r["output"][0]["status"], json!("incomplete"));
    assert_eq!(r["max_output_tokens"], json!(5));
    assert_eq!(r["store"], json!(false));
    assert_eq!(r["tool_choice"], json!("none"));
    assert_eq!(r["user"], json!("u"));

    assert!(answer_from_chat(&json!({"choices": []}), &req, "resp_3", 1).is_err());
    assert!(output_items(&json!({})).is_empty());
}

#[test]
fn a_native_stream_is_read_for_its_usage() {
    let mut s = NativeStream::default();
    assert!(!s.on_event(r#"{"type":"response.created","sequence_number":0,"response":{}}"#));
    assert!(!s.on_event("not json"));
    assert!(!s.complete);
    let done = json!({"type": "response.completed", "sequence_number": 5, "response": {
        "id": "resp_1", "usage": {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5,
        "input_tokens_details": {"cached_tokens": 1}, "output_tokens_details": {"reasoning_tokens": 0}}}});
    assert!(!s.on_event(&done.to_string()));
    assert!(s.complete);
    assert_eq!(
        s.usage,
        Some(Usage {
            prompt_tokens: 3,
            completion_tokens: 2,
            cached_tokens: 1
        })
    );
    assert_eq!(
        s.response.as_ref().map(|r| r["id"].clone()),
        Some(json!("resp_1"))
    );
    assert!(NativeStream::default().on_event(r#"{"type":"error","message":"x"}"#));
    assert!(NativeStream::default().on_event(r#"{"type":"response.failed","response":{}}"#));
}
