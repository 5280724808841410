//! The site's chain heads, sent as a header with every request to head
//! office. Head office holds what it was sent; only the site knows what it
//! has not sent yet. With the heads, head office can tell a site that is
//! quiet (nothing to send) from one that is behind (a backlog), which the
//! time since its newest movement alone cannot.
//!
//! A header rather than a field of the batch: a site with nothing to send
//! still asks for reference data, and the batch's postcard layout stays as
//! it is (an older head office ignores the header; an older site does not
//! send it, and head office shows its backlog as unknown).

use serde::{Deserialize, Serialize};

/// The header's name.
pub const HEADER: &str = "scantrail-heads";

/// The last seq of each of the site's logs when it made the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SiteHeads {
    /// The journal's last seq.
    pub movements: u64,
    /// The rejected-scan log's last seq.
    pub rejections: u64,
}

impl SiteHeads {
    /// The header's value: `movements=12, rejections=3`.
    pub fn to_header(self) -> String {
        format!(
            "movements={}, rejections={}",
            self.movements, self.rejections
        )
    }

    /// The heads in a header's value; `None` unless both are there and
    /// nothing else is (a value head office cannot read is ignored, not
    /// guessed at).
    pub fn parse(value: &str) -> Option<SiteHeads> {
        let (mut movements, mut rejections) = (None, None);
        for part in value.split(',') {
            let (name, seq) = part.trim().split_once('=')?;
            let seq: u64 = seq.trim().parse().ok()?;
            match name.trim() {
                "movements" if movements.is_none() => movements = Some(seq),
                "rejections" if rejections.is_none() => rejections = Some(seq),
                _ => return None,
            }
        }
        Some(SiteHeads {
            movements: movements?,
            rejections: rejections?,
        })
    }

    /// What the site holds that head office does not: entries of both logs
    /// past what head office holds.
    pub fn backlog(self, held_movements: u64, held_rejections: u64) -> u64 {
        self.movements.saturating_sub(held_movements)
            + self.rejections.saturating_sub(held_rejections)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_reads_back() {
        let h = SiteHeads {
            movements: 120,
            rejections: 7,
        };
        assert_eq!(SiteHeads::parse(&h.to_header()), Some(h));
        assert_eq!(
            SiteHeads::parse("rejections=7,movements=120"),
            Some(h),
            "order and spaces do not matter"
        );
    }

    #[test]
    fn a_value_that_is_not_both_heads_is_ignored() {
        for bad in [
            "",
            "movements=1",
            "movements=1, rejections=x",
            "movements=1, rejections=2, movements=3",
            "movements=1, rejections=2, other=3",
            "movements=-1, rejections=2",
        ] {
            assert_eq!(SiteHeads::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_backlog_counts_both_logs_and_never_goes_below_zero() {
        let h = SiteHeads {
            movements: 120,
            rejections: 7,
        };
        assert_eq!(h.backlog(100, 7), 20);
        assert_eq!(h.backlog(120, 5), 2);
        // Head office may hold more than an old header said.
        assert_eq!(h.backlog(130, 9), 0);
    }
}
