//! One stdio MCP server process: newline-delimited JSON-RPC on its stdin and stdout, its stderr
//! to the log. A process serves one client (stdio servers are single-client by design), so the
//! JSON-RPC ids it sees are its client's own and need no rewriting: the host only routes what the
//! process writes to the HTTP exchange it belongs to.
//!
//! Routing: an answer goes to the exchange of the request with its id; a progress notification to
//! the request that gave its token; anything else (server requests, other notifications) to the
//! session's GET stream when one is open, else to the newest request in flight, else it is dropped
//! (a server request then gets an error, so the server does not wait forever).

use super::transport::{Message, Messages, Reply, TransportError};
use futures::StreamExt;
use serde_json::Value;
use std::collections::HashMap;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;
use tokio_util::codec::{FramedRead, LinesCodec};
use tokio_util::sync::CancellationToken;

/// Longest line a server may write (one JSON-RPC message).
const MAX_LINE: usize = 16 << 20;

type Tx = mpsc::UnboundedSender<Result<Message, TransportError>>;

/// Where a process's messages go.
#[derive(Default)]
struct Routes {
    /// Requests in flight, by id (as JSON text), in the order they were sent.
    pending: Vec<(String, Tx)>,
    /// Progress tokens (as JSON text) and the request id that gave each.
    progress: HashMap<String, String>,
    /// The session's GET stream, if open.
    listener: Option<Tx>,
}

/// How to start a server.
#[derive(Debug, Clone)]
pub struct Spawn {
    /// The server's name (for logs and errors).
    pub server: String,
    /// Program.
    pub command: String,
    /// Arguments.
    pub args: Vec<String>,
    /// Added environment.
    pub env: Vec<(String, String)>,
    /// Working folder.
    pub cwd: std::path::PathBuf,
    /// Silence allowed while answering one request.
    pub timeout: Duration,
}

/// A running server process.
pub struct Process {
    server: String,
    timeout: Duration,
    stdin: tokio::sync::Mutex<Option<ChildStdin>>,
    routes: Mutex<Routes>,
    /// Cancelled when the process has exited (or is being stopped).
    pub exited: CancellationToken,
    pid: Option<u32>,
    child: Mutex<Option<Child>>,
}

impl Process {
    /// Starts the process and the tasks that read its stdout and stderr.
    pub fn spawn(spec: &Spawn) -> Result<Arc<Process>, TransportError> {
        let mut cmd = Command::new(&spec.command);
        cmd.args(&spec.args)
            .envs(spec.env.iter().map(|(k, v)| (k, v)))
            .current_dir(&spec.cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            // Its own process group: stopping it stops what it started (npx starts node).
            .process_group(0);
        let mut child = cmd.spawn().map_err(|e| {
            tracing::error!(server = %spec.server, command = %spec.command, error = %e, "cannot start MCP server");
            TransportError::Connect(spec.server.clone())
        })?;
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(TransportError::Connect(spec.server.clone()));
        };
        let proc = Arc::new(Process {
            server: spec.server.clone(),
            timeout: spec.timeout,
            stdin: tokio::sync::Mutex::new(Some(stdin)),
            routes: Mutex::new(Routes::default()),
            exited: CancellationToken::new(),
            pid: child.id(),
            child: Mutex::new(Some(child)),
        });
        tracing::info!(server = %spec.server, pid = ?proc.pid, "MCP server started");
        let server = spec.server.clone();
        tokio::spawn(async move {
            let mut lines = FramedRead::new(stderr, LinesCodec::new_with_max_length(64 << 10));
            while let Some(Ok(line)) = lines.next().await {
                tracing::debug!(server = %server, "stderr: {line}");
            }
        });
        let reader = Arc::clone(&proc);
        tokio::spawn(async move {
            let mut lines = FramedRead::new(stdout, LinesCodec::new_with_max_length(MAX_LINE));
            loop {
                tokio::select! {
                    line = lines.next() => match line {
                        Some(Ok(line)) => reader.route(&line).await,
                        Some(Err(e)) => {
                            tracing::warn!(server = %reader.server, error = %e, "unreadable output from MCP server; stopping it");
                            break;
                        }
                        None => break,
                    },
                    () = reader.exited.cancelled() => break,
                }
            }
            reader.ended().await;
        });
        Ok(proc)
    }

