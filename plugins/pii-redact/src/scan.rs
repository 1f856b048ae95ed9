//! What the detectors share: candidates, text helpers, and how the matches of a text are settled
//! (priorities between kinds, and what must wait for more stream text).

use crate::Kind;
use std::collections::BTreeMap;

/// A stretch of text a detector looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cand {
    /// Byte offset of its first char.
    pub start: usize,
    /// Byte offset just past it.
    pub end: usize,
    /// The detector that found it.
    pub kind: Kind,
    /// Whether it is a match, judged on the text seen so far.
    pub valid: bool,
    /// Whether that judgement looked past the end of the text: more text could change it (or
    /// make a match of what is not one yet).
    pub open: bool,
}

impl Cand {
    /// An unfinished stretch from `start` to the end of `text`: not a match yet, but it may
    /// become one when more text comes.
    pub fn pending(kind: Kind, start: usize, text: &str) -> Cand {
        Cand {
            start,
            end: text.len(),
            kind,
            valid: false,
            open: true,
        }
    }
}

/// A settled match: the text from `start` to `end` is of kind `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Found {
    /// Byte offset of its first char.
    pub start: usize,
    /// Byte offset just past it.
    pub end: usize,
    /// What it is.
    pub kind: Kind,
}

/// The char before byte offset `i` (a char boundary), if any.
pub(crate) fn char_before(s: &str, i: usize) -> Option<char> {
    s.get(..i).and_then(|h| h.chars().next_back())
}

/// The char at byte offset `i` (a char boundary), if any.
pub(crate) fn char_at(s: &str, i: usize) -> Option<char> {
    s.get(i..).and_then(|t| t.chars().next())
}

/// Letters, digits (of any script) and `_`.
pub(crate) fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Whether the byte at `i` is an ASCII digit.
pub(crate) fn digit_at(b: &[u8], i: usize) -> bool {
    b.get(i).is_some_and(u8::is_ascii_digit)
}

/// The settled matches of `text` among the `kinds` enabled, without overlaps, in text order.
///
/// Candidates of a higher-priority kind (the order of [`Kind::PRIORITY`]) win over overlapping
/// ones of lower kinds. When `last` is false, more text follows: a match that an open candidate
/// overlaps could still change, so everything from the start of the first open candidate (and
/// of any match that reaches past it) on is left for a later call.
///
/// The text's start counts as a boundary, like whitespace: a stream's text shown again starts
/// after whitespace (the host cuts its hold-back at a word start), or where the stream did.
pub(crate) fn settle(text: &str, kinds: &[Kind], last: bool) -> Vec<Found> {
    let mut cands = Vec::new();
    for kind in Kind::PRIORITY {
        if !kinds.contains(&kind) {
            continue;
        }
        match kind {
            Kind::Email => emails(text, &mut cands),
            Kind::Iban => crate::iban::ibans(text, &mut cands),
            Kind::Card => cards(text, &mut cands),
            Kind::Phone => crate::phone::phones(text, &mut cands),
        }
    }
    let mut frontier = text.len();
    if !last {
        if kinds.contains(&Kind::Email) {
            // The text may end in the local part of an email whose `@` is still to come.
            let b = text.as_bytes();
            let mut k = b.len();
            while k > 0 && is_local(b[k - 1]) {
                k -= 1;
            }
            if k < b.len() {
                cands.push(Cand::pending(Kind::Email, k, text));
            }
        }
        frontier = cands
            .iter()
            .filter(|c| c.open)
            .map(|c| c.start)
            .fold(frontier, usize::min);
        // A match that reaches past the frontier could lose to what lies beyond: it waits too.
        loop {
            let moved = cands
                .iter()
                .filter(|c| c.valid && c.start < frontier && c.end > frontier)
                .map(|c| c.start)
                .min();
            match moved {
                Some(start) => frontier = start,
                None => break,
            }
        }
    }
    // Candidates come in priority order, each kind's in text order: the first one to claim a
    // stretch keeps it.
    let mut taken: BTreeMap<usize, Found> = BTreeMap::new();
    for c in cands.iter().filter(|c| c.valid && c.start < c.end) {
        let clash_before = taken
            .range(..=c.start)
            .next_back()
            .is_some_and(|(_, t)| t.end > c.start);
        let clash_after = taken.range(c.start..c.end).next().is_some();
        if !clash_before && !clash_after {
            let found = Found {
                start: c.start,
                end: c.end,
                kind: c.kind,
            };
            taken.insert(c.start, found);
        }
    }
    taken.into_values().filter(|f| f.end <= frontier).collect()
}

/// Bytes an email's local part is made of (the common subset of RFC 5322's).
pub(crate) fn is_local(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'%' | b'+' | b'-')
}

/// Bytes a domain is made of.
fn is_domain(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-')
}

