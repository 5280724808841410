//! Cutting a scanner's byte stream into frames: a tokio-util [`Decoder`]
//! over raw bytes (scan data is not text: GS is 0x1D, and noise is binary).
//!
//! It strips prefix and suffix, identifies the symbology, and refuses noise
//! (empty frames, over-long frames, binary garbage) with a reason, so the
//! source can count it and carry on. Time is not its business: the source
//! calls [`FrameDecoder::on_idle`] when the inter-byte timeout expires.
//!
//! Frames are found and checked in place in the read buffer
//! ([`FrameDecoder::decode_in_place`]): no allocation, no copy, not even a
//! reference count, so that cutting a frame costs a small fraction of
//! parsing it. A frame that has to outlive the buffer (to cross to another
//! task) is taken out of it in one of two ways:
//! - copied into a buffer of its own, exactly its length
//!   ([`FrameRef::into_owned`]), what the serial source does: the read
//!   buffer stays the source's alone, and the desk keeps the copy as its
//!   `Vec` without copying again (`Vec::from(Bytes)` takes the memory over);
//! - sliced out ([`FrameRef::into_frame`], what the [`Decoder`] impl does):
//!   it shares the buffer's memory until it is dropped, and the buffer
//!   reuses that memory only once every frame cut from it is gone. A frame
//!   kept for long (the desk holds a scan until its commit is durable)
//!   makes the buffer allocate anew as it fills up.
//!
//! A refused frame is copied (at most [`REJECT_KEEP`] bytes), so a reject
//! kept for the log never holds a read buffer.

use std::fmt;

use bytes::{Buf, Bytes, BytesMut};
use tokio_util::codec::Decoder;

use super::profile::Profile;
use super::symbology::{identify, Aim, AimMode, Identified, LabelMap};

/// One decoded unit of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Framed {
    /// A complete frame, ready to be identified and parsed.
    Frame(Frame),
    /// Bytes that are no scan (noise, a fragment), refused with the reason.
    Rejected(Reject),
}

/// A frame as the scanner sent it, prefix and suffix removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The frame's bytes exactly as sent between prefix and suffix (AIM
    /// identifier or label ID included).
    pub bytes: Bytes,
    pub(super) id: Identified,
}

/// A frame found in place in the read buffer, prefix and suffix removed:
/// its bytes are read where they lie (it dereferences to them). Dropping it
/// consumes the frame and its suffix from the buffer; [`FrameRef::into_frame`]
/// takes it out as a [`Frame`] instead.
#[derive(Debug)]
pub struct FrameRef<'b> {
    src: &'b mut BytesMut,
    /// The frame lies at `start..end` of `src`; `consumed` bytes (prefix,
    /// frame and suffix) go when it is done with.
    start: usize,
    end: usize,
    consumed: usize,
    id: Identified,
}

impl FrameRef<'_> {
    /// The frame's bytes exactly as sent between prefix and suffix (AIM
    /// identifier or label ID included), in the read buffer.
    #[inline]
    pub fn bytes(&self) -> &[u8] {
        &self.src[self.start..self.end]
    }

    /// The AIM identifier, from the frame or mapped from a vendor label ID.
    pub fn aim(&self) -> Option<Aim> {
        self.id.aim
    }

    /// How many leading bytes of the frame are the identifier.
    pub fn id_len(&self) -> usize {
        self.id.id_len
    }

    /// Takes the frame out of the read buffer as a [`Frame`] that can
    /// outlive it: a copy in memory of its own, exactly its length (one
    /// allocation), so that it holds nothing of the read buffer however long
    /// it is kept, and `Vec::from(frame.bytes)` takes that memory over
    /// without another allocation or copy.
    #[inline]
    pub fn into_owned(self) -> Frame {
        // `Bytes::from` a `Vec` whose length is its capacity (`to_vec`
        // allocates exactly the length) stores no reference count: no
        // second allocation, and no atomic update when it is dropped.
        let frame = Frame {
            bytes: Bytes::from(self.bytes().to_vec()),
            id: self.id,
        };
        // `self` is dropped here: the frame leaves the read buffer.
        frame
    }

    /// Takes the frame out of the read buffer as a [`Frame`] that can
    /// outlive it: a slice sharing the buffer's memory, not a copy.
    #[inline]
    pub fn into_frame(mut self) -> Frame {
        let consumed = std::mem::take(&mut self.consumed);
        let mut frame = self.src.split_to(consumed);
        frame.truncate(self.end);
        if self.start != 0 {
            frame.advance(self.start);
        }
        Frame {
            bytes: frame.freeze(),
            id: self.id,
        }
    }
}

