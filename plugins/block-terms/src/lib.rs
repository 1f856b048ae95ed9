//! `block-terms`: refuses, or redacts, configured terms in request bodies and in answers, whole
//! and streamed.
//!
//! ```toml
//! [[plugins]]
//! name = "terms"
//! stage = "guard"
//! source = "builtin:block-terms"
//! [plugins.config]
//! terms = ["project falcon", "internal-only"] # required, non-empty
//! action = "deny"              # or "redact"; default "deny"
//! replacement = "[REDACTED]"   # with action = "redact"; default "[REDACTED]"
//! case_sensitive = false       # default false: case is ignored
//! whole_words = true           # default true: `cat` does not match in `concat`
//! on = ["request", "response"] # default both; "response" covers whole answers and streams
//! ```
//!
//! Terms are found with an Aho-Corasick automaton built once per instance, so the cost does not
//! grow with the number of terms. Ignoring case lower-cases terms and text char by char
//! (Unicode). With `whole_words`, a term whose first (last) char is a letter, digit or `_` must
//! not have one right before (after) it. Overlapping matches go to the leftmost, then the
//! longest.
//!
//! **Deny** refuses a request with 400 `invalid_request_error`, code `blocked_term`. An answer
//! is withheld with 422 `invalid_request_error`, code `blocked_term` (a stream ends with that
//! error as its last event): a 4xx status, because retrying the same request would most likely
//! produce the same answer and OpenAI's SDKs retry 5xx statuses on their own; 422 rather than
//! 400, because the request itself was well-formed. The message never names the term.
//! **Redact** replaces each match with `replacement` in request texts (`messages[].content`,
//! `prompt`, `input`), answer texts and streams.
//!
//! **Streams.** The plugin asks the host to hold back the longest term's length in bytes plus 8
//! of each choice's text (the cut moved back to the start of a word), so a term split across
//! chunks is still whole when it is checked; a match at the end of the text seen so far that
//! could still grow (into a longer term, or with `whole_words` into a longer word) waits for the
//! next delta. Each call is judged on its text alone, whose start counts as a word boundary: the
//! plugin keeps nothing of a stream (a warm guard's calls of one stream may each go to another
//! instance). Only where the host finds no word's start within two look-behinds of its cut (a
//! token longer than that) does the text shown again start inside a word, whose rest is then
//! judged alone: with `whole_words`, the `cat` of `xxxx…xxxcat` may be redacted (or stop a
//! denying stream) though the whole text has no match. Such a cut only falls in text already
//! checked together with what came before it, so this errs towards matching more, never less.

mod matcher;

use matcher::Matcher;
use serde::Deserialize;
use sluice_plugin_sdk::guard::{for_each_text, redact_texts};
use sluice_plugin_sdk::{
    Direction, ErrorBody, Guard, GuardVerdict, Plugin, PluginInfo, Principal, RequestCtx,
    TextVerdict,
};

/// Which side of the exchange is watched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Side {
    /// Request bodies.
    Request,
    /// Answers, whole and streamed.
    Response,
}

/// What to do with a match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Action {
    /// Refuse the request, or withhold the answer.
    #[default]
    Deny,
    /// Replace the term and let the text through.
    Redact,
}

/// The plugin's config table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    terms: Vec<String>,
    #[serde(default)]
    action: Action,
    #[serde(default)]
    replacement: Option<String>,
    #[serde(default)]
    case_sensitive: bool,
    #[serde(default = "yes")]
    whole_words: bool,
    #[serde(default = "both_sides")]
    on: Vec<Side>,
}

fn yes() -> bool {
    true
}

fn both_sides() -> Vec<Side> {
    vec![Side::Request, Side::Response]
}

/// The longest term accepted, in bytes.
const MAX_TERM: usize = 1024;
/// The longest replacement accepted, in bytes.
const MAX_REPLACEMENT: usize = 256;
/// Bytes held back beyond the longest term: room for the char before it (whole words).
const SLACK: usize = 8;

/// The plugin, built once per instance from its config.
struct BlockTerms {
    matcher: Matcher,
    /// Deny rather than redact.
    deny: bool,
    /// What a match becomes when redacting.
    replacement: String,
    /// Whether request bodies are checked.
    request: bool,
    /// Whether answers are checked.
    response: bool,
}

impl Plugin for BlockTerms {
    type Config = Config;

