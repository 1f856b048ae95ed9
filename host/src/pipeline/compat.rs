//! Contract 0.1.0 spoken in 0.2.0's terms: the host builds 0.2 values, and these conversions give
//! a 0.1 plugin what it expects (method, path and headers in an `http-request`, model and stream
//! in `llm-meta` too) and bring its answers back (its cost from the `cost_usd` metadata field,
//! the convention of 0.1).

use super::bindings::{v1, v2};
use v1::types as t1;
use v2::types as t2;

/// The metadata field in which a 0.1 enrich plugin reports the cost.
pub const COST_FIELD: &str = "cost_usd";

/// The 0.1 name of an endpoint.
pub(crate) fn endpoint_name(e: t2::Endpoint) -> &'static str {
    match e {
        t2::Endpoint::ChatCompletions => "chat.completions",
        t2::Endpoint::Completions => "completions",
        t2::Endpoint::Embeddings => "embeddings",
        t2::Endpoint::Models => "models",
        t2::Endpoint::AudioSpeech => "audio.speech",
        t2::Endpoint::ImagesGenerations => "images.generations",
        t2::Endpoint::Files => "files",
        t2::Endpoint::Batches => "batches",
        t2::Endpoint::Mcp => "mcp",
        t2::Endpoint::Usage => "usage",
        t2::Endpoint::Messages => "messages",
        t2::Endpoint::Responses => "responses",
        t2::Endpoint::AudioTranscriptions => "audio.transcriptions",
        t2::Endpoint::AudioTranslations => "audio.translations",
        t2::Endpoint::ImagesEdits => "images.edits",
        t2::Endpoint::ImagesVariations => "images.variations",
        t2::Endpoint::Moderations => "moderations",
    }
}

/// The method and path (without `/v1`) a request to `ctx`'s endpoint was made with.
fn method_path(ctx: &t2::RequestCtx) -> (&'static str, String) {
    match ctx.endpoint {
        t2::Endpoint::Models if ctx.model.is_empty() => ("GET", "/models".into()),
        t2::Endpoint::Models => ("GET", format!("/models/{}", ctx.model)),
        t2::Endpoint::ChatCompletions => ("POST", "/chat/completions".into()),
        t2::Endpoint::Completions => ("POST", "/completions".into()),
        t2::Endpoint::Embeddings => ("POST", "/embeddings".into()),
        t2::Endpoint::AudioSpeech => ("POST", "/audio/speech".into()),
        t2::Endpoint::ImagesGenerations => ("POST", "/images/generations".into()),
        // 0.2 does not tell a file upload from a retrieval; a 0.1 plugin sees the collection.
        t2::Endpoint::Files => ("POST", "/files".into()),
        t2::Endpoint::Batches => ("POST", "/batches".into()),
        // The server's name is not part of the context; a 0.1 plugin sees the family.
        t2::Endpoint::Mcp => ("POST", "/mcp-servers".into()),
        t2::Endpoint::Usage => ("GET", "/dashboard/api/summary".into()),
        t2::Endpoint::Messages => ("POST", "/messages".into()),
        t2::Endpoint::Responses => ("POST", "/responses".into()),
        t2::Endpoint::AudioTranscriptions => ("POST", "/audio/transcriptions".into()),
        t2::Endpoint::AudioTranslations => ("POST", "/audio/translations".into()),
        t2::Endpoint::ImagesEdits => ("POST", "/images/edits".into()),
        t2::Endpoint::ImagesVariations => ("POST", "/images/variations".into()),
        t2::Endpoint::Moderations => ("POST", "/moderations".into()),
    }
}

/// A 0.1 request context.
pub fn ctx(c: &t2::RequestCtx) -> t1::RequestCtx {
    let (method, path) = method_path(c);
    t1::RequestCtx {
        request_id: c.request_id.clone(),
        endpoint: endpoint_name(c.endpoint).into(),
        method: method.into(),
        path,
        model: c.model.clone(),
        stream: c.stream,
        user_id: c.user_id.clone(),
        key_id: c.key_id.clone(),
        headers: c.headers.clone(),
    }
}

/// A 0.1 request: the client's method, path and headers, and `body`.
pub fn request(c: &t2::RequestCtx, body: &[u8]) -> t1::HttpRequest {
    let (method, path) = method_path(c);
    t1::HttpRequest {
        method: method.into(),
        path,
        headers: c.headers.clone(),
        body: body.to_vec(),
    }
}

/// A 0.1 body summary (it repeated the model and the stream flag).
pub fn meta(c: &t2::RequestCtx, m: &t2::LlmMeta) -> t1::LlmMeta {
    t1::LlmMeta {
        model: c.model.clone(),
        stream: c.stream,
        max_tokens: m.max_tokens,
        est_prompt_tokens: m.est_prompt_tokens,
        n: m.n,
    }
}

/// A 0.1 principal.
pub fn principal(p: &t2::Principal) -> t1::Principal {
    t1::Principal {
        key_id: p.key_id.clone(),
        owner: p.owner.clone(),
        team: p.team.clone(),
        models: p.models.clone(),
        attributes: p.attributes.clone(),
    }
}

/// A 0.2 principal.
pub fn principal_back(p: t1::Principal) -> t2::Principal {
    t2::Principal {
        key_id: p.key_id,
        owner: p.owner,
        team: p.team,
        models: p.models,
        attributes: p.attributes,
        // 0.1 has no MCP servers: a 0.1 auth plugin's keys reach every server.
        mcp_servers: Vec::new(),
    }
}

