//! What the mock and the forwarder share: a listener with a deep accept queue, an HTTP/1.1 accept
//! loop, and an exit when the parent process goes away.

use anyhow::Context;
use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::{TcpListener, TcpSocket};

/// The body type the mock and the forwarder answer with.
pub type Body = BoxBody<Bytes, hyper::Error>;

/// Binds `listen` with an accept queue deep enough for thousands of simultaneous connects.
pub fn bind(listen: &str) -> anyhow::Result<TcpListener> {
    let addr: SocketAddr = listen
        .parse()
        .with_context(|| format!("bad listen address `{listen}`"))?;
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    Ok(socket.listen(4096)?)
}

/// Prints the listening line (`<name> listening on http://ADDR`) that the orchestrator waits for.
pub fn announce(name: &str, listener: &TcpListener) -> anyhow::Result<()> {
    println!("{name} listening on http://{}", listener.local_addr()?);
    Ok(())
}

/// Serves HTTP/1.1 keep-alive connections on `listener` with `handler`, forever.
pub async fn serve<H, F>(listener: TcpListener, handler: H) -> anyhow::Result<()>
where
    H: Fn(Request<Incoming>) -> F + Send + Sync + 'static,
    F: Future<Output = Result<Response<Body>, Infallible>> + Send + 'static,
{
    let handler = Arc::new(handler);
    loop {
        let (tcp, _) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                // Out of descriptors and similar: wait a little instead of spinning.
                eprintln!("accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let handler = Arc::clone(&handler);
        tokio::spawn(async move {
            let svc = service_fn(move |req| handler(req));
            // A client closing its connection is normal; nothing to report.
            let _ = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(tcp), svc)
                .await;
        });
    }
}

/// Exits the process when stdin reaches end-of-file, i.e. when the orchestrator that spawned this
/// process with a piped stdin is gone (even if it was killed without cleaning up).
pub fn exit_when_parent_goes() {
    std::thread::spawn(|| {
        let mut buf = [0u8; 64];
        loop {
            match std::io::Read::read(&mut std::io::stdin(), &mut buf) {
                Ok(0) | Err(_) => std::process::exit(0),
                Ok(_) => {}
            }
        }
    });
}
