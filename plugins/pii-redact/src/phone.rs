//! Phone numbers. A candidate is a run of digit groups: an optional leading `+`, then groups of
//! digits split by single spaces, dashes or dots, where a group may be in parentheses (`(555)`,
//! `(0)`). It is a phone number when:
//!
//! - it has 7 to 15 digits, and at most 12 unless it is international (a leading `+` or `00`);
//! - without a `+` or parentheses it has separators: two groups or more, and three or more
//!   unless it has 10 digits or more (`0171 1234567`), so plain numbers (`5551234567`) and
//!   ranges (`1990-2000`) are not phones;
//! - it does not mix dashes and dots, and with dots it has three groups or more, the last of
//!   four digits or more (decimals, IP addresses and versions are not phones);
//! - a group of one digit comes first only (`1-800-...`), or second after a `+` country code
//!   (`+33 1 23 45 67 89`);
//! - without a `+` or parentheses, it does not start like a date (`2024-01-15`, `15.01.2024`) or
//!   look like a number with thousands separators (`1 234 567`, `100 000 000`: groups of three
//!   after the first, split by spaces or dots), a list of years or card-like groups of four
//!   (`1999 2000 2001`, `4111 1111 1111`);
//! - it is not inside a word, a decimal number or a longer token: the char before it is not a
//!   letter, digit, `_`, `@`, `+` or `/` (nor `.`, `,`, `-`, `:` right after a digit), and the
//!   char after it is not a letter, digit, `_` or `@` (nor `.`, `,`, `-`, `:`, `/` followed by a
//!   digit: times such as `2024-01-15 10:30` and extensions such as `/12`).
//!
//! A run that is not a phone number as a whole may hold one that starts with `+` or has
//! parentheses, split from the rest by spaces.
//!
//! Card numbers have 13 digits or more: without a `+` they are not phones, and cards win over
//! phones where both would match.

use crate::Kind;
use crate::scan::{Cand, char_at, char_before, digit_at, is_word};

/// A group of digits in a run.
#[derive(Clone, Copy)]
struct Group {
    /// Byte offset just past it (past the `)` of a group in parentheses).
    end: usize,
    /// Its digit count.
    digits: usize,
    /// Whether it is in parentheses.
    paren: bool,
    /// The separator after it, if the run goes on.
    sep: Option<u8>,
}

/// A parsed run.
#[derive(Default)]
struct Run {
    /// Whether the parse looked past the end of the text.
    open: bool,
    /// Whether it starts with `+`.
    plus: bool,
    /// Its groups.
    groups: Vec<Group>,
}

impl Run {
    /// Byte offset just past its last group.
    fn end(&self, start: usize) -> usize {
        self.groups.last().map_or(start, |g| g.end)
    }
}

/// Finds phone numbers in `text`.
pub(crate) fn phones(text: &str, out: &mut Vec<Cand>) {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let opener = c == b'+' || c == b'(';
        if !(c.is_ascii_digit() || opener) {
            i += 1;
            continue;
        }
        if !before_ok(text, i) {
            i += 1;
            while digit_at(b, i) {
                i += 1;
            }
            continue;
        }
        if opener && !digit_at(b, i + 1) {
            if i + 1 == b.len() {
                out.push(Cand::pending(Kind::Phone, i, text));
            }
            i += 1;
            continue;
        }
        let mut run = parse(b, i);
        let end = run.end(i);
        let tail_ok = after_ok(text, end, &mut run.open);
        if run.open {
            out.push(Cand::pending(Kind::Phone, i, text));
        }
        for (s, e) in pick(b, i, &run, tail_ok) {
            let start = if s == 0 { i } else { run.groups[s - 1].end + 1 };
            out.push(Cand {
                start,
                end: run.groups[e].end,
                kind: Kind::Phone,
                valid: true,
                open: run.open,
            });
        }
        i = end.max(i + 1);
    }
}

/// The phone numbers in a run, as ranges of its groups: the whole run, or (when it is not one)
/// stretches of it split at spaces that start with `+` or hold parentheses
/// (`+1 555 123 4567 4111111111111111`). Greedily, the stretch with the most digits first, then
/// the one that ends last.
fn pick(b: &[u8], start: usize, run: &Run, tail_ok: bool) -> Vec<(usize, usize)> {
    let g = &run.groups;
    let n = g.len();
    let mut used = vec![false; n];
    let mut picked = Vec::new();
    loop {
        let mut best: Option<(usize, usize, usize)> = None;
        for s in 0..n {
            if s > 0 && g[s - 1].sep != Some(b' ') {
                continue;
            }
            let at = if s == 0 { start } else { g[s - 1].end + 1 };
            let plus = s == 0 && run.plus;
            let intl = plus || b[at..].starts_with(b"00");
            let mut digits = 0;
            for e in s..n {
                if used[e] {
                    break;
                }
                digits += g[e].digits;
                if digits > 15 {
                    break;
                }
                let end_ok = if e + 1 == n {
                    tail_ok
                } else {
                    g[e].sep == Some(b' ')
                };
                // Only a stretch with a strong sign of a phone number is cut out of a run.
                let whole = s == 0 && e + 1 == n;
                let strong = plus || g[s..=e].iter().any(|x| x.paren);
                if end_ok
                    && (whole || strong)
                    && rules(&g[s..=e], plus, intl)
                    && best.is_none_or(|(d, z, _)| (digits, e) > (d, z))
                {
                    best = Some((digits, e, s));
                }
            }
        }
        match best {
            Some((_, e, s)) => {
                used[s..=e].iter_mut().for_each(|u| *u = true);
                picked.push((s, e));
            }
            None => return picked,
        }
    }
}

