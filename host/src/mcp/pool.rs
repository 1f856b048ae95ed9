//! The processes of one stdio MCP server. Each session gets a process of its own; one spare is
//! kept started so `initialize` does not wait for a cold start. A supervisor restarts the spare
//! when it dies, with exponential backoff while it keeps dying young, and everything is stopped
//! when the server is removed by a reload or the gateway stops.

use super::stdio::{Process, Spawn};
use super::transport::TransportError;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// First wait before restarting a spare that died young; doubled up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A spare that lived this long resets the backoff.
const HEALTHY_AFTER: Duration = Duration::from_secs(10);

/// A stdio server's processes.
pub struct Pool {
    spec: Spawn,
    max: usize,
    spare: Mutex<Option<Arc<Process>>>,
    /// Every process started and not yet known to have exited.
    all: Mutex<Vec<Weak<Process>>>,
    /// Wakes the supervisor (a spare was taken).
    wake: Notify,
    stop: CancellationToken,
    /// Not before this instant may a new process start (backoff after early deaths).
    not_before: Mutex<Instant>,
}

impl Pool {
    /// Starts the pool's supervisor, which starts the first spare.
    pub fn start(spec: Spawn, max: usize) -> Arc<Pool> {
        let pool = Arc::new(Pool {
            spec,
            max,
            spare: Mutex::new(None),
            all: Mutex::new(Vec::new()),
            wake: Notify::new(),
            stop: CancellationToken::new(),
            not_before: Mutex::new(Instant::now()),
        });
        tokio::spawn(supervise(Arc::downgrade(&pool), pool.stop.clone()));
        pool
    }

    /// A process for a new session: the spare if it is up, else a fresh one.
    pub fn take(&self) -> Result<Arc<Process>, TransportError> {
        if self.stop.is_cancelled() {
            return Err(TransportError::Stopped(self.spec.server.clone()));
        }
        let spare = lock(&self.spare).take().filter(|p| p.alive());
        self.wake.notify_one();
        if let Some(p) = spare {
            return Ok(p);
        }
        if self.running() >= self.max {
            return Err(TransportError::Busy(self.spec.server.clone()));
        }
        if Instant::now() < *lock(&self.not_before) {
            // Dying young: a client that retries later gets a restarted server.
            return Err(TransportError::Exited(self.spec.server.clone()));
        }
        self.spawn()
    }

    /// Stops every process of the server.
    pub async fn shutdown(&self) {
        self.stop.cancel();
        let procs: Vec<Arc<Process>> = lock(&self.all).iter().filter_map(Weak::upgrade).collect();
        lock(&self.spare).take();
        futures::future::join_all(procs.iter().map(|p| p.stop())).await;
    }

    fn running(&self) -> usize {
        let mut all = lock(&self.all);
        all.retain(|w| w.upgrade().is_some_and(|p| p.alive()));
        all.len()
    }

    fn spawn(&self) -> Result<Arc<Process>, TransportError> {
        let p = Process::spawn(&self.spec)?;
        lock(&self.all).push(Arc::downgrade(&p));
        Ok(p)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Keeps one spare running until the pool stops.
async fn supervise(pool: Weak<Pool>, stop: CancellationToken) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        let Some(p) = pool.upgrade() else { return };
        let spare = lock(&p.spare).clone().filter(|s| s.alive());
        let (wait_for, failed) = match spare {
            Some(s) => (Some(s), false),
            None if p.running() < p.max => match p.spawn() {
                Ok(s) => {
                    *lock(&p.spare) = Some(Arc::clone(&s));
                    (Some(s), false)
                }
                Err(_) => (None, true),
            },
            None => (None, false),
        };
        let started = Instant::now();
        let died = match &wait_for {
            Some(s) => {
                let exited = s.exited.clone();
                tokio::select! {
                    () = exited.cancelled() => true,
                    () = p.wake.notified() => false,
                    () = stop.cancelled() => return,
                }
            }
            // The start failed: a death at birth.
            None if failed => true,
            // At the limit: look again when a session ends (or in a second).
            None => {
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(1)) => false,
                    () = p.wake.notified() => false,
                    () = stop.cancelled() => return,
                }
            }
        };
        if died && started.elapsed() < HEALTHY_AFTER {
            tracing::warn!(server = %p.spec.server, backoff_ms = backoff.as_millis() as u64, "MCP server died young; restarting after a backoff");
            *lock(&p.not_before) = Instant::now() + backoff;
            drop(p);
            tokio::select! {
                () = tokio::time::sleep(backoff) => {}
                () = stop.cancelled() => return,
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        } else if died {
            backoff = FIRST_BACKOFF;
        }
    }
}
