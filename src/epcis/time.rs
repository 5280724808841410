//! The times of an event: `eventTime` in UTC with milliseconds (scantrail
//! keeps device time in UTC), and `eventTimeZoneOffset`, the site's offset
//! at that very instant from its IANA zone, so summer and winter time come
//! out right without anyone editing a fixed offset twice a year.

use std::fmt::Write as _;

use chrono::{DateTime, Datelike, Offset, TimeZone, Timelike, Utc};

/// `2026-03-29T00:59:59.123Z` (milliseconds truncated, as stored device
/// times have none finer). Written field by field: once per event, and
/// chrono's pattern formatter was a tenth of the export's time.
pub fn event_time(t: DateTime<Utc>) -> String {
    let year = t.year();
    if !(0..=9999).contains(&year) {
        let mut s = String::with_capacity(26);
        let _ = write!(
            s,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            year,
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.nanosecond() / 1_000_000 % 1000
        );
        return s;
    }
    // Digit by digit: `write!` with padding was most of this function's
    // cost, and it runs once per event.
    let mut b = *b"0000-00-00T00:00:00.000Z";
    let mut put = |at: usize, width: usize, mut n: u32| {
        for i in (at..at + width).rev() {
            b[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    put(0, 4, year as u32);
    put(5, 2, t.month());
    put(8, 2, t.day());
    put(11, 2, t.hour());
    put(14, 2, t.minute());
    put(17, 2, t.second());
    put(20, 3, t.nanosecond() / 1_000_000 % 1000);
    b.iter().map(|&c| char::from(c)).collect()
}

/// The zone's offset from UTC at `t`, in seconds.
pub fn offset_seconds(zone: chrono_tz::Tz, t: DateTime<Utc>) -> i32 {
    zone.offset_from_utc_datetime(&t.naive_utc())
        .fix()
        .local_minus_utc()
}

/// `+01:00`: the zone's offset from UTC at `t`.
pub fn offset_at(zone: chrono_tz::Tz, t: DateTime<Utc>) -> String {
    let seconds = offset_seconds(zone, t);
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.unsigned_abs() / 60;
    format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn event_time_is_utc_with_milliseconds() {
        assert_eq!(
            event_time(at("2026-03-29T02:59:59.1234+02:00")),
            "2026-03-29T00:59:59.123Z"
        );
        assert_eq!(
            event_time(at("2026-01-01T00:00:00Z")),
            "2026-01-01T00:00:00.000Z"
        );
        assert_eq!(
            event_time(at("0999-12-31T23:59:58.009Z")),
            "0999-12-31T23:59:58.009Z"
        );
    }

    #[test]
    fn the_offset_follows_summer_and_winter_time() {
        let berlin = chrono_tz::Europe::Berlin;
        // Clocks go forward at 01:00 UTC on 29 March 2026.
        assert_eq!(offset_at(berlin, at("2026-03-29T00:59:59Z")), "+01:00");
        assert_eq!(offset_at(berlin, at("2026-03-29T01:00:00Z")), "+02:00");
        assert_eq!(
            offset_at(chrono_tz::America::New_York, at("2026-07-01T12:00:00Z")),
            "-04:00"
        );
        assert_eq!(
            offset_at(chrono_tz::Asia::Kolkata, at("2026-07-01T12:00:00Z")),
            "+05:30"
        );
        assert_eq!(
            offset_at(chrono_tz::UTC, at("2026-07-01T12:00:00Z")),
            "+00:00"
        );
    }
}
