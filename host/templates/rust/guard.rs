//! `{{name}}`: a Sluice guard plugin. It replaces the configured words with `[REDACTED]` in
//! requests, in whole answers and in streamed answers (a word split across two stream chunks is
//! caught too: the plugin declares a look-behind as long as its longest word).
//!
//! ```toml
//! [[plugins]]
//! name = "{{name}}"
//! stage = "guard"
//! source = "{{name}}.wasm"
//! [plugins.config]
//! words = ["project-falcon", "hunter2"]
//! ```

use serde::Deserialize;
use serde_json::Value;
use sluice_plugin_sdk::guard::redact_texts;
use sluice_plugin_sdk::{
    Direction, Guard, GuardVerdict, Plugin, PluginInfo, Principal, RequestCtx, TextVerdict,
};

/// The plugin's config table (an unknown or mistyped field rejects the load).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    words: Vec<String>,
}

struct {{Type}}(Config);

impl {{Type}} {
    /// `text` with every configured word replaced; none when there was none.
    fn redact(&self, text: &str) -> Option<String> {
        let mut out = text.to_string();
        for w in &self.0.words {
            out = out.replace(w.as_str(), "[REDACTED]");
        }
        (out != text).then_some(out)
    }
}

impl Plugin for {{Type}} {
    type Config = Config;
    fn new(config: Config) -> Result<Self, String> {
        if config.words.iter().any(String::is_empty) {
            return Err("`words` may not contain an empty word".into());
        }
        Ok({{Type}}(config))
    }

    fn info(&self) -> PluginInfo {
        let longest = self.0.words.iter().map(String::len).max().unwrap_or(0);
        PluginInfo::guard(u32::try_from(longest).unwrap_or(u32::MAX))
    }
}

impl Guard for {{Type}} {
    fn check_json(&self, _: &RequestCtx, _: Option<&Principal>, _: Direction, body: &Value) -> GuardVerdict {
        // Every text of the body (message contents, prompts, answers) through `redact`.
        redact_texts(body, |t| self.redact(t))
    }

    fn check_text(&self, _: &RequestCtx, _: Option<&Principal>, _: u32, text: &str, _last: bool) -> TextVerdict {
        match self.redact(text) {
            Some(r) => TextVerdict::Replace(r),
            None => TextVerdict::Allow,
        }
    }
}

sluice_plugin_sdk::export_guard!({{Type}});

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> {{Type}} {
        {{Type}}(Config { words: vec!["hunter2".into()] })
    }

    #[test]
    fn redacts_words_in_json_bodies() {
        let body = serde_json::json!({"messages": [{"role": "user", "content": "my password is hunter2"}]});
        match guard().check_json(&RequestCtx::default(), None, Direction::Request, &body) {
            GuardVerdict::Rewrite(b) => {
                assert_eq!(b["messages"][0]["content"], "my password is [REDACTED]")
            }
            _ => panic!("expected a rewrite"),
        }
        let clean = serde_json::json!({"messages": [{"role": "user", "content": "hello"}]});
        let v = guard().check_json(&RequestCtx::default(), None, Direction::Request, &clean);
        assert!(matches!(v, GuardVerdict::Allow));
    }

    #[test]
    fn redacts_stream_text_and_looks_behind_far_enough() {
        let v = guard().check_text(&RequestCtx::default(), None, 0, "it is hunter2.", false);
        assert!(matches!(v, TextVerdict::Replace(t) if t == "it is [REDACTED]."));
        assert_eq!(guard().info().look_behind, 7);
    }
}
