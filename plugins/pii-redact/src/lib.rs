//! `pii-redact`: finds personal data (email addresses, phone numbers, payment card numbers and
//! IBANs) in request bodies and in answers, whole and streamed, and redacts it or refuses.
//!
//! ```toml
//! [[plugins]]
//! name = "pii"
//! stage = "guard"
//! source = "builtin:pii-redact"
//! [plugins.config]
//! detect = ["email", "phone", "card", "iban"] # default: all four
//! on = ["request", "response"]               # default: both sides; "response" covers whole
//!                                            # answers and streams
//! action = "redact"                          # or "deny"; default "redact"
//! look_behind = 128                          # stream bytes held back per choice (64..=16384)
//! [plugins.config.replacement]               # optional; defaults shown
//! email = "[EMAIL]"
//! phone = "[PHONE]"
//! card = "[CARD]"
//! iban = "[IBAN]"
//! ```
//!
//! What counts as each kind:
//!
//! - **email**: `local@domain`, the local part of ASCII letters, digits and `._%+-`, the domain
//!   of two or more labels with a top-level domain of two or more letters.
//! - **card**: 13 to 19 digits starting with 2 to 6, whole or in groups of three or more digits
//!   split by single spaces or dashes, that pass the Luhn check.
//! - **iban**: a country code, two check digits and the account in capitals, whole or in groups
//!   of four split by single spaces, of the country's length (15 to 34 where unknown), that pass
//!   the ISO 13616 mod-97 check.
//! - **phone**: 7 to 15 digits with a leading `+`, or in groups split by spaces, dashes, dots or
//!   parentheses; dates, times, years, versions, IP addresses, numbers with thousands
//!   separators and card numbers are not phones (the rules are in `phone.rs`).
//!
//! Where two kinds overlap the first of email, IBAN, card, phone wins.
//!
//! **Redact** replaces each match with its kind's replacement: in requests
//! (`messages[].content`, strings and text parts, `prompt`, `input`), in whole answers
//! (`choices[].message.content` and `.refusal`, `choices[].text`) and in streams.
//! **Deny** refuses a request with 400 `invalid_request_error`, code `pii_detected`. An answer
//! is withheld with 422 `invalid_request_error`, code `pii_detected` (a stream ends with that
//! error as its last event): a 4xx status, because retrying the same request would most likely
//! produce the same answer and OpenAI's SDKs retry 5xx statuses on their own; 422 rather than
//! 400, because the request itself was well-formed. The message names the kinds found, never
//! the text.
//!
//! Matches are looked for in the text as written: a match glued to another one (no space or
//! punctuation between them) may be judged differently once its neighbour is redacted, so in
//! streams, where redacted text is shown again, the outcome can differ from a whole answer's.
//!
//! **Streams.** The host holds back the last `look_behind` bytes of each choice's text, the cut
//! moved back to the start of a word, and shows them again with the next delta, so a match split
//! across chunks is still caught when it is no longer than that (less a few bytes of context). A
//! match that reaches the end of the text seen so far (an email whose domain may go on, a card
//! with more digits to come) is left for the next call, and redacted once it is complete. Each
//! call is judged on its text alone, whose start counts as a boundary: the plugin keeps nothing
//! of a stream (a warm guard's calls of one stream may each go to another instance).
//!
//! The text shown again starts inside a token only where the host finds no word's start within
//! two look-behinds of its cut (a token longer than that). The rest of that token is then judged
//! alone, and may be redacted (or stop a denying stream) where the whole text is not: a card
//! number glued to a long word is no card, but its rest is. Such a cut only falls in text already
//! checked together with what came before it, so this errs towards redacting more, never less.

mod iban;
mod phone;
mod scan;

use serde::Deserialize;
use sluice_plugin_sdk::guard::{for_each_text, redact_texts};
use sluice_plugin_sdk::{
    Direction, ErrorBody, Guard, GuardVerdict, Plugin, PluginInfo, Principal, RequestCtx,
    TextVerdict,
};

/// A kind of personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    /// An email address.
    Email,
    /// A phone number.
    Phone,
    /// A payment card number.
    Card,
    /// An IBAN.
    Iban,
}

impl Kind {
    /// Every kind, in the order that decides overlaps (the first wins).
    pub const PRIORITY: [Kind; 4] = [Kind::Email, Kind::Iban, Kind::Card, Kind::Phone];

    /// The kind's name in messages.
    fn label(self) -> &'static str {
        match self {
            Kind::Email => "email address",
            Kind::Phone => "phone number",
            Kind::Card => "payment card number",
            Kind::Iban => "IBAN",
        }
    }
}

/// Which side of the exchange a guard watches.
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
    /// Replace it and let the text through.
    #[default]
    Redact,
    /// Refuse the request, or withhold the answer.
    Deny,
}

/// The `replacement` table: one optional string per kind.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Replacements {
    email: Option<String>,
    phone: Option<String>,
    card: Option<String>,
    iban: Option<String>,
}

/// The plugin's config table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default = "all_kinds")]
    detect: Vec<Kind>,
    #[serde(default = "both_sides")]
    on: Vec<Side>,
    #[serde(default)]
    action: Action,
    #[serde(default)]
    replacement: Replacements,
    #[serde(default = "default_look_behind")]
    look_behind: u32,
}

fn all_kinds() -> Vec<Kind> {
    Kind::PRIORITY.to_vec()
}

fn both_sides() -> Vec<Side> {
    vec![Side::Request, Side::Response]
}

fn default_look_behind() -> u32 {
    128
}

