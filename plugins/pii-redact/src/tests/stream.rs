//! Streams: the host's hold-back algorithm, simulated over every way of cutting a text.

use super::{ctx, plugin};
use crate::PiiRedact;
use sluice_plugin_sdk::{ErrorBody, Guard, Plugin, TextVerdict};

/// What the host does with one choice's deltas: keeps `held` (the last `look_behind` bytes of
/// what the guard let through, cut at a char boundary), calls `check_text(held + delta)` per
/// delta, then `check_text(held, last)`. With `skip_short`, like the gateway, it does not call
/// the guard while the text is no longer than the look-behind (nothing would be sent). Returns
/// the text sent, and the error a stop ended the stream with.
pub(crate) fn stream(
    p: &PiiRedact,
    chunks: &[&str],
    skip_short: bool,
) -> (String, Option<ErrorBody>) {
    let look_behind = p.info().look_behind as usize;
    let mut sent = String::new();
    let mut held = String::new();
    for delta in chunks {
        let text = format!("{held}{delta}");
        if skip_short && text.len() <= look_behind {
            held = text;
            continue;
        }
        let out = match p.check_text(&ctx(), None, 0, &text, false) {
            TextVerdict::Allow => text,
            TextVerdict::Replace(r) => r,
            TextVerdict::Stop(e) => return (sent, Some(e)),
        };
        let mut cut = out.len().saturating_sub(look_behind);
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        sent.push_str(&out[..cut]);
        held = out[cut..].to_string();
    }
    match p.check_text(&ctx(), None, 0, &held, true) {
        TextVerdict::Allow => sent.push_str(&held),
        TextVerdict::Replace(r) => sent.push_str(&r),
        TextVerdict::Stop(e) => return (sent, Some(e)),
    }
    (sent, None)
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
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor \
     incididunt ut labore et dolore magna aliqua: write to first.last+tag@sub.example.co.uk \
     or call 0044 20 7946 0958 (office), 378282246310005 is the corporate card; ut enim ad \
     minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo.",
];

/// For every text and chunking, what the stream sends equals the text redacted whole.
fn redaction_matches_whole(p: &PiiRedact) {
    for text in TEXTS {
        let whole = p
            .redact(text, true, false)
            .unwrap_or_else(|| text.to_string());
        for cuts in chunkings(text) {
            for skip_short in [false, true] {
                let (sent, err) = stream(p, &chunks(text, &cuts), skip_short);
                assert!(err.is_none());
                assert_eq!(sent, whole, "text {text:?} cut at {cuts:?}");
            }
        }
    }
}

#[test]
fn streams_redact_like_whole_texts_with_the_default_look_behind() {
    redaction_matches_whole(&plugin("{}").expect("config"));
}

#[test]
fn streams_redact_like_whole_texts_with_the_smallest_look_behind() {
    redaction_matches_whole(&plugin(r#"{"look_behind": 64}"#).expect("config"));
}

#[test]
fn streams_redact_each_kind_alone_like_whole_texts() {
    for kind in ["email", "phone", "card", "iban"] {
        let p = plugin(&format!(r#"{{"detect": ["{kind}"], "look_behind": 64}}"#)).expect("config");
        redaction_matches_whole(&p);
    }
}

#[test]
fn denying_streams_stop_before_sending_any_of_a_match() {
    let p = plugin(r#"{"action": "deny", "look_behind": 64}"#).expect("config");
    for text in TEXTS {
        let first = p.matches(text, true, false).first().map(|f| f.start);
        for cuts in chunkings(text) {
            let (sent, err) = stream(&p, &chunks(text, &cuts), false);
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
fn text_shown_again_mid_stream_has_no_boundary_at_its_start() {
    let p = plugin(r#"{"look_behind": 64}"#).expect("config");
    let ctx = sluice_plugin_sdk::RequestCtx {
        request_id: "r-mid".into(),
        ..Default::default()
    };
    let check = |text: &str, last: bool| match p.check_text(&ctx, None, 1, text, last) {
        TextVerdict::Allow => text.to_string(),
        TextVerdict::Replace(r) => r,
        TextVerdict::Stop(e) => panic!("unexpected stop {e:?}"),
    };
    // At the stream's start, text at offset 0 has a boundary before it.
    assert_eq!(check("555-123-4567 is mine", false), "[PHONE] is mine");
    // More than the look-behind was let through, so the next text starts mid-stream: its
    // first token may be the tail of a longer one (here of `2024-01-15`).
    let long = format!("{} and then", "x".repeat(80));
    assert_eq!(check(&long, false), long);
    assert_eq!(check("024-01-15 is a date ", false), "024-01-15 is a date ");
    assert_eq!(check("024-01-15 is a date", true), "024-01-15 is a date");
    // The last call ended that stream: the choice starts afresh.
    assert_eq!(check("555-123-4567 again.", true), "[PHONE] again.");
}
