//! `request_to_chat` and `count_tokens`.

use super::super::{count_tokens, request_to_chat};
use crate::Invalid;
use serde_json::{Value, json};

fn tr(body: Value) -> Value {
    Value::Object(request_to_chat(&body).expect("translates"))
}

/// The field a refusal names.
fn refused(body: Value) -> String {
    let e: Invalid = request_to_chat(&body).expect_err("400");
    e.param.unwrap_or_default()
}

fn base(messages: Value) -> Value {
    json!({ "model": "claude-x", "max_tokens": 100, "messages": messages })
}

fn with(key: &str, v: Value) -> Value {
    let mut b = base(json!([{ "role": "user", "content": "hi" }]));
    b[key] = v;
    b
}

#[test]
fn a_plain_request_keeps_model_and_max_tokens() {
    let out = tr(json!({
        "model": "claude-x", "max_tokens": 100, "temperature": 0.5, "top_p": 0.9,
        "system": "be brief", "messages": [{ "role": "user", "content": "hi" }],
        "stop_sequences": ["END"], "metadata": { "user_id": "u-1" },
        "service_tier": "auto", "unknown_field": 1,
        "thinking": { "type": "disabled" },
    }));
    assert_eq!(
        out,
        json!({
            "model": "claude-x", "max_tokens": 100, "temperature": 0.5, "top_p": 0.9,
            "messages": [
                { "role": "system", "content": "be brief" },
                { "role": "user", "content": "hi" },
            ],
            "stop": ["END"], "user": "u-1",
        })
    );
}

#[test]
fn system_blocks_join_and_streams_ask_for_usage() {
    let mut b = with(
        "system",
        json!([
            { "type": "text", "text": "one", "cache_control": { "type": "ephemeral" } },
            { "type": "text", "text": "two" },
        ]),
    );
    b["stream"] = json!(true);
    let out = tr(b);
    assert_eq!(
        out["messages"][0],
        json!({ "role": "system", "content": "one\n\ntwo" })
    );
    assert_eq!(out["stream"], json!(true));
    assert_eq!(out["stream_options"], json!({ "include_usage": true }));
}

#[test]
fn images_and_documents_become_parts() {
    let out = tr(base(json!([{ "role": "user", "content": [
        { "type": "image", "source": { "type": "base64", "media_type": "image/png", "data": "AAA" } },
        { "type": "image", "source": { "type": "url", "url": "https://x/y.png" } },
        { "type": "document", "source": { "type": "base64", "media_type": "application/pdf", "data": "JVBE" } },
        { "type": "document", "source": { "type": "text", "media_type": "text/plain", "data": "notes" } },
        { "type": "text", "text": "look", "cache_control": { "type": "ephemeral" } },
    ]}])));
    assert_eq!(
        out["messages"][0]["content"],
        json!([
            { "type": "image_url", "image_url": { "url": "data:image/png;base64,AAA" } },
            { "type": "image_url", "image_url": { "url": "https://x/y.png" } },
            { "type": "file", "file": { "filename": "document.pdf",
                                        "file_data": "data:application/pdf;base64,JVBE" } },
            { "type": "text", "text": "notes" },
            { "type": "text", "text": "look" },
        ])
    );
}

#[test]
fn tool_use_and_results_become_tool_calls_and_tool_messages() {
    let out = tr(base(json!([
        { "role": "user", "content": "weather?" },
        { "role": "assistant", "content": [
            { "type": "thinking", "thinking": "hmm", "signature": "s" },
            { "type": "text", "text": "Checking." },
            { "type": "tool_use", "id": "toolu_1", "name": "get", "input": { "city": "Oslo" } },
            { "type": "tool_use", "id": "toolu_2", "name": "now", "input": {} },
        ]},
        { "role": "user", "content": [
            { "type": "text", "text": "and?" },
            { "type": "tool_result", "tool_use_id": "toolu_1", "content": "rain" },
            { "type": "tool_result", "tool_use_id": "toolu_2", "is_error": true,
              "content": [{ "type": "text", "text": "no" }, { "type": "text", "text": "clock" }] },
        ]},
        { "role": "assistant", "content": [{ "type": "redacted_thinking", "data": "x" }] },
    ])));
    assert_eq!(
        out["messages"],
        json!([
            { "role": "user", "content": "weather?" },
            { "role": "assistant", "content": "Checking.", "tool_calls": [
                { "id": "toolu_1", "type": "function",
                  "function": { "name": "get", "arguments": "{\"city\":\"Oslo\"}" } },
                { "id": "toolu_2", "type": "function",
                  "function": { "name": "now", "arguments": "{}" } },
            ]},
            { "role": "tool", "tool_call_id": "toolu_1", "content": "rain" },
            { "role": "tool", "tool_call_id": "toolu_2", "content": "Error: no\nclock" },
            { "role": "user", "content": "and?" },
        ])
    );
}

