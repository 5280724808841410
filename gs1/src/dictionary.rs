//! The AI table, generated at build time from the GS1 Barcode Syntax
//! Dictionary shipped in `dictionary/` (see `build.rs`), and O(1) look-ups
//! over it.

use super::lint::Linter;

/// One Application Identifier as the dictionary defines it.
#[derive(Debug)]
pub struct AiEntry {
    /// The AI digits, e.g. `"01"` or `"3103"`.
    pub ai: &'static str,
    /// Variable-length AIs need an FNC1 separator unless they come last.
    pub fnc1_required: bool,
    /// Value length of a predefined-length AI (no separator needed); 0 otherwise.
    pub fixed_length: usize,
    /// May appear as a data attribute in a Digital Link URI query.
    pub dl_attribute: bool,
    /// The parts of the value, in order (most AIs have one).
    pub components: &'static [Component],
    /// Each list must be satisfied: one of its alternatives, each a set of
    /// AI patterns that must all be present.
    pub req: &'static [&'static [&'static [&'static str]]],
    /// AI patterns this AI may not be paired with.
    pub ex: &'static [&'static str],
    /// A Digital Link primary key: the allowed qualifier sequences.
    pub dl_pkey: Option<&'static [&'static [&'static str]]>,
    /// The AI's data title, e.g. `GTIN` or `BEST BEFORE or BEST BY`.
    pub title: &'static str,
}

/// One component of an AI's value, e.g. `N6,yymmd0` or `[X..17]`.
#[derive(Debug)]
pub struct Component {
    /// The character-set check of the component's type (N, X, Y, Z).
    pub cset: Linter,
    /// The fewest characters the component takes.
    pub min: usize,
    /// The most characters the component takes.
    pub max: usize,
    /// Written `[...]` in the dictionary: may be left out at the end.
    pub optional: bool,
    /// The further checks the dictionary names, e.g. `csum`.
    pub linters: &'static [Linter],
}

/// AIs are unique in the table, so the digits identify the entry.
impl PartialEq for AiEntry {
    fn eq(&self, other: &AiEntry) -> bool {
        same_ai(self.ai, other.ai)
    }
}

impl Eq for AiEntry {}

impl AiEntry {
    /// The longest value the AI accepts.
    pub fn max_length(&self) -> usize {
        self.components.iter().map(|c| c.max).sum()
    }

    /// The shortest value the AI accepts.
    pub fn min_length(&self) -> usize {
        self.components
            .iter()
            .filter(|c| !c.optional)
            .map(|c| c.min)
            .sum()
    }
}

include!(concat!(env!("OUT_DIR"), "/ai_table.rs"));

/// Every AI of the dictionary, sorted.
pub fn entries() -> &'static [AiEntry] {
    &ENTRIES
}

/// The AI whose digits start `data`, if any: the AI's length follows from
/// its first two digits.
pub fn lookup_prefix(data: &[u8]) -> Option<&'static AiEntry> {
    let (&a, &b) = (data.first()?, data.get(1)?);
    if !a.is_ascii_digit() || !b.is_ascii_digit() {
        return None;
    }
    let prefix = usize::from(a - b'0') * 10 + usize::from(b - b'0');
    let len = usize::from(AI_LENGTH_BY_PREFIX[prefix]);
    if len == 0 || data.len() < len {
        return None;
    }
    let mut padded = 0usize;
    for &digit in data[..len].iter().chain([b'0'; 2].iter()).take(4) {
        if !digit.is_ascii_digit() {
            return None;
        }
        padded = padded * 10 + usize::from(digit - b'0');
    }
    match ENTRY_BY_AI[padded] {
        u16::MAX => None,
        i => Some(&ENTRIES[usize::from(i)]),
    }
}

/// The AI spelt exactly `ai` (2 to 4 digits), if the dictionary has it.
pub fn lookup(ai: &[u8]) -> Option<&'static AiEntry> {
    lookup_prefix(ai).filter(|e| e.ai.len() == ai.len())
}

/// Whether FNC1 (GS) must end the value of `ai` when another element
/// follows it: true for variable-length AIs, and for an AI the dictionary
/// does not know (a separator too many is read right; one too few is not).
pub fn separator_follows(ai: &[u8]) -> bool {
    lookup(ai).is_none_or(|e| e.fnc1_required)
}

/// Whether two AIs are the same, compared byte by byte in line: AIs are
/// 2 to 4 digits and this runs many times per message, where a call to
/// `memcmp` (what `==` on strings becomes) costs more than the comparison.
#[inline]
pub(crate) fn same_ai(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Whether `ai` matches a dictionary pattern such as `31nn`, `394n` or `01`.
pub fn matches_pattern(pattern: &str, ai: &str) -> bool {
    pattern.len() == ai.len()
        && pattern
            .bytes()
            .zip(ai.bytes())
            .all(|(p, a)| p == b'n' || p == a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_of_the_dictionary_is_in_the_table() {
        // 3100-3105 etc. expand: the table is larger than the line count.
        assert!(entries().len() > 500, "{}", entries().len());
        for e in entries() {
            assert_eq!(lookup(e.ai.as_bytes()).unwrap().ai, e.ai);
        }
        assert!(entries().windows(2).all(|w| w[0].ai < w[1].ai));
    }

    #[test]
    fn prefix_lookup_follows_the_ai_length_rules() {
        assert_eq!(lookup_prefix(b"0109506000134352").unwrap().ai, "01");
        assert_eq!(lookup_prefix(b"235XXX").unwrap().ai, "235");
        assert_eq!(lookup_prefix(b"3103000123").unwrap().ai, "3103");
        assert_eq!(lookup_prefix(b"8012").unwrap().ai, "8012");
        assert!(lookup_prefix(b"234567").is_none());
        assert!(lookup_prefix(b"2345").is_none());
        assert!(lookup_prefix(b"XX").is_none());
        assert!(lookup_prefix(b"3").is_none());
        assert!(lookup(b"011").is_none());
        assert!(lookup(b"37123").is_none());
        assert_eq!(lookup(b"37").unwrap().title, "COUNT");
    }

    #[test]
    fn entries_carry_the_dictionary_attributes() {
        let gtin = lookup(b"01").unwrap();
        assert!(!gtin.fnc1_required);
        assert!(!separator_follows(b"01") && !separator_follows(b"17"));
        assert!(separator_follows(b"10") && separator_follows(b"21"));
        assert!(separator_follows(b"9999"), "an unknown AI gets a separator");
        assert_eq!(gtin.fixed_length, 14);
        assert_eq!(gtin.components[0].linters, &[Linter::Csum, Linter::Gcppos2]);
        assert_eq!(
            gtin.dl_pkey.unwrap(),
            &[&["22", "10", "21"][..], &["235"][..]]
        );
        assert_eq!(gtin.ex, &["255", "37"]);
        let imei2 = lookup(b"8041").unwrap();
        assert_eq!(imei2.req, &[&[&["01", "21", "8040"][..]][..]]);
        let secondary = lookup(b"250").unwrap();
        assert_eq!(secondary.req.len(), 2);
        let harvest = lookup(b"7007").unwrap();
        assert!(harvest.components[1].optional);
        assert!(matches_pattern("31nn", "3103"));
        assert!(!matches_pattern("31nn", "3203"));
    }
}