/// Whether `d` is a domain name: two or more labels of letters, digits and inner hyphens, the
/// last one (the top-level domain) of two or more letters.
fn valid_domain(d: &str) -> bool {
    if d.len() > 253 {
        return false;
    }
    let labels: Vec<&str> = d.split('.').collect();
    let Some(tld) = labels.last() else {
        return false;
    };
    labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.len() <= 63 && !l.starts_with('-') && !l.ends_with('-'))
        && tld.len() >= 2
        && tld.bytes().all(|c| c.is_ascii_alphabetic())
}

/// Email addresses: `local@domain`, around every `@`.
fn emails(text: &str, out: &mut Vec<Cand>) {
    let b = text.as_bytes();
    for (at, _) in text.match_indices('@') {
        let mut start = at;
        while start > 0 && is_local(b[start - 1]) {
            start -= 1;
        }
        while start < at && b[start] == b'.' {
            start += 1;
        }
        let mut end = at + 1;
        while end < b.len() && is_domain(b[end]) {
            end += 1;
        }
        let open = end == b.len();
        while end > at + 1 && matches!(b[end - 1], b'.' | b'-') {
            end -= 1;
        }
        let valid = start < at && {
            let domain = &text[at + 1..end];
            // The longest stretch of whole labels that is a domain: `bob@example.com.x1` ends
            // at `com`.
            let mut cut = domain.len();
            loop {
                let whole = cut == domain.len();
                if valid_domain(&domain[..cut])
                    && !(whole && char_at(text, end).is_some_and(is_word))
                {
                    end = at + 1 + cut;
                    break true;
                }
                match domain[..cut].rfind('.') {
                    Some(dot) => cut = dot,
                    None => break false,
                }
            }
        };
        if valid || open {
            let start = if start < at { start } else { at };
            out.push(Cand {
                start,
                end: if valid { end } else { b.len() },
                kind: Kind::Email,
                valid,
                open,
            });
        }
    }
}

/// Whether `digits` (ASCII digits) pass the Luhn check.
pub(crate) fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(d - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

/// Payment card numbers: 13 to 19 digits, starting with 2 to 6 (the card networks' ranges),
/// whole or in groups of three or more digits split by single spaces or dashes, that pass the
/// Luhn check. A run of such groups may hold several cards.
fn cards(text: &str, out: &mut Vec<Cand>) {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        let mut groups: Vec<(usize, usize)> = Vec::new();
        let mut open = false;
        loop {
            let g = i;
            while digit_at(b, i) {
                i += 1;
            }
            groups.push((g, i));
            match b.get(i) {
                None => open = true,
                Some(b' ' | b'-') if digit_at(b, i + 1) => {
                    i += 1;
                    continue;
                }
                Some(b' ' | b'-') if i + 1 == b.len() => open = true,
                _ => {}
            }
            break;
        }
        let end = groups.last().map_or(start, |g| g.1);
        // Not inside a word or a decimal number.
        let before_ok = match char_before(text, start) {
            Some(c) if is_word(c) || c == '+' || c == '@' => false,
            Some('.' | ',') => !char_before(text, start - 1).is_some_and(|c| c.is_ascii_digit()),
            _ => true,
        };
        let after_ok = match char_at(text, end) {
            Some(c) if is_word(c) => false,
            Some('.' | ',') => {
                if end + 1 == b.len() {
                    open = true;
                }
                !digit_at(b, end + 1)
            }
            _ => true,
        };
        if open {
            out.push(Cand::pending(Kind::Card, start, text));
        }
        card_segments(b, &groups, (before_ok, after_ok), open, out);
    }
}

/// The cards in a run of digit groups: from each group on, the longest stretch of whole groups
/// that is a card. `edges`: whether a card may start at the run's start, and end at its end.
fn card_segments(
    b: &[u8],
    groups: &[(usize, usize)],
    edges: (bool, bool),
    open: bool,
    out: &mut Vec<Cand>,
) {
    let mut g = 0;
    while g < groups.len() {
        let mut best = None;
        if g == 0 && !edges.0 {
            g += 1;
            continue;
        }
        let mut digits: Vec<u8> = Vec::with_capacity(19);
        for (h, &(s, e)) in groups.iter().enumerate().skip(g) {
            digits.extend_from_slice(&b[s..e]);
            if digits.len() > 19 {
                break;
            }
            let grouped_ok = h == g || groups[g..=h].iter().all(|&(s, e)| e - s >= 3);
            if digits.len() >= 13
                && grouped_ok
                && (h + 1 < groups.len() || edges.1)
                && (b'2'..=b'6').contains(&digits[0])
                && luhn(&digits)
            {
                best = Some(h);
            }
        }
        match best {
            Some(h) => {
                out.push(Cand {
                    start: groups[g].0,
                    end: groups[h].1,
                    kind: Kind::Card,
                    valid: true,
                    open,
                });
                g = h + 1;
            }
            None => g += 1,
        }
    }
}
