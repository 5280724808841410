//! A movement (or the movements of one document at one station) as an
//! EPCIS 2.0 ObjectEvent, `action: OBSERVE`: scantrail observes goods
//! moving, it never commissions them. Serialised items go in `epcList`,
//! lot- and GTIN-level quantities in `quantityList`; the station is the
//! readPoint, the site the bizLocation (not after shipping); source and
//! destination name the owning parties and places on both sides, the
//! company on both for a transfer between own sites.

use std::collections::{HashMap, HashSet};

use super::error::Result;
use super::event::{
    Amount, BizTransaction, Destination, Event, EventType, Id, QuantityElement, Source,
};
use super::event_id::event_id;
use super::identifiers::Identifiers;
use super::settings::{EventIds, Format, Settings};
use super::time::{event_time, offset_at, offset_seconds};
use super::vocabulary::{step, unit_code, Step};
use crate::model::{Counterparty, Movement, Quantity};

/// Maps movements to events for one export; keeps the few identifiers
/// every event repeats (the site, the company, each station) so they are
/// rendered once.
pub struct Mapper<'a> {
    pub(super) settings: &'a Settings,
    pub(super) ids: Identifiers<'a>,
    site_place: String,
    company_party: String,
    read_points: HashMap<String, String>,
    /// Class URIs by GTIN and lot: most movements name a class seen
    /// shortly before. Cleared at `CLASSES` entries, so it stays small.
    classes: HashMap<String, String>,
    /// A counterparty GLN's (party, place) URIs, `None` when GS1 refuses
    /// the GLN: a site deals with few partners, each named in many
    /// movements. Cleared at `CLASSES` entries.
    glns: HashMap<String, Option<(String, String)>>,
    /// Whether GS1 accepts a GTIN, by GTIN: a serialised item of an
    /// accepted GTIN with a plain serial is written straight away
    /// (`fast_item`) instead of parsed and rendered by the GS1 engine, a
    /// million times over. Cleared at `CLASSES` entries.
    gtins: HashMap<String, bool>,
    /// The last business transaction URI of each kind (our PO, their
    /// order, the despatch advice) and what it was made from: movements
    /// of one document follow each other.
    last_transactions: [Option<(String, String)>; 3],
    /// The last UTC offset written, in seconds, and as text: a site's
    /// offset changes twice a year.
    last_offset: Option<(i32, String)>,
}

/// The most class URIs remembered.
const CLASSES: usize = 4096;