    /// Whether the process is still running.
    pub fn alive(&self) -> bool {
        !self.exited.is_cancelled()
    }

    /// Sends a request; its reply streams what the process sends for it, ending with the answer.
    pub async fn request(self: &Arc<Self>, msg: &Value) -> Result<Reply, TransportError> {
        let id = msg.get("id").map(Value::to_string).unwrap_or_default();
        let (tx, rx) = mpsc::unbounded_channel();
        {
            let mut r = self.routes();
            if let Some(token) = msg.pointer("/params/_meta/progressToken") {
                r.progress.insert(token.to_string(), id.clone());
            }
            r.pending.push((id.clone(), tx));
        }
        if let Err(e) = self.write(msg).await {
            self.forget(&id);
            return Err(e);
        }
        let guard = Forget {
            proc: Arc::clone(self),
            id,
        };
        Ok(Reply::Stream(self.stream_of(rx, guard)))
    }

    /// Sends a notification or a response to a server request.
    pub async fn send(&self, msg: &Value) -> Result<Reply, TransportError> {
        self.write(msg).await.map(|()| Reply::Accepted)
    }

    /// Opens the session's stream of messages outside of requests (a GET); a newer one replaces
    /// an older one.
    pub fn listen(self: &Arc<Self>) -> Reply {
        let (tx, rx) = mpsc::unbounded_channel();
        self.routes().listener = Some(tx);
        let guard = Forget {
            proc: Arc::clone(self),
            id: String::new(),
        };
        // A listener is quiet for as long as the server has nothing to say.
        Reply::Stream(Box::pin(futures::stream::unfold(
            (rx, guard),
            |(mut rx, g)| async move { rx.recv().await.map(|m| (m, (rx, g))) },
        )))
    }

    /// Stops the process as the MCP spec asks: close its stdin, wait, then SIGTERM and SIGKILL
    /// its process group.
    pub async fn stop(&self) {
        self.stdin.lock().await.take();
        let child = self
            .child
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        let Some(mut child) = child else { return };
        if tokio::time::timeout(Duration::from_secs(2), child.wait())
            .await
            .is_err()
        {
            self.signal_group(nix::sys::signal::Signal::SIGTERM);
            if tokio::time::timeout(Duration::from_secs(2), child.wait())
                .await
                .is_err()
            {
                self.signal_group(nix::sys::signal::Signal::SIGKILL);
                let _ = child.wait().await;
            }
        }
        self.exited.cancel();
    }

