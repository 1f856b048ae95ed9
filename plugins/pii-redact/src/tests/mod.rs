use super::*;
use serde_json::{Value, json};

mod detect;
mod stream;

fn plugin(json: &str) -> Result<PiiRedact, String> {
    sluice_plugin_sdk::from_config_json::<PiiRedact>(json)
}

fn default_plugin() -> PiiRedact {
    plugin("{}").expect("the default config loads")
}

/// `text` redacted whole by the default plugin.
fn redacted(text: &str) -> String {
    default_plugin()
        .redact(text, true)
        .unwrap_or_else(|| text.to_string())
}

fn ctx() -> RequestCtx {
    RequestCtx::default()
}

fn check(p: &PiiRedact, direction: Direction, body: Value) -> GuardVerdict {
    p.check_json(&ctx(), None, direction, &body)
}

#[test]
fn defaults_detect_everything_on_both_sides_and_hold_128_bytes() {
    let p = default_plugin();
    assert_eq!(p.kinds, Kind::PRIORITY.to_vec());
    assert!(p.request && p.response && !p.deny);
    assert_eq!(p.info().look_behind, 128);
    assert!(!p.info().wants_body && !p.info().passthrough);
    let p = plugin(r#"{"on": ["request"], "look_behind": 300}"#).expect("config");
    assert_eq!(p.info().look_behind, 0, "no answers checked, nothing held");
}

#[test]
fn config_errors_are_clear() {
    let err = |json: &str| plugin(json).err().expect("the config is refused");
    assert!(err(r#"{"detect": []}"#).contains("`detect` must name at least one kind"));
    assert!(err(r#"{"on": []}"#).contains("`on` must name at least one side"));
    assert!(err(r#"{"detect": ["ssn"]}"#).contains("unknown variant `ssn`"));
    assert!(err(r#"{"on": ["both"]}"#).contains("unknown variant `both`"));
    assert!(err(r#"{"action": "block"}"#).contains("unknown variant `block`"));
    assert!(err(r#"{"colour": 1}"#).contains("unknown field `colour`"));
    assert!(err(r#"{"replacement": {"ssn": "x"}}"#).contains("unknown field `ssn`"));
    assert!(err(r#"{"look_behind": 10}"#).contains("between 64 and 16384 bytes, not 10"));
    assert!(err(r#"{"look_behind": 100000}"#).contains("not 100000"));
    assert!(err(r#"{"look_behind": -1}"#).contains("invalid config"));
    let long = format!(r#"{{"replacement": {{"card": "{}"}}}}"#, "x".repeat(300));
    assert!(err(&long).contains("`replacement.card` is longer than 256 bytes"));
    assert!(
        err(r#"{"replacement": {"email": "nobody@example.com"}}"#)
            .contains("`replacement.email` would itself be detected")
    );
    // A replacement that only a disabled kind would detect is fine.
    assert!(plugin(r#"{"detect": ["card"], "replacement": {"email": "a@b.io"}}"#).is_ok());
}

#[test]
fn replacements_override_the_defaults_per_kind() {
    let p = plugin(r#"{"replacement": {"email": "<mail>", "card": ""}}"#).expect("config");
    assert_eq!(
        p.redact(
            "bob@example.com paid with 4111111111111111 from +1 555 123 4567",
            true
        )
        .as_deref(),
        Some("<mail> paid with  from [PHONE]")
    );
}

#[test]
fn only_the_kinds_asked_for_are_found() {
    let p = plugin(r#"{"detect": ["iban", "email"]}"#).expect("config");
    let text = "bob@example.com 4111111111111111 +1 555 123 4567 DE89370400440532013000";
    assert_eq!(
        p.redact(text, true).as_deref(),
        Some("[EMAIL] 4111111111111111 +1 555 123 4567 [IBAN]")
    );
}

#[test]
fn chat_requests_are_redacted_in_string_and_part_contents() {
    let p = default_plugin();
    let body = json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "I am bob@example.com, call +44 20 7946 0958"},
            {"role": "user", "content": [
                {"type": "text", "text": "card 4111 1111 1111 1111"},
                {"type": "image_url", "image_url": {"url": "https://x.test/a@b.com"}},
            ]},
        ],
        "user": "carol@example.com",
    });
    let GuardVerdict::Rewrite(out) = check(&p, Direction::Request, body) else {
        panic!("expected a rewrite");
    };
    assert_eq!(out["messages"][0]["content"], "Be brief.");
    assert_eq!(out["messages"][1]["content"], "I am [EMAIL], call [PHONE]");
    assert_eq!(out["messages"][2]["content"][0]["text"], "card [CARD]");
    assert_eq!(
        out["messages"][2]["content"][1]["image_url"]["url"],
        "https://x.test/a@b.com"
    );
    assert_eq!(out["user"], "carol@example.com", "only model-facing text");
    assert_eq!(out["model"], "gpt-4o");
}

#[test]
fn completion_prompts_and_embedding_inputs_are_redacted() {
    let p = default_plugin();
    let GuardVerdict::Rewrite(out) = check(
        &p,
        Direction::Request,
        json!({"prompt": ["IBAN GB82 WEST 1234 5698 7654 32", "hi"], "max_tokens": 5}),
    ) else {
        panic!("expected a rewrite");
    };
    assert_eq!(out["prompt"], json!(["IBAN [IBAN]", "hi"]));
    let GuardVerdict::Rewrite(out) =
        check(&p, Direction::Request, json!({"input": "write to x@y.org"}))
    else {
        panic!("expected a rewrite");
    };
    assert_eq!(out["input"], "write to [EMAIL]");
}

#[test]
fn answers_are_redacted_and_clean_bodies_allowed() {
    let p = default_plugin();
    let answer = json!({"id": "c1", "object": "chat.completion", "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "Mail ann@corp.example.de"},
         "finish_reason": "stop"},
    ]});
    let GuardVerdict::Rewrite(out) = check(&p, Direction::Response, answer) else {
        panic!("expected a rewrite");
    };
    assert_eq!(out["choices"][0]["message"]["content"], "Mail [EMAIL]");
    assert_eq!(out["id"], "c1");
    let completion = json!({"choices": [{"index": 0, "text": "IBAN NL91ABNA0417164300."}]});
    let GuardVerdict::Rewrite(out) = check(&p, Direction::Response, completion) else {
        panic!("expected a rewrite");
    };
    assert_eq!(out["choices"][0]["text"], "IBAN [IBAN].");
    let clean = json!({"messages": [{"role": "user", "content": "Meet on 2024-01-15 at 10:30"}]});
    assert!(matches!(
        check(&p, Direction::Request, clean),
        GuardVerdict::Allow
    ));
}

#[test]
fn sides_not_watched_are_let_through() {
    let p = plugin(r#"{"on": ["response"]}"#).expect("config");
    let body = json!({"messages": [{"role": "user", "content": "bob@example.com"}]});
    assert!(matches!(
        check(&p, Direction::Request, body),
        GuardVerdict::Allow
    ));
    let p = plugin(r#"{"on": ["request"]}"#).expect("config");
    let answer = json!({"choices": [{"message": {"content": "bob@example.com"}}]});
    assert!(matches!(
        check(&p, Direction::Response, answer),
        GuardVerdict::Allow
    ));
    assert!(matches!(
        p.check_text(&ctx(), None, 0, "bob@example.com", true),
        TextVerdict::Allow
    ));
}

#[test]
fn deny_refuses_requests_with_400_naming_kinds_not_text() {
    let p = plugin(r#"{"action": "deny"}"#).expect("config");
    let body = json!({"messages": [
        {"role": "user", "content": "card 4111-1111-1111-1111"},
        {"role": "user", "content": [{"type": "text", "text": "me: bob@example.com"}]},
    ]});
    let GuardVerdict::Deny(e) = check(&p, Direction::Request, body) else {
        panic!("expected a denial");
    };
    assert_eq!(e.status, 400);
    assert_eq!(e.type_, "invalid_request_error");
    assert_eq!(e.code.as_deref(), Some("pii_detected"));
    assert_eq!(
        e.message,
        "The request contains personal data (email address, payment card number); it was refused."
    );
    assert!(!e.message.contains("bob") && !e.message.contains("4111"));
    let clean = json!({"messages": [{"role": "user", "content": "version 1.2.3, 12:30"}]});
    assert!(matches!(
        check(&p, Direction::Request, clean),
        GuardVerdict::Allow
    ));
}

#[test]
fn deny_withholds_answers_and_stops_streams_with_422() {
    let p = plugin(r#"{"action": "deny"}"#).expect("config");
    let answer = json!({"choices": [{"message": {"content": "call +1 555 123 4567"}}]});
    let GuardVerdict::Deny(e) = check(&p, Direction::Response, answer) else {
        panic!("expected a denial");
    };
    assert_eq!((e.status, e.code.as_deref()), (422, Some("pii_detected")));
    assert_eq!(
        e.message,
        "The model's answer contained personal data (phone number); it was withheld."
    );
    match p.check_text(&ctx(), None, 0, "IBAN DE89370400440532013000 ok", false) {
        TextVerdict::Stop(e) => {
            assert_eq!((e.status, e.code.as_deref()), (422, Some("pii_detected")));
            assert!(e.message.contains("(IBAN)"));
        }
        other => panic!("expected a stop, got {other:?}"),
    }
    // A match still open at the end of the text waits.
    assert!(matches!(
        p.check_text(&ctx(), None, 0, "mail bob@example.co", false),
        TextVerdict::Allow
    ));
    assert!(matches!(
        p.check_text(&ctx(), None, 0, "mail bob@example.co", true),
        TextVerdict::Stop(_)
    ));
}

#[test]
fn stream_text_is_replaced_only_when_something_changed() {
    let p = default_plugin();
    assert!(matches!(
        p.check_text(&ctx(), None, 0, "nothing to see here. ", false),
        TextVerdict::Allow
    ));
    match p.check_text(&ctx(), None, 0, "a@b.io and then ", false) {
        TextVerdict::Replace(t) => assert_eq!(t, "[EMAIL] and then "),
        other => panic!("expected a replacement, got {other:?}"),
    }
}

#[test]
fn redaction_is_idempotent_on_its_own_output() {
    let text = "x bob@example.com +1 555 123 4567 4111111111111111 DE89370400440532013000 y";
    let once = redacted(text);
    assert_eq!(once, "x [EMAIL] [PHONE] [CARD] [IBAN] y");
    assert_eq!(redacted(&once), once);
}