impl<'a> Mapper<'a> {
    /// A mapper for `settings`.
    pub fn new(settings: &'a Settings) -> Result<Mapper<'a>> {
        let ids = Identifiers::new(settings);
        Ok(Mapper {
            site_place: ids.place(&settings.site_gln, None)?,
            company_party: ids.party(&settings.company)?,
            settings,
            ids,
            read_points: HashMap::new(),
            classes: HashMap::new(),
            glns: HashMap::new(),
            gtins: HashMap::new(),
            last_transactions: Default::default(),
            last_offset: None,
        })
    }

    /// The settings mapped with.
    pub fn settings(&self) -> &Settings {
        self.settings
    }

    /// `eventTimeZoneOffset` at `t`: the site's offset then.
    pub(super) fn offset(&mut self, t: chrono::DateTime<chrono::Utc>) -> String {
        let seconds = offset_seconds(self.settings.time_zone, t);
        match &self.last_offset {
            Some((s, text)) if *s == seconds => text.clone(),
            _ => {
                let text = offset_at(self.settings.time_zone, t);
                self.last_offset = Some((seconds, text.clone()));
                text
            }
        }
    }

    /// The station's readPoint: the site's SGLN with the station's id as
    /// GLN extension (AI 254).
    pub(super) fn read_point(&mut self, station: &str) -> Result<String> {
        if let Some(uri) = self.read_points.get(station) {
            return Ok(uri.clone());
        }
        let uri = self.ids.place(&self.settings.site_gln, Some(station))?;
        self.read_points.insert(station.to_owned(), uri.clone());
        Ok(uri)
    }

    pub(super) fn site_place(&self) -> &str {
        &self.site_place
    }

    /// The ObjectEvent of `group`: movements of one kind, station,
    /// counterparty and documents, in journal order (one movement unless
    /// grouping by document). `None` for kinds not shared with partners.
    pub fn object_event(&mut self, group: &[Movement]) -> Result<Option<Event>> {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            return Ok(None);
        };
        let Some(step) = step(first.body.kind) else {
            return Ok(None);
        };
        let b = &last.body;
        let (epc_list, quantity_list) = self.objects(group)?;
        let mut event = Event {
            event_type: EventType::ObjectEvent,
            event_time: event_time(b.device_time),
            event_time_zone_offset: self.offset(b.device_time),
            event_id: group_event_id(group, ""),
            error_declaration: None,
            parent_id: None,
            epc_list,
            child_epcs: Vec::new(),
            quantity_list,
            child_quantity_list: Vec::new(),
            action: "OBSERVE",
            biz_step: step.biz_step,
            disposition: step.disposition,
            read_point: Id {
                id: self.read_point(&b.station)?,
            },
            biz_location: step.at_site.then(|| Id {
                id: self.site_place.clone(),
            }),
            biz_transaction_list: self.transactions(last)?,
            source_list: Vec::new(),
            destination_list: Vec::new(),
        };
        self.parties(&mut event, step, &b.counterparty)?;
        self.finish(&mut event);
        Ok(Some(event))
    }

    /// Sets the event hash as eventID when the settings ask for it.
    pub(super) fn finish(&self, event: &mut Event) {
        if self.settings.event_ids == EventIds::Hash {
            event.event_id = super::hash::event_hash(event);
        }
    }

    /// (epcList, quantityList) of a group: each serial once; quantities of
    /// the same class and unit summed.
    pub(super) fn objects(
        &mut self,
        group: &[Movement],
    ) -> Result<(Vec<String>, Vec<QuantityElement>)> {
        let mut epcs: Vec<String> = Vec::new();
        // Each serial once: by looking through the list for the usual
        // one or few, through a set for a document's thousands.
        let mut seen: HashSet<String> = HashSet::new();
        let mut quantities: Vec<QuantityElement> = Vec::new();
        for m in group {
            let b = &m.body;
            if let Some(serial) = &b.serial {
                let epc = self.item(&b.gtin, serial)?;
                if group.len() <= 16 {
                    if !epcs.contains(&epc) {
                        epcs.push(epc);
                    }
                } else if seen.insert(epc.clone()) {
                    epcs.push(epc);
                }
                continue;
            }
            let class = self.class(&b.gtin, b.lot.as_deref())?;
            let (amount, uom) = amount_of(&b.quantity);
            match quantities
                .iter_mut()
                .find(|q| q.epc_class == class && q.uom == uom)
            {
                Some(q) => q.quantity = Some(q.quantity.map_or(amount, |a| a.plus(amount))),
                None => quantities.push(QuantityElement {
                    epc_class: class,
                    quantity: Some(amount),
                    uom,
                }),
            }
        }
        Ok((epcs, quantities))
    }

