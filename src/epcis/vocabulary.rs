//! CBV 2.0 words for scantrail's kinds of movement: the business step and
//! disposition of each, whether the goods are at the site afterwards
//! (bizLocation), and the UN/ECE Recommendation 20 code of a measure's
//! unit. Bare CBV words are what EPCIS 2.0 JSON-LD writes (the context
//! expands them to `https://ref.gs1.org/cbv/…`).

use crate::model::Kind;

/// What a kind of movement means in CBV terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// `bizStep`: receiving, shipping.
    pub biz_step: &'static str,
    /// `disposition` of the goods after the event.
    pub disposition: &'static str,
    /// Whether the goods are at the site after the event (bizLocation is
    /// the site): not when shipped.
    pub at_site: bool,
    /// Whether the goods come in (source is the counterparty) or go out
    /// (destination is).
    pub inbound: bool,
    /// Whether the counterparty is another site of the company (owning
    /// party is the company on both sides).
    pub own_site: bool,
}

/// The step of a kind, or `None` for what is not shared with partners:
/// stock count adjustments (internal), and corrections, which repeat the
/// corrected movement's own step.
pub fn step(kind: Kind) -> Option<Step> {
    let step = |biz_step, disposition, at_site, inbound, own_site| Step {
        biz_step,
        disposition,
        at_site,
        inbound,
        own_site,
    };
    match kind {
        Kind::Receipt => Some(step("receiving", "in_progress", true, true, false)),
        Kind::Dispatch => Some(step("shipping", "in_transit", false, false, false)),
        Kind::Return => Some(step("receiving", "returned", true, true, false)),
        Kind::TransferOut => Some(step("shipping", "in_transit", false, false, true)),
        Kind::TransferIn => Some(step("receiving", "in_progress", true, true, true)),
        Kind::Adjustment | Kind::Correction => None,
    }
}

/// The UN/ECE Rec. 20 code of a unit as the GS1 dictionary's measure AIs
/// name it (`kg` → `KGM`); `None` for a count or a unit without a code.
pub fn unit_code(unit: &str) -> Option<&'static str> {
    Some(match unit {
        "kg" => "KGM",
        "lb" => "LBR",
        "t" => "TNE",
        "m" => "MTR",
        "in" => "INH",
        "ft" => "FOT",
        "yd" => "YRD",
        "m²" => "MTK",
        "in²" => "INK",
        "ft²" => "FTK",
        "yd²" => "YDK",
        "l" => "LTR",
        "m³" => "MTQ",
        "in³" => "INQ",
        "ft³" => "FTQ",
        "yd³" => "YDQ",
        "qt (US)" | "qt" => "QTL",
        "gal. (US)" | "gal." => "GLL",
        "oz" => "ONZ",
        "kg/m²" => "28",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_as_the_issue_says() {
        let r = step(Kind::Receipt).unwrap();
        assert_eq!(
            (r.biz_step, r.disposition, r.at_site),
            ("receiving", "in_progress", true)
        );
        let d = step(Kind::Dispatch).unwrap();
        assert_eq!(
            (d.biz_step, d.disposition, d.at_site),
            ("shipping", "in_transit", false)
        );
        let ret = step(Kind::Return).unwrap();
        assert_eq!((ret.biz_step, ret.disposition), ("receiving", "returned"));
        assert!(step(Kind::TransferOut).unwrap().own_site);
        assert!(step(Kind::TransferIn).unwrap().inbound);
        assert_eq!(step(Kind::Adjustment), None);
    }

    #[test]
    fn units_have_their_un_ece_codes() {
        assert_eq!(unit_code("kg"), Some("KGM"));
        assert_eq!(unit_code("l"), Some("LTR"));
        assert_eq!(unit_code("m"), Some("MTR"));
        assert_eq!(unit_code(""), None);
    }
}