impl std::ops::Deref for FrameRef<'_> {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        self.bytes()
    }
}

impl Drop for FrameRef<'_> {
    #[inline]
    fn drop(&mut self) {
        // Mostly a read holds one frame and the frame ends the buffer:
        // emptying it is one store, where `advance` is a call of thirty
        // instructions (a tenth of the decoder) that also moves the start,
        // so the next read lands after it rather than at the buffer's start.
        if self.consumed == self.src.len() {
            self.src.clear();
        } else {
            self.src.advance(self.consumed);
        }
    }
}

/// One decoded unit of the stream, found in place
/// ([`FrameDecoder::decode_in_place`]).
#[derive(Debug)]
pub enum InPlace<'b> {
    /// A complete frame, still in the read buffer.
    Frame(FrameRef<'b>),
    /// Bytes that are no scan, refused with the reason (already consumed).
    Rejected(Reject),
}

impl InPlace<'_> {
    /// A good frame copied out of the read buffer ([`FrameRef::into_owned`]).
    #[inline]
    pub fn into_owned(self) -> Framed {
        match self {
            InPlace::Frame(frame) => Framed::Frame(frame.into_owned()),
            InPlace::Rejected(r) => Framed::Rejected(r),
        }
    }

    /// A good frame sliced out of the read buffer ([`FrameRef::into_frame`]).
    #[inline]
    pub fn into_framed(self) -> Framed {
        match self {
            InPlace::Frame(frame) => Framed::Frame(frame.into_frame()),
            InPlace::Rejected(r) => Framed::Rejected(r),
        }
    }
}

/// What one step of the decoder found, before it is handed out in place or
/// taken out of the buffer.
enum Found {
    /// A good frame at `start..end` of the buffer, `consumed` bytes with
    /// prefix and suffix.
    Frame {
        start: usize,
        end: usize,
        consumed: usize,
        id: Identified,
    },
    /// A refused frame, already consumed from the buffer.
    Rejected(Reject),
}

/// A refused frame; `bytes` is what was received (at most the first
/// [`REJECT_KEEP`] bytes of a long one), for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    pub(super) reason: RejectReason,
    pub(super) bytes: Bytes,
}

/// How much of an over-long frame is kept for the log.
pub const REJECT_KEEP: usize = 64;

/// Why a frame was refused; each is counted per source and logged once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectReason {
    /// Suffix with nothing before it (e.g. the second half of CR LF when the
    /// profile says CR).
    Empty,
    /// Longer than the profile's maximum: the suffix was lost or the line is
    /// noise.
    TooLong,
    /// Control bytes or invalid UTF-8 that no barcode produces: wrong baud
    /// rate, line noise.
    Binary,
    /// The profile's prefix was missing.
    BadPrefix,
    /// No AIM identifier or known label ID although the profile expects one.
    NoSymbology,
    /// Cut off by an unplug or a pause: never parsed.
    Fragment,
}

impl RejectReason {
    pub(super) const ALL: [RejectReason; 6] = [
        RejectReason::Empty,
        RejectReason::TooLong,
        RejectReason::Binary,
        RejectReason::BadPrefix,
        RejectReason::NoSymbology,
        RejectReason::Fragment,
    ];

