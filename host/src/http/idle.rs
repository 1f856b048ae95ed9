//! A connection's activity: when bytes last moved, and how many requests are in flight. The
//! idle timeout closes a connection only when both say it is idle.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

/// Shared by a connection's IO and its service.
#[derive(Clone)]
pub struct Activity(Arc<Inner>);

struct Inner {
    origin: Instant,
    /// Milliseconds after `origin` when bytes last moved.
    last_ms: AtomicU64,
    in_flight: AtomicUsize,
}

impl Activity {
    /// A connection that is active now.
    pub fn new() -> Activity {
        Activity(Arc::new(Inner {
            origin: Instant::now(),
            last_ms: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
        }))
    }

    fn touch(&self) {
        let now = self.0.origin.elapsed().as_millis() as u64;
        self.0.last_ms.store(now, Ordering::Relaxed);
    }

    /// A request starts; it is in flight until the guard drops.
    pub fn begin(&self) -> InFlight {
        self.0.in_flight.fetch_add(1, Ordering::Relaxed);
        super::trim::started();
        self.touch();
        InFlight(self.clone())
    }

    /// Resolves once the connection has had no request in flight and no bytes moving for `idle`.
    pub async fn idle_for(&self, idle: Duration) {
        let idle_ms = idle.as_millis() as u64;
        loop {
            let now = self.0.origin.elapsed().as_millis() as u64;
            let quiet = now.saturating_sub(self.0.last_ms.load(Ordering::Relaxed));
            if quiet >= idle_ms && self.0.in_flight.load(Ordering::Relaxed) == 0 {
                return;
            }
            let wait = idle_ms.saturating_sub(quiet).max(idle_ms / 4).max(1);
            tokio::time::sleep(Duration::from_millis(wait)).await;
        }
    }
}

impl Default for Activity {
    fn default() -> Self {
        Activity::new()
    }
}

/// A request in flight on a connection.
pub struct InFlight(Activity);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.touch();
        self.0.0.in_flight.fetch_sub(1, Ordering::Relaxed);
        super::trim::ended();
    }
}

/// An IO stream that notes every read and write that moves bytes.
pub struct Tracked<T> {
    io: T,
    activity: Activity,
}

impl<T> Tracked<T> {
    /// Wraps `io`.
    pub fn new(io: T, activity: Activity) -> Self {
        Tracked { io, activity }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Tracked<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.io).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        r
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Tracked<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn idle_waits_for_requests_in_flight() {
        let a = Activity::new();
        let req = a.begin();
        let idle = a.idle_for(Duration::from_millis(100));
        tokio::pin!(idle);
        // In flight: not idle, however long it takes.
        assert!(
            tokio::time::timeout(Duration::from_millis(500), &mut idle)
                .await
                .is_err()
        );
        drop(req);
        // Done: idle after the timeout.
        assert!(
            tokio::time::timeout(Duration::from_millis(200), &mut idle)
                .await
                .is_ok()
        );
    }
}
