//! The EPCIS 2.0 events scantrail writes, as types: serialising one gives
//! the JSON-LD of the standard (field names and order as in GS1's own
//! examples), and the event hash reads the same fields, so what is hashed
//! is what is written.

use serde::Serialize;

/// `ObjectEvent` or `AggregationEvent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum EventType {
    /// What happened to some objects.
    ObjectEvent,
    /// Objects put on or taken off a pallet.
    AggregationEvent,
}

/// One EPCIS event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// The event type.
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// When it happened: UTC, milliseconds.
    pub event_time: String,
    /// The site's offset from UTC at that instant.
    pub event_time_zone_offset: String,
    /// A stable ID (UUIDv5 of site and seq, or the event hash).
    #[serde(rename = "eventID")]
    pub event_id: String,
    /// Set on the repeat of an event a correction declared wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_declaration: Option<ErrorDeclaration>,
    /// An AggregationEvent's pallet (SSCC).
    #[serde(rename = "parentID", skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// Serialised items of an ObjectEvent.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub epc_list: Vec<String>,
    /// Serialised items on or off an AggregationEvent's pallet.
    #[serde(rename = "childEPCs", skip_serializing_if = "Vec::is_empty")]
    pub child_epcs: Vec<String>,
    /// Lot- or GTIN-level quantities of an ObjectEvent.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub quantity_list: Vec<QuantityElement>,
    /// Lot- or GTIN-level quantities on or off the pallet.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub child_quantity_list: Vec<QuantityElement>,
    /// `OBSERVE` (ObjectEvent); `ADD` / `DELETE` (packing / unpacking).
    pub action: &'static str,
    /// The CBV business step.
    pub biz_step: &'static str,
    /// The CBV disposition.
    pub disposition: &'static str,
    /// The station: the site's SGLN with the station as extension.
    pub read_point: Id,
    /// The site, when the goods are there after the event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub biz_location: Option<Id>,
    /// Purchase order, order, despatch advice.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub biz_transaction_list: Vec<BizTransaction>,
    /// Where the goods came from: owning party and location.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub source_list: Vec<Source>,
    /// Where the goods went: owning party and location.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub destination_list: Vec<Destination>,
}

/// `{"id": …}` of readPoint and bizLocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Id {
    /// The place's URI.
    pub id: String,
}

/// One line of a quantity list.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuantityElement {
    /// The class (LGTIN or GTIN).
    pub epc_class: String,
    /// How much: a count, or a measure with `uom`; none where the amount
    /// is not known (a hold covers a whole lot, however much is there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantity: Option<Amount>,
    /// The UN/ECE unit of a measure; none for a count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uom: Option<&'static str>,
}

/// An exact decimal amount (mantissa × 10^-scale), written as a JSON
/// number without a trailing zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amount {
    /// The digits.
    pub mantissa: i128,
    /// How many of them are decimals.
    pub scale: u8,
}

impl Amount {
    /// The amount as the event hash and JSON write it: `12`, `1.25`.
    pub fn text(&self) -> String {
        let negative = self.mantissa < 0;
        let digits = self.mantissa.unsigned_abs().to_string();
        let scale = usize::from(self.scale);
        let (whole, fraction) = if scale == 0 {
            (digits, String::new())
        } else {
            let padded = format!("{digits:0>width$}", width = scale + 1);
            let (w, f) = padded.split_at(padded.len() - scale);
            (w.to_owned(), f.trim_end_matches('0').to_owned())
        };
        let sign = if negative { "-" } else { "" };
        if fraction.is_empty() {
            format!("{sign}{whole}")
        } else {
            format!("{sign}{whole}.{fraction}")
        }
    }

    /// The sum of two amounts of the same unit.
    pub fn plus(self, other: Amount) -> Amount {
        let scale = self.scale.max(other.scale);
        let widen = |a: Amount| a.mantissa * 10i128.pow(u32::from(scale - a.scale));
        Amount {
            mantissa: widen(self) + widen(other),
            scale,
        }
    }
}

impl Serialize for Amount {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = self.text();
        // Whole amounts as integers; a decimal as the shortest float that
        // reads back as the same decimal (what `text` says, e.g. 1.25).
        match text.parse::<i64>() {
            Ok(n) => s.serialize_i64(n),
            Err(_) => s.serialize_f64(text.parse::<f64>().map_err(serde::ser::Error::custom)?),
        }
    }
}

/// One business transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BizTransaction {
    /// `po`, `desadv`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The document's URI.
    pub biz_transaction: String,
}

/// One source: owning party or location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Source {
    /// `owning_party` or `location`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The party's or place's URI.
    pub source: String,
}

/// One destination: owning party or location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Destination {
    /// `owning_party` or `location`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The party's or place's URI.
    pub destination: String,
}

/// Why a repeated event is declared wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDeclaration {
    /// When the correction was recorded.
    pub declaration_time: String,
    /// `did_not_occur` or `incorrect_data`.
    pub reason: &'static str,
    /// The events that replace it, for `incorrect_data`.
    #[serde(rename = "correctiveEventIDs", skip_serializing_if = "Vec::is_empty")]
    pub corrective_event_ids: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_exact_without_trailing_zeros() {
        let a = |mantissa, scale| Amount { mantissa, scale }.text();
        assert_eq!(a(12, 0), "12");
        assert_eq!(a(1250, 3), "1.25");
        assert_eq!(a(5, 3), "0.005");
        assert_eq!(a(1000, 3), "1");
        assert_eq!(a(-1250, 3), "-1.25");
        let sum = Amount {
            mantissa: 1250,
            scale: 3,
        }
        .plus(Amount {
            mantissa: 5,
            scale: 1,
        });
        assert_eq!(sum.text(), "1.75");
        assert_eq!(
            serde_json::to_string(&Amount {
                mantissa: 1250,
                scale: 3
            })
            .unwrap(),
            "1.25"
        );
    }
}
