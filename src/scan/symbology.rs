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
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelMap(Vec<(Vec<u8>, Aim)>);

impl LabelMap {
    pub(super) fn new(mut labels: Vec<(Vec<u8>, Aim)>) -> LabelMap {
        labels.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        LabelMap(labels)
    }

    /// The label at the start of `bytes` and its AIM identifier.
    #[inline]
    pub fn match_prefix(&self, bytes: &[u8]) -> Option<(usize, Aim)> {
        // Labels are a byte or two: compared in line, the first byte first,
        // not through `memcmp` per label (which cost a datalogic frame a
        // third more than an AIM-identified one in the frame decoder).
        let first = *bytes.first()?;
        self.0
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
        self.0
            .iter()
            .find(|(_, a)| *a == aim)
            .map(|(l, _)| l.as_slice())
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
}
