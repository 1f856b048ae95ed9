//! The guard stage: ordered plugins that see a request's JSON body, a whole answer, or a stream's
//! text, and may let it through, refuse it or redact it.
//!
//! Streams: each guard holds back, per choice, the last `look-behind` bytes of the text it let
//! through (from a word's start), and shows them again ahead of the next delta, so a match split
//! across chunks reaches it whole before any of it is sent. Guards chain: what one releases is the
//! next one's delta. A fresh guard's instance serves the whole stream, as it serves every call of
//! a request; a warm guard's instance is leased per call, so a stream holds none of the pool
//! between chunks.

use super::additions::fail_open;
use crate::error::ApiError;
use crate::pipeline::bindings::guard_stage::{Direction, TextVerdict, Verdict};
use crate::pipeline::bindings::types::{Principal, RequestCtx};
use crate::pipeline::plugin::{InstanceMode, Lease, Plugin};
use crate::pipeline::{GuardWorld, Pipeline};
use std::collections::HashMap;
use std::sync::Arc;

/// Runs the guards on a whole JSON body (`direction` says which side it is). Returns the body to
/// use when a guard rewrote it, none to keep it; a refusal is the error the client gets.
pub async fn run_guards_json(
    pipeline: &Pipeline,
    ctx: &RequestCtx,
    principal: Option<&Principal>,
    direction: Direction,
    body: &[u8],
) -> Result<Option<String>, ApiError> {
    let mut rewritten: Option<String> = None;
    for g in &pipeline.guards {
        let text: &str = match &rewritten {
            Some(t) => t,
            // Both sides were parsed as JSON before; a body that is not UTF-8 is not JSON.
            None => std::str::from_utf8(body)
                .map_err(|_| ApiError::bad_request("The body is not UTF-8 JSON."))?,
        };
        let verdict = match g.lease().await {
            Ok(mut lease) => {
                let seen = lease.view(ctx);
                lease
                    .call(async |w, s| w.check_json(s, &seen, principal, direction, text).await)
                    .await
            }
            Err(e) => Err(e),
        };
        match verdict {
            Ok(Verdict::Allow) => {}
            Ok(Verdict::Deny(e)) => {
                tracing::info!(plugin = %g.name, ?direction, "guard refused the body");
                return Err(crate::error::refused_by(&g.name, e));
            }
            Ok(Verdict::Rewrite(new)) => {
                if serde_json::from_str::<serde::de::IgnoredAny>(&new).is_err() {
                    return Err(ApiError::internal(format!(
                        "The gateway's guard `{}` rewrote the body into something that is not JSON.",
                        g.name
                    )));
                }
                rewritten = Some(new);
            }
            Err(e) => {
                if let Some(err) = fail_open(g, e) {
                    return Err(err);
                }
            }
        }
    }
    Ok(rewritten)
}

/// The guards of one stream: an instance of each, held for the stream's life, and the text each
/// holds back per choice.
pub struct StreamGuards {
    ctx: RequestCtx,
    principal: Option<Principal>,
    guards: Vec<StreamGuard>,
}

struct StreamGuard {
    plugin: Arc<Plugin<GuardWorld>>,
    /// A fresh guard's instance, held for the stream.
    lease: Option<Lease<GuardWorld>>,
    /// The guard failed and is fail-open: skipped from then on.
    skipped: bool,
    held: HashMap<u32, String>,
}

impl StreamGuards {
    /// Leases an instance of every guard of `pipeline` for a stream of `ctx`; none when there
    /// are no guards.
    pub async fn open(
        pipeline: &Pipeline,
        ctx: &RequestCtx,
        principal: Option<&Principal>,
    ) -> Result<Option<StreamGuards>, ApiError> {
        if pipeline.guards.is_empty() {
            return Ok(None);
        }
        let mut guards = Vec::with_capacity(pipeline.guards.len());
        for g in &pipeline.guards {
            let mut guard = StreamGuard {
                plugin: Arc::clone(g),
                lease: None,
                skipped: false,
                held: HashMap::new(),
            };
            if g.settings.mode == InstanceMode::Fresh {
                match g.lease().await {
                    Ok(l) => guard.lease = Some(l),
                    Err(e) => match fail_open(g, e) {
                        None => guard.skipped = true,
                        Some(err) => return Err(err),
                    },
                }
            }
            guards.push(guard);
        }
        Ok(Some(StreamGuards {
            ctx: ctx.clone(),
            principal: principal.cloned(),
            guards,
        }))
    }

    /// Passes `delta`, new text of choice `choice`, through every guard; returns the text that
    /// may be sent now. With `last` (the choice ended) every guard lets go of what it holds.
    pub async fn text(&mut self, choice: u32, delta: &str, last: bool) -> Result<String, ApiError> {
        let mut out = delta.to_string();
        for g in &mut self.guards {
            out = g
                .pass(&self.ctx, self.principal.as_ref(), choice, out, last)
                .await?;
        }
        Ok(out)
    }

