//! A policy plugin that misbehaves on request, for the isolation tests: the request header
//! `x-chaos` picks the failure.
//!
//! - `trap`: panics (a Wasm trap)
//! - `loop`: spins forever (stopped by the deadline)
//! - `oom`: allocates without bound (stopped by the memory cap)
//! - `deny`: refuses with 403
//! - `ratelimit`: refuses with 429 and `retry_after` 3
//! - anything else, or no header: lets the request through, adding an `x-chaos-seen` header and a
//!   `chaos` metadata field, so tests can tell the plugin ran.
//!
//! Its config may set `tag`, echoed in the `x-chaos-tag` header (reload tests change it), and
//! `count`, which numbers the requests an instance has served in an `x-chaos-count` header,
//! kept in a global: the state probe of `sluice plugin check` must notice that.

use serde::Deserialize;
use sluice_plugin_sdk::{
    Allow, Decision, ErrorBody, LlmMeta, Plugin, Policy, Principal, RequestCtx,
};

/// The config: other fields are ignored.
#[derive(Deserialize)]
struct Config {
    /// Echoed in `x-chaos-tag`.
    tag: Option<String>,
    /// Present (with any value): the load is rejected.
    reject: Option<serde::de::IgnoredAny>,
    /// Count requests in a global.
    #[serde(default)]
    count: bool,
}

/// Requests this instance has served, when `count` is set.
static SERVED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// The plugin: the tag it echoes.
struct Chaos {
    tag: String,
    count: bool,
}

impl Plugin for Chaos {
    type Config = Config;
    fn new(config: Config) -> Result<Self, String> {
        if config.reject.is_some() {
            return Err("this config asks to be rejected".into());
        }
        let tag = config.tag.unwrap_or_else(|| "none".to_string());
        Ok(Chaos {
            tag,
            count: config.count,
        })
    }
}

impl Policy for Chaos {
    fn on_request(&self, ctx: &RequestCtx, _: &Principal, _: &LlmMeta, _body: &[u8]) -> Decision {
        let mode = ctx
            .headers
            .iter()
            .find(|(k, _)| k == "x-chaos")
            .map(|(_, v)| v.as_str())
            .unwrap_or("");
        match mode {
            "trap" => panic!("chaos: asked to trap"),
            "loop" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "oom" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "deny" => Decision::Deny(ErrorBody::forbidden("chaos: asked to deny")),
            "ratelimit" => Decision::Deny(ErrorBody::rate_limited("chaos: asked to rate limit", 3)),
            _ => Decision::Continue(Allow {
                headers: {
                    let mut h = vec![
                        ("x-chaos-seen".to_string(), "1".to_string()),
                        ("x-chaos-tag".to_string(), self.tag.clone()),
                    ];
                    if self.count {
                        let n = SERVED.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                        h.push(("x-chaos-count".to_string(), n.to_string()));
                    }
                    h
                },
                metadata: vec![("chaos".into(), "\"ok\"".into())],
                body: None,
            }),
        }
    }
}

sluice_plugin_sdk::export_policy!(Chaos);
