//! Serial ranges over the serial-state index, read with range scans.
//!
//! The index is ordered by serial in byte order (`store::keys`). A range
//! whose bounds are not both digits (`SerialRange`'s byte order) is one
//! contiguous key range: seek to `from`, read until past `to`.
//!
//! A numeric range (both bounds all digits, compared as numbers so that
//! 99 < 100 and leading zeros do not count) is not contiguous in byte order:
//! "100" sorts between "10" and "11", "99" after "100", and "0100" before
//! "1". But for serials with exactly `z` leading zeros and `L` significant
//! digits, byte order *is* numeric order, and those with a value in
//! [from, to] form one contiguous key range `0^z lo ..= 0^z hi`. So the scan
//! is split into one range per (z, L): L from the length of `from` to the
//! length of `to`, z from 0 while any serial of the GTIN starts with z
//! zeros. Inside one such key range, longer serials sharing a prefix
//! (e.g. "1005" between "100" and "199") are skipped by seeking past their
//! prefix, so each scan touches essentially only the serials it returns.

use crate::station::reference::SerialRange;

use super::Result;

/// A position in an ordered index of serials (byte order).
pub trait Cursor {
    /// What the index holds for each serial (its serial state, for the
    /// serial-state index).
    type Item;
    /// Moves to the first serial >= `from` in byte order.
    fn seek(&mut self, from: &str) -> Result<()>;
    /// The serial at the position and its value, then moves on.
    fn next(&mut self) -> Result<Option<(String, Self::Item)>>;
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Adds one to a digit string keeping its length; `None` if it is all 9s.
fn increment(digits: &str) -> Option<String> {
    let mut b = digits.as_bytes().to_vec();
    for i in (0..b.len()).rev() {
        if b[i] == b'9' {
            b[i] = b'0';
        } else {
            b[i] += 1;
            return String::from_utf8(b).ok();
        }
    }
    None
}

/// Leading zeros a numeric scan tries at most (serials are at most 20
/// characters in GS1; this is only a guard).
const MAX_ZEROS: usize = 64;

/// Calls `f` for every serial of the cursor inside `range`: in byte order
/// for a byte-order range, in (leading zeros, length, value) order for a
/// numeric one. Returns the runs of those calls: the calls `a..b` whose
/// serials stand side by side in the index, no other serial between
/// them (the serials a numeric range skips, longer ones sharing a prefix
/// or shorter ones sorting inside, end a run). A run's serials are in
/// byte order, so its first and last bound a key range of the index
/// that holds serials of the range and no other: a store can read a
/// range's movements with a range scan per run instead of a look-up per
/// serial.
pub fn scan<C: Cursor>(
    range: &SerialRange,
    cursor: &mut C,
    mut f: impl FnMut(String, C::Item),
) -> Result<Vec<std::ops::Range<usize>>> {
    let mut runs = Runs::default();
    let mut take = |s: String, item: C::Item, runs: &mut Runs| {
        runs.take();
        f(s, item);
    };
    if !range.is_numeric() {
        cursor.seek(range.from())?;
        while let Some((s, item)) = cursor.next()? {
            if s.as_bytes() > range.to().as_bytes() {
                break;
            }
            take(s, item, &mut runs);
        }
        return Ok(runs.done());
    }
    let from = range.from().trim_start_matches('0');
    let to = range.to().trim_start_matches('0');
    for z in 0..=MAX_ZEROS {
        let zeros = "0".repeat(z);
        if z > 0 {
            runs.cut();
            cursor.seek(&zeros)?;
            match cursor.next()? {
                Some((s, item)) if s.starts_with(&zeros) => {
                    // The value zero itself: a serial of only zeros.
                    if from.is_empty() && s == zeros {
                        take(s, item, &mut runs);
                    }
                }
                _ => break,
            }
        }
        if to.is_empty() {
            continue;
        }
        for len in from.len().max(1)..=to.len() {
            let lo = if len == from.len() {
                from.to_owned()
            } else {
                format!("1{}", "0".repeat(len - 1))
            };
            let hi = if len == to.len() {
                to.to_owned()
            } else {
                "9".repeat(len)
            };
            let (lo, hi, want) = (format!("{zeros}{lo}"), format!("{zeros}{hi}"), z + len);
            runs.cut();
            cursor.seek(&lo)?;
            while let Some((s, item)) = cursor.next()? {
                if s.as_bytes() > hi.as_bytes() {
                    break;
                }
                if s.len() == want && all_digits(&s) {
                    take(s, item, &mut runs);
                    continue;
                }
                // Not in the range, between two that are.
                runs.cut();
                if s.len() > want && s.is_char_boundary(want) && all_digits(&s[..want]) {
                    // A longer serial inside the key range: every serial
                    // sharing its first `want` digits is longer too; skip them.
                    match increment(&s[..want]) {
                        Some(next) if next.as_bytes() <= hi.as_bytes() => cursor.seek(&next)?,
                        _ => break,
                    }
                }
            }
        }
    }
    Ok(runs.done())
}

/// The runs `scan` returns, as it goes: how many serials were taken, and
/// where the open run started.
#[derive(Default)]
struct Runs {
    done: Vec<std::ops::Range<usize>>,
    taken: usize,
    open: Option<usize>,
}

impl Runs {
    fn take(&mut self) {
        self.open.get_or_insert(self.taken);
        self.taken += 1;
    }

