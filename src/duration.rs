//! Durations as people write them in a configuration file: `"90s"`,
//! `"10m"`, `"4h"`, `"7d"`, `"500ms"`, or several together (`"1h30m"`).
//! The older keys count milliseconds (`interval_ms = 200`); the keys of
//! `[alerts]` (and those meant for days, such as a backup's `every`) read
//! better in words, and a number without its unit is refused rather than
//! guessed.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// A duration written as text with units, e.g. `"15m"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Span(pub Duration);

/// Why a duration's text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpanError {
    /// Nothing written.
    #[error("a duration must not be empty: write e.g. \"90s\", \"10m\", \"4h\" or \"7d\"")]
    Empty,
    /// A number without a unit, a unit without a number, or an unknown unit.
    #[error("\"{0}\" is not a duration: write a whole number and a unit (ms, s, m, h, d), e.g. \"90s\", \"10m\", \"4h\", \"7d\" or \"1h30m\"")]
    Malformed(String),
    /// More than anyone can mean.
    #[error("\"{0}\" is too long a duration")]
    TooLong(String),
}

impl Span {
    /// Parses `"10m"`, `"1h30m"`, `"500ms"` (units ms, s, m, min, h, d).
    pub fn parse(text: &str) -> Result<Span, SpanError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(SpanError::Empty);
        }
        let malformed = || SpanError::Malformed(text.to_owned());
        let mut total = Duration::ZERO;
        let mut rest = text;
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            if digits == 0 {
                return Err(malformed());
            }
            let number: u64 = rest[..digits].parse().map_err(|_| malformed())?;
            rest = rest[digits..].trim_start();
            let unit_len = rest
                .find(|c: char| !c.is_ascii_alphabetic())
                .unwrap_or(rest.len());
            let unit_ms: u64 = match &rest[..unit_len] {
                "ms" => 1,
                "s" => 1_000,
                "m" | "min" => 60_000,
                "h" => 3_600_000,
                "d" => 86_400_000,
                _ => return Err(malformed()),
            };
            rest = rest[unit_len..].trim_start();
            let part = number
                .checked_mul(unit_ms)
                .ok_or_else(|| SpanError::TooLong(text.to_owned()))?;
            total = total
                .checked_add(Duration::from_millis(part))
                .ok_or_else(|| SpanError::TooLong(text.to_owned()))?;
        }
        Ok(Span(total))
    }

    /// The duration.
    pub fn get(self) -> Duration {
        self.0
    }
}

impl fmt::Display for Span {
    /// The largest whole unit: `4h`, `90s`, `1500ms`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        for (unit, size) in [
            ("d", 86_400_000),
            ("h", 3_600_000),
            ("m", 60_000),
            ("s", 1_000),
        ] {
            if ms >= size && ms.is_multiple_of(size) {
                return write!(f, "{}{unit}", ms / size);
            }
        }
        write!(f, "{ms}ms")
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Span, D::Error> {
        let text = String::deserialize(deserializer)?;
        Span::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// `36 h`, `15 min`, `40 s`: an age or a wait for a person, in the
/// words the doctor and the alerts use.
pub fn age(d: chrono::Duration) -> String {
    let s = d.num_seconds().max(0);
    match s {
        0..=119 => format!("{s} s"),
        120..=7199 => format!("{} min", s / 60),
        _ => format!("{} h", s / 3600),
    }
}

/// [`age`] of a `std` duration.
pub fn age_std(d: Duration) -> String {
    age(chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(text: &str) -> u128 {
        Span::parse(text).unwrap().0.as_millis()
    }

    #[test]
    fn units_and_combinations_parse() {
        assert_eq!(ms("500ms"), 500);
        assert_eq!(ms("90s"), 90_000);
        assert_eq!(ms("10m"), 600_000);
        assert_eq!(ms("10min"), 600_000);
        assert_eq!(ms("4h"), 14_400_000);
        assert_eq!(ms("7d"), 604_800_000);
        assert_eq!(ms("1h30m"), 5_400_000);
        assert_eq!(ms(" 1h 30m "), 5_400_000);
    }

    #[test]
    fn a_bare_number_an_unknown_unit_or_nothing_is_refused_with_examples() {
        for bad in ["10", "h", "10x", "1.5h", "-3s", "10 hours"] {
            let e = Span::parse(bad).unwrap_err().to_string();
            assert!(
                e.contains("is not a duration") && e.contains("\"10m\""),
                "{bad}: {e}"
            );
        }
        assert_eq!(Span::parse("  "), Err(SpanError::Empty));
        assert!(matches!(
            Span::parse("99999999999999999999d"),
            Err(SpanError::Malformed(_))
        ));
        assert!(matches!(
            Span::parse("9999999999999999d"),
            Err(SpanError::TooLong(_))
        ));
    }

    #[test]
    fn it_prints_in_its_largest_whole_unit() {
        for text in ["4h", "90s", "1500ms", "7d", "10m"] {
            assert_eq!(Span::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(Span::parse("1h30m").unwrap().to_string(), "90m");
    }
}
