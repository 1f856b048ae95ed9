//! `StreamTranslator`, and a dump of events for checking against the official SDK.

use super::{chunk, request, stream_chunks, usage_chunk, whole_completion};
use crate::Event;
use crate::responses::{StreamTranslator, answer_from_chat};
use serde_json::{Map, Value, json};

fn run(chunks: &[Value], req: &Value, id: &str) -> (Vec<Event>, StreamTranslator) {
    let mut t = StreamTranslator::new(req, id, 7);
    let mut events: Vec<Event> = chunks.iter().flat_map(|c| t.on_chunk(c)).collect();
    events.extend(t.finish(Map::new()));
    (events, t)
}

fn types(events: &[Event]) -> Vec<&str> {
    events.iter().map(|e| e.name.unwrap_or("")).collect()
}

#[test]
fn text_and_two_fragmented_calls_stream_as_responses_events() {
    let (events, t) = run(&stream_chunks(), &request(), "resp_abc");
    assert_eq!(
        types(&events),
        vec![
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.output_item.added",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.done",
            "response.output_item.done",
            "response.output_item.added",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.done",
            "response.output_item.done",
            "response.completed",
        ]
    );
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.data["sequence_number"], json!(i));
        assert_eq!(e.data["type"], json!(e.name.unwrap_or("")));
    }
    assert_eq!(events[0].data["response"]["status"], json!("in_progress"));
    assert_eq!(events[0].data["response"]["output"], json!([]));
    assert_eq!(events[4].data["item_id"], json!("msg_abc_0"));
    assert_eq!(events[6].data["text"], json!("Let me check."));
    assert_eq!(events[12].data["arguments"], json!("{\"city\":\"Paris\"}"));
    assert_eq!(events[12].data["name"], json!("weather"));
    assert_eq!(events[15].data["item_id"], json!("fc_abc_2"));

    let expected = answer_from_chat(&whole_completion(), &request(), "resp_abc", 7).expect("ok");
    assert_eq!(events[19].data["response"], expected);
    assert_eq!(t.response(), expected);
}

#[test]
fn extra_fields_join_the_final_response_and_length_is_incomplete() {
    let mut t = StreamTranslator::new(&request(), "resp_x", 1);
    let mut events = t.on_chunk(&chunk(json!({"content": "abc"}), None));
    assert_eq!(t.response()["status"], json!("in_progress"));
    assert_eq!(
        t.response()["output"][0]["content"][0]["text"],
        json!("abc")
    );
    events.extend(t.on_chunk(&chunk(json!({}), Some("length"))));
    events.extend(t.on_chunk(&usage_chunk()));
    let mut extra = Map::new();
    extra.insert("sluice".into(), json!({"cost": 0.1}));
    events.extend(t.finish(extra));
    let last = events.last().map(|e| e.data.clone()).unwrap_or_default();
    assert_eq!(last["type"], json!("response.incomplete"));
    assert_eq!(last["response"]["status"], json!("incomplete"));
    assert_eq!(
        last["response"]["incomplete_details"],
        json!({"reason": "max_output_tokens"})
    );
    assert_eq!(last["response"]["output"][0]["status"], json!("incomplete"));
    assert_eq!(last["response"]["sluice"], json!({"cost": 0.1}));
    assert_eq!(last["response"]["usage"]["input_tokens"], json!(20));
    assert_eq!(t.response(), last["response"]);
    assert!(t.finish(Map::new()).is_empty());
}

#[test]
fn a_refusal_streams_as_a_refusal_part() {
    let chunks = [
        chunk(json!({"refusal": "No."}), None),
        chunk(json!({}), Some("stop")),
    ];
    let (events, t) = run(&chunks, &json!({"model": "m", "input": "x"}), "resp_r");
    assert_eq!(
        types(&events)[2..],
        [
            "response.output_item.added",
            "response.content_part.added",
            "response.refusal.delta",
            "response.refusal.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.completed",
        ]
    );
    assert_eq!(
        t.response()["output"][0]["content"],
        json!([{"type": "refusal", "refusal": "No."}])
    );
}

#[test]
fn an_empty_stream_still_completes_and_an_error_ends_one() {
    let (events, _) = run(&[], &json!({"model": "m", "input": "x"}), "resp_e");
    assert_eq!(
        types(&events),
        vec![
            "response.created",
            "response.in_progress",
            "response.completed"
        ]
    );
    let mut t = StreamTranslator::new(&json!({"model": "m"}), "resp_f", 1);
    let first = t.on_chunk(&chunk(json!({"content": "a"}), None));
    let e = t.error(429, "rate_limit_error", None, "slow down");
    assert_eq!(
        e.data,
        json!({"type": "error", "code": "rate_limit_error", "message": "slow down",
               "param": null, "sequence_number": first.len()})
    );
    assert_eq!(e.name, Some("error"));
    assert_eq!(t.response()["status"], json!("failed"));
    assert_eq!(t.response()["error"]["code"], json!("rate_limit_exceeded"));
}

/// Prints events and Responses as JSON lines for the SDK check:
/// `cargo test -p sluice-dialects dump_for_sdk -- --ignored --nocapture`.
#[test]
#[ignore]
fn dump_for_sdk() {
    let mut lines = Vec::new();
    let (events, _) = run(&stream_chunks(), &request(), "resp_abc");
    lines.push(json!({"kind": "stream", "events": events.iter().map(|e| e.data.clone()).collect::<Vec<_>>()}));
    let refusal = [
        chunk(json!({"content": "Hm. "}), None),
        chunk(json!({"refusal": "No."}), None),
        chunk(json!({}), Some("length")),
        usage_chunk(),
    ];
    let (events, mut t) = run(&refusal, &json!({"model": "m", "input": "x"}), "resp_r");
    lines.push(json!({"kind": "stream", "events": events.iter().map(|e| e.data.clone()).collect::<Vec<_>>()}));
    lines.push(json!({"kind": "event", "event": t.error(500, "server_error", Some("upstream"), "boom").data}));
    lines.push(json!({"kind": "response", "response": t.response()}));
    let (events, _) = run(
        &[],
        &json!({"model": "m", "input": "x", "store": false}),
        "resp_e",
    );
    lines.push(json!({"kind": "stream", "events": events.iter().map(|e| e.data.clone()).collect::<Vec<_>>()}));
    let answer = answer_from_chat(&whole_completion(), &request(), "resp_abc", 7).expect("ok");
    lines.push(json!({"kind": "response", "response": answer}));
    let full_req = json!({"model": "m", "input": "x", "reasoning": {"effort": "low"},
        "text": {"format": {"type": "json_schema", "name": "s", "schema": {"type": "object"}, "strict": true}},
        "tool_choice": {"type": "function", "name": "f"}, "max_output_tokens": 10,
        "previous_response_id": "resp_0", "user": "u", "top_p": 1.0, "safety_identifier": "s"});
    let answer = answer_from_chat(&whole_completion(), &full_req, "resp_full", 7).expect("ok");
    lines.push(json!({"kind": "response", "response": answer}));
    for line in lines {
        println!("SDKDUMP {line}");
    }
}