    /// The choices some guard still holds text of (to end them when the stream ends without
    /// their `finish_reason`), in order.
    pub fn pending(&self) -> Vec<u32> {
        let mut choices: Vec<u32> = self
            .guards
            .iter()
            .flat_map(|g| {
                g.held
                    .iter()
                    .filter(|(_, t)| !t.is_empty())
                    .map(|(c, _)| *c)
            })
            .collect();
        choices.sort_unstable();
        choices.dedup();
        choices
    }
}

impl StreamGuard {
    async fn pass(
        &mut self,
        ctx: &RequestCtx,
        principal: Option<&Principal>,
        choice: u32,
        delta: String,
        last: bool,
    ) -> Result<String, ApiError> {
        let mut text = self.held.remove(&choice).unwrap_or_default();
        text.push_str(&delta);
        if self.skipped || text.is_empty() {
            // A fail-open guard that failed earlier no longer holds anything back.
            return Ok(text);
        }
        let window = self.plugin.info.look_behind as usize;
        if !checks(text.len(), window, last) {
            self.held.insert(choice, text);
            return Ok(String::new());
        }
        let verdict = {
            let t: &str = &text;
            let seen = self.plugin.headers.view(ctx);
            let seen: &RequestCtx = &seen;
            let ask =
                async |w: &GuardWorld,
                       s: &mut wasmtime::Store<crate::capabilities::PluginState>| {
                    w.check_text(s, seen, principal, choice, t, last).await
                };
            match self.lease.as_mut() {
                Some(lease) => lease.call(ask).await,
                None => match self.plugin.lease().await {
                    Ok(mut lease) => lease.call(ask).await,
                    Err(e) => Err(e),
                },
            }
        };
        let checked = match verdict {
            Ok(TextVerdict::Allow) => text,
            Ok(TextVerdict::Replace(t)) => t,
            Ok(TextVerdict::Stop(e)) => {
                tracing::info!(plugin = %self.plugin.name, "guard stopped the stream");
                return Err(crate::error::refused_by(&self.plugin.name, e));
            }
            Err(e) => match fail_open(&self.plugin, e) {
                None => {
                    self.skipped = true;
                    self.lease = None;
                    text
                }
                Some(err) => return Err(err),
            },
        };
        if last || self.skipped {
            return Ok(checked);
        }
        let (send, keep) = split_tail(&checked, window);
        if !keep.is_empty() {
            self.held.insert(choice, keep.to_string());
        }
        Ok(send.to_string())
    }
}

/// Whether the host calls the guard on `len` bytes of text (held text and the new delta): at the
/// choice's end, or once half a look-behind more than the look-behind has gathered, so the guard
/// is called once per half look-behind of text rather than once per delta. (The SDK's
/// `sluice_plugin_sdk::guard::hold` mirrors this for guards' tests.)
fn checks(len: usize, window: usize, last: bool) -> bool {
    last || len > window + window / 2
}

/// Splits `text` before its last `window` bytes: (what may be sent, what is held). The cut moves
/// back to the start of a word, looking back at most another `window` bytes: the start of the
/// text (which always starts a word: the stream's start, or an earlier cut), or after
/// whitespace, but not inside a number written in groups (`4111 1111`). Without such a place
/// there, it moves back to a character boundary.
fn split_tail(text: &str, window: usize) -> (&str, &str) {
    let mut cut = text.len().saturating_sub(window);
    let b = text.as_bytes();
    let starts_word = |i: usize| {
        i == 0
            || (b[i - 1].is_ascii_whitespace()
                && !(i >= 2
                    && b[i - 2].is_ascii_digit()
                    && b.get(i).is_some_and(u8::is_ascii_digit)))
    };
    match (cut.saturating_sub(window)..=cut)
        .rev()
        .find(|&i| starts_word(i))
    {
        Some(i) => cut = i,
        None => {
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
        }
    }
    text.split_at(cut)
}

#[cfg(test)]
mod tests {
    use super::{checks, split_tail};

    /// The same table is in the SDK's `guard::hold` tests: the two must agree.
    const CASES: [(&str, usize, &str); 9] = [
        ("hello world", 5, "world"),
        // Inside a word: back to its start.
        ("call 2024-01-15", 6, "2024-01-15"),
        // The text's start is a word's start: everything is held.
        ("abcdefgh", 4, "abcdefgh"),
        ("abc", 10, "abc"),
        ("abc", 0, ""),
        // Not inside a number written in groups.
        ("card 4111 1111 1111", 9, "4111 1111 1111"),
        // No place within another window: a character boundary.
        ("a bcdefghijkl", 3, "jkl"),
        ("a bcdefghijk\u{e9}", 3, "k\u{e9}"),
        ("x caf\u{e9}s", 2, "\u{e9}s"),
    ];

    #[test]
    fn the_tail_starts_at_a_word() {
        for (text, window, held) in CASES {
            let (sent, kept) = split_tail(text, window);
            assert_eq!(kept, held, "{text:?} with {window}");
            assert_eq!(format!("{sent}{kept}"), text);
        }
    }

    #[test]
    fn the_guard_is_called_once_half_a_look_behind_more_has_gathered() {
        assert!(!checks(12, 8, false));
        assert!(checks(13, 8, false));
        assert!(checks(1, 8, true));
        assert!(checks(1, 0, false));
    }
}
