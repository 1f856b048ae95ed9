//! HTTPS providers behind a private CA: a provider's `ca_file` makes its certificate trusted (and
//! only its), without it the call fails cleanly (502), and a bad `ca_file` is refused at load with
//! the key named. The certificates are made by the test (rcgen), served over rustls.

mod common;

use axum::Router;
use axum::routing::post;
use common::{Gateway, KEY, client, key_hash};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A CA, and a server certificate for 127.0.0.1 it signed: (CA PEM, server cert DER, key DER).
fn certificates() -> (String, CertificateDer<'static>, PrivateKeyDer<'static>) {
    let issued = common::certs::issue("Sluice test CA");
    (issued.ca_pem, issued.cert_der, issued.key_der)
}

/// A TLS acceptor with `cert` and `key` that speaks only `alpn`.
fn acceptor(
    cert: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
    alpn: &[u8],
) -> TlsAcceptor {
    let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
    let mut config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .expect("server config");
    config.alpn_protocols = vec![alpn.to_vec()];
    TlsAcceptor::from(Arc::new(config))
}

/// A listener on 127.0.0.1:0 and its base URL over HTTPS.
async fn listen() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!(
        "https://127.0.0.1:{}/v1",
        listener.local_addr().expect("addr").port()
    );
    (listener, url)
}

/// A chat completion that says `content`.
fn completion(content: &str) -> Value {
    json!({
        "id": "chatcmpl-tls", "object": "chat.completion", "created": 1, "model": "private",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    })
}

/// An OpenAI-shaped upstream over TLS on 127.0.0.1:0; returns its base URL.
async fn tls_upstream(cert: CertificateDer<'static>, key: PrivateKeyDer<'static>) -> String {
    let acceptor = acceptor(cert, key, b"http/1.1");
    let app = Router::new().route(
        "/v1/chat/completions",
        post(|| async { axum::Json(completion("over TLS")) }),
    );
    let (listener, url) = listen().await;
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (acceptor, app) = (acceptor.clone(), app.clone());
            tokio::spawn(async move {
                // A client that refuses the certificate ends the handshake: nothing to serve.
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = hyper_util::service::TowerToHyperService::new(app);
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    url
}

fn config(url: &str, ca_file: Option<&str>) -> String {
    let ca = ca_file
        .map(|f| format!("ca_file = \"{f}\""))
        .unwrap_or_default();
    format!(
        r#"
[[plugins]]
name = "auth"
stage = "auth"
source = "builtin:key-auth"
[[plugins.config.keys]]
id = "k"
sha256 = "{hash}"

[[providers]]
name = "private"
adapter = "openai"
base_url = "{url}"
retries = 0
{ca}

[[models]]
name = "private"
provider = "private"
"#,
        hash = key_hash(KEY)
    )
}

/// A gateway whose provider at `url` has `ca_pem` as its `ca_file`.
fn trusting(url: &str, ca_pem: &str) -> Gateway {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("private-ca.pem"), ca_pem).expect("write CA");
    std::fs::write(
        dir.path().join("gateway.toml"),
        config(url, Some("private-ca.pem")),
    )
    .expect("config");
    Gateway::start_in(dir, &[])
}

async fn chat(gw: &Gateway) -> reqwest::Response {
    client()
        .post(gw.at("/v1/chat/completions"))
        .bearer_auth(KEY)
        .json(&json!({"model": "private", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn a_providers_ca_file_makes_its_private_certificate_trusted() {
    let (ca_pem, cert, key) = certificates();
    let url = tls_upstream(cert, key).await;
    let gw = trusting(&url, &ca_pem);
    let r = chat(&gw).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["choices"][0]["message"]["content"], "over TLS");
}

#[tokio::test]
async fn without_the_ca_the_private_certificate_is_refused_with_a_502() {
    let (_, cert, key) = certificates();
    let url = tls_upstream(cert, key).await;
    let gw = Gateway::start(&config(&url, None));
    let r = chat(&gw).await;
    assert_eq!(r.status(), 502);
    let v: Value = r.json().await.expect("json");
    let m = v["error"]["message"].as_str().expect("message");
    assert!(m.contains("private"), "{m}");
    assert!(
        !m.contains("certificate"),
        "no transport internals to clients: {m}"
    );
}

#[test]
fn a_ca_file_that_is_missing_or_not_pem_is_refused_at_load() {
    let (ok, stderr) = Gateway::refuse(&config("https://127.0.0.1:1/v1", Some("nope.pem")));
    assert!(!ok);
    assert!(stderr.contains("providers.private.ca_file"), "{stderr}");
    assert!(stderr.contains("cannot read"), "{stderr}");
}

/// An OpenAI-shaped upstream over TLS that speaks only HTTP/2 and sends GOAWAY on every
/// connection as soon as it has answered one request there (as a server going away, or one
/// recycling its connections, does). Returns its base URL and its count of connections.
async fn goaway_upstream(
    cert: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
) -> (String, Arc<AtomicUsize>) {
    let acceptor = acceptor(cert, key, b"h2");
    let (listener, url) = listen().await;
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&connections);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let answered = Arc::new(tokio::sync::Notify::new());
                let notify = Arc::clone(&answered);
                let app = Router::new().route(
                    "/v1/chat/completions",
                    post(move || {
                        notify.notify_one();
                        async { axum::Json(completion("over h2")) }
                    }),
                );
                let service = hyper_util::service::TowerToHyperService::new(app);
                let conn = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), service);
                tokio::pin!(conn);
                tokio::select! {
                    _ = conn.as_mut() => {}
                    () = answered.notified() => {
                        // GOAWAY: streams already open finish, new ones are refused.
                        conn.as_mut().graceful_shutdown();
                        let _ = conn.await;
                    }
                }
            });
        }
    });
    (url, connections)
}

#[tokio::test]
async fn an_http2_upstream_that_sends_goaway_loses_no_request() {
    let (ca_pem, cert, key) = certificates();
    let (url, connections) = goaway_upstream(cert, key).await;
    let gw = trusting(&url, &ca_pem);
    // One after another: each connection is gone after one answer.
    for _ in 0..5 {
        let r = chat(&gw).await;
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.expect("json");
        assert_eq!(v["choices"][0]["message"]["content"], "over h2");
    }
    // Many at once, racing the GOAWAYs.
    let all = futures::future::join_all((0..20).map(|_| chat(&gw))).await;
    for r in all {
        assert_eq!(r.status(), 200, "a request refused by GOAWAY is sent again");
    }
    assert!(
        connections.load(Ordering::SeqCst) >= 5,
        "the gateway opened new connections after each GOAWAY"
    );
    // One usage row per request, all successes.
    let rows = common::usage_statuses(gw.path(), "status = 200", 25).await;
    assert_eq!(rows.len(), 25);
}
