//! Thread-per-core serving: one single-threaded tokio runtime per serving thread, each accepting
//! on its own listener bound to the same address with `SO_REUSEPORT`. The kernel spreads new
//! connections over the listeners; a request then runs start to end on the thread that accepted
//! it (its plugin calls, its upstream call, its stream), with no hand-off between threads. On a
//! multi-threaded runtime a request hopped between workers several times, and each wake-up of
//! another thread cost more than the work it handed over (see bench/RESULTS.md, issue 17).
//!
//! Background work (batches, reloads, the usage writer) stays on the main runtime.

use super::serve::{Limits, serve};
use axum::Router;
use std::cell::Cell;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

thread_local! {
    static CORE: Cell<usize> = const { Cell::new(0) };
}

/// The serving thread the caller runs on, `1..=threads`, or 0 off them (the main runtime,
/// blocking threads). Per-thread resources (upstream connection pools) are indexed by it.
pub fn core() -> usize {
    CORE.with(Cell::get)
}

/// How many serving threads `threads` (from config; 0 = one per core) comes to.
pub fn count(threads: usize) -> usize {
    if threads > 0 {
        return threads;
    }
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Binds `count` listeners to `listen`, all with `SO_REUSEPORT` and a deep accept backlog
/// (bursts of thousands of connections, such as many streams starting at once, must not
/// overflow the kernel's default of 128). Port 0 picks one port, which every listener shares.
///
/// A port another process listens on is refused ("address in use") even when that process set
/// `SO_REUSEPORT` too: a second gateway started on the same port must fail, not silently take
/// half the connections.
pub fn bind(
    listen: &str,
    count: usize,
) -> std::io::Result<(SocketAddr, Vec<std::net::TcpListener>)> {
    let mut addr: SocketAddr = listen
        .parse()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{e}")))?;
    if addr.port() != 0 {
        // Without SO_REUSEPORT this bind conflicts with any listener on the port.
        drop(socket(addr, false)?);
    }
    let mut out = Vec::with_capacity(count.max(1));
    for _ in 0..count.max(1) {
        let socket = socket(addr, true)?;
        socket.listen(4096)?;
        let listener: std::net::TcpListener = socket.into();
        // The first bind settles the port (when asked for port 0); the others share it.
        addr = listener.local_addr()?;
        out.push(listener);
    }
    Ok((addr, out))
}

/// A TCP socket bound to `addr` (not yet listening).
fn socket(addr: SocketAddr, reuse_port: bool) -> std::io::Result<socket2::Socket> {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )?;
    socket.set_reuse_address(true)?;
    #[cfg(unix)]
    socket.set_reuse_port(reuse_port)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    Ok(socket)
}

/// The serving threads, running until [`Cores::stop`], then kept alive (their runtimes driving
/// the streams and hooks they started) until [`Cores::release`].
pub struct Cores {
    stop: CancellationToken,
    release: CancellationToken,
    served: Vec<tokio::sync::oneshot::Receiver<()>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

/// Keeps the thread's next timer wake-up less than half a second away. tokio wakes its own
/// driver (a write to an eventfd and one more turn of the event loop) whenever a timer is set
/// earlier than the wake-up the thread last parked with; every request sets timers seconds away
/// (hyper's deadline for the next request head, the plugin-call and upstream deadlines), and with
/// only the long idle timeouts in the wheel each of them was the earliest: one eventfd write per
/// request. This tick costs two wake-ups a second instead.
async fn keep_timers_near() {
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
    }
}

impl Cores {
    /// Starts one serving thread per listener. The connection cap of `limits` holds over all
    /// of them together. `on_thread_start` runs on each thread's runtime before it serves (to
    /// open the thread's own connections to shared stores, say).
    pub fn start(
        listeners: Vec<std::net::TcpListener>,
        app: &Router,
        limits: &Limits,
        on_thread_start: Arc<dyn Fn() + Send + Sync>,
    ) -> std::io::Result<Cores> {
        let permits = Arc::new(Semaphore::new(limits.max_connections));
        let stop = CancellationToken::new();
        let release = CancellationToken::new();
        let mut cores = Cores {
            stop: stop.clone(),
            release: release.clone(),
            served: Vec::new(),
            threads: Vec::new(),
        };
        for (i, std_listener) in listeners.into_iter().enumerate() {
            // Built here so a failure is an error at start, not a dead thread.
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let (done, served) = tokio::sync::oneshot::channel();
            let (app, limits, permits) = (app.clone(), limits.clone(), Arc::clone(&permits));
            let (stop, release) = (stop.clone(), release.clone());
            let on_start = Arc::clone(&on_thread_start);
            let thread = std::thread::Builder::new()
                .name(format!("sluice-core-{}", i + 1))
                .spawn(move || {
                    CORE.with(|c| c.set(i + 1));
                    runtime.spawn(keep_timers_near());
                    runtime.block_on(async move {
                        on_start();
                        match tokio::net::TcpListener::from_std(std_listener) {
                            Ok(listener) => {
                                serve(listener, app, limits, permits, stop.cancelled_owned()).await;
                            }
                            Err(e) => tracing::error!(error = %e, "a serving thread cannot listen"),
                        }
                        let _ = done.send(());
                        release.cancelled().await;
                    });
                })?;
            cores.served.push(served);
            cores.threads.push(thread);
        }
        Ok(cores)
    }

    /// Stops accepting on every thread and waits until each has drained its connections (or
    /// its drain time ran out).
    pub async fn stop(&mut self) {
        self.stop.cancel();
        for served in self.served.drain(..) {
            let _ = served.await;
        }
    }

    /// Lets the threads end (dropping whatever their runtimes still run) and joins them.
    pub async fn release(self) {
        self.release.cancel();
        let threads = self.threads;
        let _ = tokio::task::spawn_blocking(move || {
            for t in threads {
                let _ = t.join();
            }
        })
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listeners_share_the_port_port_zero_picked() {
        let (addr, listeners) = bind("127.0.0.1:0", 3).expect("bind");
        assert_ne!(addr.port(), 0);
        assert_eq!(listeners.len(), 3);
        for l in &listeners {
            assert_eq!(l.local_addr().expect("addr"), addr);
        }
    }

    #[test]
    fn a_port_in_use_is_refused_even_by_another_reuse_port_listener() {
        let (addr, _held) = bind("127.0.0.1:0", 2).expect("bind");
        let err = bind(&addr.to_string(), 2).expect_err("in use");
        assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
    }

    #[test]
    fn a_bad_address_is_an_error() {
        assert!(bind("not an address", 1).is_err());
    }

    #[test]
    fn zero_threads_means_one_per_core() {
        assert!(count(0) >= 1);
        assert_eq!(count(3), 3);
    }

    #[test]
    fn off_the_serving_threads_the_core_is_zero() {
        assert_eq!(core(), 0);
    }
}
