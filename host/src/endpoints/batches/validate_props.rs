//! Property tests of batch input checking: broken lines, byte-order marks, CRLF line ends and
//! 1 MB lines are each reported with their line number or accepted, never a panic; a valid
//! line is kept whatever surrounds it.

use super::lines;
use crate::props::json;
use proptest::prelude::*;
use serde_json::json;

const ENDPOINT: &str = "/v1/chat/completions";

/// A valid line for `custom_id`.
fn valid(custom_id: &str, pad: usize) -> String {
    json!({"custom_id": custom_id, "method": "POST", "url": ENDPOINT,
           "body": {"model": "m1", "messages": [{"role": "user", "content": "x".repeat(pad)}]}})
    .to_string()
}

/// One line of a test's file: valid, any JSON, or bytes that are not JSON.
fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => ("[a-z0-9-]{1,8}", 0..64usize).prop_map(|(id, pad)| valid(&id, pad)),
        2 => json().prop_map(|v| v.to_string()),
        1 => "[^\r\n]{0,40}",
        1 => Just(String::new()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn every_line_is_kept_or_reported_with_its_number(
        body in proptest::collection::vec(line(), 0..12),
        crlf in any::<bool>(),
        bom in any::<bool>(),
    ) {
        let eol = if crlf { "\r\n" } else { "\n" };
        let mut text = body.join(eol);
        if bom {
            text.insert(0, '\u{feff}');
        }
        let numbered = body.iter().filter(|l| !l.trim().is_empty()).count();
        match lines(&text, ENDPOINT, 50_000, |m| m == "m1") {
            Ok(kept) => {
                prop_assert_eq!(kept.len(), numbered, "every request line kept");
                for (_, b) in &kept {
                    prop_assert!(serde_json::from_str::<serde_json::Value>(b).is_ok());
                }
            }
            Err(errors) => {
                prop_assert!(!errors.is_empty());
                for e in &errors {
                    if let Some(n) = e.line {
                        prop_assert!(n >= 1 && n as usize <= body.len(), "line {n} of {}", body.len());
                    } else {
                        prop_assert_eq!(e.code.as_str(), "empty_file");
                    }
                }
            }
        }
    }
}

#[test]
fn a_bom_crlf_and_a_one_megabyte_line_are_read() {
    let text = format!("\u{feff}{}\r\n{}\r\n", valid("a", 10), valid("b", 1 << 20));
    let kept = lines(&text, ENDPOINT, 10, |m| m == "m1").expect("valid");
    assert_eq!(kept.len(), 2);
    assert_eq!(kept[0].0, "a");
    assert!(kept[1].1.len() > 1 << 20);
}

#[test]
fn a_broken_line_is_reported_with_its_number() {
    let text = format!("{}\n{{\"custom_id\": \n{}\n", valid("a", 1), valid("b", 1));
    let errors = lines(&text, ENDPOINT, 10, |m| m == "m1").expect_err("line 2");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].line, Some(2));
    assert_eq!(errors[0].code, "invalid_json_line");
}