#[test]
fn an_assistant_turn_of_tool_calls_only_has_null_content() {
    let out = tr(base(json!([
        { "role": "user", "content": "go" },
        { "role": "assistant", "content": [
            { "type": "tool_use", "id": "t", "name": "f", "input": { "a": 1 } }] },
    ])));
    assert_eq!(out["messages"][1]["content"], Value::Null);
}

#[test]
fn tools_and_tool_choice_map() {
    let mut b = with(
        "tools",
        json!([
            { "name": "get", "description": "Get it", "input_schema": { "type": "object" } },
            { "type": "custom", "name": "put", "input_schema": { "type": "object" }, "strict": true },
        ]),
    );
    b["tool_choice"] = json!({ "type": "any", "disable_parallel_tool_use": true });
    let out = tr(b);
    assert_eq!(
        out["tools"],
        json!([
            { "type": "function", "function": { "name": "get", "description": "Get it",
                                                "parameters": { "type": "object" } } },
            { "type": "function", "function": { "name": "put", "strict": true,
                                                "parameters": { "type": "object" } } },
        ])
    );
    assert_eq!(out["tool_choice"], json!("required"));
    assert_eq!(out["parallel_tool_calls"], json!(false));
    for (choice, want) in [
        (json!({ "type": "auto" }), json!("auto")),
        (json!({ "type": "none" }), json!("none")),
        (
            json!({ "type": "tool", "name": "get" }),
            json!({ "type": "function", "function": { "name": "get" } }),
        ),
    ] {
        let out = tr(with("tool_choice", choice));
        assert_eq!(out["tool_choice"], want);
        assert!(out.get("parallel_tool_calls").is_none());
    }
}

#[test]
fn output_format_becomes_a_json_schema_response_format() {
    let out = tr(with(
        "output_config",
        json!({ "effort": "high",
        "format": { "type": "json_schema", "schema": { "type": "object" } } }),
    ));
    assert_eq!(
        out["response_format"],
        json!({ "type": "json_schema", "json_schema": {
            "name": "output", "schema": { "type": "object" }, "strict": true } })
    );
}

#[test]
fn refusals_name_the_field() {
    let hi = json!([{ "role": "user", "content": "hi" }]);
    assert_eq!(refused(with("top_k", json!(5))), "top_k");
    assert_eq!(
        refused(with(
            "thinking",
            json!({ "type": "enabled", "budget_tokens": 2000 })
        )),
        "thinking"
    );
    assert_eq!(refused(with("container", json!("c-1"))), "container");
    assert_eq!(
        refused(with(
            "mcp_servers",
            json!([{ "type": "url", "url": "x", "name": "m" }])
        )),
        "mcp_servers"
    );
    assert!(request_to_chat(&with("mcp_servers", json!([]))).is_ok());
    assert_eq!(
        refused(with("stop_sequences", json!(["a", "b", "c", "d", "e"]))),
        "stop_sequences"
    );
    assert_eq!(
        refused(with(
            "tools",
            json!([
        { "name": "ok", "input_schema": { "type": "object" } },
        { "type": "web_search_20250305", "name": "web_search" }])
        )),
        "tools[1]"
    );
    assert_eq!(
        refused(with(
            "tools",
            json!([{ "type": "bash_20250124", "name": "bash" }])
        )),
        "tools[0]"
    );
    assert_eq!(
        refused(json!({ "model": "m", "messages": hi })),
        "max_tokens"
    );
    assert_eq!(
        refused(json!({ "model": "m", "max_tokens": 0, "messages": hi })),
        "max_tokens"
    );
    assert_eq!(refused(json!({ "max_tokens": 1, "messages": hi })), "model");
    assert_eq!(
        refused(json!({ "model": "m", "max_tokens": 1 })),
        "messages"
    );
    assert_eq!(
        refused(json!({ "model": "m", "max_tokens": 1, "messages": "hi" })),
        "messages"
    );
    assert_eq!(
        refused(json!({ "model": "m", "max_tokens": 1, "messages": [] })),
        "messages"
    );
    assert_eq!(refused(with("temperature", json!("hot"))), "temperature");
    assert_eq!(
        refused(with("tool_choice", json!({ "type": "tool" }))),
        "tool_choice.name"
    );
    assert!(
        request_to_chat(&json!("text"))
            .expect_err("400")
            .param
            .is_none()
    );
}