/// Whether a run may start at `i`: not inside a word or a number.
fn before_ok(text: &str, i: usize) -> bool {
    match char_before(text, i) {
        None => true,
        Some(c) if is_word(c) || matches!(c, '@' | '+' | '/') => false,
        Some('.' | ',' | '-' | ':') => {
            !char_before(text, i - 1).is_some_and(|c| c.is_ascii_digit())
        }
        Some(_) => true,
    }
}

/// Parses the run that starts at `j` (a digit, or `+` or `(` before a digit).
fn parse(b: &[u8], mut j: usize) -> Run {
    let mut run = Run::default();
    if b[j] == b'+' {
        run.plus = true;
        j += 1;
    }
    loop {
        let (digits, paren) = if b.get(j) == Some(&b'(') {
            let k0 = j + 1;
            let mut k = k0;
            while digit_at(b, k) && k - k0 < 6 {
                k += 1;
            }
            match b.get(k) {
                Some(b')') if (1..=5).contains(&(k - k0)) => {
                    j = k + 1;
                    (k - k0, true)
                }
                None => {
                    run.open = true;
                    break;
                }
                Some(_) => break,
            }
        } else {
            let k0 = j;
            while digit_at(b, j) {
                j += 1;
            }
            if j == k0 {
                break;
            }
            (j - k0, false)
        };
        run.groups.push(Group {
            end: j,
            digits,
            paren,
            sep: None,
        });
        let sep = match b.get(j) {
            None => {
                run.open = true;
                None
            }
            Some(&s @ (b' ' | b'-' | b'.')) => match b.get(j + 1) {
                Some(d) if d.is_ascii_digit() || (*d == b'(' && s != b'.') => {
                    j += 1;
                    Some(s)
                }
                None => {
                    run.open = true;
                    None
                }
                Some(_) => None,
            },
            Some(b'(') if digit_at(b, j + 1) => Some(0),
            Some(b'(') if j + 1 == b.len() => {
                run.open = true;
                None
            }
            Some(d) if d.is_ascii_digit() => Some(0),
            Some(_) => None,
        };
        match (sep, run.groups.last_mut()) {
            (Some(s), Some(last)) => last.sep = Some(s),
            _ => break,
        }
    }
    run
}

/// Whether a run may end at `end`: not inside a word, a number or a time.
fn after_ok(text: &str, end: usize, open: &mut bool) -> bool {
    let b = text.as_bytes();
    match char_at(text, end) {
        None => {
            *open = true;
            true
        }
        Some(c) if is_word(c) || c == '@' => false,
        Some('.' | ',' | '-' | ':' | '/') => {
            if end + 1 == b.len() {
                *open = true;
            }
            !digit_at(b, end + 1)
        }
        Some(_) => true,
    }
}

/// Whether groups `g` make a phone number (the rules in the module docs); `plus`: after a `+`;
/// `intl`: after a `+` or `00`.
fn rules(g: &[Group], plus: bool, intl: bool) -> bool {
    let digits: usize = g.iter().map(|x| x.digits).sum();
    let paren = g.iter().any(|x| x.paren);
    let inner = &g[..g.len().saturating_sub(1)];
    let dash = inner.iter().any(|x| x.sep == Some(b'-'));
    let dot = inner.iter().any(|x| x.sep == Some(b'.'));
    if !(7..=15).contains(&digits) || (!intl && digits > 12) {
        return false;
    }
    if dash && dot {
        return false;
    }
    if dot && (g.len() < 3 || g.last().is_some_and(|x| x.digits < 4)) {
        return false;
    }
    let single_ok = |k: usize| k == 0 || (plus && k == 1);
    if g.iter()
        .enumerate()
        .any(|(k, x)| x.digits == 1 && !x.paren && !single_ok(k))
    {
        return false;
    }
    if plus || paren {
        return true;
    }
    if g.len() < 2 || (g.len() < 3 && digits < 10) {
        return false;
    }
    if g.len() >= 3 {
        let (a, m, z) = (g[0].digits, g[1].digits, g[2].digits);
        if (a == 4 && m <= 2 && z <= 2) || (a <= 2 && m <= 2 && z == 4) {
            return false;
        }
        if !dash && a <= 3 && g[1..].iter().all(|x| x.digits == 3) {
            return false;
        }
        if g.iter().all(|x| x.digits == 4) {
            return false;
        }
    }
    true
}