/// The accepted range of `look_behind`.
const LOOK_BEHIND: std::ops::RangeInclusive<u32> = 64..=16384;
/// The longest replacement accepted, in bytes.
const MAX_REPLACEMENT: usize = 256;

/// The plugin, built once per instance from its config.
struct PiiRedact {
    /// The kinds looked for.
    kinds: Vec<Kind>,
    /// Whether request bodies are checked.
    request: bool,
    /// Whether answers are checked.
    response: bool,
    /// Deny rather than redact.
    deny: bool,
    /// Replacements, indexed like [`Kind::PRIORITY`].
    replacement: [String; 4],
    /// Stream bytes held back.
    look_behind: u32,
}

impl Plugin for PiiRedact {
    type Config = Config;

    fn new(c: Config) -> Result<Self, String> {
        if c.detect.is_empty() {
            return Err("`detect` must name at least one kind: email, phone, card, iban".into());
        }
        if c.on.is_empty() {
            return Err("`on` must name at least one side: request, response".into());
        }
        if !LOOK_BEHIND.contains(&c.look_behind) {
            return Err(format!(
                "`look_behind` must be between {} and {} bytes, not {}",
                LOOK_BEHIND.start(),
                LOOK_BEHIND.end(),
                c.look_behind
            ));
        }
        let mut kinds = Vec::new();
        for k in Kind::PRIORITY {
            if c.detect.contains(&k) {
                kinds.push(k);
            }
        }
        let r = c.replacement;
        let replacement = [
            r.email.unwrap_or_else(|| "[EMAIL]".into()),
            r.iban.unwrap_or_else(|| "[IBAN]".into()),
            r.card.unwrap_or_else(|| "[CARD]".into()),
            r.phone.unwrap_or_else(|| "[PHONE]".into()),
        ];
        let plugin = PiiRedact {
            kinds,
            request: c.on.contains(&Side::Request),
            response: c.on.contains(&Side::Response),
            deny: c.action == Action::Deny,
            replacement,
            look_behind: c.look_behind,
        };
        for (k, text) in Kind::PRIORITY.iter().zip(&plugin.replacement) {
            if text.len() > MAX_REPLACEMENT {
                return Err(format!(
                    "`replacement.{}` is longer than {MAX_REPLACEMENT} bytes",
                    name(*k)
                ));
            }
            if !scan::settle(text, &plugin.kinds, true).is_empty() {
                return Err(format!(
                    "`replacement.{}` would itself be detected as personal data",
                    name(*k)
                ));
            }
        }
        Ok(plugin)
    }

    fn info(&self) -> PluginInfo {
        // Streams are answers: with answers unchecked nothing needs holding back.
        PluginInfo::guard(if self.response { self.look_behind } else { 0 })
    }
}

/// A kind's name in the config.
fn name(k: Kind) -> &'static str {
    match k {
        Kind::Email => "email",
        Kind::Phone => "phone",
        Kind::Card => "card",
        Kind::Iban => "iban",
    }
}

impl PiiRedact {
    /// The settled matches of `text` (see [`scan::settle`]).
    fn matches(&self, text: &str, last: bool) -> Vec<scan::Found> {
        scan::settle(text, &self.kinds, last)
    }

    /// The replacement for kind `k`.
    fn replacement(&self, k: Kind) -> &str {
        let i = Kind::PRIORITY.iter().position(|p| *p == k).unwrap_or(0);
        &self.replacement[i]
    }

    /// `text` with its settled matches replaced, or `None` when it has none.
    fn redact(&self, text: &str, last: bool) -> Option<String> {
        let found = self.matches(text, last);
        if found.is_empty() {
            return None;
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for f in found {
            out.push_str(&text[at..f.start]);
            out.push_str(self.replacement(f.kind));
            at = f.end;
        }
        out.push_str(&text[at..]);
        Some(out)
    }

    /// The error for the kinds found (in [`Kind::PRIORITY`] order), on either side.
    fn error(&self, kinds: &[Kind], direction: Direction) -> ErrorBody {
        let list = Kind::PRIORITY
            .iter()
            .filter(|k| kinds.contains(k))
            .map(|k| k.label())
            .collect::<Vec<_>>()
            .join(", ");
        match direction {
            Direction::Request => ErrorBody::new(
                400,
                "invalid_request_error",
                Some("pii_detected"),
                format!("The request contains personal data ({list}); it was refused."),
            ),
            Direction::Response => ErrorBody::new(
                422,
                "invalid_request_error",
                Some("pii_detected"),
                format!("The model's answer contained personal data ({list}); it was withheld."),
            ),
        }
    }
}

impl Guard for PiiRedact {
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
            let mut kinds = Vec::new();
            for_each_text(&mut body, |t| {
                kinds.extend(self.matches(t, true).iter().map(|f| f.kind));
                false
            });
            return if kinds.is_empty() {
                GuardVerdict::Allow
            } else {
                GuardVerdict::Deny(self.error(&kinds, direction))
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
            let kinds: Vec<Kind> = self.matches(text, last).iter().map(|f| f.kind).collect();
            if kinds.is_empty() {
                TextVerdict::Allow
            } else {
                TextVerdict::Stop(self.error(&kinds, Direction::Response))
            }
        } else {
            match self.redact(text, last) {
                Some(r) => TextVerdict::Replace(r),
                None => TextVerdict::Allow,
            }
        }
    }
}

sluice_plugin_sdk::export_guard!(PiiRedact);
// It reads no request header: the host passes none.
sluice_plugin_sdk::reads_headers!();

#[cfg(test)]
mod tests;
