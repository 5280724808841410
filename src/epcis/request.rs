//! What an export asks for, as `key=value` pairs: the API's query string
//! (`GET /api/v1/epcis/events?since=…`) and the command line's flags (made
//! into the same pairs), read by one parser so both refuse the same
//! mistakes with the same words.

use chrono::NaiveDate;

use super::error::{EpcisError, Result};
use super::export::Range;
use super::settings::{EpcisConfig, EventIds, GroupBy, Settings};

/// A checked export request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Request {
    /// Which movements.
    pub range: Range,
    /// One event per movement or per document.
    pub group_by: GroupBy,
    /// UUIDs or event hashes as eventID.
    pub event_ids: EventIds,
    /// EPC URNs instead of Digital Link URIs.
    pub urn: bool,
    /// Head office: only this site.
    pub site: Option<String>,
}

fn bad(key: &'static str, reason: String) -> EpcisError {
    EpcisError::Request { key, reason }
}

fn date(key: &'static str, v: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .map_err(|_| bad(key, format!("\"{v}\" is not a date; write YYYY-MM-DD")))
}

impl Request {
    /// Reads the pairs: `since`, `from`, `to`, `group_by`, `event_id`,
    /// `format`, `site`; anything else is refused by name.
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<Request> {
        let mut r = Request::default();
        for (k, v) in pairs {
            match k.as_str() {
                "since" => {
                    r.range.since = Some(v.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
                        bad("since", format!("\"{v}\" is not a seq (1 or more)"))
                    })?)
                }
                "from" => r.range.from = Some(date("from", v)?),
                "to" => r.range.to = Some(date("to", v)?),
                "group_by" => {
                    r.group_by = match v.as_str() {
                        "movement" => GroupBy::Movement,
                        "document" => GroupBy::Document,
                        _ => return Err(bad("group_by", format!("\"{v}\": use movement or document"))),
                    }
                }
                "event_id" => {
                    r.event_ids = match v.as_str() {
                        "uuid" => EventIds::Uuid,
                        "hash" => EventIds::Hash,
                        _ => return Err(bad("event_id", format!("\"{v}\": use uuid or hash"))),
                    }
                }
                "format" => {
                    r.urn = match v.as_str() {
                        "dl" | "digital_link" => false,
                        "urn" => true,
                        _ => return Err(bad("format", format!("\"{v}\": use dl or urn"))),
                    }
                }
                "site" => r.site = Some(v.clone()),
                _ => {
                    return Err(bad(
                        "query",
                        format!("unknown parameter `{k}`: give since, from, to, group_by, event_id, format or site"),
                    ))
                }
            }
        }
        if let (Some(from), Some(to)) = (r.range.from, r.range.to) {
            if from > to {
                return Err(bad("from", format!("{from} is after `to` {to}")));
            }
        }
        Ok(r)
    }

    /// The settings of a site (its GLN and `[epcis]`) for this request.
    pub fn settings(&self, site_gln: Option<&str>, config: &EpcisConfig) -> Result<Settings> {
        let mut s = Settings::new(site_gln, config)?;
        if self.urn {
            s = s.with_urns()?;
        }
        s.group_by = self.group_by;
        s.event_ids = self.event_ids;
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_request_reads_every_option() {
        let r = Request::from_pairs(&pairs(&[
            ("since", "5"),
            ("from", "2026-07-01"),
            ("to", "2026-07-31"),
            ("group_by", "document"),
            ("event_id", "hash"),
        ]))
        .unwrap();
        assert_eq!(r.range.since, Some(5));
        assert_eq!(r.group_by, GroupBy::Document);
        assert_eq!(r.event_ids, EventIds::Hash);
    }

    #[test]
    fn mistakes_are_named() {
        let e = |p: &[(&str, &str)]| Request::from_pairs(&pairs(p)).unwrap_err().to_string();
        assert!(e(&[("since", "0")]).contains("since"));
        assert!(e(&[("from", "2026-13-01")]).contains("YYYY-MM-DD"));
        assert!(e(&[("group_by", "pallet")]).contains("movement or document"));
        assert!(e(&[("from", "2026-07-02"), ("to", "2026-07-01")]).contains("after"));
        assert!(e(&[("limit", "3")]).contains("unknown parameter `limit`"));
    }
}
