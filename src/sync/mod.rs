//! Sync to head office: the wire protocol shared by both ends
//! (`protocol`), and the site's side of it: an uploader that ships the
//! journal and the rejected-scan log in seq order from head office's
//! acknowledged watermark, and a downloader that applies head office's
//! reference deltas (`link`, one thread that does both, reference first).

pub mod audit;
pub mod backoff;
pub mod heads;
pub mod hq_health;
pub mod link;
pub mod protocol;
pub mod restore;
pub mod status;
pub mod tls;
