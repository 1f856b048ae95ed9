//! Streams: the host's hold-back algorithm, simulated over every way of cutting a text.

use super::{ctx, plugin};
use crate::PiiRedact;
use sluice_plugin_sdk::guard::hold;
use sluice_plugin_sdk::{ErrorBody, Guard, Plugin, TextVerdict};

/// How a choice ends: its last delta comes with its `finish_reason` (`Together`), or a later
/// event (or the stream's end) flushes what is held with an empty delta (`Flush`).
#[derive(Clone, Copy, Debug)]
pub(crate) enum End {
    Together,
    Flush,
}

/// What the host does with one choice's deltas (`StreamGuard::pass`): the held text followed
/// by the delta is checked, unless the choice goes on and that is no longer than the
/// look-behind (it is all held, and the guard is not called); what the guard lets through is
/// sent but for the tail `split_tail` holds; with `last` all of it is sent. Empty text is never
/// checked. Returns the text sent, and the error a stop ended the stream with.
pub(crate) fn stream(p: &PiiRedact, chunks: &[&str], end: End) -> (String, Option<ErrorBody>) {
    stream_on(&[p], chunks, end)
}

/// [`stream`] with the guard's calls going to `instances` in turn, as a warm guard's may: the
/// SDK's copy of the host's hold-back ([`sluice_plugin_sdk::guard::hold`]).
fn stream_on(instances: &[&PiiRedact], chunks: &[&str], end: End) -> (String, Option<ErrorBody>) {
    let window = instances[0].info().look_behind as usize;
    let mut deltas: Vec<(&str, bool)> = chunks.iter().map(|d| (*d, false)).collect();
    match (end, deltas.last_mut()) {
        (End::Together, Some(d)) => d.1 = true,
        _ => deltas.push(("", true)),
    }
    hold::stream(instances, &ctx(), window, &deltas)
}

/// `text` cut at the byte offsets `cuts` (ascending char boundaries).
fn chunks<'a>(text: &'a str, cuts: &[usize]) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut at = 0;
    for &c in cuts {
        out.push(&text[at..c]);
        at = c;
    }
    out.push(&text[at..]);
    out
}

/// Every chunking this test tries: each single cut, each pair of cuts (for texts up to 160
/// bytes), one char per chunk, and pseudo-random chunks of 1 to 9 bytes.
fn chunkings(text: &str) -> Vec<Vec<usize>> {
    let bounds: Vec<usize> = (1..text.len())
        .filter(|&i| text.is_char_boundary(i))
        .collect();
    let mut all: Vec<Vec<usize>> = vec![vec![]];
    all.extend(bounds.iter().map(|&i| vec![i]));
    if text.len() <= 160 {
        for (k, &i) in bounds.iter().enumerate() {
            all.extend(bounds[k + 1..].iter().map(|&j| vec![i, j]));
        }
    }
    all.push(bounds.clone());
    let mut seed = 0x2545_f491_u64;
    for _ in 0..200 {
        let mut cuts = Vec::new();
        let mut at = 0;
        loop {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            at += 1 + (seed >> 33) as usize % 9;
            while at < text.len() && !text.is_char_boundary(at) {
                at += 1;
            }
            if at >= text.len() {
                break;
            }
            cuts.push(at);
        }
        all.push(cuts);
    }
    all
}

const TEXTS: &[&str] = &[
    "Contact me at bob.smith@example.com or +44 20 7946 0958, card 4111 1111 1111 1111, \
     IBAN DE89 3704 0044 0532 0130 00. Thanks!",
    "mail:alice@mail.example.org.555-123-4567 end",
    "Pay GB82WEST12345698765432 or 5555555555554444; call (555) 123-4567 / +1-800-555-1234.",
    "Released 2024-01-15 10:30 as v1.2.3 on 192.168.100.200 for 1 234 567 users; not \
     4111111111111112 nor DE89370400440532013001",
    "Привет bob@example.com — 電話 +81 3 1234 5678 ✓ café 4222222222222",
    "bob@example.com,+1 555 123 4567;4111111111111111 DE89370400440532013000",
    "x@y.io",
    "4111111111111111",
    "call 555-123-45",
    "IBAN NL91 ABNA 0417 1643 00 OK and FR14 2004 1010 0505 0001 3M02 606",
    "counts 1 234 567 890 123 and 100 000 000 000, then words to take it past the look-behind.",
    "Call +44 20 7946 0958 or mail bob@example.com, card 4111 1111 1111 1111; the rest pads it.",
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor \
     incididunt ut labore et dolore magna aliqua: write to first.last+tag@sub.example.co.uk \
     or call 0044 20 7946 0958 (office), 378282246310005 is the corporate card; ut enim ad \
     minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo.",
];

