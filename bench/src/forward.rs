//! A bare pass-through forwarder: every request goes to the upstream with the same method, path,
//! headers and (streamed) body, over a pooled keep-alive client, and the answer comes back as it
//! arrives. No parsing, no plugins: the floor any proxy pays.

use crate::net::{self, Body};
use anyhow::Context;
use bytes::Bytes;
use http::uri::{PathAndQuery, Uri};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

/// The upstream's scheme and authority, and the pooled client to it.
struct Upstream {
    client: Client<HttpConnector, Incoming>,
    scheme: http::uri::Scheme,
    authority: http::uri::Authority,
}

/// Runs the forwarder on `listen`, to `upstream` (`http://HOST:PORT`), until stopped.
pub async fn run(listen: &str, upstream: &str, parent_watch: bool) -> anyhow::Result<()> {
    if parent_watch {
        net::exit_when_parent_goes();
    }
    let uri: Uri = upstream
        .parse()
        .with_context(|| format!("bad upstream URL `{upstream}`"))?;
    let parts = uri.into_parts();
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client = Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(4096)
        .build(connector);
    let up = Arc::new(Upstream {
        client,
        scheme: parts.scheme.unwrap_or(http::uri::Scheme::HTTP),
        authority: parts.authority.context("the upstream URL needs a host")?,
    });
    let listener = net::bind(listen)?;
    net::announce("forward", &listener)?;
    net::serve(listener, move |req| forward(Arc::clone(&up), req)).await
}

/// Sends one request upstream and hands its answer back.
async fn forward(up: Arc<Upstream>, req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let (mut parts, body) = req.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| PathAndQuery::from_static("/"));
    let uri = Uri::builder()
        .scheme(up.scheme.clone())
        .authority(up.authority.clone())
        .path_and_query(path)
        .build();
    parts.uri = match uri {
        Ok(u) => u,
        Err(_) => return Ok(status(StatusCode::BAD_REQUEST)),
    };
    // The client sets Host from the URI.
    parts.headers.remove(http::header::HOST);
    match up.client.request(Request::from_parts(parts, body)).await {
        Ok(resp) => Ok(resp.map(|b| b.boxed())),
        Err(_) => Ok(status(StatusCode::BAD_GATEWAY)),
    }
}

/// An empty answer with `code`.
fn status(code: StatusCode) -> Response<Body> {
    let mut resp = Response::new(
        Full::new(Bytes::new())
            .map_err(|never| match never {})
            .boxed(),
    );
    *resp.status_mut() = code;
    resp
}
