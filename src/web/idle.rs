//! The idle timeout of a connection: it is closed once nothing has been
//! read from or written to it for `limit` — a client that stalls in the
//! middle of its request body, or that does not read its answer, holds a
//! connection (and a file descriptor) only that long.
//!
//! Quiet is not always idleness: while a handler works on a request whose
//! body it has read (a long report), the client rightly sends nothing and
//! waits. hyper reads the socket all the same then (to notice a client
//! that hangs up), so the stream alone cannot tell; the service wrapper
//! tells it, and the clock stops until the answer is being written.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::Request;
use axum::Router;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// `io` with the idle timeout, and `router` as a hyper service that tells
/// it when a handler is at work.
/// `peer` is put in every request as `ConnectInfo` (the console takes a
/// password over plain HTTP only from loopback).
pub fn watch<T>(
    io: T,
    router: Router,
    limit: Duration,
    peer: std::net::SocketAddr,
) -> (Idle<T>, Handling) {
    let activity = Arc::new(Activity::default());
    let stream = Idle {
        io,
        limit,
        deadline: Box::pin(tokio::time::sleep(limit)),
        activity: activity.clone(),
    };
    let service = Handling {
        inner: TowerToHyperService::new(router),
        activity,
        peer,
    };
    (stream, service)
}

/// What the connection's current request is doing.
#[derive(Default)]
struct Activity {
    /// A handler is running.
    handling: AtomicBool,
    /// The request (by number) whose body is still being received; 0: none.
    body_open: AtomicU64,
    requests: AtomicU64,
}

impl Activity {
    /// A handler at work on a request it has whole: the client waits.
    fn client_waits(&self) -> bool {
        self.handling.load(Ordering::Acquire) && self.body_open.load(Ordering::Acquire) == 0
    }
}

/// The router as hyper's service, marking each request's handling.
pub struct Handling {
    inner: TowerToHyperService<Router>,
    activity: Arc<Activity>,
    peer: std::net::SocketAddr,
}

impl hyper::service::Service<Request<Incoming>> for Handling {
    type Response = axum::response::Response;
    type Error = std::convert::Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn call(&self, mut request: Request<Incoming>) -> Self::Future {
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(self.peer));
        let number = self.activity.requests.fetch_add(1, Ordering::AcqRel) + 1;
        let open = if request.body().is_end_stream() {
            0
        } else {
            number
        };
        self.activity.body_open.store(open, Ordering::Release);
        self.activity.handling.store(true, Ordering::Release);
        let request = request.map(|body| Tracked {
            body,
            number,
            activity: self.activity.clone(),
        });
        let answer = self.inner.call(request);
        let done = HandlerDone(self.activity.clone());
        Box::pin(async move {
            let answer = answer.await;
            drop(done);
            answer
        })
    }
}

/// Marks the handler finished, also when its future is dropped.
struct HandlerDone(Arc<Activity>);

impl Drop for HandlerDone {
    fn drop(&mut self) {
        self.0.handling.store(false, Ordering::Release);
    }
}

/// A request body that says when it has been received whole (or given up).
struct Tracked {
    body: Incoming,
    number: u64,
    activity: Arc<Activity>,
}

impl Tracked {
    fn closed(&self) {
        let _ = self.activity.body_open.compare_exchange(
            self.number,
            0,
            Ordering::AcqRel,
            Ordering::Acquire,
        );
    }
}

impl Body for Tracked {
    type Data = <Incoming as Body>::Data;
    type Error = <Incoming as Body>::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.body).poll_frame(cx);
        if matches!(polled, Poll::Ready(None | Some(Err(_)))) || self.body.is_end_stream() {
            self.closed();
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.closed();
    }
}

/// A stream that fails with `TimedOut` once nothing has been read from or
/// written to it for `limit` while the server waits on it, unless the
/// client is waiting for a handler.
pub struct Idle<T> {
    io: T,
    limit: Duration,
    deadline: Pin<Box<Sleep>>,
    activity: Arc<Activity>,
}

impl<T> Idle<T> {
    fn moved(&mut self) {
        let next = Instant::now() + self.limit;
        self.deadline.as_mut().reset(next);
    }

    /// Pending, unless the deadline passed.
    fn waiting<R>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<R>> {
        if self.activity.client_waits() {
            // The clock starts again when the answer is written.
            self.moved();
            return Poll::Pending;
        }
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the connection was idle too long",
            ))),
            Poll::Pending => Poll::Pending,
        }
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
