//! This process's resident memory: what `[store] memory_mb` bounds, and
//! what the metrics and `scantrail store stats` show. One place reads it,
//! and asks the allocator to give freed memory back.

/// This process's resident memory in bytes, from `/proc/self/statm`
/// (Linux, where scantrail runs); `None` where that cannot be read.
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    let page = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE).ok()??;
    Some(pages * u64::try_from(page).ok()?)
}

/// What hands freed memory back to the system, if the binary's allocator
/// keeps it (`give_back_with`).
static GIVE_BACK: std::sync::OnceLock<fn() -> std::io::Result<()>> = std::sync::OnceLock::new();

/// Set once by the binary, whose allocator the library does not know.
pub fn give_back_with(purge: fn() -> std::io::Result<()>) {
    let _ = GIVE_BACK.set(purge);
}

/// Hands the memory freed so far back to the system, where the binary said
/// how: between closing a large structure and building its successor. A
/// failure costs memory, not data: it is logged once, as the next ones
/// would say the same.
pub fn give_back() {
    static WARNED: std::sync::Once = std::sync::Once::new();
    if let Some(Err(e)) = GIVE_BACK.get().map(|purge| purge()) {
        WARNED.call_once(|| {
            tracing::warn!(error = %e, "freed memory cannot be handed back to the system; a reopening of the store may raise the daemon's peak memory")
        });
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_running_process_has_resident_memory() {
        let bytes = super::resident_bytes().expect("/proc/self/statm is readable on Linux");
        // A test binary holds at least a megabyte, and not a terabyte.
        assert!(bytes > 1 << 20 && bytes < 1 << 40, "{bytes}");
    }
}
