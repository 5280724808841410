//! Scan sources: turning the bytes of serial scanners (RS-232, USB CDC)
//! into clean [`RawScan`]s for the rest of scantrail.
//!
//! Knows framing, device profiles and reconnects; knows nothing of GS1
//! meaning. Each scanner is one task ([`serial::spawn`]); scans and refused
//! frames go to one channel of [`ScanEvent`]s, and decisions come back
//! through each scan's [`FeedbackSender`].

pub mod backoff;
pub mod framing;
pub mod image;
pub mod profile;
pub mod pty;
pub mod raw_scan;
pub mod serial;
pub mod sources;
pub mod symbology;

pub use framing::{FrameDecoder, Framed, RejectReason};
pub use profile::{Profile, ProfileError, ProfileKey, ProfileProblem};
pub use raw_scan::{escape, Feedback, FeedbackSender, RawScan, RejectedFrame, ScanEvent};
pub use serial::{spawn, ScannerSpec, SourceHandle, SourceStats};
pub use symbology::{Aim, AimMode};
