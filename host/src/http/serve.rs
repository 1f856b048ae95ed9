//! Serving the router on a listener, with the limits a public gateway needs: a cap on open
//! connections, a deadline for a request's head, an idle timeout, and a bounded drain on shutdown.
//!
//! hyper serves each connection (HTTP/1.1, or HTTP/2 by prior knowledge; over TLS, as ALPN
//! chooses). With `[server] tls_cert` and `tls_key` each connection first completes a TLS
//! handshake, within the head's deadline. hyper bounds the time
//! to read a request head; the idle timeout is the gateway's own: a connection with no request in
//! flight and no bytes moving either way for that long is closed. On shutdown the listener closes
//! at once, connections finish what they are serving (keep-alive ends after the response), and
//! after the drain time whatever is left is closed.

use super::idle::{Activity, Tracked};
use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use http_body_util::BodyExt;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tower::ServiceExt;

/// Connection limits.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Time a client has to send a whole request head (from connecting, or from the end of its
    /// previous response).
    pub header_read_timeout: Duration,
    /// Time a connection may sit with no request in flight and no bytes moving.
    pub idle_timeout: Duration,
    /// Client connections served at once (over every listener sharing the semaphore given to
    /// [`serve`]); past it, each listener holds at most one accepted connection until a slot
    /// frees, and the kernel's backlog queues the rest.
    pub max_connections: usize,
    /// Time in-flight requests get to finish after shutdown begins.
    pub drain: Duration,
    /// TLS on the listener, when configured.
    pub tls: Option<super::tls::ListenerTls>,
}

/// Serves `app` on `listener` until `shutdown` resolves, then drains for at most `limits.drain`.
/// A connection holds one of `permits` while open (listeners sharing the semaphore share the
/// connection cap).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    permits: Arc<Semaphore>,
    shutdown: impl Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder.http2().timer(TokioTimer::new());
    let mut conns = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let tcp = tokio::select! {
            r = listener.accept() => match r {
                Ok((tcp, _)) => tcp,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment, keep serving.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // At the cap, this connection waits for a slot and the listener accepts no more: further
        // clients wait in the kernel's backlog. (Accepting first means a slot that frees goes to
        // a connection that exists: with one listener per thread, a thread that took a slot and
        // then waited on an empty listener would strand a client queued on another.)
        let permit = tokio::select! {
            p = Arc::clone(&permits).acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        // Replies are small and latency matters: no Nagle delay.
        let _ = tcp.set_nodelay(true);
        let activity = Activity::new();
        let tcp = Tracked::new(tcp, activity.clone());
        let (builder, watcher, app) = (builder.clone(), graceful.watcher(), app.clone());
        let (tls, handshake) = (limits.tls.clone(), limits.header_read_timeout);
        let idle = limits.idle_timeout;
        // Finished connections are reaped as we go, so the set holds only live ones.
        while conns.try_join_next().is_some() {}
        conns.spawn(async move {
            let _permit = permit;
            let Some(tls) = tls else {
                return connection(&builder, watcher, TokioIo::new(tcp), app, activity, idle).await;
            };
            match tokio::time::timeout(handshake, tls.acceptor().accept(tcp)).await {
                Ok(Ok(stream)) => {
                    connection(&builder, watcher, TokioIo::new(stream), app, activity, idle).await
                }
                Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!("TLS handshake timed out"),
            }
        });
    }
    drop(listener);
    tracing::info!(
        connections = conns.len(),
        "shutting down: draining requests in flight"
    );
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(limits.drain) => {
            tracing::warn!(
                connections = conns.len(),
                ms = limits.drain.as_millis() as u64,
                "drain time is up: closing the connections left"
            );
        }
    }
    conns.abort_all();
    while conns.join_next().await.is_some() {}
}

/// Serves one client connection until it ends, shutdown closes it, or it sits idle for `idle`.
async fn connection<I>(
    builder: &auto::Builder<TokioExecutor>,
    watcher: Watcher,
    io: I,
    app: Router,
    activity: Activity,
    idle: Duration,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = counted(app, activity.clone());
    let conn = builder
        .serve_connection_with_upgrades(io, TowerToHyperService::new(service))
        .into_owned();
    tokio::select! {
        r = watcher.watch(conn) => {
            if let Err(e) = r {
                tracing::debug!(error = %e, "client connection ended with an error");
            }
        }
        () = activity.idle_for(idle) => {
            tracing::debug!("closing an idle client connection");
        }
    }
}

/// The router as one connection's service: every request, until its response body is done or
/// dropped, counts as in flight, so the idle timeout leaves it alone.
fn counted(
    app: Router,
    activity: Activity,
) -> impl tower::Service<
    Request<hyper::body::Incoming>,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future = impl Send,
> + Clone {
    tower::service_fn(move |req: Request<hyper::body::Incoming>| {
        let app = app.clone();
        let in_flight = activity.begin();
        async move {
            let resp = app.oneshot(req.map(Body::new)).await?;
            Ok(resp.map(|body| {
                Body::new(body.map_frame(move |frame| {
                    let _ = &in_flight;
                    frame
                }))
            }))
        }
    })
}
