//! Outbound HTTP to providers. Plugins have no network: the host makes every upstream call.

mod body;
mod clients;

pub use body::{BodyError, UpstreamResponse, body_error, chunks, read_body};

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use http_body_util::Full;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Why an upstream call failed. Messages name the provider and never carry transport internals
/// (those are logged); the crate's error type maps each to a status.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UpstreamError {
    /// No answer within the deadline (504).
    #[error("The provider `{provider}` did not answer within {ms} ms.")]
    Timeout {
        /// The provider.
        provider: String,
        /// The deadline.
        ms: u128,
    },
    /// No connection could be made (502).
    #[error("Could not connect to the provider `{provider}`.")]
    Connect {
        /// The provider.
        provider: String,
    },
    /// The adapter's request could not be built (500).
    #[error("The request to the provider `{provider}` could not be built: {what}.")]
    Build {
        /// The provider.
        provider: String,
        /// What is wrong with it.
        what: String,
    },
    /// The connection failed after it was made (502).
    #[error("The connection to the provider `{provider}` failed.")]
    Transport {
        /// The provider.
        provider: String,
    },
    /// The answer was larger than the gateway reads whole (502).
    #[error("The provider `{provider}` answered with more than {limit} bytes.")]
    TooLarge {
        /// The provider.
        provider: String,
        /// The limit.
        limit: usize,
    },
}

/// The HTTP clients to providers (connection pools per upstream host, HTTP/1.1 and HTTP/2,
/// rustls): one set per serving thread (and one for the rest), so an upstream connection is
/// driven by the thread whose requests use it (see [`crate::http::cores`]). The first set is
/// built at once (its errors are the caller's); a serving thread's is built on its first use.
#[derive(Clone)]
pub struct UpstreamClient {
    /// The clients of serving thread `i` at `i - 1`, built on first use.
    threads: Arc<[OnceLock<clients::Clients>]>,
    /// The clients off the serving threads, built at once.
    shared: Arc<clients::Clients>,
    /// The TLS settings every client of this set uses.
    tls: Arc<rustls::ClientConfig>,
}

/// A request ready to send.
pub struct Outbound<'a> {
    /// Provider name (for errors).
    pub provider: &'a str,
    /// Method.
    pub method: &'a str,
    /// Full URL.
    pub url: String,
    /// Headers.
    pub headers: &'a [(String, String)],
    /// Body.
    pub body: Payload,
    /// Deadline until response headers arrive.
    pub timeout: Duration,
    /// The provider's own client (one that trusts its `ca_file`), else the shared one.
    pub client: Option<&'a UpstreamClient>,
}

/// What an upstream request carries.
pub enum Payload {
    /// A JSON body; none when empty.
    Json(Bytes),
    /// A multipart form (files streamed from disk); its content type names the boundary.
    Multipart(reqwest::multipart::Form),
}

impl UpstreamClient {
    /// Builds the clients for `threads` serving threads. TLS uses the ring provider and the
    /// system's trust store.
    pub fn new(threads: usize) -> Result<UpstreamClient, String> {
        UpstreamClient::build(threads, Vec::new())
    }

