//! A guard for the guard-stage tests, driven by the text it sees:
//!
//! - `secret` is replaced by `******` (its look-behind is 6 bytes, the word's length);
//! - `STOP` refuses: a 422 `stopped` error (a whole body) or the end of the stream;
//! - `TRAP` panics (a Wasm trap), so tests see how a failing guard is handled.

use serde_json::Value;
use sluice_plugin_sdk::guard::for_each_text;
use sluice_plugin_sdk::{
    Direction, ErrorBody, Guard, GuardVerdict, NoConfig, Plugin, PluginInfo, Principal, RequestCtx,
    TextVerdict,
};

struct TestGuard;

fn stopped() -> ErrorBody {
    ErrorBody::new(
        422,
        "invalid_request_error",
        Some("stopped"),
        "the guard stopped this",
    )
}

impl Plugin for TestGuard {
    type Config = NoConfig;
    fn new(_: NoConfig) -> Result<Self, String> {
        Ok(TestGuard)
    }
    fn info(&self) -> PluginInfo {
        PluginInfo::guard(6)
    }
}

impl Guard for TestGuard {
    fn check_json(
        &self,
        _: &RequestCtx,
        _: Option<&Principal>,
        _: Direction,
        body: &Value,
    ) -> GuardVerdict {
        let mut body = body.clone();
        let mut stop = false;
        let changed = for_each_text(&mut body, |t| {
            assert!(!t.contains("TRAP"), "test guard: asked to trap");
            stop |= t.contains("STOP");
            let had = t.contains("secret");
            *t = t.replace("secret", "******");
            had
        });
        match (stop, changed) {
            (true, _) => GuardVerdict::Deny(stopped()),
            (false, true) => GuardVerdict::Rewrite(body),
            (false, false) => GuardVerdict::Allow,
        }
    }

    fn check_text(
        &self,
        _: &RequestCtx,
        _: Option<&Principal>,
        _: u32,
        text: &str,
        _: bool,
    ) -> TextVerdict {
        assert!(!text.contains("TRAP"), "test guard: asked to trap");
        if text.contains("STOP") {
            return TextVerdict::Stop(stopped());
        }
        if text.contains("secret") {
            return TextVerdict::Replace(text.replace("secret", "******"));
        }
        TextVerdict::Allow
    }
}

sluice_plugin_sdk::export_guard!(TestGuard);
