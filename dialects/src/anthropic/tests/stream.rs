//! `StreamTranslator`.

use super::super::{StreamTranslator, answer_from_chat};
use crate::Event;
use serde_json::{Map, Value, json};

fn chunk(delta: Value, finish: Option<&str>) -> Value {
    json!({ "id": "chatcmpl-s1", "object": "chat.completion.chunk", "model": "gpt-x",
            "choices": [{ "index": 0, "delta": delta, "finish_reason": finish }] })
}

fn call(k: u64, id: Option<&str>, name: Option<&str>, args: &str) -> Value {
    let mut c = json!({ "index": k, "function": { "arguments": args } });
    if let Some(id) = id {
        c["id"] = json!(id);
        c["type"] = json!("function");
    }
    if let Some(name) = name {
        c["function"]["name"] = json!(name);
    }
    json!({ "tool_calls": [c] })
}

/// Text, then two tool calls with fragmented arguments, `tool_calls`, the usage chunk.
fn chunks() -> Vec<Value> {
    vec![
        chunk(json!({ "role": "assistant", "content": "" }), None),
        chunk(json!({ "content": "Let me " }), None),
        chunk(json!({ "content": "check." }), None),
        chunk(call(0, Some("call_a"), Some("get"), ""), None),
        chunk(call(0, None, None, "{\"city\":"), None),
        chunk(call(0, None, None, "\"Oslo\"}"), None),
        chunk(call(1, Some("call_b"), Some("now"), "{}"), None),
        chunk(json!({}), Some("tool_calls")),
        json!({ "id": "chatcmpl-s1", "object": "chat.completion.chunk", "model": "gpt-x",
                "choices": [], "usage": { "prompt_tokens": 50, "completion_tokens": 9,
                "prompt_tokens_details": { "cached_tokens": 10 } } }),
    ]
}

fn run(chunks: &[Value], extra: Map<String, Value>) -> Vec<Event> {
    let mut t = StreamTranslator::new("claude-x");
    let mut events: Vec<Event> = chunks.iter().flat_map(|c| t.on_chunk(c)).collect();
    events.extend(t.finish(extra));
    events
}

#[test]
fn a_stream_of_text_and_two_tool_calls() {
    let mut extra = Map::new();
    extra.insert("sluice".into(), json!({ "provider": "p" }));
    let events = run(&chunks(), extra);
    for e in &events {
        assert_eq!(e.data["type"], json!(e.name.expect("named")), "{e:?}");
    }
    let data: Vec<Value> = events.into_iter().map(|e| e.data).collect();
    assert_eq!(
        data,
        vec![
            json!({ "type": "message_start", "message": {
                "id": "msg_s1", "type": "message", "role": "assistant", "model": "claude-x",
                "content": [], "stop_reason": null, "stop_sequence": null,
                "usage": { "input_tokens": 0, "output_tokens": 0 } } }),
            json!({ "type": "ping" }),
            json!({ "type": "content_block_start", "index": 0,
                    "content_block": { "type": "text", "text": "" } }),
            json!({ "type": "content_block_delta", "index": 0,
                    "delta": { "type": "text_delta", "text": "Let me " } }),
            json!({ "type": "content_block_delta", "index": 0,
                    "delta": { "type": "text_delta", "text": "check." } }),
            json!({ "type": "content_block_stop", "index": 0 }),
            json!({ "type": "content_block_start", "index": 1, "content_block":
                    { "type": "tool_use", "id": "call_a", "name": "get", "input": {} } }),
            json!({ "type": "content_block_delta", "index": 1,
                    "delta": { "type": "input_json_delta", "partial_json": "{\"city\":" } }),
            json!({ "type": "content_block_delta", "index": 1,
                    "delta": { "type": "input_json_delta", "partial_json": "\"Oslo\"}" } }),
            json!({ "type": "content_block_stop", "index": 1 }),
            json!({ "type": "content_block_start", "index": 2, "content_block":
                    { "type": "tool_use", "id": "call_b", "name": "now", "input": {} } }),
            json!({ "type": "content_block_delta", "index": 2,
                    "delta": { "type": "input_json_delta", "partial_json": "{}" } }),
            json!({ "type": "content_block_stop", "index": 2 }),
            json!({ "type": "message_delta",
                    "delta": { "stop_reason": "tool_use", "stop_sequence": null },
                    "usage": { "input_tokens": 40, "output_tokens": 9,
                               "cache_read_input_tokens": 10, "cache_creation_input_tokens": 0 },
                    "sluice": { "provider": "p" } }),
            json!({ "type": "message_stop" }),
        ]
    );
}

