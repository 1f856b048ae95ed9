use super::*;
use sluice_plugin_sdk::openai::test_support::{counts, finish_twice, translate_recorded};
use sluice_plugin_sdk::stream::StreamTranslator;

const CALL_STREAM: &str =
    include_str!("../../../../tests/fixtures/gemini/stream_function_call.sse");
const TEXT_STREAM: &str = include_str!("../../../../tests/fixtures/gemini/stream_text.sse");

fn no_clock() -> u64 {
    99
}

/// Runs a recorded stream through a stream translator, as the host would.
fn run(recorded: &str) -> (Vec<Value>, Vec<Value>, Option<Usage>) {
    let mut stream = State::new("req-1", "gemini-2.5-flash", 1_700_000_000);
    let chunks = translate_recorded(&mut stream, recorded);
    let (last, usage) = stream.last();
    (chunks, last, usage)
}

#[test]
fn function_call_stream_maps_to_the_exact_chunk_sequence() {
    let (chunks, last, usage) = run(CALL_STREAM);
    let base = |choices: Value| {
        json!({"id":"chatcmpl-Xb3aaJ7xKs2xnvgPiOPx4Ak","object":"chat.completion.chunk",
               "created":1_700_000_000,"model":"gemini-2.5-flash","choices":choices})
    };
    let delta = |d: Value, finish: Value| {
        base(json!([{"index":0,"delta":d,"logprobs":null,"finish_reason":finish}]))
    };
    let want = vec![
        delta(
            json!({"role":"assistant","content":"I'll check"}),
            Value::Null,
        ),
        delta(json!({"content":" the weather in Paris"}), Value::Null),
        delta(json!({"content":" for you."}), Value::Null),
        delta(
            json!({"tool_calls":[{"index":0,"id":"call_0","type":"function","function":{
                "name":"get_weather","arguments":"{\"location\":\"Paris, France\",\"unit\":\"celsius\"}"}}]}),
            Value::Null,
        ),
        delta(json!({}), json!("tool_calls")),
    ];
    assert_eq!(chunks, want);
    let mut usage_chunk = base(json!([]));
    usage_chunk["usage"] = json!({"prompt_tokens":64,"completion_tokens":75,"total_tokens":139,
        "prompt_tokens_details":{"cached_tokens":16},"completion_tokens_details":{"reasoning_tokens":48}});
    assert_eq!(last, vec![usage_chunk]);
    assert_eq!(counts(usage), Some((64, 75, 16)));
}

#[test]
fn text_stream_joins_content_and_finishes_with_stop() {
    let (chunks, last, usage) = run(TEXT_STREAM);
    let content: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(
        content,
        "Roses are red,\nviolets are blue,\nGemini streams poems to you."
    );
    assert_eq!(chunks.len(), 5);
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    assert!(
        chunks[1..]
            .iter()
            .all(|c| c["choices"][0]["delta"].get("role").is_none())
    );
    assert_eq!(chunks[4]["choices"][0]["finish_reason"], "stop");
    assert_eq!(last[0]["usage"]["total_tokens"], 26);
    assert_eq!(counts(usage), Some((9, 17, 0)));
    // The usage chunk comes once: `finish` consumes the stream; the next stream is new.
    let mut stream = State::new("req-1", "m", 1);
    translate_recorded(&mut stream, TEXT_STREAM);
    let [first, again] = finish_twice(stream, || State::new("stream", "", no_clock()));
    let (events, usage) = first.expect("complete");
    assert_eq!((events.len(), counts(usage)), (1, Some((9, 17, 0))));
    assert_eq!(again.expect_err("a fresh stream is incomplete").status, 502);
}

#[test]
fn several_candidates_keep_their_own_role_and_tool_indexes() {
    let mut stream = State::new("r", "m", 1);
    let ev = |v: Value| SseEvent::data(v.to_string());
    let first = stream
        .on_event(&ev(json!({"candidates":[
        {"index":0,"content":{"parts":[{"functionCall":{"name":"a","args":{}}}]}},
        {"index":1,"content":{"parts":[{"text":"B"}]}}]})))
        .expect("ok");
    let first: Vec<Value> = first
        .iter()
        .map(|e| serde_json::from_str(&e.data).expect("json"))
        .collect();
    assert_eq!(first[0]["choices"][0]["delta"]["content"], Value::Null);
    assert_eq!(first[0]["choices"][0]["delta"]["role"], "assistant");
    assert_eq!(first[1]["choices"][0]["index"], 1);
    assert_eq!(first[1]["choices"][0]["delta"]["role"], "assistant");
    let second = stream.on_event(&ev(json!({"candidates":[
        {"index":0,"content":{"parts":[{"functionCall":{"name":"b","args":{"x":1}}}]},"finishReason":"STOP"}]}))).expect("ok");
    let second: Vec<Value> = second
        .iter()
        .map(|e| serde_json::from_str(&e.data).expect("json"))
        .collect();
    let call = &second[0]["choices"][0]["delta"]["tool_calls"][0];
    assert_eq!(
        (call["index"].clone(), call["id"].clone()),
        (json!(1), json!("call_1"))
    );
    assert_eq!(second[1]["choices"][0]["finish_reason"], "tool_calls");
    // No usageMetadata: no usage chunk.
    let (last, usage) = stream.last();
    assert!(last.is_empty() && usage.is_none());
}

#[test]
fn errors_blocks_and_odd_events() {
    // A stream that knows neither its request id nor its model.
    let mut stream = State::new("stream", "", no_clock());
    let error = SseEvent::data(
        r#"{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}"#,
    );
    let out = stream.on_event(&error).expect("ok");
    assert_eq!(
        serde_json::from_str::<Value>(&out[0].data).expect("json"),
        json!({"error":{"message":"gemini: The model is overloaded.","type":"upstream_error",
                        "param":null,"code":"provider_unavailable"}})
    );
    let blocked = SseEvent::data(
        r#"{"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{"promptTokenCount":5}}"#,
    );
    let out = stream.on_event(&blocked).expect("ok");
    let chunk: Value = serde_json::from_str(&out[0].data).expect("json");
    assert_eq!(chunk["created"], 99);
    assert_eq!(chunk["choices"][0]["finish_reason"], "content_filter");
    assert_eq!(chunk["choices"][0]["delta"]["role"], "assistant");
    for quiet in ["", "[DONE]", r#"{"usageMetadata":{"promptTokenCount":5}}"#] {
        assert!(
            stream
                .on_event(&SseEvent::data(quiet))
                .expect("ok")
                .is_empty(),
            "{quiet}"
        );
    }
    assert_eq!(
        stream
            .on_event(&SseEvent::data("{nope"))
            .expect_err("502")
            .status,
        502
    );
    let (_, usage) = stream.finish().expect("blocked counts as finished");
    assert_eq!(counts(usage), Some((5, 0, 0)));
}

#[test]
fn a_stream_is_complete_only_once_a_candidate_finishes() {
    let mut stream = State::new("req-c", "m", 1);
    let partial = SseEvent::data(
        r#"{"candidates":[{"content":{"parts":[{"text":"Hel"}],"role":"model"},"index":0}]}"#,
    );
    stream.on_event(&partial).expect("partial");
    assert!(!stream.completed(), "no finishReason yet");
    let last = SseEvent::data(
        r#"{"candidates":[{"content":{"parts":[{"text":"lo"}],"role":"model"},"finishReason":"STOP","index":0}]}"#,
    );
    stream.on_event(&last).expect("last");
    assert!(stream.completed());
    assert!(stream.finish().is_ok());
}
