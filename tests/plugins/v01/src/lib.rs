//! A plugin built against the frozen contract `sluice:plugin@0.1.0` (world `sdk`: every stage),
//! with `wit_bindgen` directly and no SDK. The gateway speaks `sluice:plugin@0.2.0`; this plugin
//! is how the tests prove that plugins built for 0.1.0 keep loading and working. Each stage does
//! something small that a test can see:
//!
//! - **init**: accepts any config; answers `wants-body: true`, `passthrough: false`.
//! - **auth**: the credential `sk-v01` is the principal with key id `v01` and owner `v01` (no
//!   team, no model limits, no attributes); anything else, or none, is a 401 (`type`
//!   `invalid_request_error`, `code` `invalid_api_key`).
//! - **policy, on-request**: if the request header `x-v01-deny` is present (in `req.headers` or
//!   `ctx.headers`) the request is denied with 403 (`type` `permission_error`, `code`
//!   `v01_denied`, message `denied by v01`). Otherwise it continues, adding the response header
//!   `x-v01-policy: <ctx.endpoint>` (the 0.1 endpoint name, such as `chat.completions`) and the
//!   metadata `v01_model` (`meta.model` as a JSON string) and `v01_body_bytes` (the length of
//!   `req.body`, a JSON number), with no new body.
//! - **policy, on-complete**: adds 1 to the `kv` counter `completed` (window 3 600 000 ms).
//! - **adapter, to-upstream**: answers without any provider (`respond`, status 200). The reply's
//!   content is `v01 says: ` followed by the text of the body's last `user` message (its string
//!   content, or its text parts joined by newlines; nothing when there is none), whatever the
//!   endpoint; the model is `provider.upstream-model`; the usage is 3 prompt, 4 completion and 7
//!   total tokens; the id is `chatcmpl-v01-<request id>`. Without `ctx.stream` it is one
//!   `chat.completion` (`application/json`); with it, a `text/event-stream` of
//!   `chat.completion.chunk`s: a role chunk, a content chunk with the same text, a finish chunk
//!   (`finish_reason: "stop"`), a usage chunk (`choices: []`), then `data: [DONE]`. A body that
//!   is not JSON is a 400.
//! - **adapter, from-upstream**: none (the answer passes unchanged); **from-upstream-event**
//!   echoes the event; **finish-stream** adds no events and reports no usage.
//! - **enrich, on-response**: the metadata `cost_usd` = `0.25` and `v01_enriched` = `true`, and
//!   the header `x-v01-enrich: yes`.
#![allow(unsafe_code)]

pub mod answer;

mod bindings {
    #![allow(missing_docs, clippy::all)]
    wit_bindgen::generate!({ world: "sdk", path: "../../../wit/deps/sluice-plugin-0.1.0" });
}

use bindings::exports::sluice::plugin::adapter::{self, Provider, UpstreamCall};
use bindings::exports::sluice::plugin::{auth_stage, enrich_stage, lifecycle, policy_stage};
use bindings::sluice::plugin::types::{
    Allow, Decision, Enrichment, ErrorBody, HttpRequest, HttpResponse, LlmMeta, Outcome, Principal,
    RequestCtx, SseEvent, Usage,
};
use bindings::sluice::plugin::{host, kv};

/// The one credential the auth stage accepts.
pub const CREDENTIAL: &str = "sk-v01";

/// The plugin: every stage of the 0.1.0 `sdk` world.
pub struct V01;

fn error(status: u16, kind: &str, code: &str, message: &str) -> ErrorBody {
    ErrorBody {
        status,
        type_: kind.to_string(),
        code: Some(code.to_string()),
        param: None,
        message: message.to_string(),
        retry_after: None,
    }
}

fn has_header(headers: &[(String, String)], name: &str) -> bool {
    headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name))
}

/// `to-upstream` at the time `created` (seconds since the Unix epoch).
fn respond(
    ctx: &RequestCtx,
    provider: &Provider,
    req: &HttpRequest,
    created: u64,
) -> Result<UpstreamCall, ErrorBody> {
    let body: serde_json::Value = serde_json::from_slice(&req.body).map_err(|e| {
        error(
            400,
            "invalid_request_error",
            "invalid_body",
            &format!("v01: the body is not JSON: {e}"),
        )
    })?;
    let id = format!("chatcmpl-v01-{}", ctx.request_id);
    let model = provider.upstream_model.as_str();
    let text = answer::reply(&body);
    let (content_type, body) = if ctx.stream {
        let events = answer::stream(&id, model, created, &text);
        ("text/event-stream", events.into_bytes())
    } else {
        let whole = answer::completion(&id, model, created, &text);
        ("application/json", whole.to_string().into_bytes())
    };
    Ok(UpstreamCall::Respond(HttpResponse {
        status: 200,
        headers: vec![("content-type".to_string(), content_type.to_string())],
        body,
    }))
}

