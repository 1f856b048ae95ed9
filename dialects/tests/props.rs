//! Property tests of the translations: any JSON a client or a provider sends (any value in any
//! field the translators read) translates or is refused with an error naming the problem, never
//! a panic; a stream of any chunks translates event by event and finishes.

use proptest::prelude::*;
use serde_json::{Map, Value};
use sluice_dialects::{anthropic, responses};

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,10}".prop_map(Value::String),
        prop_oneof![
            Just("user"),
            Just("assistant"),
            Just("text"),
            Just("image"),
            Just("tool_use"),
            Just("tool_result"),
            Just("function_call"),
            Just("function_call_output"),
            Just("message"),
            Just("input_text"),
            Just("base64"),
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("type".to_string()),
                    Just("role".to_string()),
                    Just("content".to_string()),
                    Just("text".to_string()),
                    Just("source".to_string()),
                    Just("id".to_string()),
                    Just("name".to_string()),
                    Just("input".to_string()),
                    Just("arguments".to_string()),
                    Just("call_id".to_string()),
                    Just("output".to_string()),
                    Just("tool_use_id".to_string()),
                    "[a-z_]{1,8}",
                ],
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// An object with each of `fields` present or not, set to any JSON.
fn object_with(fields: &'static [&'static str]) -> impl Strategy<Value = Value> {
    proptest::collection::vec(proptest::option::of(any_json()), fields.len()).prop_map(
        move |values| {
            let mut m = Map::new();
            for (name, v) in fields.iter().zip(values) {
                if let Some(v) = v {
                    m.insert((*name).to_string(), v);
                }
            }
            Value::Object(m)
        },
    )
}

const MESSAGES: &[&str] = &[
    "model",
    "messages",
    "system",
    "max_tokens",
    "stop_sequences",
    "stream",
    "temperature",
    "top_p",
    "top_k",
    "tools",
    "tool_choice",
    "metadata",
    "thinking",
];

const RESPONSES: &[&str] = &[
    "model",
    "input",
    "instructions",
    "tools",
    "tool_choice",
    "stream",
    "max_output_tokens",
    "temperature",
    "text",
    "store",
    "previous_response_id",
    "reasoning",
    "parallel_tool_calls",
];

const CHAT: &[&str] = &["id", "model", "choices", "usage", "created"];

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_messages_request_translates_or_is_refused(body in object_with(MESSAGES)) {
        let _ = anthropic::request_to_chat(&body);
        let _ = anthropic::count_tokens(&body);
    }

    #[test]
    fn any_responses_request_translates_or_is_refused(
        body in object_with(RESPONSES),
        history in proptest::collection::vec(any_json(), 0..3),
    ) {
        let _ = responses::input_items(&body);
        let _ = responses::request_to_chat(&body, &history);
    }

    #[test]
    fn any_chat_answer_becomes_a_message_or_a_response_or_an_error(
        chat in object_with(CHAT),
        req in object_with(RESPONSES),
    ) {
        let _ = anthropic::answer_from_chat(&chat);
        let _ = responses::answer_from_chat(&chat, &req, "resp_1", 1);
        let _ = anthropic::usage_of_message(&chat);
        let _ = responses::usage_of_response(&chat);
        let _ = responses::output_items(&chat);
    }

    #[test]
    fn any_chunks_stream_through_both_translators_and_finish(
        chunks in proptest::collection::vec(object_with(CHAT), 0..8),
        req in object_with(RESPONSES),
    ) {
        let mut a = anthropic::StreamTranslator::new("m");
        let mut r = responses::StreamTranslator::new(&req, "resp_1", 1);
        for c in &chunks {
            let _ = a.on_chunk(c);
            let _ = r.on_chunk(c);
        }
        let _ = a.finish(Map::new());
        let _ = r.finish(Map::new());
        let _ = r.response();
    }

    #[test]
    fn any_native_events_are_read(
        events in proptest::collection::vec((proptest::option::of("[a-z_.]{1,20}"), any_json()), 0..8),
    ) {
        let mut a = anthropic::NativeStreamUsage::default();
        let mut r = responses::NativeStream::default();
        for (name, data) in &events {
            let text = data.to_string();
            let _ = a.on_event(name.as_deref(), &text);
            let _ = r.on_event(&text);
        }
    }
}
