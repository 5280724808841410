//! This process's resident memory: what `[store] memory_mb` bounds, and
//! what the metrics and `scantrail store stats` show. One place reads it.

/// This process's resident memory in bytes, from `/proc/self/statm`
/// (Linux, where scantrail runs); `None` where that cannot be read.
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    let page = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE).ok()??;
    Some(pages * u64::try_from(page).ok()?)
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
