use super::*;
use crate::test_support::{counts, parse_sse};

const TOOL_STREAM: &str = include_str!("../../../../tests/fixtures/anthropic/stream_tool_use.sse");
const TEXT_STREAM: &str = include_str!("../../../../tests/fixtures/anthropic/stream_text.sse");
const ERROR_STREAM: &str = include_str!("../../../../tests/fixtures/anthropic/stream_error.sse");

fn no_clock() -> u64 {
    99
}

/// Runs a recorded stream through the plugin's stream functions, as the host would.
fn run(recorded: &str) -> (Vec<Value>, Vec<Value>, Option<Usage>) {
    reset();
    begin("req-1", "claude-sonnet-4-5", 1_700_000_000);
    let mut chunks = Vec::new();
    for event in parse_sse(recorded) {
        for out in on_event(&event, no_clock).expect("maps") {
            assert_eq!(out.event, None);
            assert_ne!(out.data, "[DONE]");
            chunks.push(serde_json::from_str::<Value>(&out.data).expect("JSON chunk"));
        }
    }
    let (last, usage) = finish();
    let last = last
        .iter()
        .map(|e| serde_json::from_str::<Value>(&e.data).expect("JSON chunk"))
        .collect();
    (chunks, last, usage)
}

fn content(chunks: &[Value]) -> String {
    chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect()
}

#[test]
fn tool_stream_maps_to_the_exact_chunk_sequence() {
    let (chunks, last, usage) = run(TOOL_STREAM);
    let base = |choices: Value| {
        json!({"id":"chatcmpl-msg_01Rq5Lm8Zx2Vt4Wp6Ys9Kb3D","object":"chat.completion.chunk",
               "created":1_700_000_000,"model":"claude-sonnet-4-5-20250929","choices":choices})
    };
    let delta = |d: Value, finish: Value| {
        base(json!([{"index":0,"delta":d,"logprobs":null,"finish_reason":finish}]))
    };
    let mut want = vec![delta(json!({"role":"assistant","content":""}), Value::Null)];
    for t in [
        "Okay",
        ", let",
        "'s check the weather for San Francisco",
        ", CA:",
    ] {
        want.push(delta(json!({"content": t}), Value::Null));
    }
    want.push(delta(
        json!({"tool_calls":[{"index":0,"id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","type":"function",
                              "function":{"name":"get_weather","arguments":""}}]}),
        Value::Null,
    ));
    for p in [
        "{\"location\":",
        " \"San Fra",
        "ncisco, CA\"",
        ", \"unit\": \"fah",
        "renheit\"}",
    ] {
        want.push(delta(
            json!({"tool_calls":[{"index":0,"function":{"arguments":p}}]}),
            Value::Null,
        ));
    }
    want.push(delta(json!({}), json!("tool_calls")));
    assert_eq!(chunks, want);

    let mut usage_chunk = base(json!([]));
    usage_chunk["usage"] = json!({"prompt_tokens":600,"completion_tokens":89,"total_tokens":689,
                                  "prompt_tokens_details":{"cached_tokens":128}});
    assert_eq!(last, vec![usage_chunk]);
    assert_eq!(counts(usage), Some((600, 89, 128)));

    let args: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"].as_str())
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&args).expect("arguments are JSON"),
        json!({"location":"San Francisco, CA","unit":"fahrenheit"})
    );
}

#[test]
fn text_stream_joins_content_and_finishes_with_stop() {
    let (chunks, last, usage) = run(TEXT_STREAM);
    assert_eq!(content(&chunks), "Hello! How can I help you today?");
    assert_eq!(chunks.len(), 6);
    assert_eq!(chunks[5]["choices"][0]["finish_reason"], "stop");
    assert!(
        chunks[..5]
            .iter()
            .all(|c| c["choices"][0]["finish_reason"].is_null())
    );
    assert_eq!(last.len(), 1);
    assert_eq!(last[0]["choices"], json!([]));
    assert_eq!(last[0]["usage"]["total_tokens"], 37);
    assert_eq!(counts(usage), Some((25, 12, 0)));
}

