//! When a long-running process should stop: Ctrl-C or SIGTERM. The site
//! daemon, head office and the command line's listeners all drain on it.

/// Resolves on Ctrl-C or SIGTERM (logging which), so long-running
/// processes close their ports and drain cleanly.
pub async fn signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => tracing::info!("interrupted"),
        _ = term => tracing::info!("SIGTERM received"),
    }
}
