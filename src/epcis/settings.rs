//! What an export needs that a movement does not say: the site's GLN and
//! time zone, the company as owning party, where parties known only by
//! name get their URI, and the output's options. Read from `[epcis]` of
//! the site's (or head office's) configuration and checked once, so the
//! mapping itself cannot fail on a setting.

use serde::Deserialize;

use super::error::{EpcisError, Result};

/// `[epcis]` as the configuration file writes it; every key optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EpcisConfig {
    /// The site's IANA time zone (`Europe/Berlin`): `eventTimeZoneOffset`
    /// is its offset at each event's instant. Default `UTC`.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// The company's party GLN (PGLN, AI 417), owning party of the goods on
    /// our side; default the site's GLN.
    #[serde(default)]
    pub company: Option<String>,
    /// Where counterparties known only by name get a stable URI: the base,
    /// then the name percent-encoded. Default `urn:scantrail:party:`.
    #[serde(default)]
    pub party_base: Option<String>,
    /// The GS1 Company Prefix length (6 to 12) of every GTIN, GLN and SSCC
    /// no entry of `company_prefixes` covers: with it (or them),
    /// `--format urn` writes EPC URNs (`urn:epc:id:sgtin:…`).
    #[serde(default)]
    pub company_prefix_length: Option<u8>,
    /// Company prefix lengths by the leading digits of a key, as GS1's
    /// prefix length table gives them (a site receives goods of many
    /// companies, each prefix of its own length): the longest entry that
    /// the key's digits start with wins (a GTIN's without its indicator
    /// digit, an SSCC's without its extension digit).
    #[serde(default)]
    pub company_prefixes: Vec<CompanyPrefix>,
    /// The most events one capture (`POST /epcis/v2/capture`) takes;
    /// default `capture::Limits::DEFAULT_EVENTS`.
    #[serde(default)]
    pub capture_limit: Option<usize>,
    /// The most bytes one capture's body may have; default
    /// `capture::Limits::DEFAULT_BYTES`.
    #[serde(default)]
    pub capture_file_size_limit: Option<usize>,
}

/// One entry of `[epcis] company_prefixes`: `{ prefix = "950600", length = 7 }`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompanyPrefix {
    /// The leading digits (1 to 12) of the keys it covers.
    pub prefix: String,
    /// The company prefix length of those keys, 6 to 12.
    pub length: u8,
}

/// How events are grouped: one per movement (lossless; a correction names
/// exactly one), or one per business document (what DSCSA partners expect).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GroupBy {
    /// One ObjectEvent per movement.
    #[default]
    Movement,
    /// The movements of one despatch, receipt or order at a station, one
    /// event.
    Document,
}

/// What `eventID` is: a UUIDv5 of (site, seq), or the CBV 2.0 event hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EventIds {
    /// `urn:uuid:` of (site, seq): stable on re-export, whatever changes
    /// in the mapping.
    #[default]
    Uuid,
    /// `ni:///sha-256;…?ver=CBV2.0`, the event's content hash (CBV 2.0
    /// §8.9): any party can recompute it from the event.
    Hash,
}

/// Identifiers as GS1 Digital Link URIs (default) or EPC URNs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// `https://id.gs1.org/01/…/21/…`: needs no company prefix length.
    #[default]
    DigitalLink,
    /// `urn:epc:id:sgtin:…`: needs `company_prefix_length`.
    Urn,
}

/// The checked settings of one site's export.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The site's own GLN, 13 digits: bizLocation, and readPoint with the
    /// station as extension.
    pub site_gln: String,
    /// The company's PGLN: owning party on our side.
    pub company: String,
    /// The site's time zone.
    pub time_zone: chrono_tz::Tz,
    /// The base of URIs for parties known only by name.
    pub party_base: String,
    /// Digital Link or URN identifiers.
    pub format: Format,
    /// The company prefix length of keys no entry of `company_prefixes`
    /// covers, when configured.
    pub company_prefix_length: Option<u8>,
    /// (leading digits, company prefix length), longest prefix first.
    pub company_prefixes: Vec<(String, u8)>,
    /// What eventID is.
    pub event_ids: EventIds,
    /// One event per movement or per document.
    pub group_by: GroupBy,
}

/// The default base of party-by-name URIs.
pub const DEFAULT_PARTY_BASE: &str = "urn:scantrail:party:";

