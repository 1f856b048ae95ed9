//! `input_items` and `request_to_chat`.

use crate::responses::{input_items, request_to_chat};
use serde_json::{Value, json};

fn chat(body: Value) -> serde_json::Map<String, Value> {
    request_to_chat(&body, &[]).expect("translates")
}

fn refused(body: Value) -> Option<String> {
    request_to_chat(&body, &[]).expect_err("refused").param
}

#[test]
fn a_string_input_is_one_user_message() {
    let items = input_items(&json!({"input": "hi"})).expect("items");
    assert_eq!(
        items,
        vec![json!({"type": "message", "role": "user",
                    "content": [{"type": "input_text", "text": "hi"}]})]
    );
    let c = chat(json!({"model": "m", "input": "hi", "instructions": "sys"}));
    assert_eq!(c["model"], json!("m"));
    assert_eq!(
        c["messages"],
        json!([{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"}])
    );
}

#[test]
fn easy_messages_are_normalised_and_bad_items_refused() {
    let items = input_items(&json!({"input": [
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": "b"},
        {"type": "function_call_output", "call_id": "c", "output": "x"},
    ]}))
    .expect("items");
    assert_eq!(items[0]["type"], json!("message"));
    assert_eq!(
        items[0]["content"],
        json!([{"type": "input_text", "text": "a"}])
    );
    assert_eq!(items[1]["content"][0]["type"], json!("output_text"));
    assert_eq!(items[2]["type"], json!("function_call_output"));

    let err = input_items(&json!({})).expect_err("missing");
    assert_eq!(err.param.as_deref(), Some("input"));
    let err = input_items(&json!({"input": ["x"]})).expect_err("not an object");
    assert_eq!(err.param.as_deref(), Some("input[0]"));
    let err = input_items(&json!({"input": [{"role": "tool", "content": "x"}]})).expect_err("role");
    assert_eq!(err.param.as_deref(), Some("input[0].role"));
    assert_eq!(refused(json!({"model": "m"})).as_deref(), Some("input"));
    assert_eq!(refused(json!({"input": "x"})).as_deref(), Some("model"));
}

#[test]
fn content_parts_map_to_chat_parts() {
    let c = chat(
        json!({"model": "m", "input": [{"type": "message", "role": "user", "content": [
        {"type": "input_text", "text": "look"},
        {"type": "input_image", "image_url": "https://x/y.png", "detail": "high"},
        {"type": "input_image", "image_url": "data:image/png;base64,AA", "detail": "auto"},
        {"type": "input_file", "filename": "a.pdf", "file_data": "data:application/pdf;base64,AA"},
        {"type": "input_file", "file_id": "file-1"},
    ]}, {"role": "developer", "content": "dev"}]}),
    );
    assert_eq!(
        c["messages"],
        json!([{"role": "user", "content": [
            {"type": "text", "text": "look"},
            {"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": "high"}},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA", "detail": "auto"}},
            {"type": "file", "file": {"filename": "a.pdf", "file_data": "data:application/pdf;base64,AA"}},
            {"type": "file", "file": {"file_id": "file-1"}},
        ]}, {"role": "system", "content": "dev"}])
    );
    let image_by_id = json!({"model": "m", "input": [{"role": "user", "content": [
        {"type": "input_image", "file_id": "file-1", "detail": "auto"}]}]});
    assert_eq!(
        refused(image_by_id).as_deref(),
        Some("input[0].content[0].image_url")
    );
    let audio = json!({"model": "m", "input": [{"role": "user", "content": [
        {"type": "input_audio", "input_audio": {}}]}]});
    assert_eq!(refused(audio).as_deref(), Some("input[0].content[0].type"));
}

#[test]
fn calls_merge_into_the_assistant_turn_and_outputs_become_tool_messages() {
    let history = vec![
        json!({"type": "message", "role": "user", "content": [{"type": "input_text", "text": "q"}]}),
        json!({"type": "reasoning", "id": "rs_1", "summary": []}),
        json!({"id": "msg_1", "type": "message", "role": "assistant", "status": "completed",
               "content": [{"type": "output_text", "text": "checking", "annotations": []}]}),
        json!({"id": "fc_1", "type": "function_call", "call_id": "c1", "name": "f",
               "arguments": "{}", "status": "completed"}),
        json!({"id": "fc_2", "type": "function_call", "call_id": "c2", "name": "g",
               "arguments": "{\"a\":1}", "status": "completed"}),
    ];
    let body = json!({"model": "m", "previous_response_id": "resp_1", "input": [
        {"type": "function_call_output", "call_id": "c1", "output": "one"},
        {"type": "function_call_output", "call_id": "c2",
         "output": [{"type": "input_text", "text": "tw"}, {"type": "input_text", "text": "o"}]},
    ]});
    let c = request_to_chat(&body, &history).expect("translates");
    assert_eq!(
        c["messages"],
        json!([
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": "checking", "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                {"id": "c2", "type": "function", "function": {"name": "g", "arguments": "{\"a\":1}"}},
            ]},
            {"role": "tool", "tool_call_id": "c1", "content": "one"},
            {"role": "tool", "tool_call_id": "c2", "content": "two"},
        ])
    );
    let lone_call = json!({"model": "m", "input": [
        {"type": "message", "role": "user", "content": "q"},
        {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"}]});
    assert_eq!(
        chat(lone_call)["messages"][1],
        json!({"role": "assistant", "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]})
    );
    let other = json!({"model": "m", "input": ["q", {"type": "web_search_call", "id": "ws"}]});
    assert_eq!(refused(other).as_deref(), Some("input[0]"));
    let other = json!({"model": "m", "input": [{"type": "item_reference", "id": "x"}]});
    assert_eq!(refused(other).as_deref(), Some("input[0].type"));
    let bad_history = vec![json!({"type": "web_search_call", "id": "ws"})];
    let err = request_to_chat(&json!({"model": "m", "input": "x"}), &bad_history).expect_err("400");
    assert_eq!(err.param.as_deref(), Some("previous_response_id"));
}

#[test]
fn tools_choice_and_options_map() {
    let c = chat(json!({
        "model": "m", "input": "x", "stream": true, "max_output_tokens": 100,
        "temperature": 0.2, "top_p": 0.9, "parallel_tool_calls": false,
        "safety_identifier": "u1", "metadata": {"a": "b"}, "store": false,
        "reasoning": {"effort": "low", "summary": "auto"}, "include": ["x"],
        "truncation": "auto", "unknown_field": 1,
        "tools": [{"type": "function", "name": "f", "description": "d",
                   "parameters": {"type": "object"}, "strict": true}],
        "tool_choice": {"type": "function", "name": "f"},
        "text": {"format": {"type": "json_schema", "name": "s", "schema": {"type": "object"},
                            "strict": true, "description": "desc"}},
    }));
    let expected = json!({
        "model": "m", "messages": [{"role": "user", "content": "x"}],
        "tools": [{"type": "function", "function": {"name": "f", "description": "d",
                   "parameters": {"type": "object"}, "strict": true}}],
        "tool_choice": {"type": "function", "function": {"name": "f"}},
        "max_completion_tokens": 100, "temperature": 0.2, "top_p": 0.9,
        "parallel_tool_calls": false, "user": "u1", "reasoning_effort": "low",
        "response_format": {"type": "json_schema", "json_schema": {"name": "s",
            "schema": {"type": "object"}, "strict": true, "description": "desc"}},
        "stream": true, "stream_options": {"include_usage": true},
    });
    assert_eq!(Value::Object(c), expected);
    let c = chat(
        json!({"model": "m", "input": "x", "tool_choice": "required",
                        "text": {"format": {"type": "json_object"}}, "user": "u"}),
    );
    assert_eq!(c["tool_choice"], json!("required"));
    assert_eq!(c["response_format"], json!({"type": "json_object"}));
    assert_eq!(c["user"], json!("u"));
    let c = chat(json!({"model": "m", "input": "x", "text": {"format": {"type": "text"}}}));
    assert!(!c.contains_key("response_format"));
}

#[test]
fn unsupported_features_are_refused_by_name() {
    let base = |k: &str, v: Value| {
        let mut b = json!({"model": "m", "input": "x"});
        b[k] = v;
        b
    };
    let cases = [
        (
            base(
                "tools",
                json!([{"type": "function", "name": "f"}, {"type": "web_search"}]),
            ),
            "tools[1].type",
        ),
        (
            base("tool_choice", json!({"type": "web_search_preview"})),
            "tool_choice",
        ),
        (base("tool_choice", json!("sometimes")), "tool_choice"),
        (base("background", json!(true)), "background"),
        (base("prompt", json!({"id": "pmpt_1"})), "prompt"),
        (base("conversation", json!("conv_1")), "conversation"),
        (
            base("text", json!({"format": {"type": "grammar"}})),
            "text.format.type",
        ),
        (base("instructions", json!(["x"])), "instructions"),
    ];
    for (body, param) in cases {
        assert_eq!(refused(body).as_deref(), Some(param));
    }
    assert!(request_to_chat(&base("background", json!(false)), &[]).is_ok());
    assert!(request_to_chat(&json!("nope"), &[]).is_err());
}
