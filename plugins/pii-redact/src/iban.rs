//! IBANs (ISO 13616): a country code, two check digits and the account (BBAN), in capitals,
//! written whole or in groups of four split by single spaces; valid only when the mod-97 check
//! gives 1 and the length is the country's (15 to 34 for countries not in the table).

use crate::Kind;
use crate::scan::{Cand, char_at, char_before, is_word};

/// IBAN lengths of the countries that use them (SWIFT's IBAN registry).
const LENGTHS: &[(&[u8; 2], usize)] = &[
    (b"AD", 24),
    (b"AE", 23),
    (b"AL", 28),
    (b"AT", 20),
    (b"AZ", 28),
    (b"BA", 20),
    (b"BE", 16),
    (b"BG", 22),
    (b"BH", 22),
    (b"BR", 29),
    (b"BY", 28),
    (b"CH", 21),
    (b"CR", 22),
    (b"CY", 28),
    (b"CZ", 24),
    (b"DE", 22),
    (b"DK", 18),
    (b"DO", 28),
    (b"EE", 20),
    (b"EG", 29),
    (b"ES", 24),
    (b"FI", 18),
    (b"FO", 18),
    (b"FR", 27),
    (b"GB", 22),
    (b"GE", 22),
    (b"GI", 23),
    (b"GL", 18),
    (b"GR", 27),
    (b"GT", 28),
    (b"HR", 21),
    (b"HU", 28),
    (b"IE", 22),
    (b"IL", 23),
    (b"IQ", 23),
    (b"IS", 26),
    (b"IT", 27),
    (b"JO", 30),
    (b"KW", 30),
    (b"KZ", 20),
    (b"LB", 28),
    (b"LC", 32),
    (b"LI", 21),
    (b"LT", 20),
    (b"LU", 20),
    (b"LV", 21),
    (b"MC", 27),
    (b"MD", 24),
    (b"ME", 22),
    (b"MK", 19),
    (b"MR", 27),
    (b"MT", 31),
    (b"MU", 30),
    (b"NL", 18),
    (b"NO", 15),
    (b"PK", 24),
    (b"PL", 28),
    (b"PS", 29),
    (b"PT", 25),
    (b"QA", 29),
    (b"RO", 24),
    (b"RS", 22),
    (b"SA", 24),
    (b"SC", 31),
    (b"SE", 24),
    (b"SI", 19),
    (b"SK", 24),
    (b"SM", 27),
    (b"ST", 25),
    (b"SV", 28),
    (b"TL", 23),
    (b"TN", 24),
    (b"TR", 26),
    (b"UA", 29),
    (b"VA", 22),
    (b"VG", 24),
    (b"XK", 20),
];

/// The longest IBAN, in chars without spaces.
const MAX: usize = 34;
/// The shortest IBAN.
const MIN: usize = 15;

/// Whether `chars` (capitals and digits, the country code first) pass the mod-97 check.
pub(crate) fn mod97(chars: &[u8]) -> bool {
    if chars.len() < 4 {
        return false;
    }
    let mut r = 0u32;
    for &c in chars[4..].iter().chain(&chars[..4]) {
        r = if c.is_ascii_digit() {
            (r * 10 + u32::from(c - b'0')) % 97
        } else {
            (r * 100 + u32::from(c - b'A') + 10) % 97
        };
    }
    r == 1
}

/// Capitals and digits.
fn is_bban(c: u8) -> bool {
    c.is_ascii_uppercase() || c.is_ascii_digit()
}

/// Finds IBANs in `text`.
pub(crate) fn ibans(text: &str, out: &mut Vec<Cand>) {
    let b = text.as_bytes();
    for (start, c) in b.iter().enumerate() {
        if !c.is_ascii_uppercase() || char_before(text, start).is_some_and(is_word) {
            continue;
        }
        if let Some(c) = scan(text, start) {
            out.push(c);
        }
    }
}

/// The IBAN candidate at `start` (a capital that starts a word), if there is one.
fn scan(text: &str, start: usize) -> Option<Cand> {
    let b = text.as_bytes();
    // Country code and check digits.
    for (k, want) in [
        (1, u8::is_ascii_uppercase as fn(&u8) -> bool),
        (2, u8::is_ascii_digit),
        (3, u8::is_ascii_digit),
    ] {
        match b.get(start + k) {
            None => return Some(Cand::pending(Kind::Iban, start, text)),
            Some(c) if want(c) => {}
            Some(_) => return None,
        }
    }
    let mut chars: Vec<u8> = b[start..start + 4].to_vec();
    // Byte offset just past each char.
    let mut ends: Vec<usize> = (start + 1..=start + 4).collect();
    let mut grouped: Option<bool> = None;
    let mut j = start + 4;
    let mut open = false;
    while chars.len() <= MAX {
        match b.get(j) {
            None => {
                open = true;
                break;
            }
            Some(&c) if is_bban(c) => {
                if chars.len().is_multiple_of(4) && b[j - 1] != b' ' {
                    if grouped == Some(true) {
                        break;
                    }
                    grouped = Some(false);
                }
                chars.push(c);
                j += 1;
                ends.push(j);
            }
            Some(b' ') if chars.len().is_multiple_of(4) && grouped != Some(false) => {
                match b.get(j + 1) {
                    Some(&c) if is_bban(c) => {
                        grouped = Some(true);
                        j += 1;
                    }
                    None => {
                        open = true;
                        break;
                    }
                    Some(_) => break,
                }
            }
            Some(_) => break,
        }
    }
    let n = chars.len();
    let whole_ends_ok = !char_at(text, j).is_some_and(is_word);
    let grouped = grouped == Some(true);
    // The lengths this could be, longest first: the whole run, or (written in groups) a run cut
    // after a whole group.
    let fits = |len: usize| {
        (len == n && whole_ends_ok)
            || (len < n && grouped && len.is_multiple_of(4) && b[ends[len - 1]] == b' ')
    };
    let country = LENGTHS.iter().find(|(cc, _)| cc[..] == chars[..2]);
    let len = match country {
        Some(&(_, len)) => (fits(len) && mod97(&chars[..len])).then_some(len),
        None => (MIN..=n.min(MAX))
            .rev()
            .find(|&len| fits(len) && mod97(&chars[..len])),
    };
    match len {
        Some(len) => Some(Cand {
            start,
            end: ends[len - 1],
            kind: Kind::Iban,
            valid: true,
            open,
        }),
        None if open => Some(Cand::pending(Kind::Iban, start, text)),
        None => None,
    }
}
