//! The GS1 identifiers of an event: items, classes, pallets, places and
//! parties, as GS1 Digital Link URIs (rendered by the GS1 engine, so the
//! escaping is GS1's) or, where a company prefix length is configured, as
//! EPC URNs (TDS 2.0). Parties known only by name get a stable URI under
//! the configured base.

use std::fmt::Write as _;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::error::{EpcisError, Result};
use super::settings::{Format, Settings};

/// The characters of a name kept as they are in a party URI: RFC 3986's
/// unreserved ones.
const PARTY_NAME: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The characters TDS 2.0 escapes in a URN's serial or lot: `" % & / < >
/// ?` (and, for a well-formed URI, everything outside the printable ASCII
/// range and `#`).
const URN_VALUE: &AsciiSet = &percent_encoding::CONTROLS
    .add(b'"')
    .add(b'%')
    .add(b'&')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'#')
    .add(b' ');

/// Writes identifiers in the format the settings chose.
#[derive(Debug, Clone, Copy)]
pub struct Identifiers<'a> {
    settings: &'a Settings,
}

impl<'a> Identifiers<'a> {
    /// Identifiers for `settings`.
    pub fn new(settings: &'a Settings) -> Identifiers<'a> {
        Identifiers { settings }
    }

    fn urn(&self) -> bool {
        self.settings.format == Format::Urn
    }

    /// The company prefix length of a key in URN output: `digits` are the
    /// key's digits after any indicator or extension digit.
    fn prefix_length(&self, what: &str, key: &str, digits: &str) -> Result<usize> {
        self.settings
            .prefix_length(digits)
            .ok_or_else(|| EpcisError::Identifier {
                what: format!("{what} {key}"),
                reason: "no company prefix length covers it for URN output; add its prefix to [epcis] company_prefixes (or set company_prefix_length)".into(),
            })
    }

    /// (company prefix, indicator digit + item reference) of a GTIN-14.
    fn split_gtin<'g>(&self, gtin: &'g str) -> Result<(&'g str, String)> {
        if gtin.len() != 14 || !gtin.is_ascii() {
            return Ok((gtin, String::new()));
        }
        let l = self.prefix_length("GTIN", gtin, &gtin[1..])?;
        Ok((
            &gtin[1..1 + l],
            format!("{}{}", &gtin[..1], &gtin[1 + l..13]),
        ))
    }

    /// A serialised item (GTIN + serial): SGTIN.
    pub fn item(&self, gtin: &str, serial: &str) -> Result<String> {
        if self.urn() {
            let (cp, rest) = self.split_gtin(gtin)?;
            return Ok(format!(
                "urn:epc:id:sgtin:{cp}.{rest}.{}",
                urn_value(serial)
            ));
        }
        digital_link(&[("01", gtin), ("21", serial)])
            .or_else(|_| Ok(as_recorded(&[("01", gtin), ("21", serial)])))
    }

    /// A class of items: a lot of a GTIN (LGTIN), or the GTIN itself.
    pub fn class(&self, gtin: &str, lot: Option<&str>) -> Result<String> {
        match (self.urn(), lot) {
            (true, Some(lot)) => {
                let (cp, rest) = self.split_gtin(gtin)?;
                Ok(format!(
                    "urn:epc:class:lgtin:{cp}.{rest}.{}",
                    urn_value(lot)
                ))
            }
            (true, None) => {
                let (cp, rest) = self.split_gtin(gtin)?;
                Ok(format!("urn:epc:idpat:sgtin:{cp}.{rest}.*"))
            }
            (false, Some(lot)) => digital_link(&[("01", gtin), ("10", lot)])
                .or_else(|_| Ok(as_recorded(&[("01", gtin), ("10", lot)]))),
            (false, None) => {
                digital_link(&[("01", gtin)]).or_else(|_| Ok(as_recorded(&[("01", gtin)])))
            }
        }
    }

    /// A pallet or case (SSCC, AI 00).
    pub fn sscc(&self, sscc: &str) -> Result<String> {
        if self.urn() && sscc.len() == 18 && sscc.is_ascii() {
            // Extension digit, then company prefix and serial reference;
            // the check digit is dropped.
            let l = self.prefix_length("SSCC", sscc, &sscc[1..])?;
            return Ok(format!(
                "urn:epc:id:sscc:{}.{}{}",
                &sscc[1..1 + l],
                &sscc[..1],
                &sscc[1 + l..17]
            ));
        }
        digital_link(&[("00", sscc)])
    }