impl lifecycle::Guest for V01 {
    fn init(_config_json: String) -> Result<lifecycle::PluginInfo, String> {
        Ok(lifecycle::PluginInfo {
            wants_body: true,
            passthrough: false,
        })
    }
}

impl auth_stage::Guest for V01 {
    fn authenticate(_ctx: RequestCtx, credential: Option<String>) -> Result<Principal, ErrorBody> {
        match credential.as_deref() {
            Some(CREDENTIAL) => Ok(Principal {
                key_id: "v01".to_string(),
                owner: "v01".to_string(),
                team: None,
                models: Vec::new(),
                attributes: Vec::new(),
            }),
            _ => Err(error(
                401,
                "invalid_request_error",
                "invalid_api_key",
                "v01: incorrect API key",
            )),
        }
    }
}

impl policy_stage::Guest for V01 {
    fn on_request(
        ctx: RequestCtx,
        _principal: Principal,
        meta: LlmMeta,
        req: HttpRequest,
    ) -> Decision {
        if has_header(&req.headers, "x-v01-deny") || has_header(&ctx.headers, "x-v01-deny") {
            return Decision::Deny(error(
                403,
                "permission_error",
                "v01_denied",
                "denied by v01",
            ));
        }
        Decision::Continue(Allow {
            headers: vec![("x-v01-policy".to_string(), ctx.endpoint.clone())],
            metadata: vec![
                (
                    "v01_model".to_string(),
                    serde_json::Value::String(meta.model).to_string(),
                ),
                ("v01_body_bytes".to_string(), req.body.len().to_string()),
            ],
            body: None,
        })
    }

    fn on_complete(_ctx: RequestCtx, _principal: Principal, _meta: LlmMeta, _outcome: Outcome) {
        kv::incr("completed", 1, 3_600_000);
    }
}

impl adapter::Guest for V01 {
    fn to_upstream(
        ctx: RequestCtx,
        provider: Provider,
        req: HttpRequest,
    ) -> Result<UpstreamCall, ErrorBody> {
        respond(&ctx, &provider, &req, host::now_ms() / 1000)
    }

    fn from_upstream(
        _ctx: RequestCtx,
        _resp: HttpResponse,
    ) -> Result<Option<HttpResponse>, ErrorBody> {
        Ok(None)
    }

    fn from_upstream_event(event: SseEvent) -> Result<Vec<SseEvent>, ErrorBody> {
        Ok(vec![event])
    }

    fn finish_stream() -> Result<(Vec<SseEvent>, Option<Usage>), ErrorBody> {
        Ok((Vec::new(), None))
    }
}

impl enrich_stage::Guest for V01 {
    fn on_response(
        _ctx: RequestCtx,
        _principal: Option<Principal>,
        _outcome: Outcome,
    ) -> Enrichment {
        Enrichment {
            headers: vec![("x-v01-enrich".to_string(), "yes".to_string())],
            metadata: vec![
                ("cost_usd".to_string(), "0.25".to_string()),
                ("v01_enriched".to_string(), "true".to_string()),
            ],
        }
    }
}

#[cfg(target_arch = "wasm32")]
bindings::export!(V01 with_types_in bindings);