/// A client's re-assembly of a Messages stream into a Message.
fn assemble(events: &[Event]) -> Value {
    let mut message = Value::Null;
    let mut partial: Vec<String> = Vec::new();
    for e in events {
        let d = &e.data;
        match e.name {
            Some("message_start") => message = d["message"].clone(),
            Some("content_block_start") => {
                message["content"]
                    .as_array_mut()
                    .expect("content")
                    .push(d["content_block"].clone());
                partial.push(String::new());
            }
            Some("content_block_delta") => {
                let i = d["index"].as_u64().expect("index") as usize;
                let delta = &d["delta"];
                match delta["type"].as_str() {
                    Some("text_delta") => {
                        let text = format!(
                            "{}{}",
                            message["content"][i]["text"].as_str().expect("text"),
                            delta["text"].as_str().expect("text")
                        );
                        message["content"][i]["text"] = json!(text);
                    }
                    _ => partial[i].push_str(delta["partial_json"].as_str().expect("json")),
                }
            }
            Some("content_block_stop") => {
                let i = d["index"].as_u64().expect("index") as usize;
                if message["content"][i]["type"] == "tool_use" && !partial[i].is_empty() {
                    message["content"][i]["input"] =
                        serde_json::from_str(&partial[i]).expect("input json");
                }
            }
            Some("message_delta") => {
                message["stop_reason"] = d["delta"]["stop_reason"].clone();
                message["stop_sequence"] = d["delta"]["stop_sequence"].clone();
                for (k, v) in d["usage"].as_object().expect("usage") {
                    message["usage"][k] = v.clone();
                }
            }
            _ => {}
        }
    }
    message
}

#[test]
fn the_reassembled_stream_is_the_whole_answer() {
    let streamed = assemble(&run(&chunks(), Map::new()));
    let whole = answer_from_chat(&json!({
        "id": "chatcmpl-s1", "model": "claude-x",
        "choices": [{ "index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": "Let me check.", "tool_calls": [
                { "id": "call_a", "type": "function",
                  "function": { "name": "get", "arguments": "{\"city\":\"Oslo\"}" } },
                { "id": "call_b", "type": "function", "function": { "name": "now", "arguments": "{}" } },
            ]}}],
        "usage": { "prompt_tokens": 50, "completion_tokens": 9,
                   "prompt_tokens_details": { "cached_tokens": 10 } },
    }))
    .expect("message");
    assert_eq!(streamed, whole);
}

#[test]
fn an_empty_stream_is_a_valid_empty_message() {
    let events = run(&[], Map::new());
    let names: Vec<_> = events.iter().filter_map(|e| e.name).collect();
    assert_eq!(
        names,
        ["message_start", "ping", "message_delta", "message_stop"]
    );
    assert_eq!(events[2].data["delta"]["stop_reason"], "end_turn");
    assert_eq!(events[0].data["message"]["model"], "claude-x");
}

#[test]
fn other_choices_and_empty_deltas_give_nothing_and_finish_closes_the_block() {
    let mut t = StreamTranslator::new("m");
    assert_eq!(t.on_chunk(&chunk(json!({ "content": "a" }), None)).len(), 4);
    assert!(t.on_chunk(&chunk(json!({}), None)).is_empty());
    assert!(
        t.on_chunk(&chunk(json!({ "content": "" }), None))
            .is_empty()
    );
    let other = json!({ "id": "x", "choices": [{ "index": 1, "delta": { "content": "b" } }] });
    assert!(t.on_chunk(&other).is_empty());
    let end = t.finish(Map::new());
    let names: Vec<_> = end.iter().filter_map(|e| e.name).collect();
    assert_eq!(
        names,
        ["content_block_stop", "message_delta", "message_stop"]
    );
    assert_eq!(end[1].data["delta"]["stop_reason"], "end_turn");
    assert!(t.finish(Map::new()).is_empty());
}

#[test]
fn a_tool_call_with_a_new_id_at_the_same_index_opens_a_new_block() {
    let mut t = StreamTranslator::new("m");
    let mut events = t.on_chunk(&chunk(call(0, Some("c1"), Some("f"), "{}"), None));
    events.extend(t.on_chunk(&chunk(call(0, Some("c2"), Some("g"), "{}"), None)));
    let starts: Vec<_> = events
        .iter()
        .filter(|e| e.name == Some("content_block_start"))
        .map(|e| {
            (
                e.data["index"].clone(),
                e.data["content_block"]["id"].clone(),
            )
        })
        .collect();
    assert_eq!(starts, [(json!(0), json!("c1")), (json!(1), json!("c2"))]);
}

#[test]
fn errors_take_anthropics_shape() {
    let mut t = StreamTranslator::new("m");
    let e = t.error(429, "rate_limit_exceeded", "slow down");
    assert_eq!(e.name, Some("error"));
    assert_eq!(
        e.data,
        json!({ "type": "error", "error": { "type": "rate_limit_error", "message": "slow down" } })
    );
}
