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
//!   or one that does not read its answer (`idle`; a handler working on a
//!   request is not idleness).
//! - **Connection limit**: at most `max_connections` at once. At the limit
//!   the server stops accepting until one closes (the kernel queues the
//!   rest), so a well-behaved client waits at most a timeout behind idle
//!   ones instead of being refused.
//! - The process's open-file limit is raised to its hard limit at start,
//!   and the connection limit is lowered to fit under it.
//! - **Small bodies are read before routing** (`read_small_body`): an
//!   answer sent while the request's body is still unread (a 403, a 405, a
//!   form refused at its first byte) makes hyper close the connection with
//!   data in it, and the client sees a reset or, on a kept-alive
//!   connection, an EOF on its next request instead of the answer. Bodies up
//!   to `READ_AHEAD` are read whole first, so every answer to them arrives;
//!   larger ones (label photos, imports) stream as before.
//!
//! HTTP/1.1 only (what the handhelds and the sync link speak). TLS, for
//! head office, is one more step per connection, under the same limit; its
//! handshake must finish within the header-read timeout.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// Bodies declared this small or smaller are read before the request is
/// routed (see the module doc).
const READ_AHEAD: usize = 64 * 1024;

/// How a server holds its connections (`[http]` in both configurations).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// How long a request's headers may take, on a new connection or between
    /// requests on a kept-alive one (`header_read_timeout_ms`).
    pub header_read_timeout: Duration,
    /// A connection on which nothing is read or written for this long is closed
    /// (`idle_timeout_ms`).
    pub idle_timeout: Duration,
    /// Connections held at once; beyond it new clients wait in the kernel's
    /// queue (`max_connections`).
    pub max_connections: usize,
}

/// `header_read_timeout_ms` when `[http]` does not say: 10 s.
pub const DEFAULT_HEADER_READ_TIMEOUT_MS: u64 = 10_000;
/// `idle_timeout_ms` when `[http]` does not say: 60 s.
pub const DEFAULT_IDLE_TIMEOUT_MS: u64 = 60_000;
/// `max_connections` when `[http]` does not say.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;

/// How long shutdown waits for connections to finish their requests.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Reads a body of at most `READ_AHEAD` bytes (by its `Content-Length`)
/// before the router sees the request.
async fn read_small_body(request: Request, next: Next) -> Response {
    let small = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
        .is_some_and(|n| n > 0 && n <= READ_AHEAD);
    if !small {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    match axum::body::to_bytes(body, READ_AHEAD).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Err(e) => super::problem::problem(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("the request body could not be read: {e}"),
        ),
    }
}

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
    let router = router.layer(axum::middleware::from_fn(read_small_body));
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
                None => connection(tcp, service, settings, watcher, peer).await,
                Some(acceptor) => {
                    // The handshake comes before the request's headers, and
                    // has the same time as they do.
                    let handshake = acceptor.accept(tcp);
                    match tokio::time::timeout(settings.header_read_timeout, handshake).await {
                        Ok(Ok(stream)) => {
                            connection(stream, service, settings, watcher, peer).await
                        }
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
    peer: std::net::SocketAddr,
) where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (io, service) = super::idle::watch(io, router, settings.idle_timeout, peer);
    let io = TokioIo::new(io);
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::{get, post};
    use std::io::{Read as _, Write as _};
    use std::net::TcpStream;
    use std::time::Instant;

    /// The server on a loopback port with a 300 ms idle timeout.
    async fn start(router: Router) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let settings = Settings {
            header_read_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_millis(300),
            max_connections: 8,
        };
        tokio::spawn(serve(
            listener,
            None,
            router,
            settings,
            std::future::pending(),
        ));
        address
    }

    /// Reads until the server closes (true) or `limit` passes (false);
    /// returns how many bytes came.
    fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (bool, usize) {
        let deadline = Instant::now() + limit;
        let mut total = 0;
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return (false, total);
            }
            stream.set_read_timeout(Some(left)).unwrap();
            match stream.read(&mut buf) {
                Ok(0) => return (true, total),
                Ok(n) => total += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return (false, total),
                Err(_) => return (true, total),
            }
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_handler_slower_than_the_idle_timeout_still_answers() {
        let router = Router::new().route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(1)).await;
                "done"
            }),
        );
        let address = start(router).await;
        let answer = tokio::task::spawn_blocking(move || {
            match ureq::get(&format!("http://{address}/slow")).call() {
                Ok(r) => r.into_string().unwrap(),
                Err(e) => e.to_string(),
            }
        })
        .await
        .unwrap();
        assert_eq!(answer, "done");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_client_stalled_in_its_body_is_cut_off() {
        let router =
            Router::new().route("/echo", post(|body: axum::body::Bytes| async move { body }));
        let address = start(router).await;
        let closed = tokio::task::spawn_blocking(move || {
            let mut stream = TcpStream::connect(&address).unwrap();
            stream
                .write_all(
                    b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789",
                )
                .unwrap();
            read_until_closed(&mut stream, Duration::from_secs(3))
        })
        .await
        .unwrap();
        // Closed, possibly after a 400 for the body that never came whole.
        assert!(closed.0, "held past the 300 ms idle timeout");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_client_that_does_not_read_its_answer_is_cut_off() {
        const SIZE: usize = 64 << 20;
        let router = Router::new().route("/big", get(|| async { vec![b'x'; SIZE] }));
        let address = start(router).await;
        let (closed, got) = tokio::task::spawn_blocking(move || {
            let mut stream = TcpStream::connect(&address).unwrap();
            stream
                .write_all(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            // Not reading: the server's writes stall once the buffers fill.
            std::thread::sleep(Duration::from_secs(2));
            read_until_closed(&mut stream, Duration::from_secs(3))
        })
        .await
        .unwrap();
        assert!(
            closed && got < SIZE,
            "closed {closed}, {got} of {SIZE} bytes"
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn an_answer_before_the_body_keeps_the_connection_usable() {
        let router = Router::new().route("/only-get", get(|| async { "got" }));
        let address = start(router).await;
        let answers = tokio::task::spawn_blocking(move || {
            let mut stream = TcpStream::connect(&address).unwrap();
            // A method the route does not take, its body arriving late (as a
            // client's second write does under load), then a second request
            // on the same kept-alive connection.
            stream
                .write_all(b"DELETE /only-get HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n")
                .unwrap();
            std::thread::sleep(Duration::from_millis(100));
            stream.write_all(b"{}").unwrap();
            std::thread::sleep(Duration::from_millis(100));
            stream
                .write_all(b"GET /only-get HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .unwrap();
            let mut text = String::new();
            stream
                .set_read_timeout(Some(Duration::from_secs(3)))
                .unwrap();
            let _ = stream.read_to_string(&mut text);
            text
        })
        .await
        .unwrap();
        assert!(answers.starts_with("HTTP/1.1 405"), "{answers}");
        assert!(
            answers.contains("HTTP/1.1 200") && answers.ends_with("got"),
            "the second request on the connection was not answered:\n{answers}"
        );
    }
}
