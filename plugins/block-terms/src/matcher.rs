//! Finding terms: an Aho-Corasick automaton over the terms (lower-cased when matching ignores
//! case), word-boundary checks, and which matches of a stream's text are settled.

use aho_corasick::{AhoCorasick, MatchKind};

/// Letters, digits (of any script) and `_`.
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `s` lower-cased char by char (the same folding for terms and texts).
fn fold(s: &str) -> String {
    s.chars().flat_map(char::to_lowercase).collect()
}

/// The text the automaton runs over, and where each of its bytes came from.
struct Folded<'a> {
    /// The original text.
    text: &'a str,
    /// The text searched: the original, or its lower-cased copy.
    search: std::borrow::Cow<'a, str>,
    /// For a lower-cased copy whose offsets differ from the original's: the original offset of
    /// the char each byte came from.
    origin: Option<Vec<usize>>,
}

impl<'a> Folded<'a> {
    fn new(text: &'a str, fold_case: bool) -> Self {
        if !fold_case {
            return Folded {
                text,
                search: text.into(),
                origin: None,
            };
        }
        if text.is_ascii() {
            return Folded {
                text,
                search: text.to_ascii_lowercase().into(),
                origin: None,
            };
        }
        let mut search = String::with_capacity(text.len());
        let mut origin = Vec::with_capacity(text.len());
        for (at, c) in text.char_indices() {
            for l in c.to_lowercase() {
                search.push(l);
                origin.extend(std::iter::repeat_n(at, l.len_utf8()));
            }
        }
        Folded {
            text,
            search: search.into(),
            origin: Some(origin),
        }
    }

    /// The original offset of the char that byte `i` of the searched text came from.
    fn start(&self, i: usize) -> usize {
        match &self.origin {
            Some(o) => o.get(i).copied().unwrap_or(self.text.len()),
            None => i,
        }
    }

    /// The original offset just past the char that byte `i - 1` of the searched text came from.
    fn end(&self, i: usize) -> usize {
        match &self.origin {
            Some(_) if i > 0 => {
                let at = self.start(i - 1);
                at + self.text[at..].chars().next().map_or(0, char::len_utf8)
            }
            _ => i,
        }
    }
}

/// The compiled terms.
pub(crate) struct Matcher {
    ac: AhoCorasick,
    /// The terms as searched for, sorted (for prefix checks).
    sorted: Vec<String>,
    /// Per term: whether its first and its last char are word chars.
    edges: Vec<(bool, bool)>,
    /// Whether case is ignored.
    fold_case: bool,
    /// Whether matches must be whole words.
    whole_words: bool,
    /// The longest term as searched for, in bytes.
    pub max_len: usize,
}

impl Matcher {
    /// Compiles `terms` (non-empty strings).
    pub fn new(terms: &[String], case_sensitive: bool, whole_words: bool) -> Result<Self, String> {
        let fold_case = !case_sensitive;
        let searched: Vec<String> = terms
            .iter()
            .map(|t| if fold_case { fold(t) } else { t.clone() })
            .collect();
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&searched)
            .map_err(|e| format!("`terms` cannot be compiled: {e}"))?;
        let edges = terms
            .iter()
            .map(|t| {
                let first = t.chars().next().is_some_and(is_word);
                let last = t.chars().next_back().is_some_and(is_word);
                (first, last)
            })
            .collect();
        let max_len = searched.iter().map(String::len).max().unwrap_or(0);
        let mut sorted = searched;
        sorted.sort();
        sorted.dedup();
        Ok(Matcher {
            ac,
            sorted,
            edges,
            fold_case,
            whole_words,
            max_len,
        })
    }

    /// Whether `s` is the start of a longer term.
    fn starts_a_term(&self, s: &str) -> bool {
        let i = self.sorted.partition_point(|t| t.as_str() <= s);
        self.sorted.get(i).is_some_and(|t| t.starts_with(s))
    }

    /// The settled matches of `text` as byte ranges, without overlaps (leftmost first, then
    /// longest), in text order. When `last` is false, more text follows: a match that could
    /// still grow into a longer term, or (whole words) run on into a longer word, waits, and so
    /// does everything after its start. The text's start counts as a word boundary.
    pub fn settle(&self, text: &str, last: bool) -> Vec<(usize, usize)> {
        let folded = Folded::new(text, self.fold_case);
        let search: &str = &folded.search;
        let mut hits: Vec<(usize, usize)> = Vec::new();
        let mut frontier = text.len();
        for m in self.ac.find_overlapping_iter(search) {
            let (start, end) = (folded.start(m.start()), folded.end(m.end()));
            let (first_word, last_word) = self.edges[m.pattern().as_usize()];
            if self.whole_words
                && first_word
                && text[..start].chars().next_back().is_some_and(is_word)
            {
                continue;
            }
            if self.whole_words && last_word {
                match text[end..].chars().next() {
                    Some(c) if is_word(c) => continue,
                    None if !last => frontier = frontier.min(start),
                    _ => {}
                }
            }
            hits.push((start, end));
        }
        if !last {
            // The text may end in the start of a longer term.
            let from = search.len().saturating_sub(self.max_len);
            let pending = (from..search.len())
                .filter(|&q| search.is_char_boundary(q))
                .find(|&q| self.starts_a_term(&search[q..]));
            if let Some(q) = pending {
                frontier = frontier.min(folded.start(q));
            }
            while let Some(start) = hits
                .iter()
                .filter(|h| h.0 < frontier && h.1 > frontier)
                .map(|h| h.0)
                .min()
            {
                frontier = start;
            }
        }
        hits.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        let mut out: Vec<(usize, usize)> = Vec::new();
        for h in hits {
            if out.last().is_none_or(|l| h.0 >= l.1) {
                out.push(h);
            }
        }
        out.retain(|h| h.1 <= frontier);
        out
    }
}