    /// The reason as logs and counters name it (`too-long`, `fragment`...).
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::Empty => "empty",
            RejectReason::TooLong => "too-long",
            RejectReason::Binary => "binary",
            RejectReason::BadPrefix => "bad-prefix",
            RejectReason::NoSymbology => "no-symbology",
            RejectReason::Fragment => "fragment",
        }
    }

    /// What the operator or installer should do about it.
    pub fn hint(self) -> &'static str {
        match self {
            RejectReason::Empty => "empty frame (check the profile's suffix: CR vs CRLF)",
            RejectReason::TooLong => "frame longer than max_frame_len (suffix lost, or noise)",
            RejectReason::Binary => {
                "control or binary bytes no barcode produces (check the profile's suffix, CR vs CRLF, and the baud rate and parity)"
            }
            RejectReason::BadPrefix => "frame does not start with the profile's prefix",
            RejectReason::NoSymbology => {
                "no AIM identifier (turn on AIM ID transmission on the scanner)"
            }
            RejectReason::Fragment => "frame cut off (scanner unplugged or stalled); scan again",
        }
    }

    pub(super) fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The frame decoder for one scanner.
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    prefix: Vec<u8>,
    suffix: Vec<u8>,
    max_len: usize,
    substitute: Option<u8>,
    aim: AimMode,
    labels: LabelMap,
    /// Bytes of the buffer already searched for the suffix, so a frame
    /// arriving one byte at a time is not searched again and again.
    searched: usize,
    /// Dropping an over-long frame's rest until the next suffix.
    discarding: bool,
}

impl FrameDecoder {
    /// A decoder for the framing `profile` describes (prefix, suffix, maximum
    /// length).
    pub fn new(profile: &Profile) -> FrameDecoder {
        FrameDecoder {
            prefix: profile.framing.prefix.clone(),
            suffix: profile.framing.suffix.clone(),
            max_len: profile.framing.max_frame_len,
            substitute: profile.fnc1_substitute,
            aim: profile.aim,
            labels: profile.labels.clone(),
            searched: 0,
            discarding: false,
        }
    }

    /// The line went quiet for the inter-byte timeout. Without a suffix that
    /// ends the frame; with one, what is buffered was cut off. A good frame
    /// is sliced out of `src` ([`FrameDecoder::on_idle_in_place`] leaves it
    /// there).
    pub fn on_idle(&mut self, src: &mut BytesMut) -> Option<Framed> {
        self.on_idle_in_place(src).map(InPlace::into_framed)
    }