    /// A place (SGLN): a GLN, with an extension (AI 254) for a part of it
    /// such as a station.
    pub fn place(&self, gln: &str, extension: Option<&str>) -> Result<String> {
        if self.urn() && gln.len() == 13 && gln.is_ascii() {
            let l = self.prefix_length("GLN", gln, gln)?;
            return Ok(format!(
                "urn:epc:id:sgln:{}.{}.{}",
                &gln[..l],
                &gln[l..12],
                urn_value(extension.unwrap_or("0"))
            ));
        }
        match extension {
            Some(ext) => digital_link(&[("414", gln), ("254", ext)]),
            None => digital_link(&[("414", gln)]),
        }
    }

    /// A party (PGLN, AI 417).
    pub fn party(&self, gln: &str) -> Result<String> {
        if self.urn() && gln.len() == 13 && gln.is_ascii() {
            let l = self.prefix_length("GLN", gln, gln)?;
            return Ok(format!("urn:epc:id:pgln:{}.{}", &gln[..l], &gln[l..12]));
        }
        digital_link(&[("417", gln)])
    }

    /// A party known only by its name: the configured base and the name,
    /// trimmed and percent-encoded (the same name, the same URI).
    pub fn party_by_name(&self, name: &str) -> String {
        let mut out = self.settings.party_base.clone();
        let _ = write!(out, "{}", utf8_percent_encode(name.trim(), PARTY_NAME));
        out
    }
}

fn urn_value(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, URN_VALUE).to_string()
}

/// The Digital Link path of values GS1's engine refuses (a GTIN with a
/// wrong check digit written by an older tool): the journal holds them,
/// so the export writes them as recorded, percent-encoded, rather than
/// stop or drop the movement; a partner's validator will name them.
fn as_recorded(elements: &[(&str, &str)]) -> String {
    let mut uri = String::from("https://id.gs1.org");
    for (ai, value) in elements {
        let _ = write!(uri, "/{ai}/{}", utf8_percent_encode(value, PARTY_NAME));
    }
    uri
}