/// For every text and chunking, and either way a choice ends, what the stream sends equals the
/// text redacted whole.
fn redaction_matches_whole(instances: &[&PiiRedact]) {
    for text in TEXTS {
        let whole = instances[0]
            .redact(text, true)
            .unwrap_or_else(|| text.to_string());
        for cuts in chunkings(text) {
            for end in [End::Flush, End::Together] {
                let (sent, err) = stream_on(instances, &chunks(text, &cuts), end);
                assert!(err.is_none());
                assert_eq!(sent, whole, "text {text:?} cut at {cuts:?} {end:?}");
            }
        }
    }
}

#[test]
fn streams_redact_like_whole_texts_with_the_default_look_behind() {
    redaction_matches_whole(&[&plugin("{}").expect("config")]);
}

#[test]
fn streams_redact_like_whole_texts_with_the_smallest_look_behind() {
    redaction_matches_whole(&[&plugin(r#"{"look_behind": 64}"#).expect("config")]);
}

#[test]
fn streams_redact_each_kind_alone_like_whole_texts() {
    for kind in ["email", "phone", "card", "iban"] {
        let p = plugin(&format!(r#"{{"detect": ["{kind}"], "look_behind": 64}}"#)).expect("config");
        redaction_matches_whole(&[&p]);
    }
}

#[test]
fn a_streams_calls_may_go_to_different_instances() {
    let config = r#"{"look_behind": 64}"#;
    let (a, b, c) = (plugin(config), plugin(config), plugin(config));
    redaction_matches_whole(&[
        &a.expect("config"),
        &b.expect("config"),
        &c.expect("config"),
    ]);
}

#[test]
fn denying_streams_stop_before_sending_any_of_a_match() {
    let p = plugin(r#"{"action": "deny", "look_behind": 64}"#).expect("config");
    for text in TEXTS {
        let first = p.matches(text, true).first().map(|f| f.start);
        for cuts in chunkings(text) {
            let (sent, err) = stream(&p, &chunks(text, &cuts), End::Flush);
            match first {
                None => {
                    assert!(err.is_none(), "text {text:?} cut at {cuts:?}");
                    assert_eq!(sent, *text);
                }
                Some(start) => {
                    let e = err.expect("the stream is stopped");
                    assert_eq!((e.status, e.code.as_deref()), (422, Some("pii_detected")));
                    assert!(
                        sent.len() <= start && text.starts_with(&sent),
                        "text {text:?} cut at {cuts:?} sent {sent:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn an_open_match_at_the_end_waits_and_a_closed_one_does_not() {
    let p = plugin("{}").expect("config");
    let check = |text: &str, last: bool| match p.check_text(&ctx(), None, 0, text, last) {
        TextVerdict::Allow => text.to_string(),
        TextVerdict::Replace(r) => r,
        TextVerdict::Stop(e) => panic!("unexpected stop {e:?}"),
    };
    // The domain may go on.
    assert_eq!(check("to bob@example.co", false), "to bob@example.co");
    assert_eq!(check("to bob@example.co", true), "to [EMAIL]");
    // More digits may come.
    assert_eq!(
        check("pay 4111 1111 1111 1111", false),
        "pay 4111 1111 1111 1111"
    );
    assert_eq!(
        check("pay 4111 1111 1111 1111 ", false),
        "pay 4111 1111 1111 1111 "
    );
    assert_eq!(
        check("pay 4111 1111 1111 1111 now", false),
        "pay [CARD] now"
    );
    // An `@` may follow the text's last word.
    assert_eq!(check("call 555-123-4567.x", false), "call 555-123-4567.x");
    assert_eq!(check("call 555-123-4567. x", false), "call [PHONE]. x");
    // Earlier matches are redacted even while a later one waits.
    assert_eq!(
        check("a@b.io then DE89 3704 0044 0532 0130", false),
        "[EMAIL] then DE89 3704 0044 0532 0130"
    );
}

#[test]
fn check_text_depends_on_its_arguments_only() {
    let p = plugin(r#"{"look_behind": 64}"#).expect("config");
    let call = |id: &str, choice: u32, text: &str, last: bool| {
        let ctx = sluice_plugin_sdk::RequestCtx {
            request_id: id.into(),
            ..Default::default()
        };
        match p.check_text(&ctx, None, choice, text, last) {
            TextVerdict::Allow => text.to_string(),
            TextVerdict::Replace(r) => r,
            TextVerdict::Stop(e) => panic!("unexpected stop {e:?}"),
        }
    };
    // A text's start is a boundary, whatever this instance was shown before.
    let long = format!("{} and then", "x".repeat(80));
    for (id, choice) in [("r1", 0), ("r1", 1), ("r2", 0)] {
        assert_eq!(call(id, choice, &long, false), long);
        assert_eq!(
            call(id, choice, "555-123-4567 is mine ", false),
            "[PHONE] is mine "
        );
        assert_eq!(
            call(id, choice, "555-123-4567 again.", true),
            "[PHONE] again."
        );
    }
}

/// Texts whose stream can be cut inside a token (see the crate docs' Streams paragraph).
const INSIDE_A_TOKEN: &[&str] = &[
    "On 2024-01-15 we met; the rest of this sentence pads it well past the look-behind.",
    "ref 12 34 56 78 90 12 34 56 and then a longer sentence, well past the look-behind, ok",
    "not DE89 3704 0044 0532 0130 01 nor 4111 1111 1111 1112 and then more words, to pad it.",
];

#[test]
fn a_cut_inside_a_token_judges_the_rest_of_it_alone() {
    let p = plugin(r#"{"look_behind": 64}"#).expect("config");
    let one_char_each =
        |t: &'static str| -> Vec<&'static str> { t.split_inclusive(|_| true).collect() };
    let sent = |chunks: &[&str]| stream(&p, chunks, End::Flush).0;
    // Deltas shorter than a word: the host holds text from a word's start, so `2024-01-15` is
    // judged whole (a date), as in the whole text.
    let date = INSIDE_A_TOKEN[0];
    assert_eq!(p.redact(date, true), None);
    assert_eq!(sent(&one_char_each(date)), date);
    // Nor does the host cut at a space inside a number written in groups.
    let groups = INSIDE_A_TOKEN[1];
    assert_eq!(p.redact(groups, true), None);
    assert_eq!(sent(&[&groups[..74], &groups[74..]]), groups);
    // No whitespace within a look-behind before the cut: a card glued to a word is no card, but
    // the rest of the token shown again starts with it.
    let glued = format!(
        "token {}4111111111111111 and then some words, to make it all sixty-four.",
        "a".repeat(80)
    );
    assert_eq!(glued.len() - glued.find('4').expect("a digit"), 64);
    assert_eq!(p.redact(&glued, true), None);
    assert_eq!(
        sent(&[&glued]),
        glued.replacen("4111111111111111", "[CARD]", 1)
    );
}

#[test]
fn a_cut_inside_a_token_errs_towards_redacting_more() {
    let p = plugin(r#"{"look_behind": 64}"#).expect("config");
    let marks = |t: &str| ["[EMAIL]", "[IBAN]", "[CARD]", "[PHONE]"].map(|m| t.matches(m).count());
    for text in INSIDE_A_TOKEN.iter().chain(TEXTS) {
        let whole = p.redact(text, true).unwrap_or_else(|| text.to_string());
        for cuts in chunkings(text) {
            let (sent, _) = stream(&p, &chunks(text, &cuts), End::Flush);
            if sent == whole {
                continue;
            }
            // What was redacted whole is redacted in the stream too, and some more.
            let (a, b) = (marks(&whole), marks(&sent));
            assert!(
                a.iter().zip(&b).all(|(a, b)| a <= b) && b.iter().sum::<usize>() > a.iter().sum(),
                "text {text:?} cut at {cuts:?} sent {sent:?}"
            );
        }
    }
}
