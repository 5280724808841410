//! The HTTP server loop of the site daemon and of head office, in place of
//! `axum::serve`, which has no timeouts and no connection limit: a client
//! that opens connections and never finishes its headers, or simply keeps
//! them open, would otherwise hold a file descriptor each until the process
//! runs out and nobody's scans are answered.
//!
//! - **Header-read timeout**: a request's headers must arrive whole within
//!   `header_read_timeout` of the server starting to wait for them, on a new
//!   connection or between requests on a kept-alive one (hyper's own
//!   timeout), so it is also how long an idle kept-alive connection stays.
//! - **Idle timeout**: a connection on which nothing is read or written for
//!   `idle_timeout` is closed: a client stalled in the middle of its body,
//!   or one that does not read its answer.
//! - **Connection limit**: at most `max_connections` at once. At the limit
//!   the server stops accepting until one closes (the kernel queues the
//!   rest), so a well-behaved client waits at most a timeout behind idle
//!   ones instead of being refused.
//! - The process's open-file limit is raised to its hard limit at start,
//!   and the connection limit is lowered to fit under it.
//!
//! HTTP/1.1 only (what the handhelds and the sync link speak). TLS, for
//! head office, is one more step per connection, under the same limit; its
//! handshake must finish within the header-read timeout.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::time::{Instant, Sleep};

/// How a server holds its connections (`[http]` in both configurations).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
}

pub const DEFAULT_HEADER_READ_TIMEOUT_MS: u64 = 10_000;
pub const DEFAULT_IDLE_TIMEOUT_MS: u64 = 60_000;
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;

/// How long shutdown waits for connections to finish their requests.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// File descriptors kept for the store, scanners and logs, beside the
/// connections.
const RESERVED_FILES: u64 = 64;

/// Serves `router` on `listener` (over TLS when `tls` is given) until
/// `shutdown` completes, then stops accepting and waits for the requests
/// in flight to be answered (at most `SHUTDOWN_GRACE`).
pub async fn serve(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    router: Router,
    settings: Settings,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let settings = fit_open_file_limit(settings);
    let permits = Arc::new(Semaphore::new(settings.max_connections));
    let graceful = GracefulShutdown::new();
    let mut connections = tokio::task::JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    let mut at_limit = false;
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => p.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        if permits.available_permits() == 0 && !at_limit {
            tracing::warn!(
                max_connections = settings.max_connections,
                "connection limit reached: new connections wait until one closes"
            );
        }
        at_limit = permits.available_permits() == 0;
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = tcp.set_nodelay(true);
        let service = router.clone();
        let tls = tls.clone();
        let watcher = graceful.watcher();
        // Finished connections leave the set here, so it holds the open ones.
        while connections.try_join_next().is_some() {}
        connections.spawn(async move {
            let _permit = permit;
            match tls {
                None => connection(tcp, service, settings, watcher).await,
                Some(acceptor) => {
                    // The handshake comes before the request's headers, and
                    // has the same time as they do.
                    let handshake = acceptor.accept(tcp);
                    match tokio::time::timeout(settings.header_read_timeout, handshake).await {
                        Ok(Ok(stream)) => connection(stream, service, settings, watcher).await,
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                }
            }
        });
    }
    drop(listener);
    // Requests in flight get their answers; a stream that never ends (an
    // event listener) is cut off after the grace period.
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            grace_s = SHUTDOWN_GRACE.as_secs(),
            open = connections.len(),
            "connections still open after the grace period are closed"
        );
    }
    // Each connection holds the router's state (the desk among it), which
    // must be let go for the daemon to finish.
    connections.shutdown().await;
    Ok(())
}

/// One connection: HTTP/1.1 with the header-read timeout, on a stream that
/// closes itself after the idle timeout.
async fn connection<T>(
    io: T,
    router: Router,
    settings: Settings,
    watcher: hyper_util::server::graceful::Watcher,
) where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = TowerToHyperService::new(router);
    let io = TokioIo::new(Idle::new(io, settings.idle_timeout));
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(settings.header_read_timeout);
    let conn = builder.serve_connection(io, service);
    if let Err(e) = watcher.watch(conn).await {
        tracing::debug!(error = %e, "connection closed");
    }
}

/// What axum's own loop does: a failed accept of one connection is that
/// client's problem; anything else (out of file descriptors) is waited out.
async fn accept_failed(e: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "cannot accept a connection; trying again in a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Raises the open-file soft limit to the hard limit and lowers the
/// connection limit to fit under it; logs the outcome once.
fn fit_open_file_limit(mut settings: Settings) -> Settings {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let files = match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, hard)) if soft < hard => match setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
            Ok(()) => hard,
            Err(e) => {
                tracing::warn!(soft, hard, error = %e, "cannot raise the open-file limit");
                soft
            }
        },
        Ok((soft, _)) => soft,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the open-file limit");
            return settings;
        }
    };
    let fits = usize::try_from(files.saturating_sub(RESERVED_FILES).max(1)).unwrap_or(usize::MAX);
    if settings.max_connections > fits {
        tracing::warn!(
            configured = settings.max_connections,
            open_files = files,
            "max_connections lowered to fit the open-file limit"
        );
        settings.max_connections = fits;
    }
    tracing::info!(
        open_files = files,
        max_connections = settings.max_connections,
        header_read_timeout_ms = settings.header_read_timeout.as_millis() as u64,
        idle_timeout_ms = settings.idle_timeout.as_millis() as u64,
        "HTTP connection limits"
    );
    settings
}

/// A stream that fails with `TimedOut` once nothing has been read from or
/// written to it for `limit` while the server waits on it.
struct Idle<T> {
    io: T,
    limit: Duration,
    deadline: Pin<Box<Sleep>>,
}

impl<T> Idle<T> {
    fn new(io: T, limit: Duration) -> Self {
        Idle {
            io,
            limit,
            deadline: Box::pin(tokio::time::sleep(limit)),
        }
    }

    fn moved(&mut self) {
        let next = Instant::now() + self.limit;
        self.deadline.as_mut().reset(next);
    }

    /// A write's outcome: progress moves the deadline, waiting checks it.
    fn wrote(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<usize>>,
    ) -> Poll<io::Result<usize>> {
        match polled {
            Poll::Pending => self.waiting(cx),
            Poll::Ready(r) => {
                if matches!(r, Ok(n) if n > 0) {
                    self.moved();
                }
                Poll::Ready(r)
            }
        }
    }

    /// Pending, unless the deadline passed.
    fn waiting<R>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<R>> {
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the connection was idle too long",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Idle<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.io).poll_read(cx, buf) {
            Poll::Pending => self.waiting(cx),
            Poll::Ready(r) => {
                if buf.filled().len() > before {
                    self.moved();
                }
                Poll::Ready(r)
            }
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Idle<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write(cx, buf);
        self.wrote(cx, polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.wrote(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.io).poll_flush(cx) {
            Poll::Pending => self.waiting(cx),
            ready => ready,
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