fn usage(u: t2::Usage) -> t1::Usage {
    t1::Usage {
        prompt_tokens: u.prompt_tokens,
        completion_tokens: u.completion_tokens,
        cached_tokens: u.cached_tokens,
    }
}

/// A 0.2 usage record.
pub fn usage_back(u: t1::Usage) -> t2::Usage {
    t2::Usage {
        prompt_tokens: u.prompt_tokens,
        completion_tokens: u.completion_tokens,
        cached_tokens: u.cached_tokens,
    }
}

/// A 0.1 outcome.
pub fn outcome(o: &t2::Outcome) -> t1::Outcome {
    t1::Outcome {
        status: o.status,
        provider: o.provider.clone(),
        served_model: o.served_model.clone(),
        usage: o.usage.map(usage),
        latency_ms: o.latency_ms,
        upstream_us: o.upstream_us,
    }
}

/// A 0.2 error body.
pub fn error_back(e: t1::ErrorBody) -> t2::ErrorBody {
    t2::ErrorBody {
        status: e.status,
        type_: e.type_,
        code: e.code,
        param: e.param,
        message: e.message,
        retry_after: e.retry_after,
    }
}

fn response_back(r: t1::HttpResponse) -> t2::HttpResponse {
    t2::HttpResponse {
        status: r.status,
        headers: r.headers,
        body: r.body,
    }
}

/// A 0.1 whole response.
pub fn response(r: &t2::HttpResponse) -> t1::HttpResponse {
    t1::HttpResponse {
        status: r.status,
        headers: r.headers.clone(),
        body: r.body.clone(),
    }
}

/// A 0.2 policy decision.
pub fn decision_back(d: t1::Decision) -> t2::Decision {
    match d {
        t1::Decision::Continue(a) => t2::Decision::Continue(t2::Allow {
            headers: a.headers,
            metadata: a.metadata,
            body: a.body,
        }),
        t1::Decision::Deny(e) => t2::Decision::Deny(error_back(e)),
        t1::Decision::Respond(r) => t2::Decision::Respond(response_back(r)),
    }
}

/// A 0.2 enrichment: the cost comes from the `cost_usd` metadata field.
pub fn enrichment_back(e: t1::Enrichment) -> t2::Enrichment {
    let cost_usd = e
        .metadata
        .iter()
        .rev()
        .find(|(k, _)| k == COST_FIELD)
        .and_then(|(_, v)| v.parse::<f64>().ok());
    t2::Enrichment {
        headers: e.headers,
        metadata: e.metadata,
        cost_usd,
    }
}

/// A 0.1 provider record.
pub fn provider(p: &v2::adapter_if::Provider) -> v1::adapter_if::Provider {
    v1::adapter_if::Provider {
        name: p.name.clone(),
        base_url: p.base_url.clone(),
        api_key: p.api_key.clone(),
        upstream_model: p.upstream_model.clone(),
    }
}

/// A 0.2 upstream call.
pub fn call_back(c: v1::adapter_if::UpstreamCall) -> v2::adapter_if::UpstreamCall {
    match c {
        v1::adapter_if::UpstreamCall::Send(r) => {
            v2::adapter_if::UpstreamCall::Send(t2::UpstreamRequest {
                method: r.method,
                path: r.path,
                headers: r.headers,
                body: r.body,
                stream: r.stream,
            })
        }
        v1::adapter_if::UpstreamCall::Respond(r) => {
            v2::adapter_if::UpstreamCall::Respond(response_back(r))
        }
    }
}

/// A 0.1 stream event.
pub fn event(e: &t2::SseEvent) -> t1::SseEvent {
    t1::SseEvent {
        event: e.event.clone(),
        data: e.data.clone(),
    }
}

/// 0.2 stream events.
pub fn events_back(events: Vec<t1::SseEvent>) -> Vec<t2::SseEvent> {
    events
        .into_iter()
        .map(|e| t2::SseEvent {
            event: e.event,
            data: e.data,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx2(endpoint: t2::Endpoint, model: &str) -> t2::RequestCtx {
        t2::RequestCtx {
            request_id: "r".into(),
            endpoint,
            model: model.into(),
            stream: true,
            user_id: None,
            key_id: None,
            headers: vec![("x-a".into(), "1".into())],
        }
    }

    #[test]
    fn a_01_plugin_sees_method_path_and_endpoint_name() {
        let c = ctx(&ctx2(t2::Endpoint::ChatCompletions, "m"));
        assert_eq!(
            (c.endpoint.as_str(), c.method.as_str(), c.path.as_str()),
            ("chat.completions", "POST", "/chat/completions")
        );
        let c = ctx(&ctx2(t2::Endpoint::Models, "org/m"));
        assert_eq!(
            (c.method.as_str(), c.path.as_str()),
            ("GET", "/models/org/m")
        );
        let r = request(&ctx2(t2::Endpoint::Embeddings, "m"), b"{}");
        assert_eq!(
            (r.path.as_str(), r.body.as_slice()),
            ("/embeddings", &b"{}"[..])
        );
        assert_eq!(r.headers, vec![("x-a".to_string(), "1".to_string())]);
    }

    #[test]
    fn a_01_cost_comes_from_its_metadata_field() {
        let e = enrichment_back(t1::Enrichment {
            headers: vec![],
            metadata: vec![(COST_FIELD.into(), "0.25".into())],
        });
        assert_eq!(e.cost_usd, Some(0.25));
        let none = enrichment_back(t1::Enrichment {
            headers: vec![],
            metadata: vec![("other".into(), "1".into())],
        });
        assert_eq!(none.cost_usd, None);
    }
}
