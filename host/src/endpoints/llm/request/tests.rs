use super::*;

fn p(endpoint: Endpoint, body: &[u8]) -> Result<Prepared, ApiError> {
    prepare(endpoint, Bytes::copy_from_slice(body), 256)
}

#[test]
fn extracts_fields_and_removes_user_id() {
    let p = p(
        Endpoint::ChatCompletions,
        br#"{"model":"m","stream":true,"user_id":"u1","max_tokens":9,"n":2,
             "messages":[{"role":"user","content":"12345678"}]}"#,
    )
    .expect("valid");
    assert_eq!(p.model, "m");
    assert!(p.stream);
    assert_eq!(p.user_id.as_deref(), Some("u1"));
    assert!(!p.body.contains_key("user_id"));
    assert_eq!(p.meta.max_tokens, Some(9));
    assert_eq!(p.meta.n, 2);
    assert_eq!(p.meta.est_prompt_tokens, 2);
    assert!(!p.client_wants_usage);
}

#[test]
fn unchanged_bodies_are_sent_as_the_client_sent_them() {
    let raw = br#"{"model":"m",  "messages":[{"role":"user","content":"x"}]}"#;
    let mut same = p(Endpoint::ChatCompletions, raw).expect("valid");
    assert_eq!(&same.upstream_body("m")[..], &raw[..], "byte for byte");
    let mut renamed = p(Endpoint::ChatCompletions, raw).expect("valid");
    assert_ne!(&renamed.upstream_body("other")[..], &raw[..]);
    let with_user = br#"{"model":"m","user_id":"u","messages":[{"role":"user","content":"x"}]}"#;
    let mut user = p(Endpoint::ChatCompletions, with_user).expect("valid");
    assert!(!String::from_utf8_lossy(&user.upstream_body("m")).contains("user_id"));
    let stream = br#"{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}"#;
    let mut s = p(Endpoint::ChatCompletions, stream).expect("valid");
    assert!(String::from_utf8_lossy(&s.upstream_body("m")).contains("include_usage"));
}

#[test]
fn upstream_body_sets_model_and_usage_and_keeps_the_rest() {
    let mut p = p(
        Endpoint::ChatCompletions,
        br#"{"model":"alias","stream":true,"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"x"}},"tools":[{"type":"function"}]}"#,
    )
    .expect("valid");
    let v: Value = serde_json::from_slice(&p.upstream_body("real")).expect("json");
    assert_eq!(v["model"], "real");
    assert_eq!(v["stream_options"]["include_usage"], true);
    assert_eq!(v["response_format"]["json_schema"]["name"], "x");
    assert_eq!(v["tools"][0]["type"], "function");
}

#[test]
fn file_parts_are_held_to_10_mb_each_and_32_mb_in_all() {
    let file = |mb: usize| {
        serde_json::json!({ "type": "file", "file": {
            "filename": "a.pdf",
            "file_data": format!("data:application/pdf;base64,{}", "A".repeat(mb * (1 << 20) / 3 * 4 + 4)),
        }})
    };
    let body = |parts: Vec<Value>| {
        serde_json::to_vec(&serde_json::json!({
            "model": "m", "messages": [{ "role": "user", "content": parts }],
        }))
        .expect("json")
    };
    assert!(
        p(
            Endpoint::ChatCompletions,
            &body(vec![file(9), file(9), file(9)])
        )
        .is_ok()
    );
    let e = p(Endpoint::ChatCompletions, &body(vec![file(11)])).expect_err("too big");
    assert_eq!(e.code.as_deref(), Some("file_too_large"));
    assert!(
        e.message.contains("10 MB") && e.message.contains("a.pdf"),
        "{}",
        e.message
    );
    let e = p(
        Endpoint::ChatCompletions,
        &body(vec![file(9), file(9), file(9), file(9)]),
    )
    .expect_err("too big in all");
    assert_eq!(e.code.as_deref(), Some("files_too_large"));
    assert!(e.message.contains("32 MB"), "{}", e.message);
}

#[test]
fn rejects_malformed_bodies_with_400() {
    for (body, param) in [
        (&b"{"[..], None),
        (b"[1]", None),
        (br#"{"messages":[]}"#, Some("model")),
        (br#"{"model":5,"messages":[]}"#, Some("model")),
        (
            br#"{"model":"m","stream":"yes","messages":[]}"#,
            Some("stream"),
        ),
        (
            br#"{"model":"m","user_id":7,"messages":[]}"#,
            Some("user_id"),
        ),
        (br#"{"model":"m"}"#, Some("messages")),
        (br#"{"model":"m","messages":[]}"#, Some("messages")),
    ] {
        let e = p(Endpoint::ChatCompletions, body).expect_err("invalid");
        assert_eq!(e.status, 400, "{}", String::from_utf8_lossy(body));
        assert_eq!(e.param.as_deref(), param);
    }
    assert!(p(Endpoint::Embeddings, br#"{"model":"m","stream":true}"#).is_err());
}

#[test]
fn user_ids_are_held_to_their_limit() {
    let body = |len: usize| {
        format!(
            r#"{{"model":"m","user_id":"{}","messages":[{{"role":"user","content":"x"}}]}}"#,
            "u".repeat(len)
        )
    };
    assert!(p(Endpoint::ChatCompletions, body(256).as_bytes()).is_ok());
    let e = p(Endpoint::ChatCompletions, body(257).as_bytes()).expect_err("too long");
    assert_eq!(e.status, 400);
    assert_eq!(e.param.as_deref(), Some("user_id"));
    assert!(e.message.contains("256"), "{}", e.message);
}

#[test]
fn moderations_default_their_model_and_transcripts_stream_without_stream_options() {
    let mut m = p(Endpoint::Moderations, br#"{"input":"hi"}"#).expect("valid");
    assert_eq!(m.model, DEFAULT_MODERATION_MODEL);
    let v: Value =
        serde_json::from_slice(&m.upstream_body(DEFAULT_MODERATION_MODEL)).expect("json");
    assert_eq!(v["model"], DEFAULT_MODERATION_MODEL, "sent upstream too");
    assert!(p(Endpoint::Embeddings, br#"{"input":"hi"}"#).is_err());

    let raw = br#"{"model":"m","stream":true,"file":{"bytes":3}}"#;
    let mut t = p(Endpoint::AudioTranscriptions, raw).expect("valid");
    assert!(t.stream && t.client_wants_usage);
    let v: Value = serde_json::from_slice(&t.upstream_body("other")).expect("json");
    assert!(v.get("stream_options").is_none());
    assert!(t.asks_json());
    let text = p(
        Endpoint::AudioTranslations,
        br#"{"model":"m","response_format":"srt"}"#,
    );
    assert!(!text.expect("valid").asks_json());
    assert!(
        p(
            Endpoint::AudioTranslations,
            br#"{"model":"m","stream":true}"#
        )
        .is_err()
    );
}
