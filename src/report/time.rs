//! Times in the reports' JSON: RFC 3339 in UTC exactly as chrono's own
//! `Serialize` writes them (`2026-11-30T08:49:00.123Z`: no fraction, or
//! 3, 6 or 9 digits, as the time needs), but handed to the serialiser
//! whole. chrono's `Serialize` writes a time piece by piece (~25 pieces:
//! each digit pair, each separator), and serde_json sends every piece
//! through its string escaping and its writer on its own; a range
//! recall writes tens of thousands of times.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serializer;

/// `#[serde(serialize_with = "time::rfc3339")]` for a report's time.
pub(crate) fn rfc3339<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    // The same `write_rfc3339` with the same arguments as chrono's
    // `Serialize` (AutoSi seconds, `Z` for UTC), into one string.
    s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};
    use serde::Serialize;

    use super::*;

    #[derive(Serialize)]
    struct Ours(#[serde(serialize_with = "rfc3339")] DateTime<Utc>);

    #[test]
    fn times_read_as_chrono_writes_them() {
        let mut times = vec![
            Utc.with_ymd_and_hms(2026, 11, 30, 8, 49, 0).unwrap(),
            Utc.with_ymd_and_hms(1970, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(-1, 6, 1, 12, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(0, 1, 1, 0, 0, 0).unwrap(),
        ];
        for nanos in [1, 7_000, 120_000_000, 123_456_789, 999_999_999, 500_000] {
            times.push(times[0] + chrono::Duration::nanoseconds(nanos));
        }
        // A leap second: chrono writes it as second 60.
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_500_000_000))
            .unwrap();
        times.push(Utc.from_utc_datetime(&leap));
        for t in times {
            assert_eq!(
                serde_json::to_string(&Ours(t)).unwrap(),
                serde_json::to_string(&t).unwrap(),
                "{t:?}"
            );
        }
    }
}