    /// [`FrameDecoder::on_idle`], the frame found where it lies in `src`,
    /// as [`FrameDecoder::decode_in_place`] finds it.
    pub fn on_idle_in_place<'b>(&mut self, src: &'b mut BytesMut) -> Option<InPlace<'b>> {
        self.searched = 0;
        let discarding = std::mem::replace(&mut self.discarding, false);
        if src.is_empty() {
            return None;
        }
        if discarding {
            src.clear();
            return None;
        }
        if self.suffix.is_empty() {
            let found = self.found(src, src.len(), 0);
            Some(found.in_place(src))
        } else {
            let refused = reject_bytes(RejectReason::Fragment, src);
            src.clear();
            Some(InPlace::Rejected(refused))
        }
    }

    #[inline]
    fn find_suffix(&self, src: &[u8]) -> Option<usize> {
        let start = self.searched.saturating_sub(self.suffix.len() - 1);
        let hay = src.get(start..)?;
        let pos = match self.suffix[..] {
            [one] => memchr::memchr(one, hay),
            [a, b] => memchr::memchr_iter(a, hay).find(|&i| hay.get(i + 1) == Some(&b)),
            _ => memchr::memmem::find(hay, &self.suffix),
        };
        pos.map(|p| p + start)
    }

    /// The frame of `len` bytes at the start of `src`, followed by `skip`
    /// bytes of suffix: checked where it lies when it is good, consumed
    /// with a copy of (the start of) it when it is refused.
    #[inline]
    fn found(&self, src: &mut BytesMut, len: usize, skip: usize) -> Found {
        match self.check(&src[..len]) {
            Ok(id) => Found::Frame {
                start: self.prefix.len(),
                end: len,
                consumed: len + skip,
                id,
            },
            Err((reason, from)) => {
                let refused = reject_bytes(reason, &src[from..len]);
                src.advance(len + skip);
                Found::Rejected(refused)
            }
        }
    }

    /// The frame's symbology, or why it is refused and from which byte the
    /// refused bytes are shown (after the prefix once that is checked).
    #[inline]
    fn check(&self, frame: &[u8]) -> Result<Identified, (RejectReason, usize)> {
        if frame.is_empty() {
            return Err((RejectReason::Empty, 0));
        }
        // A whole over-long frame can arrive in one read.
        if frame.len() > self.max_len {
            return Err((RejectReason::TooLong, 0));
        }
        // Most profiles have no prefix: no comparison then (an empty one
        // still costs a call to `memcmp`, a tenth of this function).
        let body = if self.prefix.is_empty() {
            frame
        } else {
            match frame.strip_prefix(&self.prefix[..]) {
                Some(body) => body,
                None => return Err((RejectReason::BadPrefix, 0)),
            }
        };
        let from = self.prefix.len();
        if body.is_empty() {
            return Err((RejectReason::Empty, from));
        }
        if !self.is_text(body) {
            return Err((RejectReason::Binary, from));
        }
        identify(body, self.aim, &self.labels).ok_or((RejectReason::NoSymbology, from))
    }

    /// Printable text plus the separators barcodes carry (GS, RS, FS, EOT
    /// in ISO/IEC 15434 envelopes, and the profile's GS substitute).
    #[inline]
    fn is_text(&self, body: &[u8]) -> bool {
        // Fast path (this runs on every frame): printable ASCII and GS only.
        if !unusual(body) {
            return true;
        }
        let seen = body.iter().fold(0u8, |acc, &b| acc | CLASS[b as usize]);
        if seen & CONTROL != 0 {
            let sub = self.substitute;
            if body
                .iter()
                .any(|&b| CLASS[b as usize] == CONTROL && Some(b) != sub)
            {
                return false;
            }
        }
        seen & HIGH == 0 || std::str::from_utf8(body).is_ok()
    }
}

/// Whether `body` has a byte other than printable ASCII and GS. Sixteen
/// bytes at a time, branch-free, so that it compiles to vector compares
/// (the whole-slice fold did not vectorise: a third of the decoder's
/// instructions); the last sixteen overlap the chunk before when the length
/// is no multiple of sixteen.
#[inline]
fn unusual(body: &[u8]) -> bool {
    #[inline(always)]
    fn odd(b: u8) -> u8 {
        ((b.wrapping_sub(0x20) >= 0x5F) as u8) & ((b != 0x1D) as u8)
    }
    #[inline(always)]
    fn block(c: &[u8; 16]) -> u8 {
        c.iter().fold(0, |acc, &b| acc | odd(b))
    }
    if body.len() < 16 {
        return body.iter().fold(0, |acc, &b| acc | odd(b)) != 0;
    }
    let mut acc = 0u8;
    let mut chunks = body.chunks_exact(16);
    for c in &mut chunks {
        acc |= block(c.try_into().expect("16 bytes"));
    }
    if !chunks.remainder().is_empty() {
        let tail = &body[body.len() - 16..];
        acc |= block(tail.try_into().expect("16 bytes"));
    }
    acc != 0
}

const CONTROL: u8 = 1;
const HIGH: u8 = 2;

/// Byte classes: 0 text, CONTROL (not allowed unless the substitute), HIGH.
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = match b {
            0x20..=0x7E | 0x1C..=0x1E | 0x04 => 0,
            0x80..=0xFF => HIGH,
            _ => CONTROL,
        };
        i += 1;
    }
    t
};

/// A refused frame, its first [`REJECT_KEEP`] bytes copied for the log.
fn reject_bytes(reason: RejectReason, bytes: &[u8]) -> Reject {
    let bytes = Bytes::copy_from_slice(&bytes[..bytes.len().min(REJECT_KEEP)]);
    Reject { reason, bytes }
}

