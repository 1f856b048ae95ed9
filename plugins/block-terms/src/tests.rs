use super::*;
use serde_json::{Value, json};

fn plugin(json: &str) -> Result<BlockTerms, String> {
    sluice_plugin_sdk::from_config_json::<BlockTerms>(json)
}

fn redactor(extra: &str) -> BlockTerms {
    let json =
        format!(r#"{{"terms": ["falcon", "project x", "c++", "ab"], "action": "redact"{extra}}}"#);
    plugin(&json).expect("config")
}

fn whole(p: &BlockTerms, text: &str) -> String {
    p.redact(text, true).unwrap_or_else(|| text.to_string())
}

fn ctx() -> RequestCtx {
    RequestCtx::default()
}

fn check(p: &BlockTerms, direction: Direction, body: Value) -> GuardVerdict {
    p.check_json(&ctx(), None, direction, &body)
}

#[test]
fn config_defaults_and_errors() {
    let p = plugin(r#"{"terms": ["falcon", "Ünïcode term"]}"#).expect("config");
    assert!(p.deny && p.request && p.response);
    assert_eq!(p.replacement, "[REDACTED]");
    assert_eq!(p.info().look_behind, "ünïcode term".len() as u32 + 8);
    let p = plugin(r#"{"terms": ["x"], "on": ["request"]}"#).expect("config");
    assert_eq!(p.info().look_behind, 0);
    let err = |json: &str| plugin(json).err().expect("the config is refused");
    assert!(err("{}").contains("missing field `terms`"));
    assert!(err(r#"{"terms": []}"#).contains("`terms` must list at least one term"));
    assert!(err(r#"{"terms": ["a", "  "]}"#).contains("`terms[1]` is empty"));
    let long = format!(r#"{{"terms": ["{}"]}}"#, "x".repeat(2000));
    assert!(err(&long).contains("`terms[0]` is longer than 1024 bytes"));
    assert!(err(r#"{"terms": ["a"], "on": []}"#).contains("`on` must name"));
    assert!(err(r#"{"terms": ["a"], "action": "block"}"#).contains("unknown variant `block`"));
    assert!(err(r#"{"terms": ["a"], "wholewords": true}"#).contains("unknown field"));
    assert!(err(r#"{"terms": ["a"], "replacement": "-"}"#).contains("only used with"));
    assert!(
        err(r#"{"terms": ["redacted"], "action": "redact"}"#)
            .contains("`replacement` contains one of the terms")
    );
}

#[test]
fn whole_words_case_and_overlaps() {
    let p = redactor("");
    assert_eq!(whole(&p, "The FALCON flies"), "The [REDACTED] flies");
    assert_eq!(whole(&p, "falconry, Falcon's"), "falconry, [REDACTED]'s");
    assert_eq!(
        whole(&p, "about project  x, Project X!"),
        "about project  x, [REDACTED]!"
    );
    assert_eq!(
        whole(&p, "I like c++11 and c++."),
        "I like [REDACTED]11 and [REDACTED]."
    );
    assert_eq!(whole(&p, "abc ab_ ab"), "abc ab_ [REDACTED]");
    let p = redactor(r#", "case_sensitive": true"#);
    assert_eq!(whole(&p, "FALCON falcon"), "FALCON [REDACTED]");
    let p = redactor(r#", "whole_words": false"#);
    assert_eq!(whole(&p, "falconry abc"), "[REDACTED]ry [REDACTED]c");
    // Overlaps go to the leftmost, then the longest.
    let p =
        plugin(r#"{"terms": ["foo", "foo-bar", "bar baz"], "action": "redact"}"#).expect("config");
    assert_eq!(whole(&p, "foo-bar baz"), "[REDACTED] baz");
    assert_eq!(whole(&p, "foo-barx"), "[REDACTED]-barx");
}

#[test]
fn unicode_case_folding_maps_back_to_the_original_text() {
    let p = plugin(r#"{"terms": ["straße", "ΣΟΦΙΑ"], "action": "redact"}"#).expect("config");
    assert_eq!(
        whole(&p, "Die STRAßE, σοφια."),
        "Die [REDACTED], [REDACTED]."
    );
    // The Kelvin sign lower-cases to an ASCII k: offsets still land on char boundaries.
    let p = plugin(r#"{"terms": ["ok"], "action": "redact"}"#).expect("config");
    assert_eq!(whole(&p, "é O\u{212A} é"), "é [REDACTED] é");
}

#[test]
fn requests_and_answers_are_redacted() {
    let p = redactor("");
    let body = json!({"model": "m", "messages": [
        {"role": "user", "content": "tell me about Falcon"},
        {"role": "user", "content": [{"type": "text", "text": "and project x"}]},
    ]});
    let GuardVerdict::Rewrite(out) = check(&p, Direction::Request, body) else {
        panic!("expected a rewrite");
    };
    assert_eq!(out["messages"][0]["content"], "tell me about [REDACTED]");
    assert_eq!(out["messages"][1]["content"][0]["text"], "and [REDACTED]");
    let GuardVerdict::Rewrite(out) =
        check(&p, Direction::Request, json!({"prompt": "falcon", "n": 1}))
    else {
        panic!("expected a rewrite");
    };
    assert_eq!(out["prompt"], "[REDACTED]");
    let answer = json!({"choices": [{"message": {"content": "Falcon!"}}, {"text": "falcon"}]});
    let GuardVerdict::Rewrite(out) = check(&p, Direction::Response, answer) else {
        panic!("expected a rewrite");
    };
    assert_eq!(out["choices"][0]["message"]["content"], "[REDACTED]!");
    assert_eq!(out["choices"][1]["text"], "[REDACTED]");
    let clean = json!({"messages": [{"role": "user", "content": "falconry"}]});
    assert!(matches!(
        check(&p, Direction::Request, clean),
        GuardVerdict::Allow
    ));
}

#[test]
fn deny_refuses_requests_with_400_and_answers_with_422() {
    let p = plugin(r#"{"terms": ["falcon"]}"#).expect("config");
    let body = json!({"messages": [{"role": "user", "content": "FALCON"}]});
    let GuardVerdict::Deny(e) = check(&p, Direction::Request, body) else {
        panic!("expected a denial");
    };
    assert_eq!((e.status, e.type_.as_str()), (400, "invalid_request_error"));
    assert_eq!(e.code.as_deref(), Some("blocked_term"));
    assert!(!e.message.to_lowercase().contains("falcon"));
    let answer = json!({"choices": [{"message": {"content": "a falcon"}}]});
    let GuardVerdict::Deny(e) = check(&p, Direction::Response, answer) else {
        panic!("expected a denial");
    };
    assert_eq!((e.status, e.code.as_deref()), (422, Some("blocked_term")));
    let p = plugin(r#"{"terms": ["falcon"], "on": ["response"]}"#).expect("config");
    let body = json!({"messages": [{"role": "user", "content": "falcon"}]});
    assert!(matches!(
        check(&p, Direction::Request, body),
        GuardVerdict::Allow
    ));
}

/// The host's hold-back over `chunks` (the SDK's copy, [`sluice_plugin_sdk::guard::hold`]), the
/// calls going to `instances` in turn; `together`: the last delta comes with the choice's end,
/// else an empty delta flushes what is held. The text sent, and the error a stop ended it with.
fn stream_on(
    instances: &[&BlockTerms],
    chunks: &[&str],
    together: bool,
) -> (String, Option<ErrorBody>) {
    let window = instances[0].info().look_behind as usize;
    let mut deltas: Vec<(&str, bool)> = chunks.iter().map(|d| (*d, false)).collect();
    match deltas.last_mut() {
        Some(d) if together => d.1 = true,
        _ => deltas.push(("", true)),
    }
    sluice_plugin_sdk::guard::hold::stream(instances, &ctx(), window, &deltas)
}

fn stream(p: &BlockTerms, chunks: &[&str]) -> (String, Option<ErrorBody>) {
    stream_on(&[p], chunks, false)
}

/// Every single cut and every pair of cuts of `text`, at char boundaries, as chunks.
fn cuttings(text: &str) -> Vec<Vec<&str>> {
    let bounds: Vec<usize> = (0..=text.len())
        .filter(|&i| text.is_char_boundary(i))
        .collect();
    let mut all: Vec<Vec<&str>> = Vec::new();
    for (k, &i) in bounds.iter().enumerate() {
        for &j in &bounds[k..] {
            all.push(vec![&text[..i], &text[i..j], &text[j..]]);
        }
    }
    let mut chars = Vec::new();
    let mut at = 0;
    for (i, _) in text.char_indices().skip(1) {
        chars.push(&text[at..i]);
        at = i;
    }
    chars.push(&text[at..]);
    all.push(chars);
    all
}

const TEXTS: &[&str] = &[
    "The Falcon flew over falconry fans; PROJECT X is c++ based, ab.",
    "falcon",
    "falco",
    "project xylophone and project x",
    "Ünïcode: STRAßE σοφια; abab ab_ab ab",
    "long long long long long long long long long text before falcon and after it, again falcon!",
];

fn streams_match_whole(instances: &[&BlockTerms]) {
    for text in TEXTS {
        let want = whole(instances[0], text);
        for chunks in cuttings(text) {
            for together in [false, true] {
                let (sent, err) = stream_on(instances, &chunks, together);
                assert!(err.is_none());
                assert_eq!(sent, want, "{chunks:?} together: {together}");
            }
        }
    }
}

const TERMS: &str =
    r#""terms": ["falcon", "project x", "c++", "ab", "straße", "σοφια", "falconry fans"]"#;

#[test]
fn streams_redact_like_whole_texts() {
    for options in [
        "",
        r#", "whole_words": false"#,
        r#", "case_sensitive": true"#,
        r#", "whole_words": false, "case_sensitive": true"#,
    ] {
        let json = format!(r#"{{{TERMS}, "action": "redact"{options}}}"#);
        streams_match_whole(&[&plugin(&json).expect("config")]);
    }
}

#[test]
fn denying_streams_stop_before_sending_a_term() {
    let p = plugin(&format!("{{{TERMS}}}")).expect("config");
    for text in TEXTS {
        let first = p.matcher.settle(text, true).first().map(|m| m.0);
        for chunks in cuttings(text) {
            let (sent, err) = stream(&p, &chunks);
            match first {
                None => assert!(err.is_none() && sent == *text),
                Some(start) => {
                    let e = err.expect("a stop");
                    assert_eq!((e.status, e.code.as_deref()), (422, Some("blocked_term")));
                    assert!(sent.len() <= start, "{chunks:?} sent {sent:?}");
                }
            }
        }
    }
}

#[test]
fn a_term_at_the_end_of_stream_text_waits_while_it_could_grow() {
    let p = redactor("");
    let text = |t: &str, last: bool| match p.check_text(&ctx(), None, 7, t, last) {
        TextVerdict::Allow => t.to_string(),
        TextVerdict::Replace(r) => r,
        TextVerdict::Stop(e) => panic!("unexpected stop {e:?}"),
    };
    assert_eq!(text("a falcon", false), "a falcon", "`falconry` may follow");
    assert_eq!(text("a falcon", true), "a [REDACTED]");
    assert_eq!(text("a falcon ", false), "a [REDACTED] ");
    assert_eq!(
        text("see project", false),
        "see project",
        "`project x` may follow"
    );
    let p = redactor(r#", "whole_words": false"#);
    match p.check_text(&ctx(), None, 8, "a falcon", false) {
        TextVerdict::Replace(r) => assert_eq!(r, "a [REDACTED]"),
        other => panic!("expected a replacement, got {other:?}"),
    }
}

#[test]
fn a_streams_calls_may_go_to_different_instances() {
    let json = format!(r#"{{{TERMS}, "action": "redact"}}"#);
    let (a, b) = (
        plugin(&json).expect("config"),
        plugin(&json).expect("config"),
    );
    streams_match_whole(&[&a, &b]);
    // The same text gets the same answer, whatever stream or choice it is of, and whatever
    // the instance was shown before.
    let p = redactor("");
    for (id, choice) in [("r1", 0), ("r1", 1), ("r2", 0)] {
        let ctx = RequestCtx {
            request_id: id.into(),
            ..Default::default()
        };
        for (text, last, want) in [
            ("x".repeat(40) + " and then", false, None),
            (
                "falcon flies away ".into(),
                false,
                Some("[REDACTED] flies away "),
            ),
            ("falcon".into(), true, Some("[REDACTED]")),
        ] {
            match p.check_text(&ctx, None, choice, &text, last) {
                TextVerdict::Allow => assert_eq!(want, None, "{text:?}"),
                TextVerdict::Replace(r) => assert_eq!(Some(r.as_str()), want),
                TextVerdict::Stop(e) => panic!("unexpected stop {e:?}"),
            }
        }
    }
}

#[test]
fn a_cut_inside_a_word_judges_the_rest_of_it_alone() {
    let p = plugin(r#"{"terms": ["cat"], "action": "redact"}"#).expect("config");
    assert_eq!(p.info().look_behind, 11);
    // Deltas shorter than a word: the host holds text from a word's start, so `concat` is
    // judged whole, as in the whole text.
    let text = "we concat strings here, then";
    assert_eq!(whole(&p, text), text);
    let one_char_each: Vec<&str> = text.split_inclusive(|_| true).collect();
    let (sent, _) = stream(&p, &one_char_each);
    assert_eq!(sent, text);
    // No word's start within two look-behinds of the cut: the held text starts inside a token,
    // and the rest of it is judged alone.
    let token = format!("{}cat, and so", "x".repeat(30));
    assert_eq!(whole(&p, &token), token);
    let (sent, _) = stream(&p, &[&token]);
    assert_eq!(sent, format!("{}[REDACTED], and so", "x".repeat(30)));
    // Denying, such a stream is stopped (before any of the word is sent).
    let p = plugin(r#"{"terms": ["cat"]}"#).expect("config");
    let (sent, err) = stream(&p, &[&token, " more"]);
    assert_eq!(err.map(|e| e.status), Some(422));
    assert!(token.starts_with(&sent) && sent.len() <= token.find("cat").expect("cat"));
}