    fn new(c: Config) -> Result<Self, String> {
        if c.terms.is_empty() {
            return Err("`terms` must list at least one term".into());
        }
        for (i, t) in c.terms.iter().enumerate() {
            if t.trim().is_empty() {
                return Err(format!("`terms[{i}]` is empty"));
            }
            if t.len() > MAX_TERM {
                return Err(format!("`terms[{i}]` is longer than {MAX_TERM} bytes"));
            }
        }
        if c.on.is_empty() {
            return Err("`on` must name at least one side: request, response".into());
        }
        if c.action == Action::Deny && c.replacement.is_some() {
            return Err("`replacement` is only used with action = \"redact\"".into());
        }
        let replacement = c.replacement.unwrap_or_else(|| "[REDACTED]".into());
        if replacement.len() > MAX_REPLACEMENT {
            return Err(format!(
                "`replacement` is longer than {MAX_REPLACEMENT} bytes"
            ));
        }
        let matcher = Matcher::new(&c.terms, c.case_sensitive, c.whole_words)?;
        if !matcher.settle(&replacement, true).is_empty() {
            return Err("`replacement` contains one of the terms".into());
        }
        Ok(BlockTerms {
            matcher,
            deny: c.action == Action::Deny,
            replacement,
            request: c.on.contains(&Side::Request),
            response: c.on.contains(&Side::Response),
        })
    }

    fn info(&self) -> PluginInfo {
        // Streams are answers: with answers unchecked nothing needs holding back.
        PluginInfo::guard(if self.response {
            u32::try_from(self.look_behind()).unwrap_or(u32::MAX)
        } else {
            0
        })
    }
}

impl BlockTerms {
    /// Stream bytes held back per choice.
    fn look_behind(&self) -> usize {
        self.matcher.max_len + SLACK
    }

    /// `text` with its settled matches replaced, or `None` when it has none.
    fn redact(&self, text: &str, last: bool) -> Option<String> {
        let found = self.matcher.settle(text, last);
        if found.is_empty() {
            return None;
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (start, end) in found {
            out.push_str(&text[at..start]);
            out.push_str(&self.replacement);
            at = end;
        }
        out.push_str(&text[at..]);
        Some(out)
    }

    /// The error for a blocked term on either side.
    fn error(direction: Direction) -> ErrorBody {
        match direction {
            Direction::Request => ErrorBody::new(
                400,
                "invalid_request_error",
                Some("blocked_term"),
                "The request contains a blocked term; it was refused.",
            ),
            Direction::Response => ErrorBody::new(
                422,
                "invalid_request_error",
                Some("blocked_term"),
                "The model's answer contained a blocked term; it was withheld.",
            ),
        }
    }
}

impl Guard for BlockTerms {
    fn check_json(
        &self,
        _ctx: &RequestCtx,
        _principal: Option<&Principal>,
        direction: Direction,
        body: &serde_json::Value,
    ) -> GuardVerdict {
        let watched = match direction {
            Direction::Request => self.request,
            Direction::Response => self.response,
        };
        if !watched {
            return GuardVerdict::Allow;
        }
        if self.deny {
            let mut body = body.clone();
            let mut found = false;
            for_each_text(&mut body, |t| {
                found = found || !self.matcher.settle(t, true).is_empty();
                false
            });
            return if found {
                GuardVerdict::Deny(Self::error(direction))
            } else {
                GuardVerdict::Allow
            };
        }
        redact_texts(body, |t| self.redact(t, true))
    }

    fn check_text(
        &self,
        _ctx: &RequestCtx,
        _principal: Option<&Principal>,
        _choice: u32,
        text: &str,
        last: bool,
    ) -> TextVerdict {
        // A pure function of `text`, `last` and the config: a warm guard's calls of one stream
        // may each go to another instance, so nothing about a stream is kept here.
        if !self.response {
            return TextVerdict::Allow;
        }
        if self.deny {
            if self.matcher.settle(text, last).is_empty() {
                TextVerdict::Allow
            } else {
                TextVerdict::Stop(Self::error(Direction::Response))
            }
        } else {
            match self.redact(text, last) {
                Some(r) => TextVerdict::Replace(r),
                None => TextVerdict::Allow,
            }
        }
    }
}

sluice_plugin_sdk::export_guard!(BlockTerms);
// It reads no request header: the host passes none.
sluice_plugin_sdk::reads_headers!();

#[cfg(test)]
mod tests;