#[test]
fn content_refusals_name_the_block() {
    let block = |b: Value| refused(base(json!([{ "role": "user", "content": [b] }])));
    assert_eq!(
        block(json!({ "type": "document", "source": { "type": "url", "url": "https://x/a.pdf" } })),
        "messages[0].content[0].source"
    );
    assert_eq!(
        block(json!({ "type": "image", "source": { "type": "file", "file_id": "f" } })),
        "messages[0].content[0].source"
    );
    assert_eq!(
        block(
            json!({ "type": "tool_result", "tool_use_id": "t", "content": [
            { "type": "text", "text": "see" },
            { "type": "image", "source": { "type": "url", "url": "https://x" } }] })
        ),
        "messages[0].content[0].content[1]"
    );
    assert_eq!(
        block(json!({ "type": "search_result", "source": "s" })),
        "messages[0].content[0]"
    );
    assert_eq!(
        block(json!({ "type": "text" })),
        "messages[0].content[0].text"
    );
    assert_eq!(
        block(json!({ "type": "text", "text": 3 })),
        "messages[0].content[0].text"
    );
    assert_eq!(block(json!("bare")), "messages[0].content[0]");
    assert_eq!(
        refused(base(json!([{ "role": "robot", "content": "x" }]))),
        "messages[0].role"
    );
    assert_eq!(
        refused(base(json!([{ "role": "user" }]))),
        "messages[0].content"
    );
}

#[test]
fn odd_inputs_never_panic() {
    for body in [
        json!(null),
        json!([]),
        json!({}),
        json!({ "messages": [null] }),
        json!({ "model": 1, "max_tokens": -1, "messages": [{}] }),
        base(json!([{ "role": "user", "content": [{ "type": 1 }] }])),
        base(json!([{ "role": "user", "content": [{ "type": "image" }] }])),
        base(json!([{ "role": "user", "content": [{ "type": "image", "source": [] }] }])),
        base(json!([{ "role": "assistant", "content": [{ "type": "tool_use" }] }])),
        with("tools", json!([{ "name": "x" }])),
        with("tool_choice", json!("auto")),
        with("system", json!([{ "type": "image" }])),
        with("metadata", json!({ "user_id": 1 })),
    ] {
        assert!(request_to_chat(&body).is_err(), "{body}");
    }
}

#[test]
fn count_tokens_estimates_text_images_and_tools() {
    // 40 bytes of text: 10 tokens; one message: 3 tokens.
    let text = "a".repeat(40);
    assert_eq!(
        count_tokens(&json!({ "model": "m", "messages": [{ "role": "user", "content": text }] })),
        Ok(13)
    );
    // An image and a 399-byte PDF (532 base64 characters).
    let pdf = "A".repeat(532);
    let body = json!({ "model": "m", "messages": [{ "role": "user", "content": [
        { "type": "image", "source": { "type": "url", "url": "https://x" } },
        { "type": "document", "source": { "type": "base64", "media_type": "application/pdf", "data": pdf } },
    ]}]});
    assert_eq!(count_tokens(&body), Ok(1600 + 100 + 3));
    // Tools count as their JSON; sampling fields are not checked, the conversation is.
    let with_tools = json!({ "model": "m", "top_k": 3, "messages": [{ "role": "user", "content": "" }],
        "tools": [{ "name": "f", "input_schema": { "type": "object" } }] });
    assert!(count_tokens(&with_tools).expect("counts") > 3);
    assert!(count_tokens(&json!({ "model": "m", "messages": [] })).is_err());
}
