//! What a source hands on: a clean scan (`RawScan`) or a refused frame, and
//! the way back to the scanner (`FeedbackSender`).
//!
//! The decision (good or bad read) is not the source's: whoever decides
//! calls [`RawScan::reply`], and the source writes the profile's beep bytes
//! to that scanner. Today that is the GS1 verdict; later, the station's.

use std::borrow::Cow;
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::mpsc;

use super::framing::RejectReason;
use super::symbology::Aim;

/// A scan as the scanner sent it, prefix and suffix removed.
#[derive(Debug, Clone)]
pub struct RawScan {
    /// The port as configured (path or by-id glob).
    pub source: Arc<str>,
    /// The station (`[[stations]] id`) the scanner serves.
    pub station: Arc<str>,
    /// The device profile's name, recorded with the movement.
    pub profile: Arc<str>,
    /// Exactly as sent: AIM identifier or vendor label ID, and substitute
    /// separators, included.
    pub bytes: Bytes,
    /// The AIM identifier, from the frame or mapped from a vendor label ID.
    pub symbology: Option<Aim>,
    /// How many leading bytes of `bytes` are the identifier.
    pub id_len: usize,
    /// The profile's stand-in for GS, for the parser.
    pub substitute: Option<u8>,
    pub(super) feedback: FeedbackSender,
}

impl RawScan {
    /// The bytes for `gs1::parse_scan`: the frame with a vendor label ID
    /// replaced by its AIM identifier (unchanged in every other case).
    pub fn parser_input(&self) -> Cow<'_, [u8]> {
        match self.symbology {
            Some(aim) if self.bytes.get(..self.id_len) != Some(&aim.0[..]) => {
                let mut v = Vec::with_capacity(3 + self.bytes.len() - self.id_len);
                v.extend_from_slice(&aim.0);
                v.extend_from_slice(&self.bytes[self.id_len..]);
                Cow::Owned(v)
            }
            _ => Cow::Borrowed(&self.bytes[..]),
        }
    }

    /// Moves the frame's bytes out (leaving `bytes` empty) as the `Vec` the
    /// desk keeps. The serial source hands each frame on in memory of its
    /// own ([`FrameRef::into_owned`](super::framing::FrameRef::into_owned)),
    /// so this takes that memory over: no allocation, no copy. Bytes that
    /// share their memory with others (a frame sliced out of a read buffer
    /// still in use, a static) are copied.
    pub fn take_bytes(&mut self) -> Vec<u8> {
        Vec::from(std::mem::take(&mut self.bytes))
    }

    /// Tells the scanner the decision: good-read or bad-read beep.
    pub fn reply(&self, good: bool) {
        self.feedback.send(Feedback { good });
    }
}

/// A frame the source refused (noise, fragment), for counting and display.
#[derive(Debug, Clone)]
pub struct RejectedFrame {
    /// The port as configured (path or by-id glob).
    pub source: Arc<str>,
    /// The station the scanner serves.
    pub station: Arc<str>,
    /// Why the frame was refused.
    pub reason: RejectReason,
    /// What was received (the start of it when long).
    pub bytes: Bytes,
}

/// What sources send to the rest of the system.
#[derive(Debug, Clone)]
pub enum ScanEvent {
    /// A frame accepted as a scan: decide it and reply.
    Scan(RawScan),
    /// A frame refused by the source (already counted and logged).
    Rejected(RejectedFrame),
}

/// The decision about one scan, going back to its scanner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Feedback {
    pub(super) good: bool,
}

/// The way back to one source. Never blocks the decider: if the source is
/// so far behind that its queue is full, the beep is dropped.
#[derive(Debug, Clone)]
pub struct FeedbackSender(mpsc::Sender<Feedback>);

impl FeedbackSender {
    pub(super) fn new(tx: mpsc::Sender<Feedback>) -> FeedbackSender {
        FeedbackSender(tx)
    }

    pub(super) fn send(&self, feedback: Feedback) {
        let _ = self.0.try_send(feedback);
    }
}

/// Shows scan bytes readably: GS as `<GS>`, other controls as `\xNN`.
pub fn escape(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            0x1D => s.push_str("<GS>"),
            0x1E => s.push_str("<RS>"),
            0x04 => s.push_str("<EOT>"),
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7E => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02X}")),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(bytes: &'static [u8], aim: Option<&[u8; 3]>, id_len: usize) -> RawScan {
        let (tx, _rx) = mpsc::channel(1);
        RawScan {
            source: "p".into(),
            station: "s".into(),
            profile: "t".into(),
            bytes: Bytes::from_static(bytes),
            symbology: aim.map(|a| Aim(*a)),
            id_len,
            substitute: None,
            feedback: FeedbackSender::new(tx),
        }
    }

    #[test]
    fn vendor_label_becomes_aim_for_the_parser_only() {
        let s = scan(b"k0109506000134352", Some(b"]C1"), 1);
        assert_eq!(&s.parser_input()[..], b"]C10109506000134352");
        assert_eq!(&s.bytes[..], b"k0109506000134352");
        let s = scan(b"]d2019", Some(b"]d2"), 3);
        assert!(matches!(s.parser_input(), Cow::Borrowed(b"]d2019")));
        let s = scan(b"019", None, 0);
        assert_eq!(&s.parser_input()[..], b"019");
    }

    #[test]
    fn taking_the_bytes_of_a_frame_in_memory_of_its_own_copies_nothing() {
        let mut s = scan(b"", Some(b"]d2"), 3);
        s.bytes = Bytes::from(b"]d2019".to_vec());
        let at = s.bytes.as_ptr();
        let raw = s.take_bytes();
        assert_eq!(raw, b"]d2019");
        assert_eq!(raw.as_ptr(), at, "the bytes were copied");
        assert!(s.bytes.is_empty());
        // Shared or static bytes are copied: still the same bytes.
        let mut s = scan(b"]C1abc", Some(b"]C1"), 3);
        assert_eq!(s.take_bytes(), b"]C1abc");
    }

    #[test]
    fn escape_shows_separators() {
        assert_eq!(escape(b"]C1ab\x1dc\r\x00"), "]C1ab<GS>c\\r\\x00");
    }
}
