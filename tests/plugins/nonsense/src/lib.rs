//! A provider adapter that returns well-typed nonsense, for the tests of what the host does with
//! it (a 500 that names the plugin, nothing else). The request header `x-nonsense` picks it:
//!
//! - `method`: a request whose method is `G ET`;
//! - `header-name`: a header named `bad header`;
//! - `header-value`: a header value with a line break in it;
//! - `path`: a path with a space in it;
//! - `status`: an answer of its own with status 1000;
//! - `deny-200`: a refusal with status 200;
//! - anything else: the request goes to the provider as it is.

use sluice_plugin_sdk::stream::PassThrough;
use sluice_plugin_sdk::{
    Adapter, ErrorBody, HttpResponse, NoConfig, Plugin, PluginInfo, Provider, RequestCtx,
    UpstreamCall, UpstreamRequest,
};

struct Nonsense;

impl Plugin for Nonsense {
    type Config = NoConfig;
    fn new(_: NoConfig) -> Result<Self, String> {
        Ok(Nonsense)
    }
    fn info(&self) -> PluginInfo {
        PluginInfo::passthrough(false)
    }
}

fn request(method: &str, path: &str, headers: Vec<(String, String)>) -> UpstreamCall {
    UpstreamCall::Send(UpstreamRequest {
        method: method.into(),
        path: path.into(),
        headers,
        body: None,
        stream: false,
    })
}

impl Adapter for Nonsense {
    type Stream = PassThrough;

    fn to_upstream(
        &self,
        ctx: &RequestCtx,
        _provider: &Provider,
        _body: &[u8],
    ) -> Result<UpstreamCall, ErrorBody> {
        let kind = ctx
            .headers
            .iter()
            .find(|(k, _)| k == "x-nonsense")
            .map_or("", |(_, v)| v.as_str());
        let path = "/chat/completions";
        Ok(match kind {
            "method" => request("G ET", path, vec![]),
            "header-name" => request("POST", path, vec![("bad header".into(), "v".into())]),
            "header-value" => request("POST", path, vec![("x-ok".into(), "a\r\nb: c".into())]),
            "path" => request("POST", "/chat completions", vec![]),
            "status" => UpstreamCall::Respond(HttpResponse {
                status: 1000,
                headers: vec![("content-type".into(), "application/json".into())],
                body: b"{}".to_vec(),
            }),
            "deny-200" => {
                let mut e = ErrorBody::bad_request("not really");
                e.status = 200;
                return Err(e);
            }
            _ => request("POST", path, vec![]),
        })
    }

    fn start_stream(&self, _: &RequestCtx, _: &Provider) -> PassThrough {
        PassThrough
    }
}

sluice_plugin_sdk::export_adapter!(Nonsense);
