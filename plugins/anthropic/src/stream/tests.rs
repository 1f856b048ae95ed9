use super::*;
use sluice_plugin_sdk::openai::test_support::{counts, finish_twice, translate_recorded};
use sluice_plugin_sdk::stream::StreamTranslator;

const TOOL_STREAM: &str = include_str!("../../../../tests/fixtures/anthropic/stream_tool_use.sse");
const TEXT_STREAM: &str = include_str!("../../../../tests/fixtures/anthropic/stream_text.sse");
const ERROR_STREAM: &str = include_str!("../../../../tests/fixtures/anthropic/stream_error.sse");

fn no_clock() -> u64 {
    99
}

/// Runs a recorded stream through a stream translator, as the host would.
fn run(recorded: &str) -> (Vec<Value>, Vec<Value>, Option<Usage>) {
    let mut stream = State::new("req-1", "claude-sonnet-4-5", 1_700_000_000);
    let chunks = translate_recorded(&mut stream, recorded);
    let (last, usage) = stream.last();
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
    // `finish` consumes the stream, so its usage chunk comes once; the next stream is new.
    let mut stream = State::new("req-1", "m", 1);
    translate_recorded(&mut stream, TEXT_STREAM);
    let [first, again] = finish_twice(stream, || State::new("stream", "", no_clock()));
    let (events, usage) = first.expect("complete");
    assert_eq!(events.len(), 1);
    assert!(usage.is_some());
    assert_eq!(again.expect_err("a fresh stream is incomplete").status, 502);
    // A stream that never started reports no usage.
    let mut stream = State::new("req-2", "m", 1);
    let out = stream
        .on_event(&SseEvent {
            event: Some("ping".into()),
            data: r#"{"type":"ping"}"#.into(),
        })
        .expect("ping");
    assert!(out.is_empty());
    let (events, usage) = stream.last();
    assert!(events.is_empty() && usage.is_none());
}

#[test]
fn message_delta_usage_overrides_and_events_without_begin_work() {
    // A stream that knows neither its request id nor its model.
    let mut stream = State::new("stream", "", no_clock());
    let start = SseEvent::data(
        r#"{"type":"message_start","message":{"id":"msg_x","model":"claude-x","usage":{"input_tokens":5,"output_tokens":1}}}"#,
    );
    let first = stream.on_event(&start).expect("start");
    let first: Value = serde_json::from_str(&first[0].data).expect("JSON");
    assert_eq!(first["created"], 99);
    assert_eq!(first["id"], "chatcmpl-msg_x");
    let delta = SseEvent::data(
        r#"{"type":"message_delta","delta":{"stop_reason":"max_tokens"},"usage":{"input_tokens":7,"cache_read_input_tokens":3,"output_tokens":40}}"#,
    );
    let out = stream.on_event(&delta).expect("delta");
    assert!(out[0].data.contains(r#""finish_reason":"length""#));
    let (_, usage) = stream.finish().expect("stopped");
    assert_eq!(counts(usage), Some((10, 40, 3)));
}

#[test]
fn odd_events_are_ignored_or_refused() {
    let mut stream = State::new("r", "m", 1);
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
            stream
                .on_event(&SseEvent::data(data))
                .expect("ok")
                .is_empty(),
            "{data}"
        );
    }
    let e = stream
        .on_event(&SseEvent::data("{broken"))
        .expect_err("502");
    assert_eq!(e.status, 502);
    // The event name stands in when the data has no `type`.
    let named = SseEvent {
        event: Some("message_stop".into()),
        data: "{}".into(),
    };
    assert!(stream.on_event(&named).expect("ok").is_empty());
}

#[test]
fn a_stream_is_complete_only_once_the_message_stops() {
    let mut stream = State::new("req-c", "m", 1);
    let start = SseEvent::data(
        r#"{"type":"message_start","message":{"id":"msg_c","model":"m","usage":{"input_tokens":1,"output_tokens":1}}}"#,
    );
    stream.on_event(&start).expect("start");
    assert!(!stream.completed(), "cut off after message_start");
    let mut cut = State::new("req-d", "m", 1);
    cut.on_event(&start).expect("start");
    assert_eq!(cut.finish().expect_err("cut short").status, 502);
    let stop = SseEvent::data(r#"{"type":"message_stop"}"#);
    stream.on_event(&stop).expect("stop");
    assert!(stream.completed());
    assert!(stream.finish().is_ok());
}
