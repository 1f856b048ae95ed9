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
//! Its config may set `tag`, echoed in the `x-chaos-tag` header (reload tests change it).

use sluice_plugin_sdk::{
    Allow, Decision, ErrorBody, HttpRequest, LlmMeta, Plugin, PluginInfo, Policy, Principal,
    RequestCtx,
};

struct Chaos;

impl Plugin for Chaos {
    fn init(config_json: &str) -> Result<PluginInfo, String> {
        if config_json.contains("\"reject\"") {
            return Err("this config asks to be rejected".into());
        }
        Ok(PluginInfo::default())
    }
}

fn tag() -> String {
    let config = sluice_plugin_sdk::config_json();
    // The tag is a plain string; a tiny scan avoids a JSON dependency in this test plugin.
    config
        .split("\"tag\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or("none")
        .to_string()
}

impl Policy for Chaos {
    fn on_request(ctx: RequestCtx, _: Principal, _: LlmMeta, _: HttpRequest) -> Decision {
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
                headers: vec![
                    ("x-chaos-seen".into(), "1".into()),
                    ("x-chaos-tag".into(), tag()),
                ],
                metadata: vec![("chaos".into(), "\"ok\"".into())],
                body: None,
            }),
        }
    }
}

sluice_plugin_sdk::export_policy!(Chaos);
