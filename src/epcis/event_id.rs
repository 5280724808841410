//! Stable event IDs: `urn:uuid:` + UUIDv5 of the movement's site and seq,
//! so an event exported twice has the same ID, and an error declaration
//! can repeat the ID of the event it declares wrong.

use uuid::Uuid;

/// scantrail's namespace for event IDs: UUIDv5 of this URL in the URL
/// namespace (fixed forever: changing it changes every event ID).
fn namespace() -> Uuid {
    // Computed once: it is a SHA-1 of its own, and every event needs it.
    static NAMESPACE: std::sync::OnceLock<Uuid> = std::sync::OnceLock::new();
    *NAMESPACE.get_or_init(|| Uuid::new_v5(&Uuid::NAMESPACE_URL, b"urn:scantrail:epcis:event"))
}

/// The eventID of movement (`site`, `seq`); `part` tells apart the events
/// one movement makes (`""` for its ObjectEvent, `"aggregation"` for its
/// pallet's) and the events of a group (`"group:LAST"`).
pub fn event_id(site: &str, seq: u64, part: &str) -> String {
    // Built by hand rather than with `format!`: once per event.
    let mut name = Vec::with_capacity(site.len() + 22 + part.len());
    name.extend_from_slice(site.as_bytes());
    name.push(b':');
    name.extend_from_slice(itoa::Buffer::new().format(seq).as_bytes());
    if !part.is_empty() {
        name.push(b':');
        name.extend_from_slice(part.as_bytes());
    }
    let mut id = String::with_capacity(9 + uuid::fmt::Hyphenated::LENGTH);
    id.push_str("urn:uuid:");
    let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
    id.push_str(
        Uuid::new_v5(&namespace(), &name)
            .hyphenated()
            .encode_lower(&mut text),
    );
    id
}

/// The eventID of what site `site` records apart from its journal, by
/// name (`hold:R-17`): a name is never a seq, so it never meets a
/// movement's ID.
pub fn named_event_id(site: &str, name: &str) -> String {
    let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
    let uuid = Uuid::new_v5(&namespace(), format!("{site}:{name}").as_bytes());
    format!("urn:uuid:{}", uuid.hyphenated().encode_lower(&mut text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_v5_uuids_per_site_and_seq() {
        let a = event_id("north", 7, "");
        assert_eq!(a, event_id("north", 7, ""));
        assert_ne!(a, event_id("north", 8, ""));
        assert_ne!(a, event_id("south", 7, ""));
        assert_ne!(a, event_id("north", 7, "aggregation"));
        let uuid = Uuid::parse_str(a.strip_prefix("urn:uuid:").unwrap()).unwrap();
        assert_eq!(uuid.get_version_num(), 5);
        // Pinned: a change of namespace or name would change every ID.
        assert_eq!(
            a,
            "urn:uuid:".to_owned() + &Uuid::new_v5(&namespace(), b"north:7").to_string()
        );
        assert_eq!(
            event_id("north", 7, "aggregation"),
            "urn:uuid:".to_owned()
                + &Uuid::new_v5(&namespace(), b"north:7:aggregation").to_string()
        );
        assert_eq!(
            namespace(),
            Uuid::new_v5(&Uuid::NAMESPACE_URL, b"urn:scantrail:epcis:event")
        );
    }
}