    /// The documents of a movement as business transactions: our purchase
    /// order (`po`, issued by the company), the customer's order (`po`,
    /// issued by the counterparty), the despatch advice (`desadv`, its GSIN
    /// as a Digital Link URI).
    pub(super) fn transactions(&mut self, m: &Movement) -> Result<Vec<BizTransaction>> {
        let d = &m.body.documents;
        let mut out = Vec::new();
        if let Some(po) = &d.purchase_order {
            let company = &self.settings.company;
            out.push(BizTransaction {
                kind: "po",
                biz_transaction: remembered(&mut self.last_transactions[0], po, || {
                    bt_urn(company, po)
                }),
            });
        }
        if let Some(order) = &d.order {
            let issuer = self
                .valid_gln(&m.body.counterparty)?
                .unwrap_or(&self.settings.company)
                .to_owned();
            let key = format!("{issuer}\u{1d}{order}");
            out.push(BizTransaction {
                kind: "po",
                biz_transaction: remembered(&mut self.last_transactions[1], &key, || {
                    bt_urn(&issuer, order)
                }),
            });
        }
        if let Some(gsin) = &d.despatch_advice {
            // The despatch advice is the sender's: the supplier's on the
            // way in, ours on the way out.
            let issuer = match step(m.body.kind) {
                Some(s) if s.inbound && !s.own_site => self
                    .valid_gln(&m.body.counterparty)?
                    .unwrap_or(&self.settings.company)
                    .to_owned(),
                _ => self.settings.company.clone(),
            };
            let key = format!("{issuer}\u{1d}{gsin}");
            let uri =
                remembered(
                    &mut self.last_transactions[2],
                    &key,
                    || match crate::gs1::check_value("402", gsin) {
                        Ok(()) => format!("https://id.gs1.org/402/{gsin}"),
                        Err(_) => bt_urn(&issuer, gsin),
                    },
                );
            out.push(BizTransaction {
                kind: "desadv",
                biz_transaction: uri,
            });
        }
        Ok(out)
    }

    /// The counterparty's GLN, when GS1 accepts it (remembered).
    fn valid_gln<'c>(&mut self, counterparty: &'c Counterparty) -> Result<Option<&'c str>> {
        match counterparty.gln.as_deref() {
            Some(gln) if self.gln_uris(gln)?.is_some() => Ok(Some(gln)),
            _ => Ok(None),
        }
    }

    /// A serialised item's URI: straight from its parts when the GTIN is
    /// one GS1 accepts and the serial has only characters that Digital
    /// Link leaves as they are (what the GS1 engine would write, as the
    /// tests check); else the engine's (or the URN's).
    pub(super) fn item(&mut self, gtin: &str, serial: &str) -> Result<String> {
        if self.settings.format == Format::DigitalLink
            && plain_serial(serial)
            && self.gtin_accepted(gtin)
        {
            let mut uri = String::with_capacity(44 + serial.len());
            uri.push_str("https://id.gs1.org/01/");
            uri.push_str(gtin);
            uri.push_str("/21/");
            uri.push_str(serial);
            return Ok(uri);
        }
        self.ids.item(gtin, serial)
    }

    fn gtin_accepted(&mut self, gtin: &str) -> bool {
        if let Some(ok) = self.gtins.get(gtin) {
            return *ok;
        }
        let ok = crate::gs1::check_value("01", gtin).is_ok();
        if self.gtins.len() >= CLASSES {
            self.gtins.clear();
        }
        self.gtins.insert(gtin.to_owned(), ok);
        ok
    }

    /// A counterparty GLN's party and place URIs, when GS1 accepts it.
    fn gln_uris(&mut self, gln: &str) -> Result<Option<(String, String)>> {
        if let Some(known) = self.glns.get(gln) {
            return Ok(known.clone());
        }
        let uris = match crate::gs1::check_value("417", gln) {
            Ok(()) => Some((self.ids.party(gln)?, self.ids.place(gln, None)?)),
            Err(_) => None,
        };
        if self.glns.len() >= CLASSES {
            self.glns.clear();
        }
        self.glns.insert(gln.to_owned(), uris.clone());
        Ok(uris)
    }

    /// Owning party and location on both sides.
    pub(super) fn parties(
        &mut self,
        event: &mut Event,
        step: Step,
        counterparty: &Counterparty,
    ) -> Result<()> {
        let (from, to) = self.sides(step, counterparty)?;
        event.source_list = from
            .into_iter()
            .filter_map(|(kind, uri)| uri.map(|source| Source { kind, source }))
            .collect();
        event.destination_list = to
            .into_iter()
            .filter_map(|(kind, uri)| uri.map(|destination| Destination { kind, destination }))
            .collect();
        Ok(())
    }

    /// (source, destination): owning party and location of each side,
    /// `None` where a side has none.
    pub(super) fn sides(
        &mut self,
        step: Step,
        counterparty: &Counterparty,
    ) -> Result<(Side, Side)> {
        // A GLN GS1 refuses (typed by hand into a context, a wrong check
        // digit) is kept as a party-by-name URI: the export goes on and the
        // value is not lost; it names no place then.
        let uris = match &counterparty.gln {
            Some(gln) => self.gln_uris(gln)?,
            None => None,
        };
        let (their_party, their_place) = match uris {
            Some((party, place)) => (Some(party), Some(place)),
            None => {
                let raw = counterparty.gln.as_ref().or(counterparty.name.as_ref());
                (raw.map(|r| self.ids.party_by_name(r)), None)
            }
        };
        let their_party = if step.own_site {
            Some(self.company_party.clone())
        } else {
            their_party
        };
        let ours = [
            ("owning_party", Some(self.company_party.clone())),
            ("location", Some(self.site_place.clone())),
        ];
        let theirs = [("owning_party", their_party), ("location", their_place)];
        Ok(if step.inbound {
            (theirs, ours)
        } else {
            (ours, theirs)
        })
    }
}

