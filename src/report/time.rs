//! Times in the reports' JSON: RFC 3339 in UTC exactly as chrono's own
//! `Serialize` writes them (`2026-11-30T08:49:00.123Z`: no fraction, or
//! 3, 6 or 9 digits, as the time needs), but handed to the serialiser
//! whole. chrono's `Serialize` writes a time piece by piece (~25 pieces:
//! each digit pair, each separator), and serde_json sends every piece
//! through its string escaping and its writer on its own; a range
//! recall writes tens of thousands of times.

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use serde::Serializer;

/// `#[serde(serialize_with = "time::rfc3339")]` for a report's time.
pub(crate) fn rfc3339<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    // The same `write_rfc3339` with the same arguments as chrono's
    // `Serialize` (AutoSi seconds, `Z` for UTC), into one string.
    s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// A stored time back, as chrono's `Deserialize` reads it (RFC 3339,
/// relaxed): chrono's strict RFC 3339 parser first, which reads the form
/// every stored movement holds (`2026-11-30T08:49:00.123Z`) in a third of
/// the time of the relaxed one (95 against 175 ns here); the relaxed one
/// for anything else. A range recall reads tens of thousands.
pub(crate) fn parse(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| text.parse::<DateTime<FixedOffset>>())
        .ok()
        .map(|t| t.with_timezone(&Utc))
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

    /// What chrono's `Deserialize` makes of the text, or None.
    fn chrono_reads(text: &str) -> Option<DateTime<Utc>> {
        serde_json::from_value(serde_json::Value::String(text.into())).ok()
    }

    #[test]
    fn stored_times_read_back_as_chrono_reads_them() {
        let start = Utc.with_ymd_and_hms(2026, 11, 30, 8, 49, 0).unwrap();
        let mut texts = Vec::new();
        for step in 0..2_000i64 {
            // Whole seconds, milli-, micro- and nanoseconds, across days,
            // months and years.
            let t =
                start + chrono::Duration::nanoseconds(step * 7_777_777_777_777 + step % 4 * 1_000);
            texts.push(
                serde_json::to_value(t)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
            texts.push(
                serde_json::to_value(start - (t - start))
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
        texts.extend(
            [
                "2026-11-30T08:49:00Z",
                "2026-11-30T08:49:00.5Z",
                "2026-11-30T08:49:00.123456789Z",
                "2016-12-31T23:59:60.500Z",
                "2026-11-30T08:49:00+01:00",
                "2026-11-30T08:49:00.123+00:00",
                "2026-11-30t08:49:00z",
                "2026-11-30 08:49:00Z",
                "2026-02-30T08:49:00Z",
                "2026-11-30T24:00:00Z",
                "2026-11-30T08:49:00.Z",
                "2026-11-30T08:49:00.1234567891Z",
                "2026-11-30T08:49:00ZZ",
                "+12026-11-30T08:49:00Z",
                "2026-11-30T08:49",
                "",
            ]
            .map(str::to_owned),
        );
        for text in &texts {
            assert_eq!(parse(text), chrono_reads(text), "{text:?}");
        }
        assert!(
            DateTime::parse_from_rfc3339("2026-11-30T08:49:00.123Z").is_ok(),
            "the fast way"
        );
    }
}