#[test]
fn error_events_become_openai_error_data() {
    let (chunks, _, usage) = run(ERROR_STREAM);
    assert_eq!(content(&chunks), "Partial ans");
    let error = chunks.last().expect("error chunk");
    assert_eq!(
        error,
        &json!({"error":{"message":"anthropic: Overloaded","type":"upstream_error",
                         "param":null,"code":"provider_overloaded"}})
    );
    assert_eq!(usage.map(|u| u.prompt_tokens), Some(30));
}

#[test]
fn the_usage_chunk_comes_once_and_state_resets() {
    let _ = run(TEXT_STREAM);
    let (events, usage) = finish();
    assert!(events.is_empty() && usage.is_none());
    // A stream that never started reports no usage.
    reset();
    begin("req-2", "m", 1);
    let out = on_event(
        &SseEvent {
            event: Some("ping".into()),
            data: r#"{"type":"ping"}"#.into(),
        },
        no_clock,
    )
    .expect("ping");
    assert!(out.is_empty());
    let (events, usage) = finish();
    assert!(events.is_empty() && usage.is_none());
}

#[test]
fn message_delta_usage_overrides_and_events_without_begin_work() {
    reset();
    let start = SseEvent::data(
        r#"{"type":"message_start","message":{"id":"msg_x","model":"claude-x","usage":{"input_tokens":5,"output_tokens":1}}}"#,
    );
    let first = on_event(&start, no_clock).expect("start");
    let first: Value = serde_json::from_str(&first[0].data).expect("JSON");
    assert_eq!(first["created"], 99);
    assert_eq!(first["id"], "chatcmpl-msg_x");
    let delta = SseEvent::data(
        r#"{"type":"message_delta","delta":{"stop_reason":"max_tokens"},"usage":{"input_tokens":7,"cache_read_input_tokens":3,"output_tokens":40}}"#,
    );
    let out = on_event(&delta, no_clock).expect("delta");
    assert!(out[0].data.contains(r#""finish_reason":"length""#));
    let (_, usage) = finish();
    assert_eq!(counts(usage), Some((10, 40, 3)));
}

#[test]
fn odd_events_are_ignored_or_refused() {
    reset();
    begin("r", "m", 1);
    let ignored = [
        r#"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}"#,
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}}"#,
        r#"{"type":"content_block_delta","index":3,"delta":{"type":"input_json_delta","partial_json":"{}"}}"#,
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":""}}"#,
        r#"{"type":"message_delta","delta":{},"usage":{"output_tokens":3}}"#,
        r#"{"type":"brand_new_event"}"#,
        "",
    ];
    for data in ignored {
        assert!(
            on_event(&SseEvent::data(data), no_clock)
                .expect("ok")
                .is_empty(),
            "{data}"
        );
    }
    let e = on_event(&SseEvent::data("{broken"), no_clock).expect_err("502");
    assert_eq!(e.status, 502);
    // The event name stands in when the data has no `type`.
    let named = SseEvent {
        event: Some("message_stop".into()),
        data: "{}".into(),
    };
    assert!(on_event(&named, no_clock).expect("ok").is_empty());
}

#[test]
fn a_stream_is_complete_only_once_the_message_stops() {
    reset();
    begin("req-c", "m", 1);
    let start = SseEvent::data(
        r#"{"type":"message_start","message":{"id":"msg_c","model":"m","usage":{"input_tokens":1,"output_tokens":1}}}"#,
    );
    on_event(&start, no_clock).expect("start");
    assert!(!completed(), "cut off after message_start");
    let stop = SseEvent::data(r#"{"type":"message_stop"}"#);
    on_event(&stop, no_clock).expect("stop");
    assert!(completed());
    let _ = finish();
    assert!(!completed(), "no stream is being served after finish");
}
