//! Which symbology a frame came from: the AIM identifier (ISO/IEC 15424)
//! at its start, or a vendor's own label ID mapped to one.
//!
//! Pure and I/O-free. The bytes are never rewritten here: the frame stays as
//! the scanner sent it, and only the parser is handed the AIM form.

use std::fmt;

use serde::Deserialize;

/// An AIM symbology identifier, e.g. `]d2` (GS1 DataMatrix).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Aim(pub [u8; 3]);

impl Aim {
    /// The AIM identifier at the start of `bytes`, if there is one.
    #[inline]
    pub fn from_prefix(bytes: &[u8]) -> Option<Aim> {
        match bytes {
            [b']', code, modifier, ..]
                if code.is_ascii_alphabetic() && modifier.is_ascii_alphanumeric() =>
            {
                Some(Aim([b']', *code, *modifier]))
            }
            _ => None,
        }
    }

    pub(super) fn as_str(&self) -> &str {
        // Built only from ASCII bytes.
        std::str::from_utf8(&self.0).unwrap_or("]??")
    }
}

impl fmt::Display for Aim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Aim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Aim({})", self.as_str())
    }
}

/// Whether the scanner is set to send AIM identifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AimMode {
    /// Every frame starts with an AIM identifier (or a mapped label ID); a
    /// frame without one is refused, because the parser cannot tell a GS1
    /// barcode from plain data without it.
    Expected,
    /// Recognised when present.
    Optional,
    /// The scanner sends none; a leading `]` is data.
    Absent,
}

/// Vendor label IDs and the AIM identifier each stands for, longest first so
/// that `FF` wins over `F`.
#[derive(Clone, PartialEq, Eq)]
pub struct LabelMap {
    labels: Vec<(Vec<u8>, Aim)>,
    /// For each byte, where in `labels` the first label starting with it
    /// is (`NONE` when none does): a frame's label is then found in one
    /// look-up instead of a walk past every label before it (eleven in the
    /// Datalogic profile, which made a label-ID frame cost the decoder a
    /// sixth more than an AIM one). Derived from `labels`.
    first: Box<[u16; 256]>,
}

/// No label starts with this byte (see `LabelMap::first`).
const NONE: u16 = u16::MAX;

impl LabelMap {
    pub(super) fn new(mut labels: Vec<(Vec<u8>, Aim)>) -> LabelMap {
        labels.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        let mut first = Box::new([NONE; 256]);
        // Backwards, so that each byte ends up with its first label. An
        // index from `NONE` on is stored as `NONE`: the walk then starts
        // there, before the label, which is still right (profiles have a
        // dozen labels).
        for (i, (label, _)) in labels.iter().enumerate().rev() {
            if let Some(&b) = label.first() {
                first[b as usize] = u16::try_from(i).unwrap_or(NONE);
            }
        }
        LabelMap { labels, first }
    }

    /// The label at the start of `bytes` and its AIM identifier.
    #[inline]
    pub fn match_prefix(&self, bytes: &[u8]) -> Option<(usize, Aim)> {
        let first = *bytes.first()?;
        // Every label before `start` begins with another byte; from there
        // on the walk is the same as over the whole list, longest first.
        // Labels are a byte to three, compared in line (not through a
        // `memcmp` call per label).
        let start = self.first[first as usize] as usize;
        self.labels
            .get(start..)?
            .iter()
            .find(|(label, _)| {
                label.first() == Some(&first)
                    && label.len() <= bytes.len()
                    && label.iter().zip(bytes).all(|(a, b)| a == b)
            })
            .map(|(label, aim)| (label.len(), *aim))
    }

    /// The vendor label for an AIM identifier (for the simulator).
    pub fn label_for(&self, aim: Aim) -> Option<&[u8]> {
        self.labels
            .iter()
            .find(|(_, a)| *a == aim)
            .map(|(l, _)| l.as_slice())
    }
}

impl Default for LabelMap {
    fn default() -> LabelMap {
        LabelMap::new(Vec::new())
    }
}

impl fmt::Debug for LabelMap {
    // The labels only: the index is derived from them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("LabelMap").field(&self.labels).finish()
    }
}

/// A frame's symbology: the AIM identifier and how many leading bytes of the
/// frame (AIM or vendor label) stand for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identified {
    pub(super) aim: Option<Aim>,
    pub(super) id_len: usize,
}

