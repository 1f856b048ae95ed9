//! The OpenAI-compatible HTTP surface: the router, the shared gateway state, and one module per
//! endpoint family. Every path is served both under `/v1` and bare.

pub mod admin;
pub mod error;
mod models;
mod proxy;
pub mod reload;
mod request;
pub mod sse;
mod stages;
mod stream;

use crate::config::Config;
use crate::host_api::{KvStore, MemoryKv};
use crate::pipeline::Pipeline;
use crate::pipeline::engine::{Runtime, RuntimeLimits};
use crate::store::{Db, KeyStore, UsageWriter};
use crate::upstream::UpstreamClient;
use arc_swap::ArcSwap;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use error::ApiError;
pub use request::Endpoint;
use std::sync::Arc;

/// Everything a request needs, shared by all requests.
pub struct Gateway {
    /// The pipeline now serving; a reload swaps it.
    pub pipeline: ArcSwap<Pipeline>,
    /// The Wasm runtime (engine, linker, compiled-component cache).
    pub runtime: Arc<Runtime>,
    /// The key-value store behind the plugins' `kv` import (outlives reloads).
    pub kv: Arc<dyn KvStore>,
    /// Outbound HTTP.
    pub upstream: UpstreamClient,
    /// The database (keys, usage).
    pub db: Db,
    /// Managed keys.
    pub keys: KeyStore,
    /// Where usage rows go.
    pub usage: UsageWriter,
    /// The config the process started with (restart-only settings are compared to it).
    first_config: Config,
    /// The admin API key (`SLUICE_ADMIN_KEY`); without one the admin API is off.
    admin_key: Option<String>,
    reload: std::sync::Mutex<reload::ReloadState>,
    reload_lock: tokio::sync::Mutex<()>,
}

/// The state handlers receive.
pub type AppState = Arc<Gateway>;

impl Gateway {
    /// Builds the runtime and the first pipeline from `config`.
    pub async fn start(config: Config) -> anyhow::Result<AppState> {
        let runtime = Runtime::new(RuntimeLimits {
            cache_dir: Some(config.data_dir().join("compiled")),
            max_instances: config.runtime.max_instances,
            max_memory_bytes: config.runtime.max_plugin_memory_mb << 20,
        })?;
        let kv: Arc<dyn KvStore> = Arc::new(MemoryKv::default());
        let first_config = config.clone();
        let db = Db::open(&config.data_dir())?;
        let keys = KeyStore::new(db.clone());
        let pipeline = Pipeline::build(config, &runtime, &kv, Some(&keys), 1).await?;
        Ok(Arc::new(Gateway {
            pipeline: ArcSwap::from_pointee(pipeline),
            runtime,
            kv,
            upstream: UpstreamClient::new()?,
            first_config,
            usage: UsageWriter::start(db.clone()),
            db,
            keys,
            admin_key: std::env::var("SLUICE_ADMIN_KEY")
                .ok()
                .filter(|k| !k.is_empty()),
            reload: Default::default(),
            reload_lock: tokio::sync::Mutex::new(()),
        }))
    }
}

/// The router: every endpoint under `/v1` and bare.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/chat/completions", post(chat_completions))
        .route("/completions", post(completions))
        .route("/embeddings", post(embeddings))
        .route("/audio/speech", post(audio_speech))
        .route("/images/generations", post(images_generations))
        .route("/models", get(models::list))
        .route("/models/{*model}", get(models::retrieve));
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/admin/status", get(admin::status))
        .route("/admin/reload", post(admin::reload))
        .route("/admin/keys", get(admin::list_keys).post(admin::create_key))
        .route("/admin/keys/{id}", axum::routing::delete(admin::revoke_key))
        .route("/admin/usage", get(admin::usage))
        .nest("/v1", api.clone())
        .merge(api)
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

async fn chat_completions(State(s): State<AppState>, headers: HeaderMap, req: Request) -> Response {
    proxy::handle(s, Endpoint::ChatCompletions, headers, req.into_body()).await
}

async fn completions(State(s): State<AppState>, headers: HeaderMap, req: Request) -> Response {
    proxy::handle(s, Endpoint::Completions, headers, req.into_body()).await
}

async fn embeddings(State(s): State<AppState>, headers: HeaderMap, req: Request) -> Response {
    proxy::handle(s, Endpoint::Embeddings, headers, req.into_body()).await
}

async fn audio_speech(State(s): State<AppState>, headers: HeaderMap, req: Request) -> Response {
    proxy::handle(s, Endpoint::AudioSpeech, headers, req.into_body()).await
}

async fn images_generations(
    State(s): State<AppState>,
    headers: HeaderMap,
    req: Request,
) -> Response {
    proxy::handle(s, Endpoint::ImagesGenerations, headers, req.into_body()).await
}

async fn unknown_route(req: Request) -> Response {
    ApiError::unknown_route(req.method().as_str(), req.uri().path()).into_response()
}

async fn method_not_allowed(req: Request) -> Response {
    let mut e = ApiError::unknown_route(req.method().as_str(), req.uri().path());
    e.status = axum::http::StatusCode::METHOD_NOT_ALLOWED;
    e.code = Some("method_not_allowed".into());
    e.into_response()
}

/// A fresh request id: `req_` and 24 hex digits.
pub fn new_request_id() -> String {
    format!("req_{:024x}", rand::random::<u128>() >> 32)
}

/// Adds `(name, value)` pairs to `headers`, skipping any that are not valid HTTP.
pub fn add_headers(headers: &mut HeaderMap, pairs: &[(String, String)]) {
    for (k, v) in pairs {
        if let (Ok(k), Ok(v)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            headers.insert(k, v);
        }
    }
}
