//! `[server]`: the listener, request limits and client connections.

use serde::Deserialize;

/// `[server]`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on. `SLUICE_LISTEN` overrides it.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Largest request body accepted, in bytes (larger ones get 413).
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// Name of the object that carries gateway metadata in responses (`sluice`); empty disables it.
    #[serde(default = "default_metadata_field")]
    pub metadata_field: String,
    /// A client connection that has not sent a whole request head this long after connecting
    /// (or after its previous response) is closed.
    #[serde(default = "default_header_read_timeout")]
    pub header_read_timeout_ms: u64,
    /// A client connection with no bytes moving either way this long is closed (a stream that
    /// is sending keeps its connection open).
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout_ms: u64,
    /// Client connections open at once; at this many the listener stops accepting until one
    /// closes.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// On SIGTERM: how long requests and streams in flight may take to finish before the
    /// connections left are closed (usage rows are written either way).
    #[serde(default = "default_shutdown_drain")]
    pub shutdown_drain_ms: u64,
    /// Time a client has to send a request's whole body once the gateway reads it (after auth);
    /// a slower one gets 408.
    #[serde(default = "default_body_read_timeout")]
    pub body_read_timeout_ms: u64,
    /// Longest `user_id` accepted, in bytes (longer ones get 400).
    #[serde(default = "default_max_user_id")]
    pub max_user_id_bytes: usize,
    /// Most bytes the files of one multipart upload (`/audio/transcriptions`,
    /// `/audio/translations`, `/images/edits`, `/images/variations`) may hold together; more
    /// gets 413. They are spooled to disk, never held in memory.
    #[serde(default = "default_max_upload")]
    pub max_upload_bytes: u64,
    /// Serving threads, each with its own single-threaded runtime and listener (`SO_REUSEPORT`);
    /// a request runs start to end on the thread that accepted it. 0 = one per core. A restart
    /// setting.
    #[serde(default)]
    pub threads: usize,
    /// PEM certificate chain to serve HTTPS with (with `tls_key`; relative to the config file's
    /// folder). Replaced while serving when the file changes or on reload; turning TLS on or
    /// off takes a restart.
    #[serde(default)]
    pub tls_cert: Option<std::path::PathBuf>,
    /// PEM private key of `tls_cert`.
    #[serde(default)]
    pub tls_key: Option<std::path::PathBuf>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: default_listen(),
            max_body_bytes: default_max_body(),
            metadata_field: default_metadata_field(),
            header_read_timeout_ms: default_header_read_timeout(),
            idle_timeout_ms: default_idle_timeout(),
            max_connections: default_max_connections(),
            shutdown_drain_ms: default_shutdown_drain(),
            body_read_timeout_ms: default_body_read_timeout(),
            max_user_id_bytes: default_max_user_id(),
            max_upload_bytes: default_max_upload(),
            threads: 0,
            tls_cert: None,
            tls_key: None,
        }
    }
}

fn default_listen() -> String {
    "127.0.0.1:8080".into()
}
fn default_max_body() -> usize {
    // 32 MiB of files as base64, plus the rest of the request.
    48 << 20
}
fn default_metadata_field() -> String {
    "sluice".into()
}
fn default_header_read_timeout() -> u64 {
    10_000
}
fn default_idle_timeout() -> u64 {
    120_000
}
fn default_max_connections() -> usize {
    10_000
}
fn default_shutdown_drain() -> u64 {
    30_000
}
fn default_body_read_timeout() -> u64 {
    60_000
}
fn default_max_user_id() -> usize {
    256
}
fn default_max_upload() -> u64 {
    // OpenAI's limit for audio files.
    25 << 20
}