/// One side of a movement: (`owning_party`, URI) and (`location`, URI).
pub(super) type Side = [(&'static str, Option<String>); 2];

/// The eventID of a group's event: its only movement's, or of its first
/// and last.
pub(super) fn group_event_id(group: &[Movement], part: &str) -> String {
    let (first, last) = (&group[0], &group[group.len() - 1]);
    if group.len() == 1 {
        event_id(&first.origin, first.seq, part)
    } else if part.is_empty() {
        event_id(&first.origin, first.seq, &format!("group:{}", last.seq))
    } else {
        event_id(
            &first.origin,
            first.seq,
            &format!("group:{}:{part}", last.seq),
        )
    }
}

/// A movement's quantity as an amount and UN/ECE unit (none for a count).
pub(super) fn amount_of(q: &Quantity) -> (Amount, Option<&'static str>) {
    let (mantissa, scale, unit) = q.parts();
    (Amount { mantissa, scale }, unit_code(unit))
}

/// A serial of 1 to 20 letters, digits, `-`, `.` or `_`: valid in AI 21
/// (GS1's character set 82) and written by Digital Link as it is.
fn plain_serial(serial: &str) -> bool {
    (1..=20).contains(&serial.len())
        && serial
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
}

/// `make()`, or the last value made from the same `key`.
fn remembered(
    last: &mut Option<(String, String)>,
    key: &str,
    make: impl FnOnce() -> String,
) -> String {
    if let Some((k, v)) = last {
        if k == key {
            return v.clone();
        }
    }
    let v = make();
    *last = Some((key.to_owned(), v.clone()));
    v
}

/// `urn:epcglobal:cbv:bt:<issuer GLN>:<document number>`, as GS1's own
/// examples write a business transaction.
fn bt_urn(issuer: &str, number: &str) -> String {
    const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_');
    format!(
        "urn:epcglobal:cbv:bt:{issuer}:{}",
        percent_encoding::utf8_percent_encode(number, KEEP)
    )
}

impl Mapper<'_> {
    /// The class URI of a lot (or GTIN), as quantity lists write it.
    pub fn class(&mut self, gtin: &str, lot: Option<&str>) -> Result<String> {
        let mut key = String::with_capacity(gtin.len() + 1 + lot.map_or(0, str::len));
        key.push_str(gtin);
        if let Some(lot) = lot {
            key.push('/');
            key.push_str(lot);
        }
        if let Some(uri) = self.classes.get(&key) {
            return Ok(uri.clone());
        }
        let uri = self.ids.class(gtin, lot)?;
        if self.classes.len() >= CLASSES {
            self.classes.clear();
        }
        self.classes.insert(key, uri.clone());
        Ok(uri)
    }
}