/// Identifies a frame's symbology; `None` when `mode` is `Expected` and the
/// frame carries no identifier.
// Inline: it runs on every frame, and its small result is best kept in
// registers rather than passed back through memory.
#[inline]
pub fn identify(frame: &[u8], mode: AimMode, labels: &LabelMap) -> Option<Identified> {
    if mode == AimMode::Absent {
        return Some(Identified {
            aim: None,
            id_len: 0,
        });
    }
    // Real AIM identifiers first: a vendor scanner with "Global AIM ID" on
    // sends them even when its label IDs are configured.
    if let Some(aim) = Aim::from_prefix(frame) {
        return Some(Identified {
            aim: Some(aim),
            id_len: 3,
        });
    }
    if let Some((len, aim)) = labels.match_prefix(frame) {
        return Some(Identified {
            aim: Some(aim),
            id_len: len,
        });
    }
    match mode {
        AimMode::Expected => None,
        _ => Some(Identified {
            aim: None,
            id_len: 0,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn datalogic() -> LabelMap {
        LabelMap::new(vec![
            (b"B".to_vec(), Aim(*b"]E0")),
            (b"A".to_vec(), Aim(*b"]E4")),
            (b"k".to_vec(), Aim(*b"]C1")),
            (b"kk".to_vec(), Aim(*b"]C0")),
        ])
    }

    #[test]
    fn aim_identifier_is_recognised() {
        let id = identify(b"]d2010950", AimMode::Expected, &LabelMap::default()).unwrap();
        assert_eq!(id.aim, Some(Aim(*b"]d2")));
        assert_eq!(id.id_len, 3);
        assert!(identify(b"]d", AimMode::Expected, &LabelMap::default()).is_none());
        assert!(identify(b"0109", AimMode::Expected, &LabelMap::default()).is_none());
        assert_eq!(
            identify(b"0109", AimMode::Optional, &LabelMap::default())
                .unwrap()
                .aim,
            None
        );
        assert_eq!(
            identify(b"]C1", AimMode::Absent, &LabelMap::default())
                .unwrap()
                .aim,
            None
        );
    }

    #[test]
    fn vendor_labels_map_longest_first() {
        let m = datalogic();
        assert_eq!(
            identify(b"k0109", AimMode::Expected, &m).unwrap(),
            Identified {
                aim: Some(Aim(*b"]C1")),
                id_len: 1
            }
        );
        assert_eq!(
            identify(b"kk12", AimMode::Expected, &m).unwrap().aim,
            Some(Aim(*b"]C0"))
        );
        assert_eq!(m.label_for(Aim(*b"]E0")), Some(&b"B"[..]));
        assert!(identify(b"z", AimMode::Expected, &m).is_none());
    }

    #[test]
    fn the_first_byte_index_finds_what_a_walk_over_every_label_finds() {
        // Labels of one to three bytes sharing first bytes, so the longest
        // must win where several match.
        let labels: Vec<(Vec<u8>, Aim)> = [
            &b"k"[..],
            b"kk",
            b"kkk",
            b"kA",
            b"A",
            b"B",
            b"BA",
            b"\xff",
            b"z9",
        ]
        .iter()
        .enumerate()
        .map(|(i, l)| (l.to_vec(), Aim([b']', b'A' + i as u8, b'0'])))
        .collect();
        let m = LabelMap::new(labels.clone());
        // The plain walk the index replaces: longest first.
        let walk = |bytes: &[u8]| {
            let mut all = labels.clone();
            all.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
            all.into_iter()
                .find(|(l, _)| bytes.starts_with(l))
                .map(|(l, aim)| (l.len(), aim))
        };
        let alphabet = [b'k', b'A', b'B', b'z', b'9', 0xff, b'0'];
        let mut inputs: Vec<Vec<u8>> = vec![Vec::new()];
        for a in alphabet {
            inputs.push(vec![a]);
            for b in alphabet {
                inputs.push(vec![a, b]);
                for c in alphabet {
                    inputs.push(vec![a, b, c, b'1']);
                }
            }
        }
        for input in &inputs {
            assert_eq!(m.match_prefix(input), walk(input), "{input:?}");
        }
        assert_eq!(m.match_prefix(b"kkk1"), Some((3, Aim(*b"]C0"))));
        assert_eq!(LabelMap::default().match_prefix(b"k1"), None);
    }
}