/// The Digital Link URI of the element string `(ai)value…` under GS1's
/// canonical stem, rendered by the GS1 engine.
fn digital_link(elements: &[(&str, &str)]) -> Result<String> {
    let mut data = Vec::with_capacity(64);
    for (i, (ai, value)) in elements.iter().enumerate() {
        if i > 0 {
            data.push(crate::gs1::GS);
        }
        data.extend_from_slice(ai.as_bytes());
        data.extend_from_slice(value.as_bytes());
    }
    let what = || {
        elements
            .iter()
            .map(|(ai, v)| format!("({ai}){v}"))
            .collect::<String>()
    };
    let scan = crate::gs1::parse_scan(&data, None).map_err(|e| EpcisError::Identifier {
        what: what(),
        reason: e.to_string(),
    })?;
    let parsed = scan.content.gs1().ok_or_else(|| EpcisError::Identifier {
        what: what(),
        reason: "not GS1 data".into(),
    })?;
    crate::gs1::render_digital_link(parsed, "").map_err(|e| EpcisError::Identifier {
        what: what(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::epcis::settings::EpcisConfig;

    fn settings(urn: bool) -> Settings {
        let s = Settings::new(
            Some("9506000000015"),
            &EpcisConfig {
                company_prefix_length: Some(7),
                party_base: Some("https://example.com/party/".into()),
                ..EpcisConfig::default()
            },
        )
        .unwrap();
        if urn {
            s.with_urns().unwrap()
        } else {
            s
        }
    }

    #[test]
    fn digital_link_identifiers_are_gs1_canonical() {
        let s = settings(false);
        let ids = Identifiers::new(&s);
        assert_eq!(
            ids.item("09506000134352", "S/1").unwrap(),
            "https://id.gs1.org/01/09506000134352/21/S%2F1"
        );
        assert_eq!(
            ids.class("09506000134352", Some("LOT42")).unwrap(),
            "https://id.gs1.org/01/09506000134352/10/LOT42"
        );
        assert_eq!(
            ids.class("09506000134352", None).unwrap(),
            "https://id.gs1.org/01/09506000134352"
        );
        assert_eq!(
            ids.place("9506000000015", Some("dock-1")).unwrap(),
            "https://id.gs1.org/414/9506000000015/254/dock-1"
        );
        assert_eq!(
            ids.party("9506000000015").unwrap(),
            "https://id.gs1.org/417/9506000000015"
        );
        assert_eq!(
            ids.sscc("095060001234567893").unwrap(),
            "https://id.gs1.org/00/095060001234567893"
        );
        assert_eq!(
            ids.party_by_name(" Müller & Söhne "),
            "https://example.com/party/M%C3%BCller%20%26%20S%C3%B6hne"
        );
    }

    #[test]
    fn urns_split_at_the_company_prefix() {
        let s = settings(true);
        let ids = Identifiers::new(&s);
        assert_eq!(
            ids.item("09506000134352", "S/1").unwrap(),
            "urn:epc:id:sgtin:9506000.013435.S%2F1"
        );
        assert_eq!(
            ids.class("09506000134352", Some("L1")).unwrap(),
            "urn:epc:class:lgtin:9506000.013435.L1"
        );
        assert_eq!(
            ids.class("09506000134352", None).unwrap(),
            "urn:epc:idpat:sgtin:9506000.013435.*"
        );
        assert_eq!(
            ids.place("9506000000015", Some("dock-1")).unwrap(),
            "urn:epc:id:sgln:9506000.00001.dock-1"
        );
        assert_eq!(
            ids.place("9506000000015", None).unwrap(),
            "urn:epc:id:sgln:9506000.00001.0"
        );
        assert_eq!(
            ids.party("9506000000015").unwrap(),
            "urn:epc:id:pgln:9506000.00001"
        );
        assert_eq!(
            ids.sscc("095060001234567893").unwrap(),
            "urn:epc:id:sscc:9506000.0123456789"
        );
    }

    #[test]
    fn each_key_takes_the_length_of_the_longest_prefix_it_starts_with() {
        use crate::epcis::settings::CompanyPrefix;
        let entry = |prefix: &str, length| CompanyPrefix {
            prefix: prefix.into(),
            length,
        };
        let config = |default| EpcisConfig {
            company_prefix_length: default,
            company_prefixes: vec![entry("950", 9), entry("95060001", 10), entry("40", 7)],
            ..EpcisConfig::default()
        };
        let s = Settings::new(Some("9506000000015"), &config(Some(8)))
            .unwrap()
            .with_urns()
            .unwrap();
        let ids = Identifiers::new(&s);
        // GTIN 0 9506000134352: digits after the indicator start 95060001 (10).
        assert_eq!(
            ids.item("09506000134352", "S1").unwrap(),
            "urn:epc:id:sgtin:9506000134.035.S1"
        );
        // 950… but not 95060001…: 9 digits.
        assert_eq!(
            ids.class("09506000234352", Some("L1")).unwrap(),
            "urn:epc:class:lgtin:950600023.0435.L1"
        );
        // A GLN of another company: 40… (7).
        assert_eq!(
            ids.party("4012345000009").unwrap(),
            "urn:epc:id:pgln:4012345.00000"
        );
        // The site's own GLN 9506000000015 starts 950 but not 95060001: 9.
        assert_eq!(
            ids.place("9506000000015", Some("dock-1")).unwrap(),
            "urn:epc:id:sgln:950600000.001.dock-1"
        );
        // SSCC 0 95060001234567893: after the extension digit, 95060001 (10).
        assert_eq!(
            ids.sscc("095060001234567893").unwrap(),
            "urn:epc:id:sscc:9506000123.0456789"
        );
        // No entry covers 54…: the default 8.
        assert_eq!(
            ids.party("5412345000013").unwrap(),
            "urn:epc:id:pgln:54123450.0001"
        );
        // Without a default, an uncovered key is named, with what to do.
        let s = Settings::new(Some("9506000000015"), &config(None))
            .unwrap()
            .with_urns()
            .unwrap();
        let e = Identifiers::new(&s).party("5412345000013").unwrap_err();
        assert!(
            e.to_string().contains("GLN 5412345000013")
                && e.to_string().contains("company_prefixes"),
            "{e}"
        );
    }

    #[test]
    fn an_item_gs1_refuses_is_written_as_recorded_not_lost() {
        let s = settings(false);
        let ids = Identifiers::new(&s);
        assert_eq!(
            ids.class("09506000130000", Some("L 1")).unwrap(),
            "https://id.gs1.org/01/09506000130000/10/L%201"
        );
        assert_eq!(
            ids.item("09506000130000", "S1").unwrap(),
            "https://id.gs1.org/01/09506000130000/21/S1"
        );
    }

    #[test]
    fn a_station_that_is_no_gln_extension_is_named() {
        let s = settings(false);
        let e = Identifiers::new(&s)
            .place("9506000000015", Some("a station id far longer than twenty"))
            .unwrap_err();
        assert!(e.to_string().contains("(254)a station id"), "{e}");
    }
}
