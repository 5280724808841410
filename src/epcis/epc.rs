//! Reading a partner's identifiers back into GS1 keys: EPCIS 2.0 allows
//! every identifier as a GS1 Digital Link URI (`https://id.gs1.org/01/…/21/…`)
//! or as an EPC URN (`urn:epc:id:sgtin:…`, TDS 2.0), and partners send
//! both, so capture takes both and compares keys, never spellings. The
//! writing side is `identifiers`; this is its inverse for what capture
//! needs: items, lots, pallets, parties and locations, and the CBV's
//! vocabulary written bare, as a URN or as a `ref.gs1.org` URI.

/// The Digital Link prefix of every identifier read.
const DL: &str = "https://id.gs1.org/";

/// An object a partner names in an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Epc {
    /// A serialised trade item.
    Serial {
        /// Its GTIN-14.
        gtin: String,
        /// Its serial (AI 21), unescaped.
        serial: String,
    },
    /// A lot of a trade item (an LGTIN class).
    Lot {
        /// Its GTIN-14.
        gtin: String,
        /// Its lot (AI 10), unescaped.
        lot: String,
    },
    /// A pallet or case by its SSCC (18 digits).
    Sscc(String),
}

/// `uri` as an object, if it is a serialised item, a lot or an SSCC in
/// Digital Link or EPC URN form with valid check digits.
pub fn epc(uri: &str) -> Option<Epc> {
    if let Some(rest) = uri.strip_prefix(DL) {
        let parts: Vec<&str> = rest.split('/').collect();
        return match parts.as_slice() {
            ["01", gtin, ai @ ("21" | "10"), value] if is_key(gtin, 14) && !value.is_empty() => {
                let value = percent_decoded(value)?;
                let gtin = (*gtin).to_owned();
                Some(if *ai == "21" {
                    Epc::Serial {
                        gtin,
                        serial: value,
                    }
                } else {
                    Epc::Lot { gtin, lot: value }
                })
            }
            ["00", sscc] if is_key(sscc, 18) => Some(Epc::Sscc((*sscc).to_owned())),
            _ => None,
        };
    }
    if let Some(rest) = uri.strip_prefix("urn:epc:id:sgtin:") {
        let (gtin, serial) = urn_gtin(rest)?;
        return Some(Epc::Serial { gtin, serial });
    }
    if let Some(rest) = uri.strip_prefix("urn:epc:class:lgtin:") {
        let (gtin, lot) = urn_gtin(rest)?;
        return Some(Epc::Lot { gtin, lot });
    }
    if let Some(rest) = uri.strip_prefix("urn:epc:id:sscc:") {
        let (prefix, reference) = rest.split_once('.')?;
        // The extension digit leads the serial reference in the URN and
        // the key alike.
        let (extension, reference) = reference.split_at_checked(1)?;
        let body = format!("{extension}{prefix}{reference}");
        return (body.len() == 17 && all_digits(&body) && valid_prefix(prefix))
            .then(|| Epc::Sscc(with_check_digit(&body)));
    }
    None
}

/// The GLN of a party (`…/417/GLN`, `urn:epc:id:pgln:…`) or of a location
/// (`…/414/GLN[/254/…]`, `urn:epc:id:sgln:…`).
pub fn gln(uri: &str) -> Option<String> {
    if let Some(rest) = uri.strip_prefix(DL) {
        let rest = rest
            .strip_prefix("417/")
            .or_else(|| rest.strip_prefix("414/"))?;
        let gln = rest.split('/').next()?;
        return is_key(gln, 13).then(|| gln.to_owned());
    }
    let rest = uri
        .strip_prefix("urn:epc:id:pgln:")
        .or_else(|| uri.strip_prefix("urn:epc:id:sgln:"))?;
    let mut parts = rest.split('.');
    let (prefix, reference) = (parts.next()?, parts.next()?);
    let body = format!("{prefix}{reference}");
    (body.len() == 12 && all_digits(&body) && valid_prefix(prefix)).then(|| with_check_digit(&body))
}

/// A CBV 2.0 term (`shipping`, `desadv`, `owning_party`) however it is
/// written: bare as JSON-LD compacts it, as the CBV's web URI
/// (`https://ref.gs1.org/cbv/BizStep-shipping`) or as its EPCIS 1.x URN
/// (`urn:epcglobal:cbv:bizstep:shipping`). `web` and `urn` name the
/// vocabulary (`BizStep`, `bizstep`).
pub fn cbv<'a>(value: &'a str, web: &str, urn: &str) -> &'a str {
    value
        .strip_prefix("https://ref.gs1.org/cbv/")
        .and_then(|v| v.strip_prefix(web))
        .and_then(|v| v.strip_prefix('-'))
        .or_else(|| {
            value
                .strip_prefix("urn:epcglobal:cbv:")
                .and_then(|v| v.strip_prefix(urn))
                .and_then(|v| v.strip_prefix(':'))
        })
        .unwrap_or(value)
}

