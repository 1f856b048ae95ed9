//! TLS on the listener (`[server] tls_cert`, `tls_key`): rustls with the ring provider, ALPN for
//! HTTP/2 and HTTP/1.1, and a certificate that can be replaced while serving. A reload (the file
//! watch sees the certificate or key change, SIGHUP, `POST /admin/reload`) reads the pair again;
//! new connections get the new certificate, open ones keep theirs, and a pair that does not load
//! leaves the current one in place.

use arc_swap::ArcSwap;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::path::Path;
use std::sync::Arc;

/// Why a certificate and key pair cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The certificate file is missing, unreadable, or holds no PEM certificate.
    #[error("{path}: {reason}")]
    Certificate {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The key file is missing, unreadable, not a PEM private key, or of a kind rustls cannot use.
    #[error("{path}: {reason}")]
    Key {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The key is not the certificate's.
    #[error("the key does not belong to the certificate: {0}")]
    Mismatch(String),
    /// rustls refused the settings.
    #[error("cannot set up TLS: {0}")]
    Setup(String),
}

impl TlsError {
    /// The config key the error is about.
    pub fn key(&self) -> &'static str {
        match self {
            TlsError::Certificate { .. } | TlsError::Setup(_) => "server.tls_cert",
            TlsError::Key { .. } | TlsError::Mismatch(_) => "server.tls_key",
        }
    }
}

/// The certificate presented to every new connection.
#[derive(Debug)]
struct Current(ArcSwap<CertifiedKey>);

impl ResolvesServerCert for Current {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.load_full())
    }
}

/// The listener's TLS: the acceptor every serving thread uses and the certificate it presents.
#[derive(Clone)]
pub struct ListenerTls {
    current: Arc<Current>,
    acceptor: tokio_rustls::TlsAcceptor,
}

impl std::fmt::Debug for ListenerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListenerTls").finish_non_exhaustive()
    }
}

impl ListenerTls {
    /// TLS with the certificate chain of `cert` and the private key of `key` (PEM files).
    pub fn load(cert: &Path, key: &Path) -> Result<ListenerTls, TlsError> {
        let current = Arc::new(Current(ArcSwap::new(certified_key(cert, key)?)));
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Setup(e.to_string()))?
        .with_no_client_auth()
        .with_cert_resolver(Arc::clone(&current) as Arc<dyn ResolvesServerCert>);
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(ListenerTls {
            current,
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
        })
    }

    /// The acceptor that runs handshakes.
    pub fn acceptor(&self) -> &tokio_rustls::TlsAcceptor {
        &self.acceptor
    }

    /// Presents `key` to connections from now on.
    pub fn replace(&self, key: Arc<CertifiedKey>) {
        self.current.0.store(key);
    }
}

/// The certificate chain of `cert` with the private key of `key`, checked to belong together.
pub fn certified_key(cert: &Path, key: &Path) -> Result<Arc<CertifiedKey>, TlsError> {
    let cert_error = |reason: String| TlsError::Certificate {
        path: cert.display().to_string(),
        reason,
    };
    let key_error = |reason: String| TlsError::Key {
        path: key.display().to_string(),
        reason,
    };
    let pem = std::fs::read(cert).map_err(|e| cert_error(format!("cannot read: {e}")))?;
    let chain = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| cert_error(format!("not PEM certificates: {e}")))?;
    if chain.is_empty() {
        return Err(cert_error("holds no PEM certificate".into()));
    }
    let pem = std::fs::read(key).map_err(|e| key_error(format!("cannot read: {e}")))?;
    let der = PrivateKeyDer::from_pem_slice(&pem)
        .map_err(|e| key_error(format!("not a PEM private key: {e}")))?;
    let signing = rustls::crypto::ring::default_provider()
        .key_provider
        .load_private_key(der)
        .map_err(|e| key_error(format!("unusable private key: {e}")))?;
    let certified = CertifiedKey::new(chain, signing);
    certified
        .keys_match()
        .map_err(|e| TlsError::Mismatch(e.to_string()))?;
    Ok(Arc::new(certified))
}