fn reject(reason: RejectReason, bytes: &[u8]) -> Framed {
    Framed::Rejected(reject_bytes(reason, bytes))
}

impl Found {
    /// Hands the frame out where it lies in `src`.
    #[inline]
    fn in_place(self, src: &mut BytesMut) -> InPlace<'_> {
        match self {
            Found::Frame {
                start,
                end,
                consumed,
                id,
            } => InPlace::Frame(FrameRef {
                src,
                start,
                end,
                consumed,
                id,
            }),
            Found::Rejected(r) => InPlace::Rejected(r),
        }
    }
}

impl FrameDecoder {
    /// The next frame of `src`, found and checked where it lies: nothing is
    /// allocated or copied for a good frame. It stays in `src` until the
    /// returned [`FrameRef`] is dropped (or taken out with
    /// [`FrameRef::into_frame`]); refused bytes are consumed at once. `None`
    /// when `src` holds no complete frame yet. The same decoding as the
    /// [`Decoder`] impl, which takes every frame out.
    #[inline]
    pub fn decode_in_place<'b>(&mut self, src: &'b mut BytesMut) -> Option<InPlace<'b>> {
        let found = self.next(src)?;
        Some(found.in_place(src))
    }

    /// One step: the next good or refused frame, or `None` for more bytes.
    #[inline]
    fn next(&mut self, src: &mut BytesMut) -> Option<Found> {
        loop {
            if self.suffix.is_empty() {
                // Only a pause ends a frame; guard the length meanwhile.
                if src.len() > self.max_len && !self.discarding {
                    self.discarding = true;
                    let refused = reject_bytes(RejectReason::TooLong, src);
                    src.clear();
                    return Some(Found::Rejected(refused));
                }
                if self.discarding {
                    src.clear();
                }
                return None;
            }
            match self.find_suffix(src) {
                Some(end) => {
                    self.searched = 0;
                    if std::mem::replace(&mut self.discarding, false) {
                        src.advance(end + self.suffix.len());
                        continue;
                    }
                    return Some(self.found(src, end, self.suffix.len()));
                }
                None => {
                    // Keep a possibly split suffix's first bytes.
                    let keep = self.suffix.len() - 1;
                    if self.discarding {
                        let drop = src.len().saturating_sub(keep);
                        src.advance(drop);
                        self.searched = src.len();
                        return None;
                    }
                    if src.len() > self.max_len + keep {
                        self.discarding = true;
                        let head = src.len() - keep;
                        let refused = reject_bytes(RejectReason::TooLong, &src[..head]);
                        src.advance(head);
                        self.searched = src.len();
                        return Some(Found::Rejected(refused));
                    }
                    self.searched = src.len();
                    return None;
                }
            }
        }
    }
}

impl Decoder for FrameDecoder {
    type Item = Framed;
    type Error = std::io::Error;