    fn signal_group(&self, signal: nix::sys::signal::Signal) {
        if let Some(pid) = self.pid.and_then(|p| i32::try_from(p).ok()) {
            let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pid), signal);
        }
    }

    fn routes(&self) -> std::sync::MutexGuard<'_, Routes> {
        self.routes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn forget(&self, id: &str) {
        let mut r = self.routes();
        if id.is_empty() {
            // Only a listener whose stream is gone: a newer GET may have replaced it.
            if r.listener.as_ref().is_some_and(Tx::is_closed) {
                r.listener = None;
            }
            return;
        }
        r.pending.retain(|(p, _)| p != id);
        r.progress.retain(|_, p| p != id);
    }

    async fn write(&self, msg: &Value) -> Result<(), TransportError> {
        let mut line =
            serde_json::to_vec(msg).map_err(|_| TransportError::Malformed(self.server.clone()))?;
        line.push(b'\n');
        let mut stdin = self.stdin.lock().await;
        let Some(w) = stdin.as_mut() else {
            return Err(TransportError::Exited(self.server.clone()));
        };
        if w.write_all(&line).await.is_err() || w.flush().await.is_err() {
            return Err(TransportError::Exited(self.server.clone()));
        }
        Ok(())
    }

    /// Routes one line the process wrote.
    async fn route(&self, line: &str) {
        let Ok(msg) = serde_json::from_str::<Value>(line) else {
            tracing::debug!(server = %self.server, "non-JSON line on stdout ignored");
            return;
        };
        let method = msg.get("method").and_then(Value::as_str);
        let id = msg.get("id").map(Value::to_string);
        let out = Message {
            id: None,
            data: line.to_string(),
        };
        let undelivered = {
            let mut r = self.routes();
            match (method, id) {
                // An answer: its request's exchange ends with it.
                (None, Some(id)) => {
                    if let Some(at) = r.pending.iter().position(|(p, _)| *p == id) {
                        let (_, tx) = r.pending.remove(at);
                        r.progress.retain(|_, p| *p != id);
                        let _ = tx.send(Ok(out));
                    }
                    None
                }
                (Some(m), id) => {
                    let by_token = (m == "notifications/progress")
                        .then(|| msg.pointer("/params/progressToken"))
                        .flatten()
                        .and_then(|t| r.progress.get(&t.to_string()).cloned())
                        .and_then(|rid| r.pending.iter().find(|(p, _)| *p == rid))
                        .map(|(_, tx)| tx.clone());
                    let target = by_token
                        .or_else(|| r.listener.clone())
                        .or_else(|| r.pending.last().map(|(_, tx)| tx.clone()));
                    match target {
                        Some(tx) if tx.send(Ok(out)).is_ok() => None,
                        _ => id,
                    }
                }
                (None, None) => None,
            }
        };
        if let Some(id) = undelivered {
            // A server request nobody can answer: refuse it rather than leave the server waiting.
            let refusal = serde_json::json!({
                "jsonrpc": "2.0",
                "id": serde_json::from_str::<Value>(&id).unwrap_or(Value::Null),
                "error": {"code": -32603, "message": "No client is listening for server requests on this session."}
            });
            let _ = self.write(&refusal).await;
        }
    }

    /// The process's stdout ended: fail what was waiting, and reap it.
    async fn ended(&self) {
        self.exited.cancel();
        let waiting = std::mem::take(&mut *self.routes());
        for (_, tx) in waiting
            .pending
            .into_iter()
            .chain(waiting.listener.map(|l| (String::new(), l)))
        {
            let _ = tx.send(Err(TransportError::Exited(self.server.clone())));
        }
        self.stdin.lock().await.take();
        let child = self
            .child
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(mut child) = child {
            let status = tokio::time::timeout(Duration::from_secs(2), child.wait()).await;
            tracing::warn!(server = %self.server, pid = ?self.pid, status = ?status.ok().and_then(Result::ok), "MCP server exited");
        }
    }

    fn stream_of(
        &self,
        rx: mpsc::UnboundedReceiver<Result<Message, TransportError>>,
        guard: Forget,
    ) -> Messages {
        let timeout = self.timeout;
        let server = self.server.clone();
        Box::pin(futures::stream::unfold(Some((rx, guard)), move |state| {
            let server = server.clone();
            async move {
                let (mut rx, g) = state?;
                match tokio::time::timeout(timeout, rx.recv()).await {
                    Ok(Some(m)) => Some((m, Some((rx, g)))),
                    Ok(None) => None,
                    Err(_) => Some((
                        Err(TransportError::Timeout {
                            server,
                            ms: timeout.as_millis() as u64,
                        }),
                        None,
                    )),
                }
            }
        }))
    }
}

/// Unregisters a request (or the listener, for an empty id) when its exchange is dropped.
struct Forget {
    proc: Arc<Process>,
    id: String,
}

impl Drop for Forget {
    fn drop(&mut self) {
        self.proc.forget(&self.id);
    }
}
