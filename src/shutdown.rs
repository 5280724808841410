//! When a long-running process should stop: Ctrl-C or SIGTERM. The site
//! daemon, head office and the command line's listeners all drain on it.

use std::future::Future;

use tokio::signal::unix::{signal as unix_signal, SignalKind};

/// Resolves on Ctrl-C or SIGTERM (logging which), so long-running
/// processes close their ports and drain cleanly.
///
/// The handlers are installed when this is called, not when the future is
/// first polled: a process that has announced it is listening must already
/// drain on a SIGTERM sent the next moment, not die of the default action.
/// Call it before printing `listening on`. Must run inside the runtime.
pub fn signal() -> impl Future<Output = ()> {
    let interrupt = unix_signal(SignalKind::interrupt());
    let terminate = unix_signal(SignalKind::terminate());
    async move {
        let wait = |s: std::io::Result<tokio::signal::unix::Signal>| async move {
            match s {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for a stop signal");
                    std::future::pending::<()>().await
                }
            }
        };
        tokio::select! {
            _ = wait(interrupt) => tracing::info!("interrupted"),
            _ = wait(terminate) => tracing::info!("SIGTERM received"),
        }
    }
}
