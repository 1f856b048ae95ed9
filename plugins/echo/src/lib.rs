//! `echo`: an offline provider that answers from the prompt, with no network.
//!
//! It makes the default config work on a machine with no provider key, and gives tests and demos
//! a deterministic model: chat completions repeat the last user message, text completions repeat
//! the prompt, embeddings are derived from a hash of the input, speech is silence as long as the
//! input (WAV or PCM), images (generated, edited, varied) are 1x1 PNGs, transcriptions and
//! translations say how many bytes of what audio arrived (in every `response_format`, and as
//! transcript events when streamed), and moderations flag nothing unless an input holds a
//! `[flag:<category>]` marker. It honours `n`, `stop`,
//! `max_tokens`, `response_format` (JSON modes answer `{"echo": "..."}`), `tool_choice` naming a
//! function or `"required"` (answers with a tool call), and `stream` with usage.
//!
//! Tokens are counted as whitespace-separated words, so usage is predictable.

mod audio;
mod chat;
mod completions;
mod embeddings;
mod image_edits;
mod images;
mod moderations;
mod sse;
mod transcribe;

use sluice_plugin_sdk::stream::PassThrough;
use sluice_plugin_sdk::{
    Adapter, Endpoint, ErrorBody, HttpResponse, NoConfig, Plugin, PluginInfo, Provider, RequestCtx,
    UpstreamCall,
};

/// Counts tokens the echo way: whitespace-separated words, at least one for non-empty text.
pub(crate) fn count_tokens(text: &str) -> u32 {
    u32::try_from(text.split_whitespace().count()).unwrap_or(u32::MAX)
}

/// A JSON response with status 200.
pub(crate) fn json_response(body: &serde_json::Value) -> HttpResponse {
    HttpResponse {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_string().into_bytes(),
    }
}

/// Seconds since the Unix epoch, for `created` fields.
pub(crate) fn now_s() -> u64 {
    sluice_plugin_sdk::now_ms() / 1000
}

/// Answers one request from its body (pure apart from the clock, so it is unit-tested natively).
pub(crate) fn answer(
    ctx: &RequestCtx,
    model: &str,
    body: &[u8],
    created: u64,
) -> Result<HttpResponse, ErrorBody> {
    let req: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ErrorBody::bad_request(format!("echo: the body is not JSON: {e}")))?;
    match ctx.endpoint {
        Endpoint::ChatCompletions => chat::answer(ctx, model, &req, created),
        Endpoint::Completions => completions::answer(ctx, model, &req, created),
        Endpoint::Embeddings => embeddings::answer(model, &req),
        Endpoint::AudioSpeech => audio::answer(&req),
        Endpoint::ImagesGenerations => images::answer(&req, created),
        Endpoint::ImagesEdits => image_edits::edit(&req, created),
        Endpoint::ImagesVariations => image_edits::variation(&req, created),
        Endpoint::AudioTranscriptions => transcribe::answer(&req, false, ctx.stream),
        Endpoint::AudioTranslations => transcribe::answer(&req, true, false),
        Endpoint::Moderations => moderations::answer(model, &req, &ctx.request_id),
        other => Err(ErrorBody::new(
            404,
            "invalid_request_error",
            Some("unsupported_endpoint"),
            format!("the echo provider does not serve `{other}`"),
        )),
    }
}

struct Echo;

impl Plugin for Echo {
    type Config = NoConfig;
    fn new(_: NoConfig) -> Result<Self, String> {
        Ok(Echo)
    }
    fn info(&self) -> PluginInfo {
        PluginInfo::passthrough(true)
    }
}

impl Adapter for Echo {
    type Stream = PassThrough;

    fn to_upstream(
        &self,
        ctx: &RequestCtx,
        provider: &Provider,
        body: &[u8],
    ) -> Result<UpstreamCall, ErrorBody> {
        answer(ctx, &provider.upstream_model, body, now_s()).map(UpstreamCall::Respond)
    }

    fn start_stream(&self, _: &RequestCtx, _: &Provider) -> PassThrough {
        PassThrough
    }
}

sluice_plugin_sdk::export_adapter!(Echo);
// It reads no request header: the host passes none.
sluice_plugin_sdk::reads_headers!();

#[cfg(test)]
pub(crate) mod test_support {
    use sluice_plugin_sdk::{Endpoint, RequestCtx};

    pub fn ctx(endpoint: Endpoint, stream: bool) -> RequestCtx {
        RequestCtx {
            request_id: "req-1".into(),
            endpoint,
            model: "echo".into(),
            stream,
            user_id: None,
            key_id: None,
            headers: vec![],
        }
    }

    pub fn json(body: &[u8]) -> serde_json::Value {
        serde_json::from_slice(body).expect("valid JSON")
    }
}
