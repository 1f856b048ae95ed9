//! The MCP servers the gateway fronts, and the client sessions with them. The HTTP surface is
//! `endpoints::mcp`; this module owns what outlives one request: the servers (HTTP endpoints, or
//! stdio processes the gateway starts and supervises) and the session table.
//!
//! The gateway issues its own session ids (unguessable, bound to the key that initialised them)
//! and maps each to the server's session: an HTTP server's `Mcp-Session-Id`, or a stdio process.

pub mod http;
mod pool;
pub mod stdio;
pub mod transport;

use crate::config::{McpConfig, McpServerConfig};
use pool::Pool;
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use transport::TransportError;

/// How a server is reached.
pub enum Kind {
    /// Streamable HTTP.
    Http(http::HttpServer),
    /// A process per session, over stdio.
    Stdio(Arc<Pool>),
}

/// A configured server.
pub struct Server {
    /// Its config.
    pub config: McpServerConfig,
    /// How it is reached.
    pub kind: Kind,
}

/// The server side of a session.
pub enum Upstream {
    /// An HTTP server's own session id, if it gave one.
    Http(Option<String>),
    /// The session's process.
    Stdio(Arc<stdio::Process>),
}

/// A client session.
pub struct Session {
    /// The gateway's id for it.
    pub id: String,
    /// The key that initialised it (only that key may use it).
    pub key_id: String,
    /// The server.
    pub server: Arc<Server>,
    /// The server's side.
    pub upstream: Upstream,
    last_used_ms: AtomicU64,
}

impl Session {
    /// Marks the session used now.
    pub fn touch(&self) {
        self.last_used_ms
            .store(crate::time::now_ms(), Ordering::Relaxed);
    }
}