    /// Clients like the shared ones that also trust the CA certificates of `pem` (a provider's
    /// `ca_file`). Errors name what is wrong with the file's contents.
    pub fn with_ca(pem: &[u8], threads: usize) -> Result<UpstreamClient, String> {
        let certs = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("not PEM certificates: {e}"))?;
        if certs.is_empty() {
            return Err("holds no PEM certificate".into());
        }
        UpstreamClient::build(threads, certs)
    }

    fn build(
        threads: usize,
        roots: Vec<CertificateDer<'static>>,
    ) -> Result<UpstreamClient, String> {
        let tls = clients::tls_config(roots)?;
        Ok(UpstreamClient {
            shared: Arc::new(clients::build(&tls)?),
            threads: (0..threads.max(1)).map(|_| OnceLock::new()).collect(),
            tls,
        })
    }

    /// The clients of the calling thread.
    fn clients(&self) -> &clients::Clients {
        let Some(i) = crate::http::cores::core().checked_sub(1) else {
            return &self.shared;
        };
        let slot = &self.threads[i % self.threads.len()];
        if let Some(c) = slot.get() {
            return c;
        }
        match clients::build(&self.tls) {
            Ok(c) => slot.get_or_init(|| c),
            Err(e) => {
                // The shared set was built with the same settings, so this is unexpected; use
                // it rather than fail the request.
                tracing::warn!(error = %e, "cannot build a thread's upstream clients; sharing");
                &self.shared
            }
        }
    }

    /// The reqwest client of the calling thread (MCP servers are called through it).
    pub fn local(&self) -> &reqwest::Client {
        &self.clients().reqwest
    }

    /// The reqwest client off the serving threads (webhooks are called through it).
    pub fn http(&self) -> reqwest::Client {
        self.shared.reqwest.clone()
    }

    /// Sends `req` and waits for the response headers.
    pub async fn send(&self, req: Outbound<'_>) -> Result<UpstreamResponse, UpstreamError> {
        let provider = req.provider;
        let build = |what: String| UpstreamError::Build {
            provider: provider.to_string(),
            what,
        };
        let bad_method = || build(format!("the method `{}` is not valid", req.method));
        let timed_out = || UpstreamError::Timeout {
            provider: provider.to_string(),
            ms: req.timeout.as_millis(),
        };
        let clients = req.client.unwrap_or(self).clients();
        match req.body {
            Payload::Json(body) => {
                let method =
                    http::Method::from_bytes(req.method.as_bytes()).map_err(|_| bad_method())?;
                let uri = http::Uri::try_from(req.url.as_str())
                    .map_err(|_| build(format!("`{}` is not a valid URL", req.url)))?;
                let mut request = http::Request::builder()
                    .method(method)
                    .uri(uri)
                    .body(Full::new(Bytes::new()))
                    .map_err(|e| build(e.to_string()))?;
                let headers = request.headers_mut();
                for (k, v) in req.headers {
                    let name = HeaderName::from_bytes(k.as_bytes()).map_err(|_| {
                        build(format!("`{}` is not a valid header name", k.escape_debug()))
                    })?;
                    let value = HeaderValue::from_str(v).map_err(|_| {
                        build(format!("the header `{k}` has a value that is not valid"))
                    })?;
                    headers.append(name, value);
                }
                if !body.is_empty() {
                    headers
                        .entry(CONTENT_TYPE)
                        .or_insert(HeaderValue::from_static("application/json"));
                    *request.body_mut() = Full::new(body);
                }
                let call = clients.hyper.request(request);
                match tokio::time::timeout(req.timeout, call).await {
                    Err(_) => Err(timed_out()),
                    Ok(Ok(resp)) => Ok(body::boxed(resp)),
                    Ok(Err(e)) => Err(hyper_error(provider, &e)),
                }
            }
            Payload::Multipart(form) => {
                let method =
                    reqwest::Method::from_bytes(req.method.as_bytes()).map_err(|_| bad_method())?;
                let mut builder = clients.reqwest.request(method, &req.url);
                for (k, v) in req.headers {
                    builder = builder.header(k.as_str(), v.as_str());
                }
                let call = builder.multipart(form).send();
                match tokio::time::timeout(req.timeout, call).await {
                    Err(_) => Err(timed_out()),
                    Ok(Ok(resp)) => Ok(body::boxed(http::Response::<reqwest::Body>::from(resp))),
                    Ok(Err(e)) => Err(map_error(provider, &e, req.timeout)),
                }
            }
        }
    }
}

/// Maps a failed hyper call to the client-facing error; the cause chain goes to the log.
fn hyper_error(provider: &str, e: &hyper_util::client::legacy::Error) -> UpstreamError {
    // The whole cause chain: a refused certificate or a reset reads here, not just "client
    // error (Connect)".
    tracing::warn!(provider, error = %crate::error::error_chain(e), "upstream call failed");
    let provider = provider.to_string();
    if e.is_connect() {
        UpstreamError::Connect { provider }
    } else {
        UpstreamError::Transport { provider }
    }
}

/// Maps a reqwest transport error to the client-facing error (no internals in the message).
fn map_error(provider: &str, e: &reqwest::Error, timeout: Duration) -> UpstreamError {
    tracing::warn!(provider, error = %crate::error::error_chain(e), "upstream call failed");
    let provider = provider.to_string();
    if e.is_timeout() {
        UpstreamError::Timeout {
            provider,
            ms: timeout.as_millis(),
        }
    } else if e.is_connect() {
        UpstreamError::Connect { provider }
    } else if e.is_builder() {
        UpstreamError::Build {
            provider,
            what: "the request is not valid".into(),
        }
    } else {
        UpstreamError::Transport { provider }
    }
}