/// Keeps the exports reachable in native builds, where nothing is exported.
#[cfg(not(target_arch = "wasm32"))]
pub fn entry_points() -> [usize; 10] {
    use bindings::exports::sluice::plugin as x;
    [
        <V01 as x::lifecycle::Guest>::init as *const () as usize,
        <V01 as x::auth_stage::Guest>::authenticate as *const () as usize,
        <V01 as x::policy_stage::Guest>::on_request as *const () as usize,
        <V01 as x::policy_stage::Guest>::on_complete as *const () as usize,
        <V01 as x::adapter::Guest>::to_upstream as *const () as usize,
        <V01 as x::adapter::Guest>::from_upstream as *const () as usize,
        <V01 as x::adapter::Guest>::from_upstream_event as *const () as usize,
        <V01 as x::adapter::Guest>::finish_stream as *const () as usize,
        <V01 as x::enrich_stage::Guest>::on_response as *const () as usize,
        respond as *const () as usize,
    ]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use auth_stage::Guest as _;
    use enrich_stage::Guest as _;
    use lifecycle::Guest as _;
    use policy_stage::Guest as _;

    fn ctx(stream: bool, headers: &[(&str, &str)]) -> RequestCtx {
        RequestCtx {
            request_id: "r1".to_string(),
            endpoint: "chat.completions".to_string(),
            method: "POST".to_string(),
            path: "/chat/completions".to_string(),
            model: "m".to_string(),
            stream,
            user_id: None,
            key_id: None,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    fn meta() -> LlmMeta {
        LlmMeta {
            model: "m".to_string(),
            stream: false,
            max_tokens: None,
            est_prompt_tokens: 1,
            n: 1,
        }
    }

    fn req(body: &str, headers: &[(&str, &str)]) -> HttpRequest {
        HttpRequest {
            method: "POST".to_string(),
            path: "/chat/completions".to_string(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    fn provider() -> Provider {
        Provider {
            name: "p".to_string(),
            base_url: "http://127.0.0.1:1".to_string(),
            api_key: None,
            upstream_model: "up-model".to_string(),
        }
    }

    #[test]
    fn init_and_auth() {
        let info = V01::init("{\"anything\": [1]}".to_string()).unwrap();
        assert!(info.wants_body && !info.passthrough);
        let p = V01::authenticate(ctx(false, &[]), Some("sk-v01".to_string())).unwrap();
        assert_eq!((p.key_id.as_str(), p.owner.as_str()), ("v01", "v01"));
        assert!(p.models.is_empty() && p.team.is_none());
        for bad in [None, Some("sk-other".to_string())] {
            let e = V01::authenticate(ctx(false, &[]), bad).unwrap_err();
            assert_eq!((e.status, e.type_.as_str()), (401, "invalid_request_error"));
            assert_eq!(e.code.as_deref(), Some("invalid_api_key"));
        }
    }

    #[test]
    fn policy_denies_on_the_header_and_tags_otherwise() {
        let principal = || V01::authenticate(ctx(false, &[]), Some("sk-v01".into())).unwrap();
        let body = r#"{"model":"m","messages":[]}"#;
        for (c, r) in [
            (ctx(false, &[("x-v01-deny", "1")]), req(body, &[])),
            (ctx(false, &[]), req(body, &[("x-v01-deny", "")])),
        ] {
            match V01::on_request(c, principal(), meta(), r) {
                Decision::Deny(e) => {
                    assert_eq!((e.status, e.type_.as_str()), (403, "permission_error"));
                    assert_eq!(e.code.as_deref(), Some("v01_denied"));
                    assert_eq!(e.message, "denied by v01");
                }
                _ => panic!("expected a denial"),
            }
        }
        match V01::on_request(ctx(false, &[]), principal(), meta(), req(body, &[])) {
            Decision::Continue(a) => {
                let h = vec![("x-v01-policy".to_string(), "chat.completions".to_string())];
                assert_eq!(a.headers, h);
                let m = vec![
                    ("v01_model".to_string(), "\"m\"".to_string()),
                    ("v01_body_bytes".to_string(), body.len().to_string()),
                ];
                assert_eq!(a.metadata, m);
                assert!(a.body.is_none());
            }
            _ => panic!("expected to continue"),
        }
    }

    #[test]
    fn the_adapter_answers_whole_and_streamed() {
        let body = r#"{"messages":[{"role":"user","content":"hi"}]}"#;
        let UpstreamCall::Respond(r) =
            respond(&ctx(false, &[]), &provider(), &req(body, &[]), 9).unwrap()
        else {
            panic!("expected an answer");
        };
        assert_eq!(r.status, 200);
        assert_eq!(r.headers[0].1, "application/json");
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["choices"][0]["message"]["content"], "v01 says: hi");
        assert_eq!(v["model"], "up-model");
        assert_eq!(v["id"], "chatcmpl-v01-r1");
        let UpstreamCall::Respond(r) =
            respond(&ctx(true, &[]), &provider(), &req(body, &[]), 9).unwrap()
        else {
            panic!("expected an answer");
        };
        assert_eq!(r.headers[0].1, "text/event-stream");
        assert!(
            String::from_utf8(r.body)
                .unwrap()
                .ends_with("data: [DONE]\n\n")
        );
        let e = respond(&ctx(false, &[]), &provider(), &req("nope", &[]), 9).unwrap_err();
        assert_eq!(e.status, 400);
    }

    #[test]
    fn enrichment_adds_cost_and_a_header() {
        let e = V01::on_response(
            ctx(false, &[]),
            None,
            Outcome {
                status: 200,
                provider: "p".to_string(),
                served_model: "up-model".to_string(),
                usage: None,
                latency_ms: 1,
                upstream_us: 1,
            },
        );
        assert_eq!(
            e.headers,
            vec![("x-v01-enrich".to_string(), "yes".to_string())]
        );
        assert!(
            e.metadata
                .contains(&("cost_usd".to_string(), "0.25".to_string()))
        );
        assert!(
            e.metadata
                .contains(&("v01_enriched".to_string(), "true".to_string()))
        );
    }
}
