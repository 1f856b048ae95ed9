//! The HTTP clients of one serving thread and the TLS settings they share.
//!
//! JSON calls (nearly all of them) go through hyper's pooled client directly; multipart uploads
//! and MCP servers go through reqwest, which builds forms and suits MCP's long-lived streams.
//! Both use the same rustls settings: the system's trust store (through
//! `rustls-platform-verifier`), plus the CA certificates of a provider's `ca_file`, and ALPN for
//! HTTP/2 and HTTP/1.1.

use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::pki_types::CertificateDer;
use std::sync::Arc;
use std::time::Duration;

/// How long a connection may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long an idle pooled connection is kept.
const POOL_IDLE: Duration = Duration::from_secs(90);
/// Idle connections kept per upstream host.
const POOL_MAX_IDLE: usize = 256;

/// hyper's pooled client over HTTP or HTTPS.
pub(super) type Hyper = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// The clients one thread calls upstreams through.
pub(super) struct Clients {
    /// JSON calls.
    pub hyper: Hyper,
    /// Multipart uploads, MCP servers and webhooks.
    pub reqwest: reqwest::Client,
}

/// The TLS settings of every upstream client: the system's trust store and `extra` roots.
pub(super) fn tls_config(
    extra: Vec<CertificateDer<'static>>,
) -> Result<Arc<rustls::ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    // Other users of rustls in the process (the OTLP exporter) find the same provider. Installing
    // fails only if one is installed already, which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let verifier = if extra.is_empty() {
        rustls_platform_verifier::Verifier::new(Arc::clone(&provider))
    } else {
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra, Arc::clone(&provider))
    }
    .map_err(|e| format!("cannot set up certificate verification: {e}"))?;
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// New clients with `tls`.
pub(super) fn build(tls: &Arc<rustls::ClientConfig>) -> Result<Clients, String> {
    let mut http = HttpConnector::new();
    http.set_nodelay(true);
    http.set_connect_timeout(Some(CONNECT_TIMEOUT));
    http.enforce_http(false);
    // hyper-rustls sets ALPN itself from the protocols enabled below (and refuses a config
    // that already has some).
    let mut for_hyper = rustls::ClientConfig::clone(tls);
    for_hyper.alpn_protocols.clear();
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(for_hyper)
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .wrap_connector(http);
    let hyper = Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .timer(TokioTimer::new())
        .pool_idle_timeout(POOL_IDLE)
        .pool_max_idle_per_host(POOL_MAX_IDLE)
        .build(https);
    let reqwest = reqwest::Client::builder()
        .use_preconfigured_tls(rustls::ClientConfig::clone(tls))
        .connect_timeout(CONNECT_TIMEOUT)
        .pool_idle_timeout(POOL_IDLE)
        .pool_max_idle_per_host(POOL_MAX_IDLE)
        .tcp_nodelay(true)
        .build()
        .map_err(|e| crate::error::error_chain(&e))?;
    Ok(Clients { hyper, reqwest })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn clients_build_with_and_without_extra_roots() {
        let tls = tls_config(Vec::new()).expect("system roots");
        assert_eq!(tls.alpn_protocols, [b"h2".to_vec(), b"http/1.1".to_vec()]);
        build(&tls).expect("clients");
    }
}