    #[inline]
    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Framed>, std::io::Error> {
        Ok(self
            .next(src)
            .map(|found| found.in_place(src).into_framed()))
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Framed>, std::io::Error> {
        if let Some(item) = self.decode(src)? {
            return Ok(Some(item));
        }
        // The stream ended mid-frame: the scanner was unplugged.
        self.searched = 0;
        let discarding = std::mem::replace(&mut self.discarding, false);
        if src.is_empty() || discarding {
            src.clear();
            return Ok(None);
        }
        let refused = reject(RejectReason::Fragment, src);
        src.clear();
        Ok(Some(refused))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::symbology::Aim;
    use std::path::Path;

    fn decoder(profile: &str) -> FrameDecoder {
        FrameDecoder::new(&Profile::parse(profile, "t", Path::new("t.toml")).unwrap())
    }

    fn all(d: &mut FrameDecoder, buf: &mut BytesMut) -> Vec<Framed> {
        let mut out = Vec::new();
        while let Some(f) = d.decode(buf).unwrap() {
            out.push(f);
        }
        out
    }

    fn frame(f: &Framed) -> &[u8] {
        match f {
            Framed::Frame(fr) => &fr.bytes,
            Framed::Rejected(r) => panic!("rejected {:?}", r),
        }
    }

    fn reason(f: &Framed) -> RejectReason {
        match f {
            Framed::Rejected(r) => r.reason,
            Framed::Frame(fr) => panic!("accepted {:?}", fr),
        }
    }

    const CR: &str =
        "[framing]\nsuffix = \"CR\"\nmax_frame_len = 32\n[symbology]\naim = \"expected\"\n";

    #[test]
    fn many_frames_in_one_chunk_keep_gs() {
        let mut d = decoder(CR);
        let mut buf = BytesMut::from(&b"]C1010950600013435210AB\x1d21X\r]Q1hello\r"[..]);
        let out = all(&mut d, &mut buf);
        assert_eq!(out.len(), 2);
        assert_eq!(frame(&out[0]), b"]C1010950600013435210AB\x1d21X");
        assert_eq!(frame(&out[1]), b"]Q1hello");
        assert!(buf.is_empty());
    }

    /// Where `bytes` lie in `buf`'s memory, if they do.
    fn offset_in(buf: (usize, usize), bytes: &[u8]) -> Option<usize> {
        let at = (bytes.as_ptr() as usize).checked_sub(buf.0)?;
        (at + bytes.len() <= buf.1).then_some(at)
    }

    #[test]
    fn frames_are_slices_of_the_read_buffer_and_rejects_are_copies() {
        let mut d = decoder(CR);
        let mut buf = BytesMut::with_capacity(64);
        buf.extend_from_slice(b"]C1abc\r]Q1defg\r\x00\x01\r");
        let memory = (buf.as_ptr() as usize, buf.capacity());
        let out = all(&mut d, &mut buf);
        assert_eq!(offset_in(memory, frame(&out[0])), Some(0));
        assert_eq!(offset_in(memory, frame(&out[1])), Some(7));
        match &out[2] {
            Framed::Rejected(r) => {
                assert_eq!(r.reason, RejectReason::Binary);
                assert_eq!(
                    offset_in(memory, &r.bytes),
                    None,
                    "a reject holds the buffer"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn frames_in_place_are_read_in_the_buffer_and_consumed_when_dropped() {
        let mut d = decoder("[framing]\nsuffix = \"CR\"\nprefix = \"\\u0002\"\n");
        let mut buf = BytesMut::with_capacity(64);
        buf.extend_from_slice(b"\x02]C1abc\r\x00\r\x02]Q1de");
        let memory = (buf.as_ptr() as usize, buf.capacity());
        match d.decode_in_place(&mut buf) {
            Some(InPlace::Frame(f)) => {
                assert_eq!(f.bytes(), b"]C1abc");
                assert_eq!(&f[3..], b"abc");
                assert_eq!((f.aim(), f.id_len()), (Some(Aim(*b"]C1")), 3));
                assert_eq!(offset_in(memory, &f), Some(1));
            }
            other => panic!("{other:?}"),
        }
        // Dropped: the frame, its prefix and its suffix are gone.
        assert_eq!(&buf[..], b"\x00\r\x02]Q1de");
        match d.decode_in_place(&mut buf) {
            Some(InPlace::Rejected(r)) => assert_eq!(r.reason, RejectReason::BadPrefix),
            other => panic!("{other:?}"),
        }
        assert!(d.decode_in_place(&mut buf).is_none());
        buf.extend_from_slice(b"f\r");
        // Taken out: the same bytes, now a `Frame` of their own.
        let frame = match d.decode_in_place(&mut buf) {
            Some(InPlace::Frame(f)) => f.into_frame(),
            other => panic!("{other:?}"),
        };
        assert_eq!(&frame.bytes[..], b"]Q1def");
        assert!(buf.is_empty());
        // A frame found but kept (forgotten) stays in the buffer.
        buf.extend_from_slice(b"\x02]C1g\r");
        std::mem::forget(d.decode_in_place(&mut buf));
        assert_eq!(&buf[..], b"\x02]C1g\r");
    }

    #[test]
    fn frames_copied_out_hold_nothing_of_the_buffer_which_is_reused_from_its_start() {
        let mut d = decoder(CR);
        let mut buf = BytesMut::with_capacity(64);
        let memory = (buf.as_ptr() as usize, buf.capacity());
        for n in 0..100 {
            buf.extend_from_slice(format!("]C1{n:04}\r").as_bytes());
            // A frame that ended the buffer emptied it: every read lands at
            // the buffer's start, and it never has to move or grow.
            assert_eq!(offset_in(memory, &buf[..]), Some(0), "read {n}");
            let frame = match d.decode_in_place(&mut buf).map(InPlace::into_owned) {
                Some(Framed::Frame(f)) => f,
                other => panic!("{other:?}"),
            };
            assert_eq!(&frame.bytes[..], format!("]C1{n:04}").as_bytes());
            assert_eq!(
                offset_in(memory, &frame.bytes),
                None,
                "a copy holds the buffer"
            );
            assert!(buf.is_empty());
        }
        // Without a suffix the pause ends the frame, found in place too.
        let mut d = decoder("[framing]\nsuffix = \"none\"\ninter_byte_timeout_ms = 30\n");
        buf.extend_from_slice(b"]C1abc");
        match d.on_idle_in_place(&mut buf) {
            Some(InPlace::Frame(f)) => assert_eq!(f.bytes(), b"]C1abc"),
            other => panic!("{other:?}"),
        }
        assert!(buf.is_empty());
    }

    #[test]
    fn the_read_buffer_is_reused_once_its_frames_are_gone() {
        let mut d = decoder(CR);
        let mut buf = BytesMut::with_capacity(256);
        let memory = (buf.as_ptr() as usize, buf.capacity());
        for n in 0..1000 {
            buf.extend_from_slice(format!("]C1{n:06}\r").as_bytes());
            let out = all(&mut d, &mut buf);
            // Each frame lies in the buffer's first allocation: nothing was
            // copied and the buffer never grew or moved.
            assert!(offset_in(memory, frame(&out[0])).is_some(), "frame {n}");
        }
        // While frames are alive the buffer cannot reuse their memory: it
        // moves on, and the frames stay intact.
        let kept: Vec<Framed> = (0..100)
            .flat_map(|n| {
                buf.extend_from_slice(format!("]C1{n:06}\r").as_bytes());
                all(&mut d, &mut buf)
            })
            .collect();
        for (n, f) in kept.iter().enumerate() {
            assert_eq!(frame(f), format!("]C1{n:06}").as_bytes());
        }
    }

    #[test]
    fn one_byte_at_a_time() {
        let mut d = decoder("[framing]\nsuffix = \"CRLF\"\n");
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for &b in b"]E05901234123457\r\n]E05901234123457\r\n" {
            buf.extend_from_slice(&[b]);
            out.extend(all(&mut d, &mut buf));
        }
        assert_eq!(out.len(), 2);
        assert_eq!(frame(&out[1]), b"]E05901234123457");
    }

    #[test]
    fn bare_suffixes_are_empty_frames_and_stray_lf_is_refused() {
        let mut d = decoder(CR);
        let mut buf = BytesMut::from(&b"\r\r"[..]);
        let out = all(&mut d, &mut buf);
        assert_eq!(
            out.iter().map(reason).collect::<Vec<_>>(),
            [RejectReason::Empty; 2]
        );
        // A CRLF scanner on a CR profile: the LF lands at the start of the
        // next frame, which is refused rather than passed on with it.
        let mut buf = BytesMut::from(&b"]C1x\r\n]C1y\r"[..]);
        let out = all(&mut d, &mut buf);
        assert_eq!(frame(&out[0]), b"]C1x");
        assert_eq!(reason(&out[1]), RejectReason::Binary);
    }

    #[test]
    fn over_long_frame_is_refused_once_then_the_next_frame_is_clean() {
        let mut d = decoder(CR);
        let mut buf = BytesMut::from(&[b'7'; 40][..]);
        let out = all(&mut d, &mut buf);
        assert_eq!(
            out.iter().map(reason).collect::<Vec<_>>(),
            [RejectReason::TooLong]
        );
        buf.extend_from_slice(&[b'7'; 100]);
        assert!(all(&mut d, &mut buf).is_empty());
        buf.extend_from_slice(b"777\r]C1ok\r");
        let out = all(&mut d, &mut buf);
        assert_eq!(out.len(), 1);
        assert_eq!(frame(&out[0]), b"]C1ok");
    }

    #[test]
    fn over_long_frame_in_one_chunk_is_refused() {
        let mut d = decoder(CR);
        let mut buf = BytesMut::from(&[b'7'; 40][..]);
        buf.extend_from_slice(b"\r]C1ok\r");
        let out = all(&mut d, &mut buf);
        assert_eq!(reason(&out[0]), RejectReason::TooLong);
        assert_eq!(frame(&out[1]), b"]C1ok");
    }

    #[test]
    fn garbage_and_missing_aim_are_refused() {
        let mut d = decoder(CR);
        let mut buf = BytesMut::from(&b"\x00\xff\x13\x80\r0109506\r]C1\xc3\xa9\r"[..]);
        let out = all(&mut d, &mut buf);
        assert_eq!(reason(&out[0]), RejectReason::Binary);
        assert_eq!(reason(&out[1]), RejectReason::NoSymbology);
        assert_eq!(frame(&out[2]), "]C1é".as_bytes());
    }

    #[test]
    fn prefix_is_stripped_and_required() {
        let mut d = decoder("[framing]\nsuffix = \"CR\"\nprefix = \"\\u0002\"\n");
        let mut buf = BytesMut::from(&b"\x02]C1abc\r]C1abc\r"[..]);
        let out = all(&mut d, &mut buf);
        assert_eq!(frame(&out[0]), b"]C1abc");
        assert_eq!(reason(&out[1]), RejectReason::BadPrefix);
    }

    #[test]
    fn substitute_byte_is_text_and_labels_identify() {
        let mut d = decoder("[framing]\nsuffix = \"CR\"\nfnc1_substitute = \"|\"\n[symbology]\naim = \"expected\"\nlabel_ids = { k = \"]C1\" }\n");
        let mut buf = BytesMut::from(&b"k0109506000134352|21X\r"[..]);
        let out = all(&mut d, &mut buf);
        match &out[0] {
            Framed::Frame(f) => {
                assert_eq!(&f.bytes[..], b"k0109506000134352|21X");
                assert_eq!(f.id.aim, Some(Aim(*b"]C1")));
                assert_eq!(f.id.id_len, 1);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn no_suffix_frames_end_on_idle() {
        let mut d = decoder(
            "[framing]\nsuffix = \"none\"\ninter_byte_timeout_ms = 30\nmax_frame_len = 16\n",
        );
        let mut buf = BytesMut::from(&b"]C1abc"[..]);
        assert!(all(&mut d, &mut buf).is_empty());
        assert_eq!(frame(&d.on_idle(&mut buf).unwrap()), b"]C1abc");
        assert!(d.on_idle(&mut buf).is_none());
        buf.extend_from_slice(&[b'1'; 20]);
        assert_eq!(reason(&all(&mut d, &mut buf)[0]), RejectReason::TooLong);
        buf.extend_from_slice(b"11");
        assert!(all(&mut d, &mut buf).is_empty());
        assert!(d.on_idle(&mut buf).is_none());
    }

    #[test]
    fn cut_frames_are_fragments() {
        let mut d = decoder(CR);
        let mut buf = BytesMut::from(&b"]C1ok\r]C1half"[..]);
        assert_eq!(all(&mut d, &mut buf).len(), 1);
        assert_eq!(
            reason(&d.on_idle(&mut buf.clone()).unwrap()),
            RejectReason::Fragment
        );
        let f = d.decode_eof(&mut buf).unwrap().unwrap();
        assert_eq!(reason(&f), RejectReason::Fragment);
        assert!(d.decode_eof(&mut buf).unwrap().is_none());
    }
}
