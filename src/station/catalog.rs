//! Changes to reference data as rules, shared by the site (`site::catalog`,
//! its own holds) and head office (`hq::publish`, holds for every site):
//! who authors a change, what a new hold must say, when one may be
//! released. Where the records are kept is the caller's business.

use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::import;
use super::reference::{Change, Hold, HoldKind, HoldScope, Owner, SerialRange};

/// A reference change that breaks a rule, in words for the person who
/// asked (the APIs answer it with 400, the command line prints it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

/// Who is making a change and why, recorded with it.
#[derive(Debug, Clone, Deserialize)]
pub struct Author {
    /// Who makes the change: the authenticated token's name, never a field the
    /// client fills in.
    pub by: String,
    /// Why, as the person gave it; required for holds and their release.
    pub why: String,
}

impl Author {
    /// The change record of a reference edit by this author, now.
    pub fn change(&self) -> Change {
        Change {
            by: self.by.clone(),
            at: Utc::now(),
            why: self.why.clone(),
        }
    }
}

/// A new hold or recall as a person or the API gives it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewHold {
    /// The hold's id, unique among holds (e.g. `R-17`, `H-3`).
    pub id: String,
    /// A site's own quarantine (`hold`, the default) or a `recall`.
    #[serde(default)]
    pub kind: HoldKind,
    /// The GTIN it covers: 8, 12, 13 or 14 digits, kept as 14.
    pub gtin: String,
    /// The lots it covers; give either lots or a serial range, not both.
    #[serde(default)]
    pub lots: Vec<String>,
    /// The first serial of the range it covers, inclusive.
    #[serde(default)]
    pub serial_from: Option<String>,
    /// The last serial of the range it covers, inclusive.
    #[serde(default)]
    pub serial_to: Option<String>,
    /// Why the goods may not be dispatched: shown to the picker whose scan is
    /// refused.
    pub reason: String,
}

/// The query of an import (`?why=`) on the site's and head office's
/// APIs; `by` is read only to be refused: the author is the token's.
#[derive(Debug, Deserialize)]
pub struct AuthorQuery {
    #[serde(default)]
    by: Option<String>,
    #[serde(default)]
    why: Option<String>,
}

impl AuthorQuery {
    /// The change's author, `name` (the caller's token), and why.
    pub fn author(self, name: &str, default_why: &str) -> Result<Author, String> {
        if self.by.is_some() {
            return Err(crate::auth::by_refused(name));
        }
        Ok(Author {
            by: name.to_owned(),
            why: self.why.unwrap_or_else(|| default_why.to_owned()),
        })
    }
}

/// A hold as the site's and head office's APIs receive it. Its author is
/// the caller's token (`author`): a body naming one with `by` is refused.
/// Blank lots and reasons are refused here, before either side stores them.
pub fn hold_request(body: &[u8], author: &str) -> Result<NewHold, String> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("the request body is not JSON: {e}"))?;
    if !value.is_object() {
        return Err("the request body is not a hold: send a JSON object".to_owned());
    }
    if value.get("by").is_some() {
        return Err(crate::auth::by_refused(author));
    }
    let hold: NewHold = serde_json::from_value(value)
        .map_err(|e| format!("the request body is not a hold: {e}"))?;
    if hold.lots.iter().any(|l| l.trim().is_empty()) {
        return Err("`lots` has an empty lot number: list the lots the hold covers".to_owned());
    }
    if hold.reason.trim().is_empty() {
        return Err(
            "`reason` is empty: say why, it is what the operator whose pick is refused reads"
                .to_owned(),
        );
    }
    Ok(hold)
}

/// The hold `new` asks for, owned by `owner`, if it is well formed.
/// `taken` says whether its id is already used; `example_id` is shown when
/// the id is missing (sites and head office number holds differently).
pub fn new_hold(
    new: NewHold,
    owner: Owner,
    author: &Author,
    taken: bool,
    example_id: &str,
) -> Result<Hold, Invalid> {
    if new.id.trim().is_empty() {
        return Err(Invalid(format!("a hold needs an id, e.g. {example_id}")));
    }
    if taken {
        return Err(Invalid(format!(
            "there is already a hold {}: give the new one another id",
            new.id
        )));
    }
    let gtin = import::normalise_gtin(&new.gtin).map_err(Invalid)?;
    let scope =
        match (&new.serial_from, &new.serial_to, new.lots.is_empty()) {
            (None, None, false) => HoldScope::Lots(new.lots),
            (Some(from), Some(to), true) => {
                HoldScope::Serials(SerialRange::new(from, to).map_err(Invalid)?)
            }
            _ => return Err(Invalid(
                "a hold covers either lots, or a serial range from..to, not both and not neither"
                    .into(),
            )),
        };
    Ok(Hold {
        id: new.id,
        kind: new.kind,
        gtin,
        scope,
        reason: new.reason,
        owner,
        created: author.change(),
        released: None,
    })
}

/// `hold` released by `author`, unless it already is.
pub fn release(mut hold: Hold, author: &Author) -> Result<Hold, Invalid> {
    if hold.released.is_some() {
        return Err(Invalid(format!("{} is already released", hold.label())));
    }
    hold.released = Some(author.change());
    Ok(hold)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(lots: &[&str], serials: Option<(&str, &str)>) -> NewHold {
        NewHold {
            id: "H-1".into(),
            kind: HoldKind::default(),
            gtin: "09506000134352".into(),
            lots: lots.iter().map(|l| l.to_string()).collect(),
            serial_from: serials.map(|s| s.0.to_owned()),
            serial_to: serials.map(|s| s.1.to_owned()),
            reason: "damp".into(),
        }
    }

    fn author() -> Author {
        Author {
            by: "qa".into(),
            why: "test".into(),
        }
    }

    #[test]
    fn a_hold_covers_lots_or_serials_and_is_released_once() {
        let hold = new_hold(
            asked(&["L1"], None),
            Owner::HeadOffice,
            &author(),
            false,
            "R-1",
        )
        .expect("a lot hold");
        assert_eq!(hold.owner, Owner::HeadOffice);
        for bad in [asked(&[], None), asked(&["L1"], Some(("S1", "S9")))] {
            let e = new_hold(bad, Owner::HeadOffice, &author(), false, "R-1").unwrap_err();
            assert!(e.0.contains("not both and not neither"), "{e}");
        }
        let e = new_hold(
            asked(&["L1"], None),
            Owner::HeadOffice,
            &author(),
            true,
            "R-1",
        )
        .unwrap_err();
        assert!(e.0.contains("already a hold H-1"), "{e}");
        let mut no_id = asked(&["L1"], None);
        no_id.id = " ".into();
        let e = new_hold(no_id, Owner::HeadOffice, &author(), false, "R-2026-004").unwrap_err();
        assert!(e.0.contains("R-2026-004"), "{e}");

        let released = release(hold, &author()).expect("first release");
        assert!(released.released.is_some());
        let e = release(released, &author()).unwrap_err();
        assert!(e.0.contains("already released"), "{e}");
    }
}
