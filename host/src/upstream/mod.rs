//! Outbound HTTP to providers. Plugins have no network: the host makes every upstream call.

use bytes::Bytes;
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
    #[error("The request to the provider `{provider}` could not be built.")]
    Build {
        /// The provider.
        provider: String,
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

/// The HTTP client to providers (connection pools per upstream host, HTTP/1.1 and HTTP/2,
/// rustls): one client per serving thread (and one for the rest), so an upstream connection is
/// driven by the thread whose requests use it (see [`crate::http::cores`]). The first is built
/// at once (its errors are the caller's); a serving thread's is built on its first use.
#[derive(Clone)]
pub struct UpstreamClient {
    clients: std::sync::Arc<[std::sync::OnceLock<reqwest::Client>]>,
    /// Extra trusted CA certificates (a provider's `ca_file`).
    roots: std::sync::Arc<[reqwest::Certificate]>,
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
    pub fn new(threads: usize) -> Result<UpstreamClient, reqwest::Error> {
        UpstreamClient::build(threads, Vec::new())
    }

    /// Clients like the shared ones that also trust the CA certificates of `pem` (a provider's
    /// `ca_file`). Errors name what is wrong with the file's contents.
    pub fn with_ca(pem: &[u8], threads: usize) -> Result<UpstreamClient, String> {
        let certs = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|e| format!("not PEM certificates: {e}"))?;
        if certs.is_empty() {
            return Err("holds no PEM certificate".into());
        }
        UpstreamClient::build(threads, certs).map_err(|e| crate::error::error_chain(&e))
    }

    fn build(
        threads: usize,
        roots: Vec<reqwest::Certificate>,
    ) -> Result<UpstreamClient, reqwest::Error> {
        let client = UpstreamClient {
            clients: (0..=threads).map(|_| std::sync::OnceLock::new()).collect(),
            roots: roots.into(),
        };
        let first = client.client()?;
        let _ = client.clients[0].set(first);
        Ok(client)
    }

    /// A new client with the shared settings and the extra roots.
    fn client(&self) -> Result<reqwest::Client, reqwest::Error> {
        self.roots
            .iter()
            .fold(builder(), |b, c| b.add_root_certificate(c.clone()))
            .build()
    }

    /// The client of the calling thread.
    pub fn local(&self) -> &reqwest::Client {
        let i = crate::http::cores::core() % self.clients.len();
        self.clients[i].get_or_init(|| {
            self.client().unwrap_or_else(|e| {
                // The first client was built with the same settings, so this is unexpected;
                // share it rather than fail the request.
                tracing::warn!(error = %crate::error::error_chain(&e), "cannot build a thread's upstream client; sharing the first");
                self.http()
            })
        })
    }

    /// The client off the serving threads (webhooks are called through it).
    pub fn http(&self) -> reqwest::Client {
        self.clients[0]
            .get()
            .cloned()
            .unwrap_or_else(reqwest::Client::new)
    }

    /// Sends `req` and waits for the response headers.
    pub async fn send(&self, req: Outbound<'_>) -> Result<reqwest::Response, UpstreamError> {
        let method = reqwest::Method::from_bytes(req.method.as_bytes()).map_err(|_| {
            UpstreamError::Build {
                provider: req.provider.to_string(),
            }
        })?;
        let mut builder = req.client.unwrap_or(self).local().request(method, &req.url);
        for (k, v) in req.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        match req.body {
            Payload::Json(body) if body.is_empty() => {}
            Payload::Json(body) => {
                builder = builder
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body);
            }
            Payload::Multipart(form) => builder = builder.multipart(form),
        }
        match tokio::time::timeout(req.timeout, builder.send()).await {
            Err(_) => Err(UpstreamError::Timeout {
                provider: req.provider.to_string(),
                ms: req.timeout.as_millis(),
            }),
            Ok(Ok(resp)) => Ok(resp),
            Ok(Err(e)) => Err(map_error(req.provider, &e, req.timeout)),
        }
    }
}

/// The settings every upstream client shares.
fn builder() -> reqwest::ClientBuilder {
    // Installing fails only if a provider is already installed, which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(256)
        .tcp_nodelay(true)
}

/// Maps a transport error to the client-facing error (no internals in the message).
pub fn map_error(provider: &str, e: &reqwest::Error, timeout: Duration) -> UpstreamError {
    // The whole cause chain: a refused certificate or a reset reads here, not just "error
    // sending request".
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
        UpstreamError::Build { provider }
    } else {
        UpstreamError::Transport { provider }
    }
}

/// Reads a whole body, at most `limit` bytes, within `timeout`.
pub async fn read_body(
    provider: &str,
    resp: reqwest::Response,
    limit: usize,
    timeout: Duration,
) -> Result<Bytes, UpstreamError> {
    use futures::StreamExt;
    let read = async {
        let mut out = bytes::BytesMut::new();
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| map_error(provider, &e, timeout))?;
            if out.len() + chunk.len() > limit {
                return Err(UpstreamError::TooLarge {
                    provider: provider.to_string(),
                    limit,
                });
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out.freeze())
    };
    tokio::time::timeout(timeout, read)
        .await
        .unwrap_or_else(|_| {
            Err(UpstreamError::Timeout {
                provider: provider.to_string(),
                ms: timeout.as_millis(),
            })
        })
}