    /// A serial not taken stands here, or the scan seeks: the run ends.
    fn cut(&mut self) {
        if let Some(start) = self.open.take() {
            self.done.push(start..self.taken);
        }
    }

    fn done(mut self) -> Vec<std::ops::Range<usize>> {
        self.cut();
        self.done
    }
}

/// The order a report lists a range's serials in: a numeric range's (all
/// digits) by value, then length; a byte range's in byte order, also
/// the digit serials it holds ("2" between "1A" and "AB"): numeric order
/// among those and byte order for the rest is no order at all ("2" <
/// "10" < "1A" < "2"), which the sort refuses by panicking.
pub fn serial_order(range: &SerialRange, a: &str, b: &str) -> std::cmp::Ordering {
    if range.is_numeric() && all_digits(a) && all_digits(b) {
        let (ta, tb) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
        ta.len()
            .cmp(&tb.len())
            .then_with(|| ta.cmp(tb))
            .then_with(|| a.len().cmp(&b.len()))
    } else {
        a.as_bytes().cmp(b.as_bytes())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::*;

    /// An in-memory index that counts what the scan touches.
    pub struct Mem {
        set: BTreeSet<String>,
        at: Option<String>,
        pub touched: usize,
    }

    impl Mem {
        pub fn new<'a>(serials: impl IntoIterator<Item = &'a str>) -> Mem {
            Mem {
                set: serials.into_iter().map(str::to_owned).collect(),
                at: None,
                touched: 0,
            }
        }
    }

    impl Cursor for Mem {
        type Item = ();
        fn seek(&mut self, from: &str) -> Result<()> {
            self.at = Some(from.to_owned());
            Ok(())
        }
        fn next(&mut self) -> Result<Option<(String, ())>> {
            let from = self.at.clone().unwrap_or_default();
            let found = self
                .set
                .iter()
                .find(|s| s.as_bytes() >= from.as_bytes())
                .cloned();
            if let Some(s) = &found {
                self.touched += 1;
                self.at = Some(format!("{s}\0"));
            } else {
                self.at = Some("\u{10FFFF}".into());
            }
            Ok(found.map(|s| (s, ())))
        }
    }

    fn found(range: &SerialRange, mem: &mut Mem) -> Vec<String> {
        let mut out = found_with_spans(range, mem).0;
        out.sort_by(|a, b| serial_order(range, a, b));
        out
    }

    /// A run's key range: its first and last serial.
    #[derive(Debug, PartialEq)]
    struct Span {
        lo: String,
        hi: String,
    }

    /// The serials in the order `scan` gave them, and its runs' spans.
    fn found_with_spans(range: &SerialRange, mem: &mut Mem) -> (Vec<String>, Vec<Span>) {
        let mut out = Vec::new();
        let runs = scan(range, mem, |s, ()| out.push(s)).unwrap();
        let spans = runs
            .iter()
            .map(|r| Span {
                lo: out[r.start].clone(),
                hi: out[r.end - 1].clone(),
            })
            .collect();
        (out, spans)
    }

    #[test]
    fn numeric_ranges_cross_lengths_and_leading_zeros() {
        let mut mem = Mem::new([
            "98", "99", "100", "0100", "101", "1000", "1005", "150", "199", "200", "9", "0099",
            "00", "AB", "10A",
        ]);
        let r = SerialRange::new("99", "199").unwrap();
        assert_eq!(
            found(&r, &mut mem),
            ["99", "0099", "100", "0100", "101", "150", "199"]
        );
        let r = SerialRange::new("0", "9").unwrap();
        assert_eq!(
            found(&r, &mut Mem::new(["00", "9", "10", "09"])),
            ["00", "9", "09"]
        );
    }

    #[test]
    fn longer_serials_inside_the_key_range_are_skipped_not_read() {
        // 10,000 six-digit serials all sort inside "100".."199" as bytes.
        let many: Vec<String> = (100_000..110_000).map(|n| n.to_string()).collect();
        let mut mem = Mem::new(many.iter().map(String::as_str).chain(["150", "100"]));
        let r = SerialRange::new("100", "199").unwrap();
        assert_eq!(found(&r, &mut mem), ["100", "150"]);
        assert!(mem.touched < 20, "touched {}", mem.touched);
    }

    #[test]
    fn byte_ranges_list_the_digit_serials_they_hold_in_byte_order() {
        // "2" < "10" < "1A" < "2" if digits compared as numbers here: the
        // sort panicked on such a range before.
        let mut mem = Mem::new(["2", "10", "1A", "1B", "99", "AB", "0"]);
        let r = SerialRange::new("1A", "AB").unwrap();
        assert_eq!(found(&r, &mut mem), ["1A", "1B", "2", "99", "AB"]);
    }

    #[test]
    fn byte_ranges_are_one_scan() {
        let mut mem = Mem::new(["AB099", "AB100", "AB150", "AB1999", "AB200", "AC"]);
        let r = SerialRange::new("AB100", "AB199").unwrap();
        assert_eq!(found(&r, &mut mem), ["AB100", "AB150"]);
    }

    fn covered_by(s: &str, sp: &Span) -> bool {
        sp.lo.as_bytes() <= s.as_bytes() && s.as_bytes() <= sp.hi.as_bytes()
    }

    #[test]
    fn runs_end_where_the_index_holds_a_serial_out_of_the_range() {
        // "1005" (longer) and "15" (shorter) sort inside "100".."199";
        // "10A" too. Each ends a run.
        let mut mem = Mem::new([
            "99", "100", "1005", "101", "102", "10A", "110", "15", "150", "199", "0100", "0101",
        ]);
        let r = SerialRange::new("99", "199").unwrap();
        let (_, spans) = found_with_spans(&r, &mut mem);
        let span = |lo: &str, hi: &str| Span {
            lo: lo.into(),
            hi: hi.into(),
        };
        assert_eq!(
            spans,
            [
                span("99", "99"),
                span("100", "100"),
                span("101", "102"),
                span("110", "110"),
                span("150", "199"),
                span("0100", "0101"),
            ]
        );
        // A byte-order range is one run.
        let mut mem = Mem::new(["AB099", "AB100", "AB150", "AB1999", "AB200"]);
        let r = SerialRange::new("AB100", "AB199").unwrap();
        assert_eq!(found_with_spans(&r, &mut mem).1, [span("AB100", "AB150")]);
        assert!(found_with_spans(&r, &mut Mem::new(["X"])).1.is_empty());
    }

    proptest! {
        #[test]
        fn scan_finds_exactly_what_contains_accepts(
            serials in proptest::collection::btree_set("(0{0,2}[0-9]{1,4}|[0-9A-C]{1,3})", 0..60),
            a in "0{0,2}[0-9]{1,4}",
            b in "0{0,2}[0-9]{1,4}",
        ) {
            let Ok(range) = SerialRange::new(&a, &b).or_else(|_| SerialRange::new(&b, &a)) else {
                return Ok(());
            };
            let mut mem = Mem::new(serials.iter().map(String::as_str));
            let mut want: Vec<String> = serials.iter().filter(|s| range.contains(s)).cloned().collect();
            want.sort_by(|a, b| serial_order(&range, a, b));
            prop_assert_eq!(found(&range, &mut mem), want);
        }

        #[test]
        fn runs_cover_every_serial_of_a_range_once_and_nothing_else(
            serials in proptest::collection::btree_set("(0{0,2}[0-9]{1,4}|[0-9A-C]{1,3})", 0..60),
            a in "(0{0,2}[0-9]{1,4}|[0-9A-C]{1,3})",
            b in "(0{0,2}[0-9]{1,4}|[0-9A-C]{1,3})",
        ) {
            let Ok(range) = SerialRange::new(&a, &b).or_else(|_| SerialRange::new(&b, &a)) else {
                return Ok(());
            };
            let mut mem = Mem::new(serials.iter().map(String::as_str));
            let (inside, spans) = found_with_spans(&range, &mut mem);
            for s in &inside {
                // Exactly once: a reader of every run gets no serial twice.
                let n = spans.iter().filter(|sp| covered_by(s, sp)).count();
                prop_assert_eq!(n, 1, "{} covered {} times by {:?}", s, n, spans);
            }
            // And a run holds no serial of the index out of the range.
            for s in serials.iter().filter(|s| spans.iter().any(|sp| covered_by(s, sp))) {
                prop_assert!(range.contains(s), "{} outside {:?} in {:?}", s, range, spans);
            }
        }
    }
}