impl Settings {
    /// Checks `config` for a site whose GLN is `site_gln` (`[site] gln`).
    pub fn new(site_gln: Option<&str>, config: &EpcisConfig) -> Result<Settings> {
        let site_gln = site_gln.ok_or_else(|| EpcisError::Setting {
            key: "site.gln",
            reason: "EPCIS needs the site's GLN (readPoint and bizLocation); add `gln = \"…\"` under [site]".into(),
        })?;
        gln("site.gln", "414", site_gln)?;
        let company = config.company.as_deref().unwrap_or(site_gln);
        gln("epcis.company", "417", company)?;
        let zone = config.time_zone.as_deref().unwrap_or("UTC");
        let time_zone = zone.parse().map_err(|_| EpcisError::Setting {
            key: "epcis.time_zone",
            reason: format!("\"{zone}\" is not an IANA time zone; write e.g. \"Europe/Berlin\""),
        })?;
        let party_base = config
            .party_base
            .clone()
            .unwrap_or_else(|| DEFAULT_PARTY_BASE.to_owned());
        if !party_base.contains(':') || party_base.chars().any(char::is_whitespace) {
            return Err(EpcisError::Setting {
                key: "epcis.party_base",
                reason: format!(
                    "\"{party_base}\" is not the start of a URI; write e.g. \"https://example.com/party/\""
                ),
            });
        }
        if let Some(n) = config.company_prefix_length {
            if !(6..=12).contains(&n) {
                return Err(EpcisError::Setting {
                    key: "epcis.company_prefix_length",
                    reason: format!("{n}: a GS1 Company Prefix has 6 to 12 digits"),
                });
            }
        }
        let mut company_prefixes = Vec::with_capacity(config.company_prefixes.len());
        for (i, p) in config.company_prefixes.iter().enumerate() {
            let digits = !p.prefix.is_empty()
                && p.prefix.len() <= 12
                && p.prefix.bytes().all(|b| b.is_ascii_digit());
            if !digits || !(6..=12).contains(&p.length) {
                return Err(EpcisError::Setting {
                    key: "epcis.company_prefixes",
                    reason: format!(
                        "entry {} ({{ prefix = \"{}\", length = {} }}): the prefix is 1 to 12 digits and the length 6 to 12",
                        i + 1,
                        p.prefix,
                        p.length
                    ),
                });
            }
            if company_prefixes.iter().any(|(q, _)| q == &p.prefix) {
                return Err(EpcisError::Setting {
                    key: "epcis.company_prefixes",
                    reason: format!(
                        "prefix \"{}\" is listed twice; keep one length for it",
                        p.prefix
                    ),
                });
            }
            company_prefixes.push((p.prefix.clone(), p.length));
        }
        company_prefixes.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        Ok(Settings {
            site_gln: site_gln.to_owned(),
            company: company.to_owned(),
            time_zone,
            party_base,
            format: Format::DigitalLink,
            company_prefix_length: config.company_prefix_length,
            company_prefixes,
            event_ids: EventIds::Uuid,
            group_by: GroupBy::Movement,
        })
    }

    /// URN output, refused when no company prefix length is configured.
    pub fn with_urns(mut self) -> Result<Settings> {
        if self.company_prefix_length.is_none() && self.company_prefixes.is_empty() {
            return Err(EpcisError::Setting {
                key: "epcis.company_prefix_length",
                reason: "URN output needs the GS1 Company Prefix length (6 to 12) under [epcis]: company_prefix_length, or company_prefixes = [{ prefix = \"…\", length = … }]"
                    .into(),
            });
        }
        self.format = Format::Urn;
        Ok(self)
    }

    /// The company prefix length of a key whose digits (a GTIN's without
    /// its indicator) are `digits`: the longest listed prefix they start
    /// with, else the default.
    pub fn prefix_length(&self, digits: &str) -> Option<usize> {
        self.company_prefixes
            .iter()
            .find(|(p, _)| digits.starts_with(p.as_str()))
            .map(|(_, l)| *l)
            .or(self.company_prefix_length)
            .map(usize::from)
    }
}

/// A GLN checked as GS1 checks AI `ai` (414 for a place, 417 for a party).
fn gln(key: &'static str, ai: &str, value: &str) -> Result<()> {
    crate::gs1::check_value(ai, value).map_err(|e| EpcisError::Setting {
        key,
        reason: format!("\"{value}\" is not a valid GLN: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_need_only_the_site_gln() {
        let s = Settings::new(Some("9506000000015"), &EpcisConfig::default()).unwrap();
        assert_eq!(s.company, "9506000000015");
        assert_eq!(s.time_zone, chrono_tz::UTC);
        assert_eq!(s.party_base, DEFAULT_PARTY_BASE);
        let e = Settings::new(None, &EpcisConfig::default()).unwrap_err();
        assert!(e.to_string().contains("site.gln"), "{e}");
    }

    #[test]
    fn bad_settings_are_named() {
        let bad = |c: EpcisConfig| {
            Settings::new(Some("9506000000015"), &c)
                .unwrap_err()
                .to_string()
        };
        let e = bad(EpcisConfig {
            time_zone: Some("Europe/Atlantis".into()),
            ..EpcisConfig::default()
        });
        assert!(
            e.contains("epcis.time_zone") && e.contains("Atlantis"),
            "{e}"
        );
        let e = bad(EpcisConfig {
            company: Some("9506000000016".into()),
            ..EpcisConfig::default()
        });
        assert!(e.contains("epcis.company"), "{e}");
        let e = bad(EpcisConfig {
            company_prefix_length: Some(13),
            ..EpcisConfig::default()
        });
        assert!(e.contains("6 to 12"), "{e}");
        let prefix = |prefix: &str, length| CompanyPrefix {
            prefix: prefix.into(),
            length,
        };
        let e = bad(EpcisConfig {
            company_prefixes: vec![prefix("95x", 7)],
            ..EpcisConfig::default()
        });
        assert!(e.contains("entry 1") && e.contains("95x"), "{e}");
        let e = bad(EpcisConfig {
            company_prefixes: vec![prefix("950", 7), prefix("950", 8)],
            ..EpcisConfig::default()
        });
        assert!(e.contains("listed twice"), "{e}");
        let e = bad(EpcisConfig {
            company_prefixes: vec![prefix("950", 5)],
            ..EpcisConfig::default()
        });
        assert!(e.contains("length 6 to 12"), "{e}");
        // A list alone is enough for URNs.
        assert!(Settings::new(
            Some("9506000000015"),
            &EpcisConfig {
                company_prefixes: vec![prefix("950", 7)],
                ..EpcisConfig::default()
            }
        )
        .unwrap()
        .with_urns()
        .is_ok());
        let urn = Settings::new(Some("9506000000015"), &EpcisConfig::default())
            .unwrap()
            .with_urns()
            .unwrap_err();
        assert!(urn.to_string().contains("company_prefix_length"), "{urn}");
    }
}
