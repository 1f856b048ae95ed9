use super::*;
use crate::TEST;
use sluice_plugin_sdk::openai::test_support::json as parse;

const ONE: &str = include_str!("../../../../tests/fixtures/gemini/embed_content.json");
const BATCH: &str = include_str!("../../../../tests/fixtures/gemini/batch_embed_contents.json");

fn request(req: Value) -> (UpstreamRequest, Pending) {
    upstream_request(&TEST.provider(Some("k")), &req).expect("request")
}

#[test]
fn one_input_calls_embed_content() {
    let (r, pending) =
        request(json!({"model":"text-embedding-004","input":"Hello world","dimensions":256}));
    assert_eq!(r.path, "/models/gemini-2.5-flash:embedContent");
    assert!(!r.stream);
    assert!(
        r.headers
            .contains(&("x-goog-api-key".to_string(), "k".to_string()))
    );
    assert_eq!(
        parse(r.body.as_deref().expect("body")),
        json!({"content":{"parts":[{"text":"Hello world"}]},"outputDimensionality":256})
    );
    assert_eq!(
        pending,
        Pending {
            base64: false,
            prompt_tokens: 3,
            model: "gemini-2.5-flash".into()
        }
    );
}

#[test]
fn a_list_calls_batch_embed_contents() {
    let (r, pending) = request(json!({"input":["first text","second"],"encoding_format":"base64"}));
    assert_eq!(r.path, "/models/gemini-2.5-flash:batchEmbedContents");
    assert_eq!(
        parse(r.body.as_deref().expect("body")),
        json!({"requests":[
            {"model":"models/gemini-2.5-flash","content":{"parts":[{"text":"first text"}]}},
            {"model":"models/gemini-2.5-flash","content":{"parts":[{"text":"second"}]}}
        ]})
    );
    assert!(pending.base64);
    assert_eq!(pending.prompt_tokens, 3 + 2);
}

#[test]
fn bad_inputs_are_400() {
    let cases = [
        (json!({"input":[1,2,3]}), "input"),
        (json!({"input":[[1,2],[3]]}), "input"),
        (json!({"input":["a", 1]}), "input"),
        (json!({"input":[]}), "input"),
        (json!({"input":""}), "input"),
        (json!({"input":["a",""]}), "input"),
        (json!({}), "input"),
        (json!({"input":"x","dimensions":0}), "dimensions"),
        (json!({"input":"x","dimensions":"big"}), "dimensions"),
        (
            json!({"input":"x","encoding_format":"hex"}),
            "encoding_format",
        ),
    ];
    for (req, param) in cases {
        let e = upstream_request(&TEST.provider(None), &req).expect_err("400");
        assert_eq!(e.status, 400, "{req}");
        assert_eq!(e.param.as_deref(), Some(param), "{req}");
    }
}

#[test]
fn answers_the_openai_list_with_estimated_usage() {
    let pending = Pending {
        base64: false,
        prompt_tokens: 3,
        model: "text-embedding-004".into(),
    };
    let v = translate(&parse(ONE.as_bytes()), &pending).expect("maps");
    assert_eq!(v["object"], "list");
    assert_eq!(v["model"], "text-embedding-004");
    assert_eq!(v["usage"], json!({"prompt_tokens":3,"total_tokens":3}));
    assert_eq!(v["data"][0]["object"], "embedding");
    assert_eq!(v["data"][0]["index"], 0);
    assert_eq!(
        v["data"][0]["embedding"],
        parse(ONE.as_bytes())["embedding"]["values"]
    );

    let v = translate(&parse(BATCH.as_bytes()), &pending).expect("maps");
    assert_eq!(v["data"].as_array().map(Vec::len), Some(2));
    assert_eq!(v["data"][1]["index"], 1);
    assert_eq!(v["data"][1]["embedding"], json!([-0.5, 0.25, 0.125, 1.0]));
}

#[test]
fn base64_is_little_endian_f32() {
    let pending = Pending {
        base64: true,
        prompt_tokens: 1,
        model: "m".into(),
    };
    let v = translate(&parse(BATCH.as_bytes()), &pending).expect("maps");
    let raw = base64::engine::general_purpose::STANDARD
        .decode(v["data"][1]["embedding"].as_str().expect("string"))
        .expect("base64");
    let floats: Vec<f32> = raw
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    assert_eq!(floats, vec![-0.5, 0.25, 0.125, 1.0]);
}

#[test]
fn unknown_shapes_are_502_and_state_is_taken_once() {
    let pending = Pending {
        base64: false,
        prompt_tokens: 1,
        model: "m".into(),
    };
    assert_eq!(
        translate(&json!({"foo":1}), &pending)
            .expect_err("502")
            .status,
        502
    );
    assert_eq!(
        translate(&json!({"embedding":{"values":["x"]}}), &pending)
            .expect_err("502")
            .status,
        502
    );
    assert_eq!(
        translate(&json!({"embeddings":[{}]}), &pending)
            .expect_err("502")
            .status,
        502
    );
    remember(pending.clone());
    assert_eq!(take(), Some(pending));
    assert_eq!(take(), None);
    assert_eq!(estimate_tokens("abcde"), 2);
    assert_eq!(estimate_tokens("ünïc"), 1);
}
