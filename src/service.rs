//! What scantrail tells a service manager (systemd, `Type=notify`): ready
//! once the store is open and the API listens, so that units ordered after
//! it and `systemctl start` wait for a daemon that answers; stopping when
//! it starts to drain. Outside systemd (no `NOTIFY_SOCKET`) nothing is
//! sent.

use sd_notify::NotifyState;

/// Tells the service manager the daemon is ready; `status` is what
/// `systemctl status` shows beside it.
pub fn ready(status: &str) {
    if std::env::var_os("NOTIFY_SOCKET").is_none() {
        return;
    }
    match sd_notify::notify(&[NotifyState::Ready, NotifyState::Status(status)]) {
        Ok(()) => tracing::info!(status, "told the service manager: ready"),
        // The daemon works regardless; systemd then times the start out and
        // says so in its own log.
        Err(error) => {
            tracing::warn!(%error, "cannot tell the service manager that scantrail is ready (NOTIFY_SOCKET)")
        }
    }
}

/// Tells the service manager the daemon is draining and about to exit.
pub fn stopping() {
    if std::env::var_os("NOTIFY_SOCKET").is_some() {
        if let Err(error) = sd_notify::notify(&[NotifyState::Stopping]) {
            tracing::debug!(%error, "cannot tell the service manager that scantrail stops");
        }
    }
}

/// Asks the service manager for two more minutes to start: a store
/// upgrade at open (`store::upgrade`) calls it every 10 s while it runs.
/// Without it systemd would kill a daemon busy rebuilding a large store's
/// indexes as one that hangs.
pub fn extend_start() {
    let more = std::time::Duration::from_secs(120);
    if std::env::var_os("NOTIFY_SOCKET").is_none() {
        return;
    }
    let usec = u32::try_from(more.as_micros()).unwrap_or(u32::MAX);
    if let Err(error) = sd_notify::notify(&[NotifyState::ExtendTimeoutUsec(usec)]) {
        tracing::debug!(%error, "cannot ask the service manager for more time to start");
    }
}
