//! HTTPS on the gateway's own listener (`[server] tls_cert`, `tls_key`): served with the
//! configured certificate over HTTP/2 or HTTP/1.1 (ALPN), plain HTTP refused, the certificate
//! replaced while serving when its files change (open connections keep theirs), a pair that does
//! not load on reload leaves the current one serving, and bad settings refused at start. The
//! certificates are made by the test (rcgen).

mod common;

use common::{Gateway, KEY, auth_section};
use std::path::Path;
use std::time::{Duration, Instant};

const ADMIN: &str = "sk-admin-tls";

/// A CA named `name` and a server certificate for 127.0.0.1 it signed: (CA, cert, key) PEM.
fn issue(name: &str) -> (String, String, String) {
    let issued = common::certs::issue(name);
    (issued.ca_pem, issued.cert_pem, issued.key_pem)
}

/// Writes `contents` to `dir/name` the way certificate tools do: a new file renamed over the old.
fn replace(dir: &Path, name: &str, contents: &str) {
    let tmp = dir.join(format!(".{name}.new"));
    std::fs::write(&tmp, contents).expect("write");
    std::fs::rename(&tmp, dir.join(name)).expect("rename");
}

fn config() -> String {
    format!(
        "[server]\ntls_cert = \"cert.pem\"\ntls_key = \"key.pem\"\n{}{}",
        auth_section(&[]),
        common::ECHO
    )
}

/// A gateway serving HTTPS with the pair of `(cert, key)`.
fn start(cert: &str, key: &str) -> Gateway {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("cert.pem"), cert).expect("cert");
    std::fs::write(dir.path().join("key.pem"), key).expect("key");
    std::fs::write(dir.path().join("gateway.toml"), config()).expect("config");
    Gateway::start_in(dir, &[("SLUICE_ADMIN_KEY", ADMIN)])
}

/// A client that trusts only `ca` (beside the system's store, which does not hold it).
fn trusting(ca: &str) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes()).expect("CA"))
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

async fn models(
    client: &reqwest::Client,
    gw: &Gateway,
) -> Result<reqwest::Response, reqwest::Error> {
    client
        .get(gw.at("/v1/models"))
        .bearer_auth(KEY)
        .send()
        .await
}

#[tokio::test]
async fn https_is_served_and_the_certificate_is_replaced_while_serving() {
    let (ca1, cert1, key1) = issue("Sluice test CA 1");
    let (ca2, cert2, key2) = issue("Sluice test CA 2");
    let gw = start(&cert1, &key1);
    assert!(gw.url.starts_with("https://127.0.0.1:"), "{}", gw.url);

    let first = trusting(&ca1);
    let r = models(&first, &gw).await.expect("HTTPS");
    assert_eq!(r.status(), 200);
    assert_eq!(r.version(), reqwest::Version::HTTP_2, "ALPN chose HTTP/2");
    // HTTP/1.1 when the client offers only that.
    let h1 = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca1.as_bytes()).expect("CA"))
        .http1_only()
        .build()
        .expect("client");
    let r = models(&h1, &gw).await.expect("HTTPS over HTTP/1.1");
    assert_eq!(
        (r.status().as_u16(), r.version()),
        (200, reqwest::Version::HTTP_11)
    );
    // Plain HTTP on the TLS port gets no answer, and a client that does not trust the CA fails.
    let plain = gw.url.replace("https://", "http://");
    assert!(
        common::client()
            .get(format!("{plain}/v1/models"))
            .send()
            .await
            .is_err()
    );
    assert!(models(&trusting(&ca2), &gw).await.is_err());

    // Rotation: the files change, the watch reloads, new connections get the new certificate.
    replace(gw.path(), "key.pem", &key2);
    replace(gw.path(), "cert.pem", &cert2);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(r) = models(&trusting(&ca2), &gw).await {
            assert_eq!(r.status(), 200);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new certificate was never served"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        models(&trusting(&ca1), &gw).await.is_err(),
        "a new connection gets the new certificate"
    );
    // The connection opened before the rotation keeps serving.
    let r = models(&first, &gw).await.expect("the open connection");
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn a_pair_that_does_not_load_on_reload_leaves_the_current_one_serving() {
    let (ca, cert, key) = issue("Sluice test CA");
    let (_, _, other_key) = issue("Another CA");
    let gw = start(&cert, &key);
    let reload = |client: reqwest::Client| {
        let url = gw.at("/admin/reload");
        async move {
            client
                .post(url)
                .bearer_auth(ADMIN)
                .send()
                .await
                .expect("reload")
        }
    };
    for (file, contents, says) in [
        ("cert.pem", "not a certificate", "holds no PEM certificate"),
        (
            "key.pem",
            other_key.as_str(),
            "does not belong to the certificate",
        ),
    ] {
        std::fs::write(gw.path().join(file), contents).expect("write");
        let r = reload(trusting(&ca)).await;
        assert_eq!(r.status(), 422);
        let body = r.text().await.expect("body");
        assert!(body.contains("server.tls"), "{body}");
        assert!(body.contains(says), "{body}");
        // A fresh connection still gets the certificate that loaded.
        assert_eq!(
            models(&trusting(&ca), &gw).await.expect("HTTPS").status(),
            200
        );
        std::fs::write(gw.path().join("cert.pem"), &cert).expect("restore");
        std::fs::write(gw.path().join("key.pem"), &key).expect("restore");
    }
}

#[test]
fn tls_settings_are_checked_at_start() {
    let (ok, stderr) = Gateway::refuse("[server]\ntls_cert = \"cert.pem\"\n");
    assert!(!ok);
    assert!(stderr.contains("server.tls_key"), "{stderr}");
    let (ok, stderr) =
        Gateway::refuse("[server]\ntls_cert = \"none.pem\"\ntls_key = \"none.pem\"\n");
    assert!(!ok);
    assert!(
        stderr.contains("server.tls_cert") && stderr.contains("cannot read"),
        "{stderr}"
    );
}