/// `PREFIX.INDICATOR+ITEMREF.VALUE` of an SGTIN or LGTIN URN as
/// (GTIN-14, VALUE).
fn urn_gtin(rest: &str) -> Option<(String, String)> {
    let mut parts = rest.splitn(3, '.');
    let (prefix, item, value) = (parts.next()?, parts.next()?, parts.next()?);
    let (indicator, item) = item.split_at_checked(1)?;
    let body = format!("{indicator}{prefix}{item}");
    let value = percent_decoded(value)?;
    (body.len() == 13 && all_digits(&body) && valid_prefix(prefix) && !value.is_empty())
        .then(|| (with_check_digit(&body), value))
}

/// A company prefix is 6 to 12 digits (TDS's partition table).
fn valid_prefix(prefix: &str) -> bool {
    (6..=12).contains(&prefix.len())
}

fn all_digits(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit())
}

/// `len` digits whose last is the GS1 check digit of the others.
fn is_key(s: &str, len: usize) -> bool {
    s.len() == len && all_digits(s) && with_check_digit(&s[..len - 1]) == s
}

/// `body` (digits) with its GS1 mod-10 check digit appended.
fn with_check_digit(body: &str) -> String {
    crate::gs1::lint::with_check_digit(body).unwrap_or_default()
}

/// `%2F`-style escapes undone (both URI forms escape a serial's `/`, `%`
/// and the like); `None` for a broken escape or bytes that are not UTF-8.
fn percent_decoded(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digital_link_and_urn_name_the_same_keys() {
        let serial = Epc::Serial {
            gtin: "09506000134352".into(),
            serial: "S/1".into(),
        };
        assert_eq!(
            epc("https://id.gs1.org/01/09506000134352/21/S%2F1"),
            Some(serial.clone())
        );
        assert_eq!(epc("urn:epc:id:sgtin:9506000.013435.S%2F1"), Some(serial));
        let lot = Epc::Lot {
            gtin: "09506000134352".into(),
            lot: "LOT42".into(),
        };
        assert_eq!(
            epc("urn:epc:class:lgtin:9506000.013435.LOT42"),
            Some(lot.clone())
        );
        assert_eq!(
            epc("https://id.gs1.org/01/09506000134352/10/LOT42"),
            Some(lot)
        );
        assert_eq!(
            epc("urn:epc:id:sscc:9506000.1000000001"),
            Some(Epc::Sscc("195060000000000012".into()))
        );
        assert_eq!(
            epc("https://id.gs1.org/00/195060000000000012"),
            Some(Epc::Sscc("195060000000000012".into()))
        );
        // A wrong check digit, a GTIN without serial, a foreign URI.
        assert_eq!(epc("https://id.gs1.org/01/09506000134353/21/S1"), None);
        assert_eq!(epc("https://id.gs1.org/01/09506000134352"), None);
        assert_eq!(epc("urn:epc:id:sgtin:95.013435.S1"), None);
        assert_eq!(epc("https://example.com/01/09506000134352/21/S1"), None);
    }

    #[test]
    fn parties_and_locations_read_as_glns() {
        for uri in [
            "https://id.gs1.org/417/9506000000039",
            "https://id.gs1.org/414/9506000000039/254/dock-1",
            "urn:epc:id:pgln:9506000.00003",
            "urn:epc:id:sgln:9506000.00003.0",
        ] {
            assert_eq!(gln(uri).as_deref(), Some("9506000000039"), "{uri}");
        }
        assert_eq!(gln("https://id.gs1.org/417/9506000000038"), None);
    }

    #[test]
    fn cbv_terms_read_bare_however_written() {
        for step in [
            "shipping",
            "https://ref.gs1.org/cbv/BizStep-shipping",
            "urn:epcglobal:cbv:bizstep:shipping",
        ] {
            assert_eq!(cbv(step, "BizStep", "bizstep"), "shipping");
        }
        assert_eq!(cbv("urn:epcglobal:cbv:btt:desadv", "BTT", "btt"), "desadv");
    }
}