/// The servers and the sessions.
pub struct McpHub {
    servers: Mutex<HashMap<String, Arc<Server>>>,
    sessions: Mutex<HashMap<String, Arc<Session>>>,
    client: crate::upstream::UpstreamClient,
    idle_ms: AtomicU64,
    max_sessions: AtomicUsize,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl McpHub {
    /// An empty hub whose HTTP servers are called through `client` (each thread through its
    /// own); starts its idle sweeper.
    pub fn new(client: crate::upstream::UpstreamClient) -> Arc<McpHub> {
        let hub = Arc::new(McpHub {
            servers: Mutex::new(HashMap::new()),
            sessions: Mutex::new(HashMap::new()),
            client,
            idle_ms: AtomicU64::new(u64::MAX),
            max_sessions: AtomicUsize::new(usize::MAX),
        });
        tokio::spawn(sweep(Arc::downgrade(&hub)));
        hub
    }

    /// Brings the servers in line with the config: new ones start, removed or changed ones stop
    /// (their sessions end), unchanged ones keep running with their sessions.
    pub async fn apply(&self, mcp: &McpConfig, configs: &[McpServerConfig], config_file: &Path) {
        self.idle_ms
            .store(mcp.session_idle_timeout_ms, Ordering::Relaxed);
        self.max_sessions.store(mcp.max_sessions, Ordering::Relaxed);
        // A config named without a folder (`--config gateway.toml`) has the empty path as its
        // parent, which is no working directory for a stdio server: that is the current folder.
        let dir = config_file
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or_else(|| Path::new("."));
        let mut stopped = Vec::new();
        {
            let mut servers = lock(&self.servers);
            let mut next = HashMap::new();
            for c in configs {
                let kept = servers.remove(&c.name).filter(|s| s.config == *c);
                let server = kept.unwrap_or_else(|| Arc::new(self.start(c, dir)));
                next.insert(c.name.clone(), server);
            }
            stopped.extend(servers.drain().map(|(_, s)| s));
            *servers = next;
        }
        if stopped.is_empty() {
            return;
        }
        lock(&self.sessions).retain(|_, s| !stopped.iter().any(|x| Arc::ptr_eq(x, &s.server)));
        for s in stopped {
            tracing::info!(server = %s.config.name, "MCP server removed or changed; its sessions end");
            if let Kind::Stdio(pool) = &s.kind {
                pool.shutdown().await;
            }
        }
    }

    fn start(&self, c: &McpServerConfig, dir: &Path) -> Server {
        let timeout = Duration::from_millis(c.timeout_ms);
        let kind = match (&c.url, &c.command) {
            (Some(url), _) => {
                let token = c.api_key_env.as_ref().and_then(|v| std::env::var(v).ok());
                if let (Some(var), None) = (&c.api_key_env, &token) {
                    tracing::warn!(server = %c.name, "{var} is not set: the server gets no token");
                }
                let headers = http::headers(&c.headers, token.as_deref());
                Kind::Http(http::HttpServer::new(
                    &c.name,
                    url,
                    headers,
                    timeout,
                    self.client.clone(),
                ))
            }
            (None, command) => Kind::Stdio(Pool::start(
                stdio::Spawn {
                    server: c.name.clone(),
                    command: command.clone().unwrap_or_default(),
                    args: c.args.clone(),
                    env: c.env.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                    cwd: c
                        .cwd
                        .as_ref()
                        .map_or_else(|| dir.to_path_buf(), |d| dir.join(d)),
                    timeout,
                },
                c.max_processes,
            )),
        };
        Server {
            config: c.clone(),
            kind,
        }
    }

    /// The server named `name`.
    pub fn server(&self, name: &str) -> Option<Arc<Server>> {
        lock(&self.servers).get(name).cloned()
    }

    /// Records a new session of `key_id` with `server`.
    pub fn open(
        &self,
        key_id: &str,
        server: &Arc<Server>,
        upstream: Upstream,
    ) -> Result<Arc<Session>, TransportError> {
        let mut sessions = lock(&self.sessions);
        if sessions.len() >= self.max_sessions.load(Ordering::Relaxed) {
            return Err(TransportError::Busy(server.config.name.clone()));
        }
        let id = hex::encode(rand::random::<[u8; 24]>());
        let session = Arc::new(Session {
            id: id.clone(),
            key_id: key_id.to_string(),
            server: Arc::clone(server),
            upstream,
            last_used_ms: AtomicU64::new(crate::time::now_ms()),
        });
        sessions.insert(id, Arc::clone(&session));
        Ok(session)
    }

    /// The live session `id`. A session idle for too long, whose server was replaced, or whose
    /// process exited, is over: it is removed and not returned.
    pub fn session(&self, id: &str) -> Option<Arc<Session>> {
        let s = lock(&self.sessions).get(id).cloned()?;
        let current = self
            .server(&s.server.config.name)
            .is_some_and(|cur| Arc::ptr_eq(&cur, &s.server));
        let idle = crate::time::now_ms().saturating_sub(s.last_used_ms.load(Ordering::Relaxed));
        let alive = idle <= self.idle_ms.load(Ordering::Relaxed)
            && match &s.upstream {
                Upstream::Http(_) => true,
                Upstream::Stdio(p) => p.alive(),
            };
        if current && alive {
            Some(s)
        } else {
            self.end(&s);
            None
        }
    }

    /// Ends a session: removes it, and ends the server's side (off the caller's path).
    pub fn end(&self, s: &Arc<Session>) {
        lock(&self.sessions).remove(&s.id);
        let s = Arc::clone(s);
        tokio::spawn(async move {
            match (&s.upstream, &s.server.kind) {
                (Upstream::Stdio(p), _) => p.stop().await,
                (Upstream::Http(Some(sid)), Kind::Http(h)) => {
                    let x = http::Exchange {
                        session: Some(sid),
                        ..Default::default()
                    };
                    let _ = h.send(reqwest::Method::DELETE, x, None).await;
                }
                _ => {}
            }
        });
    }

    /// Sessions open now.
    pub fn session_count(&self) -> usize {
        lock(&self.sessions).len()
    }

    /// Stops every server (the gateway is stopping).
    pub async fn shutdown(&self) {
        let servers: Vec<Arc<Server>> = lock(&self.servers).drain().map(|(_, s)| s).collect();
        lock(&self.sessions).clear();
        for s in servers {
            if let Kind::Stdio(pool) = &s.kind {
                pool.shutdown().await;
            }
        }
    }
}

/// Ends sessions idle for longer than the configured timeout.
async fn sweep(hub: Weak<McpHub>) {
    loop {
        tokio::time::sleep(Duration::from_secs(5)).await;
        let Some(h) = hub.upgrade() else { return };
        let idle = h.idle_ms.load(Ordering::Relaxed);
        let now = crate::time::now_ms();
        let expired: Vec<Arc<Session>> = lock(&h.sessions)
            .values()
            .filter(|s| now.saturating_sub(s.last_used_ms.load(Ordering::Relaxed)) > idle)
            .cloned()
            .collect();
        for s in expired {
            tracing::info!(server = %s.server.config.name, "MCP session idle too long; ended");
            h.end(&s);
        }
    }
}
