//! Reading a Digital Link URI: the scheme and domain, the path walked back
//! from its end to the primary key (as dl.c: what comes before the key is
//! the stem), the key's qualifiers, and the query's data attributes.
//!
//! The walk works on byte ranges of the input: no list of segments, no
//! copies. Values borrow from the input unless they had to be decoded.

use std::borrow::Cow;

use smallvec::SmallVec;

use super::percent::{decoded, unescape};
use super::qualifiers::{explain, fits};
use crate::dictionary::{self, same_ai, AiEntry};
use crate::element::{Element, ElementString};
use crate::error::{ErrorKind, Gs1Error};
use crate::lint::Linter;
use crate::validate;

/// Qualifiers a primary key may have in the path; more is an error, which
/// is the only time a list of them leaves the stack.
type Qualifiers = SmallVec<[&'static str; 8]>;

/// Characters allowed anywhere in a Digital Link URI: ASCII letters and
/// digits and `-._~:/?#[]@!$&'()*+,;=%`, as one table look-up per byte.
static URI_CHAR: [bool; 256] = byte_set(b"-._~:/?#[]@!$&'()*+,;=%", true);

/// URI characters that may not appear in the domain (authority) part.
static BAD_DOMAIN_CHAR: [bool; 256] = byte_set(b"_~?#@!$&'()*+,;=%", false);

/// A byte table: `true` for `listed` (and for ASCII letters and digits when
/// `alphanumeric`).
const fn byte_set(listed: &[u8], alphanumeric: bool) -> [bool; 256] {
    let mut set = [false; 256];
    let mut i = 0;
    while i < listed.len() {
        set[listed[i] as usize] = true;
        i += 1;
    }
    if alphanumeric {
        let mut b = 0;
        while b < 128 {
            if (b as u8).is_ascii_alphanumeric() {
                set[b] = true;
            }
            b += 1;
        }
    }
    set
}

/// Whether `data` starts like a web URI (`http://` or `https://`, in any
/// case).
pub(crate) fn is_uri(data: &[u8]) -> bool {
    let starts = |prefix: &[u8]| {
        data.get(..prefix.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
    };
    starts(b"http://") || starts(b"https://")
}

/// A byte range of the input.
type Span = (usize, usize);

/// The `/`-separated path of a URI: `start` is its leading `/`, `end` where
/// the query or fragment begins.
#[derive(Clone, Copy)]
struct Path {
    start: usize,
    end: usize,
}

impl Path {
    /// The path after `http(s)://domain`, and the query's range, if any.
    /// The fragment (`#...`) ends the data. `None` when there is no `/`
    /// after the scheme.
    fn of(data: &[u8], scheme: usize) -> Option<(Path, Option<Span>)> {
        let start = scheme + memchr::memchr(b'/', &data[scheme..])?;
        let end = memchr::memchr(b'#', &data[start..]).map_or(data.len(), |n| start + n);
        Some(match memchr::memchr(b'?', &data[start..end]) {
            Some(n) => (
                Path {
                    start,
                    end: start + n,
                },
                Some((start + n + 1, end)),
            ),
            None => (Path { start, end }, None),
        })
    }

    /// The segment that ends at `end` (a `/` or the path's end): its start.
    fn segment_before(&self, data: &[u8], end: usize) -> usize {
        data[self.start..end]
            .iter()
            .rposition(|&b| b == b'/')
            .map_or(self.start, |n| self.start + n + 1)
    }

    /// The segment that starts at `start`: its end (a `/` or the path's end).
    fn segment_from(&self, data: &[u8], start: usize) -> usize {
        data[start..self.end]
            .iter()
            .position(|&b| b == b'/')
            .map_or(self.end, |n| start + n)
    }

    /// As dl.c: walks the path backwards over `/AI/value` pairs while the AI
    /// is known, and stops at the first that is a primary key; what comes
    /// before it is the stem. Returns where the key's AI starts.
    fn primary_key(&self, data: &[u8]) -> Option<usize> {
        let mut value_end = self.end;
        loop {
            let value_start = self.segment_before(data, value_end);
            // The value must be preceded by an AI segment of the path.
            if value_start == self.start + 1 {
                return None;
            }
            let ai_end = value_start - 1;
            let ai_start = self.segment_before(data, ai_end);
            let entry = dictionary::lookup(&data[ai_start..ai_end])?;
            if entry.dl_pkey.is_some() {
                return Some(ai_start);
            }
            value_end = ai_start - 1;
            if value_end <= self.start {
                return None;
            }
        }
    }

    /// The `/AI/value` pairs from `from` (where an AI starts) to the end:
    /// (AI span, value span).
    fn pairs<'d>(
        &self,
        data: &'d [u8],
        mut from: usize,
    ) -> impl Iterator<Item = (Span, Span)> + 'd {
        let path = *self;
        std::iter::from_fn(move || {
            if from >= path.end {
                return None;
            }
            let ai_end = path.segment_from(data, from);
            let value_start = (ai_end + 1).min(path.end);
            let value_end = if ai_end < path.end {
                path.segment_from(data, value_start)
            } else {
                path.end
            };
            let pair = ((from, ai_end), (value_start, value_end));
            from = value_end + 1;
            Some(pair)
        })
    }

    /// Every segment after the leading `/`, in order.
    fn segments<'d>(&self, data: &'d [u8]) -> impl Iterator<Item = Span> + 'd {
        let path = *self;
        let mut from = Some(path.start + 1);
        std::iter::from_fn(move || {
            let start = from?;
            let end = path.segment_from(data, start);
            from = (end < path.end).then_some(end + 1);
            Some((start, end))
        })
    }
}

/// Whether a URI from a non-GS1 symbology (e.g. a plain QR Code) is a GS1
/// Digital Link: a web URI whose path carries a primary key followed by a
/// value that looks like one.
///
/// The value must have the key's length (a GTIN may also have 8, 12 or 13
/// digits) and digits where the key starts with digits. So
/// `https://example.com/2024/01/summer` is not taken for a GTIN, while a
/// damaged Digital Link (wrong qualifier order, an unknown AI after the
/// key, a trailing `/`) still is, and is then rejected with a reason.
pub(crate) fn looks_like_gs1(data: &[u8]) -> bool {
    if !is_uri(data) {
        return false;
    }
    let scheme = if data[4] == b':' { 7 } else { 8 };
    let Some((path, _)) = Path::of(data, scheme) else {
        return false;
    };
    let mut previous: Option<&'static AiEntry> = None;
    for (start, end) in path.segments(data) {
        let segment = &data[start..end];
        if let Some(key) = previous.take() {
            if plausible_value(key, segment) {
                return true;
            }
        }
        previous = dictionary::lookup(segment).filter(|e| e.dl_pkey.is_some());
    }
    false
}

/// Whether `raw` (still percent-encoded) could be the value of `key`.
fn plausible_value(key: &AiEntry, raw: &[u8]) -> bool {
    let digits_first = match key.components.first() {
        Some(first) if first.cset == Linter::Digits => first.max,
        _ => 0,
    };
    let (mut len, mut digits_ok) = (0, true);
    for byte in decoded(raw, false) {
        match byte {
            // A %00 is refused later, with its reason.
            Err(_) => return true,
            Ok(b) => {
                digits_ok &= len >= digits_first || b.is_ascii_digit();
                len += 1;
            }
        }
    }
    let length_ok = (key.min_length()..=key.max_length()).contains(&len)
        || (key.ai == "01" && matches!(len, 8 | 12 | 13));
    length_ok && digits_ok
}

/// Parses a Digital Link URI into `out`: the path's primary key and
/// qualifiers in path order, then the query's data attributes in query
/// order. `base` is the offset of `data` in the input. The message-level
/// rules (`req=`, `ex=`) are left to the caller.
pub(crate) fn parse<'a>(
    data: &'a [u8],
    base: usize,
    out: &mut ElementString<'a>,
) -> Result<(), Gs1Error> {
    let fail = |ai: Option<&'static str>, at: usize, problem: String| {
        Gs1Error::at(ai, base + at, ErrorKind::DigitalLink(problem))
    };

    // Branch-free over the whole URI first: nearly every URI is clean.
    let clean = data
        .iter()
        .fold(true, |clean, &b| clean & URI_CHAR[usize::from(b)]);
    if let Some(at) = data
        .iter()
        .position(|&b| !URI_CHAR[usize::from(b)])
        .filter(|_| !clean)
    {
        return Err(fail(
            None,
            at,
            format!(
                "the Digital Link URI contains {}, which is not allowed in a web address",
                describe_byte(data[at])
            ),
        ));
    }

    // The scheme is all lower case or all upper case, as in dl.c.
    let scheme = if data.starts_with(b"https://") || data.starts_with(b"HTTPS://") {
        8
    } else if data.starts_with(b"http://") || data.starts_with(b"HTTP://") {
        7
    } else {
        return Err(fail(
            None,
            0,
            "a Digital Link URI must start with http:// or https:// (all lower case or all upper case)"
                .into(),
        ));
    };

    // The domain runs up to the first `/` of the rest, whatever follows.
    let Some((path, query)) = Path::of(data, scheme) else {
        return Err(fail(
            None,
            scheme,
            "the Digital Link URI has no path after the domain".into(),
        ));
    };
    if path.start == scheme {
        return Err(fail(
            None,
            scheme,
            "the Digital Link URI has no domain".into(),
        ));
    }
    if let Some(at) = data[scheme..path.start]
        .iter()
        .position(|&b| BAD_DOMAIN_CHAR[usize::from(b)])
    {
        return Err(fail(
            None,
            scheme + at,
            format!(
                "the domain of the Digital Link URI contains {}, which is not allowed in a domain name",
                describe_byte(data[scheme + at])
            ),
        ));
    }

    let Some(key_start) = path.primary_key(data) else {
        let (at, problem) = explain_missing_key(data, path);
        return Err(fail(None, at, problem));
    };

    // The path from the primary key on: /AI/value pairs of known AIs.
    let first = out.len();
    let mut qualifiers = Qualifiers::new();
    let mut key = None;
    for ((ai_start, ai_end), (value_start, value_end)) in path.pairs(data, key_start) {
        let entry = dictionary::lookup(&data[ai_start..ai_end]).expect("checked by the walk");
        let raw = &data[value_start..value_end];
        if raw.is_empty() {
            return Err(fail(
                Some(entry.ai),
                value_start,
                format!("AI ({}) has no value in the Digital Link path", entry.ai),
            ));
        }
        let decoded =
            unescape(raw, false).map_err(|at| null_in_value(entry, base + value_start + at))?;
        if entry.ai == "01"
            && matches!(decoded.len(), 8 | 12 | 13)
            && decoded.iter().all(u8::is_ascii_digit)
        {
            return Err(fail(
                Some(entry.ai),
                value_start,
                format!(
                    "the GTIN in the Digital Link path has {} digits; it must be written with 14 (add leading zeros)",
                    decoded.len()
                ),
            ));
        }
        out.push(element(entry, decoded, base + value_start)?);
        match key {
            None => key = Some(entry),
            Some(_) => qualifiers.push(entry.ai),
        }
    }
    let key = key.expect("the walk found a key");
    let path_count = out.len() - first;

    if let Some(query) = query {
        attributes(data, base, query, out)?;
    }

    // The path's AIs: the primary key and qualifiers in an allowed order.
    // The AI stands just before its value: `/AI/value`.
    let ai_at = |e: &Element<'_>| e.offset - e.entry.ai.len() - 1;
    if !fits(key, &qualifiers) {
        let (i, problem) = explain(key, &qualifiers);
        let at = ai_at(&out.elements()[first + 1 + i]);
        return Err(Gs1Error::at(
            Some(qualifiers[i]),
            at,
            ErrorKind::DigitalLink(problem),
        ));
    }

    // The query's AIs: each once, a data attribute, and not a qualifier
    // that belongs in the path. `AI=value`: the AI too stands just before.
    let all = &out.elements()[first..];
    for (i, attribute) in all.iter().enumerate().skip(path_count) {
        let ai = attribute.entry.ai;
        let fail = |problem: String| {
            Gs1Error::at(Some(ai), ai_at(attribute), ErrorKind::DigitalLink(problem))
        };
        if all[..i].iter().any(|e| same_ai(e.entry.ai, ai)) {
            return Err(fail(format!(
                "AI ({ai}) appears more than once in the Digital Link URI"
            )));
        }
        if !attribute.entry.dl_attribute {
            return Err(fail(format!(
                "query parameter {ai} is not a Digital Link data attribute"
            )));
        }
        if belongs_in_path(key, &qualifiers, ai) {
            return Err(fail(format!(
                "AI ({ai}) qualifies the primary key ({}): it must be in the path as /{ai}/..., not in the query",
                key.ai
            )));
        }
    }
    Ok(())
}

/// The query's `AI=value` data attributes, validated, in query order;
/// other parameters are ignored.
fn attributes<'a>(
    data: &'a [u8],
    base: usize,
    (start, end): Span,
    out: &mut ElementString<'a>,
) -> Result<(), Gs1Error> {
    let fail = |ai: Option<&'static str>, at: usize, problem: String| {
        Gs1Error::at(ai, base + at, ErrorKind::DigitalLink(problem))
    };
    let mut here = start;
    for param in data[start..end].split(|&b| b == b'&') {
        let param_at = here;
        here += param.len() + 1;
        // Parameters without `=`, and those whose name is not all digits,
        // are not GS1 data. An empty name is all digits to dl.c, which
        // refuses it as an unknown AI: so does this.
        let Some(eq) = param.iter().position(|&b| b == b'=') else {
            continue;
        };
        let name = &param[..eq];
        if name.is_empty() {
            return Err(fail(
                None,
                param_at,
                // The reference engine's words first, then what to do.
                format!(
                    "unknown AI () in query parameters: {} has no name; Digital Link data attributes are written AI=value (such as 17=251231)",
                    String::from_utf8_lossy(param)
                ),
            ));
        }
        if !name.iter().all(u8::is_ascii_digit) {
            continue;
        }
        let entry = dictionary::lookup(name).ok_or_else(|| {
            fail(
                None,
                param_at,
                format!(
                    "query parameter {} is not a GS1 Application Identifier",
                    String::from_utf8_lossy(name)
                ),
            )
        })?;
        let ai = entry.ai;
        let raw = &param[eq + 1..];
        let value_at = param_at + eq + 1;
        if raw.is_empty() {
            return Err(fail(
                Some(ai),
                value_at,
                format!("query parameter {ai} has no value"),
            ));
        }
        let mut decoded =
            unescape(raw, true).map_err(|at| null_in_value(entry, base + value_at + at))?;
        // dl.c pads a GTIN-8/12/13 given as a data attribute to 14 digits.
        if ai == "01" && matches!(decoded.len(), 8 | 12 | 13) {
            let mut padded = Vec::with_capacity(14);
            padded.resize(14 - decoded.len(), b'0');
            padded.extend_from_slice(&decoded);
            decoded = Cow::Owned(padded);
        }
        out.push(element(entry, decoded, base + value_at)?);
    }
    Ok(())
}

/// Whether `ai`, inserted somewhere among the path's `qualifiers`, would
/// make an allowed qualifier sequence of `key`.
fn belongs_in_path(key: &AiEntry, qualifiers: &[&'static str], ai: &'static str) -> bool {
    let mut trial: Qualifiers = qualifiers.iter().copied().collect();
    (0..=qualifiers.len()).any(|at| {
        trial.insert(at, ai);
        let fits = fits(key, &trial);
        trial.remove(at);
        fits
    })
}

fn null_in_value(entry: &AiEntry, at: usize) -> Gs1Error {
    Gs1Error::at(
        Some(entry.ai),
        at,
        ErrorKind::DigitalLink(format!(
            "the value of AI ({}) contains %00, which is not allowed",
            entry.ai
        )),
    )
}

/// Validates one value and makes the element, borrowing when possible:
/// a decoded value is moved into the element, not copied again.
fn element<'a>(
    entry: &'static AiEntry,
    value: Cow<'a, [u8]>,
    offset: usize,
) -> Result<Element<'a>, Gs1Error> {
    let value = match value {
        Cow::Borrowed(raw) => Cow::Borrowed(validate::value(entry, raw, offset)?),
        Cow::Owned(raw) => {
            validate::value(entry, &raw, offset)?;
            let text = String::from_utf8(raw).map_err(|e| {
                Gs1Error::at(
                    Some(entry.ai),
                    offset + e.utf8_error().valid_up_to(),
                    ErrorKind::NotText,
                )
            })?;
            Cow::Owned(text)
        }
    };
    Ok(Element {
        entry,
        value,
        offset,
    })
}

fn describe_byte(b: u8) -> String {
    match b {
        b' ' => "a space".into(),
        0x21..=0x7E => format!("`{}`", char::from(b)),
        _ => format!("the byte 0x{b:02X}"),
    }
}

/// Why the backward walk found no primary key: a trailing `/`, a broken
/// run of `/AI/value` pairs after a key, or no key at all. Where and why.
fn explain_missing_key(data: &[u8], path: Path) -> (usize, String) {
    let trailing = path.end > path.start + 1 && data[path.end - 1] == b'/';
    if trailing {
        let trimmed = Path {
            end: path.end - 1,
            ..path
        };
        if trimmed.primary_key(data).is_some() {
            return (
                path.end - 1,
                "the Digital Link path must not end with /".into(),
            );
        }
    }
    let segments: Vec<Span> = path.segments(data).collect();
    let seg = |i: usize| &data[segments[i].0..segments[i].1];
    // A key followed by something that is not /AI/value pairs.
    let key_at = (0..segments.len().saturating_sub(1))
        .find(|&i| dictionary::lookup(seg(i)).is_some_and(|e| e.dl_pkey.is_some()));
    if let Some(key_at) = key_at {
        let key = dictionary::lookup(seg(key_at)).map_or("", |e| e.ai);
        let mut i = key_at + 2;
        while i < segments.len() {
            match dictionary::lookup(seg(i)) {
                None => {
                    return (
                        segments[i].0,
                        format!(
                            "after the primary key ({key}) the Digital Link path must go on in /AI/value pairs, but `{}` is not a GS1 Application Identifier",
                            String::from_utf8_lossy(seg(i))
                        ),
                    )
                }
                Some(entry) if i + 1 == segments.len() => {
                    return (
                        segments[i].0,
                        format!("AI ({}) has no value in the Digital Link path", entry.ai),
                    )
                }
                Some(_) => i += 2,
            }
        }
    }
    (
        path.start,
        "the Digital Link path has no primary key (such as /01/ for a GTIN)".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digital_link::percent::unescape;
    use crate::digital_link::test_util::*;
    use crate::{parse_scan, Content};

    // Accept cases from gs1-syntax-engine src/c-lib/dl.c, test_dl_parseDLuri
    // (default settings: no convenience alphas, no zero-suppressed GTINs in
    // the path); expected results written in bracketed form.
    #[test]
    fn dl_c_accepts() {
        let gtin = "(01)12312312312333";
        let sscc = "(00)006141411234567890";
        let cases: &[(&str, &str)] = &[
            ("http://a/00/006141411234567890", sscc),
            ("HTTP://a/00/006141411234567890", sscc),
            ("https://a/00/006141411234567890", sscc),
            ("HTTPS://a/00/006141411234567890", sscc),
            ("https://a/01/12312312312333", gtin),
            ("https://xn--fsq.xn--0zwm56d/01/12312312312333", gtin),
            ("https://a./01/12312312312333", gtin),
            ("https://a:65535/01/12312312312333", gtin),
            ("https://192.0.2.1/01/12312312312333", gtin),
            ("https://3232235777/01/12312312312333", gtin),
            ("https://0300.0250.01.01/01/12312312312333", gtin),
            ("https://0xC0.0xA8.0x01.0x01/01/12312312312333", gtin),
            ("https://[2001:db8::1]/01/12312312312333", gtin),
            ("https://a/stem/00/006141411234567890", sscc),
            ("https://a/more/stem/00/006141411234567890", sscc),
            ("https://a/00/faux/00/006141411234567890", sscc),
            (
                "https://a/01/12312312312333/22/TEST/10/ABC/21/XYZ",
                "(01)12312312312333(22)TEST(10)ABC(21)XYZ",
            ),
            (
                "https://a/01/12312312312333/235/TEST",
                "(01)12312312312333(235)TEST",
            ),
            ("https://a/253/1231231231232", "(253)1231231231232"),
            (
                "https://a/253/1231231231232TEST5678901234567",
                "(253)1231231231232TEST5678901234567",
            ),
            (
                "https://a/8018/123456789012345675/8019/123",
                "(8018)123456789012345675(8019)123",
            ),
            ("https://a/stem/00/006141411234567890?", sscc),
            (
                "https://a/stem/00/006141411234567890?99=ABC",
                "(00)006141411234567890(99)ABC",
            ),
            ("https://a/stem/401/12345678?99=ABC", "(401)12345678(99)ABC"),
            (
                "https://a/01/12312312312333?99=ABC&98=XYZ",
                "(01)12312312312333(99)ABC(98)XYZ",
            ),
            (
                "https://a/01/12312312312333?&&&99=ABC&&&&&&98=XYZ&&&",
                "(01)12312312312333(99)ABC(98)XYZ",
            ),
            (
                "https://a/01/12312312312333?99=ABC&unknown=666&98=XYZ",
                "(01)12312312312333(99)ABC(98)XYZ",
            ),
            (
                "https://a/01/12312312312333?unknown=666&99=ABC&98=XYZ",
                "(01)12312312312333(99)ABC(98)XYZ",
            ),
            (
                "https://a/01/12312312312333?99=ABC&98=XYZ&unknown=666",
                "(01)12312312312333(99)ABC(98)XYZ",
            ),
            (
                "https://a/01/12312312312333?unknown1=555&99=ABC&unknown2=666&98=XYZ&unknown3=777",
                "(01)12312312312333(99)ABC(98)XYZ",
            ),
            (
                "https://a/01/12312312312333?99=ABC&singleton&98=XYZ",
                "(01)12312312312333(99)ABC(98)XYZ",
            ),
            (
                "https://a/01/12312312312333?singleton&99=ABC&98=XYZ",
                "(01)12312312312333(99)ABC(98)XYZ",
            ),
            (
                "https://a/01/12312312312333?singleton1&unknown1=555&99=ABC&singleton2&unknown2=6666&98=XYZ&unknown3=777&singleton3",
                "(01)12312312312333(99)ABC(98)XYZ",
            ),
            (
                "https://a/01/12312312312333/22/ABC%2d123?99=ABC&98=XYZ%2f987",
                "(01)12312312312333(22)ABC-123(99)ABC(98)XYZ/987",
            ),
            (
                "https://a/01/12312312312333/22/ABC+123?99=ABC&98=XYZ%2f987",
                "(01)12312312312333(22)ABC+123(99)ABC(98)XYZ/987",
            ),
            (
                "https://a/01/12312312312333/22/test/10/abc/21/xyz#",
                "(01)12312312312333(22)test(10)abc(21)xyz",
            ),
            (
                "https://a/01/12312312312333/22/test/10/abc/21/xyz#fragment",
                "(01)12312312312333(22)test(10)abc(21)xyz",
            ),
            (
                "https://a/stem/00/006141411234567890?99=ABC#",
                "(00)006141411234567890(99)ABC",
            ),
            (
                "https://a/stem/00/006141411234567890?99=ABC#fragment",
                "(00)006141411234567890(99)ABC",
            ),
            // Examples from the DL specification, as dl.c tests them.
            ("https://id.gs1.org/01/09520123456788", "(01)09520123456788"),
            (
                "https://id.gs1.org/01/09520123456788/22/2A",
                "(01)09520123456788(22)2A",
            ),
            (
                "https://id.gs1.org/01/09520123456788/10/ABC123",
                "(01)09520123456788(10)ABC123",
            ),
            (
                "https://id.gs1.org/01/09520123456788/21/12345",
                "(01)09520123456788(21)12345",
            ),
            (
                "https://id.gs1.org/01/09520123456788/10/ABC1/21/12345?17=180426",
                "(01)09520123456788(10)ABC1(21)12345(17)180426",
            ),
            (
                "https://id.gs1.org/01/09520123456788?3103=000195",
                "(01)09520123456788(3103)000195",
            ),
            (
                "https://example.com/01/09520123456788?3103=000195&3922=0299&17=201225",
                "(01)09520123456788(3103)000195(3922)0299(17)201225",
            ),
            (
                "https://id.gs1.org/01/09520123456788?17=201225&3103=000195&3922=0299",
                "(01)09520123456788(17)201225(3103)000195(3922)0299",
            ),
            ("https://id.gs1.org/00/952012345678912345", "(00)952012345678912345"),
            (
                "https://id.gs1.org/00/952012345678912345?02=09520123456788&37=25&10=ABC123",
                "(00)952012345678912345(02)09520123456788(37)25(10)ABC123",
            ),
            ("https://id.gs1.org/414/9520123456788", "(414)9520123456788"),
            (
                "https://id.gs1.org/414/9520123456788/254/32a%2Fb",
                "(414)9520123456788(254)32a/b",
            ),
            // A GTIN-13 as a data attribute is padded to 14 digits.
            (
                "https://example.com/8004/9520614141234567?01=9520123456788",
                "(8004)9520614141234567(01)09520123456788",
            ),
            // (10) may be an attribute when (235) is the chosen qualifier.
            (
                "https://id.gs1.org/01/09520123456788/235/XYZ?10=ABC123",
                "(01)09520123456788(235)XYZ(10)ABC123",
            ),
        ];
        for (uri, expected) in cases {
            assert_eq!(ok(uri), *expected, "{uri}");
        }
    }

    // Reject cases from dl.c, test_dl_parseDLuri (default settings).
    #[test]
    fn dl_c_rejects() {
        for uri in [
            "",
            "ftp://",
            "http://",
            "http:///",
            "http://a",
            "http://a/",
            "http://a/b",
            "http://a/b/",
            "HtTp://a/b/00/006141411234567890",
            "https://00/006141411234567890",
            "https://[fe80::1%25lo]/01/12312312312333",
            "https://$a/006141411234567890",
            "https://a$/006141411234567890",
            "https://a/gtin/12312312312333",
            "https://a/01/2112345678900",
            "https://a/01/416000336108",
            "https://a/01/02345673",
            "https://brand.example.com/01/9520123456788",
            "https://a/253/1231231231232TEST56789012345678",
            "https://a/stem/00/006141411234567890/",
            "https://a/01/12312312312333?99=",
            "https://a/01/12312312312333?99=ABC&999=faux",
            "https://example.com/01/09520123456788?10=ABC123",
            "https://id.gs1.org/01/09520123456788/10/ABC123?99=XYZ789&01=09520123456788",
            "https://id.gs1.org/01/09520123456788/10/ABC123?99=XYZ789&10=ABC123",
            "https://id.gs1.org/01/09520123456788/10/ABC123?99=XYZ789&99=XYZ789",
            "https://example.com/01/09520123456788/89/ABC123?99=XYZ",
            "https://example.com/01/09520123456788?99=XYZ&89=ABC123",
        ] {
            err(uri);
        }
    }

    // dl.c rejects `?98=XYZ+987` because `+` decodes to a space, which the
    // CSET 82 linter refuses (the linters live in lint.rs); here it is
    // checked that `+` is a space in the query and a `+` in the path.
    #[test]
    fn plus_is_a_space_in_the_query_only() {
        assert_eq!(
            ok("https://a/01/12312312312333/22/A+B?98=XYZ%2B987"),
            "(01)12312312312333(22)A+B(98)XYZ+987"
        );
        assert_eq!(&*unescape(b"XYZ+987", true).unwrap(), b"XYZ 987");
        assert_eq!(&*unescape(b"XYZ+987", false).unwrap(), b"XYZ+987");
        let mut out = ElementString::default();
        parse(b"https://a/01/12312312312333?98=XYZ+987", 0, &mut out).ok();
        if let Some(value) = out.get("98") {
            assert_eq!(value, "XYZ 987");
        }
    }

    #[test]
    fn problems_are_explained() {
        let cases: &[(&str, &str)] = &[
            (
                "https://example.com/promo",
                "the Digital Link path has no primary key (such as /01/ for a GTIN)",
            ),
            (
                "https://id.gs1.org/01/09506000134352/21/XYZ987/10/ABC123",
                "qualifier (21) comes before (10); the order must be 22, 10, 21",
            ),
            (
                "https://id.gs1.org/01/09506000134352?999=1",
                "query parameter 999 is not a GS1 Application Identifier",
            ),
            (
                "https://id.gs1.org/01/09506000134352?8200=x",
                "query parameter 8200 is not a Digital Link data attribute",
            ),
            (
                "https://id.gs1.org/01/09506000134352?10=ABC",
                "AI (10) qualifies the primary key (01): it must be in the path as /10/..., not in the query",
            ),
            (
                "https://id.gs1.org/01/09506000134352/",
                "the Digital Link path must not end with /",
            ),
            (
                "https://example.com/01/09520123456788/89/ABC123?99=XYZ",
                "after the primary key (01) the Digital Link path must go on in /AI/value pairs, but `89` is not a GS1 Application Identifier",
            ),
            (
                "https://example.com/01/09520123456788/10",
                "AI (10) has no value in the Digital Link path",
            ),
            (
                "https://example.com/01/09520123456788/10//21/X",
                "AI (10) has no value in the Digital Link path",
            ),
            (
                "https://id.gs1.org/01/9506000134352",
                "the GTIN in the Digital Link path has 13 digits; it must be written with 14 (add leading zeros)",
            ),
            (
                "https://id.gs1.org/01/09506000134352/10/A/10/A",
                "qualifier (10) appears twice in the Digital Link path",
            ),
            (
                "https://id.gs1.org/01/09506000134352/10/A/235/X",
                "qualifiers (10), (235) cannot be used together with (01); the path may carry 22, 10, 21 or 235, in that order",
            ),
            (
                "https://id.gs1.org/01/09506000134352/17/251231",
                "(17) is not a qualifier of (01) in the Digital Link path; the path may carry 22, 10, 21 or 235, in that order",
            ),
            (
                "https://id.gs1.org/00/006141411234567890/10/A",
                "(00) takes no qualifiers in the Digital Link path, but (10) follows it",
            ),
            (
                "https://id.gs1.org/01/09506000134352?17=",
                "query parameter 17 has no value",
            ),
            (
                "https://id.gs1.org/01/09506000134352/10/A%00B",
                "the value of AI (10) contains %00, which is not allowed",
            ),
            (
                "https://id.gs1.org/01/09506000134352?99=a&99=a",
                "AI (99) appears more than once in the Digital Link URI",
            ),
            (
                "https://id.gs1.org/01/09506000134352/10/A B",
                "the Digital Link URI contains a space, which is not allowed in a web address",
            ),
            (
                "HtTpS://id.gs1.org/01/09506000134352",
                "a Digital Link URI must start with http:// or https:// (all lower case or all upper case)",
            ),
            ("https:///01/09506000134352", "the Digital Link URI has no domain"),
            ("https://id.gs1.org", "the Digital Link URI has no path after the domain"),
            (
                "https://user@id.gs1.org/01/09506000134352",
                "the domain of the Digital Link URI contains `@`, which is not allowed in a domain name",
            ),
        ];
        for (uri, problem) in cases {
            assert_eq!(dl_problem(uri), *problem, "{uri}");
        }
    }

    #[test]
    fn errors_name_the_ai_and_offset() {
        // ]Q1 + "https://id.gs1.org/01/09506000134352/" is 37 bytes: (21)
        // starts at 3 + 37 = 40.
        let e = parse_scan(
            b"]Q1https://id.gs1.org/01/09506000134352/21/XYZ/10/ABC",
            None,
        )
        .unwrap_err();
        assert_eq!((e.ai, e.offset), (Some("21"), 40));
        let e = parse_scan(b"https://id.gs1.org/01/09506000134352?10=A", None).unwrap_err();
        assert_eq!((e.ai, e.offset), (Some("10"), 37));
        let e = parse_scan(b"https://id.gs1.org/01/09506000134352?42=A", None).unwrap_err();
        assert_eq!((e.ai, e.offset), (None, 37));
    }

    #[test]
    fn path_then_query_in_order() {
        let uri = b"https://id.gs1.org/01/09506000134352/10/ABC123/21/XYZ987?17=251231";
        let scan = parse_scan(uri, None).unwrap();
        let es = scan.content.gs1().unwrap();
        let ais: Vec<_> = es.iter().map(|e| (e.ai(), e.value())).collect();
        assert_eq!(
            ais,
            [
                ("01", "09506000134352"),
                ("10", "ABC123"),
                ("21", "XYZ987"),
                ("17", "251231")
            ]
        );
        // Offsets point at the values in the input.
        for e in es.iter() {
            assert_eq!(
                &uri[e.offset..e.offset + e.value.len()],
                e.value().as_bytes()
            );
        }
    }

    #[test]
    fn custom_domain_with_path_prefix() {
        assert_eq!(
            ok("https://example.com/some/prefix/01/09506000134352/21/XYZ"),
            "(01)09506000134352(21)XYZ"
        );
    }

    #[test]
    fn percent_decoding_owns_only_what_changed() {
        let scan = parse_scan(
            b"https://id.gs1.org/01/09506000134352/10/AB%2FC%2d1?99=x%2By&98=plain",
            None,
        )
        .unwrap();
        let es = scan.content.gs1().unwrap();
        let values: Vec<_> = es.iter().map(|e| e.value.clone()).collect();
        assert!(matches!(values[0], Cow::Borrowed("09506000134352")));
        assert!(matches!(&values[1], Cow::Owned(v) if v == "AB/C-1"));
        assert!(matches!(&values[2], Cow::Owned(v) if v == "x+y"));
        assert!(matches!(values[3], Cow::Borrowed("plain")));
        // `%` without two hex digits stays as it is (dl.c).
        assert_eq!(
            ok("https://a/01/12312312312333/10/A%4gB%2"),
            "(01)12312312312333(10)A%4gB%2"
        );
    }

    #[test]
    fn non_numeric_query_parameters_are_ignored() {
        assert_eq!(
            ok("https://id.gs1.org/01/09506000134352?foo=bar&utm_source=qr"),
            "(01)09506000134352"
        );
    }

    // dl.c: an empty name counts as all digits and is no AI, "Unknown AI ()
    // in query parameters", wherever it stands and whatever follows `=`.
    #[test]
    fn a_query_parameter_with_an_empty_name_is_refused() {
        for (uri, at, shown) in [
            ("https://id.gs1.org/01/09506000134352?=ABC", 37, "=ABC"),
            ("https://id.gs1.org/01/09506000134352?=", 37, "="),
            (
                "https://id.gs1.org/01/09506000134352?17=251231&=ABC&x",
                47,
                "=ABC",
            ),
            (
                "https://id.gs1.org/01/09506000134352?foo=1&&=#frag",
                44,
                "=",
            ),
        ] {
            let e = err(uri);
            assert_eq!((e.ai, e.offset), (None, at), "{uri}");
            assert_eq!(
                dl_problem(uri),
                format!("unknown AI () in query parameters: {shown} has no name; Digital Link data attributes are written AI=value (such as 17=251231)"),
                "{uri}"
            );
        }
        // A name is what comes before `=`: `?==` has an empty one too.
        err("https://id.gs1.org/01/09506000134352?==");
        // Singletons without `=` are still ignored, as in dl.c.
        assert_eq!(
            ok("https://id.gs1.org/01/09506000134352?&&x&"),
            "(01)09506000134352"
        );
    }

    #[test]
    fn qr_code_carrying_a_digital_link() {
        let scan = parse_scan(b"]Q1https://example.com/01/09506000134352/10/L1", None).unwrap();
        assert_eq!(
            as_bracketed(scan.content.gs1().unwrap()),
            "(01)09506000134352(10)L1"
        );
        assert_eq!(scan.content.gs1().unwrap().elements()[1].offset, 3 + 41);
        // A damaged Digital Link in a QR Code is an error, not other data.
        assert!(parse_scan(b"]Q1https://example.com/01/09506000134352/21/A/10/B", None).is_err());
        assert!(parse_scan(b"]Q1https://example.com/01/9506000134352", None).is_err());
        assert!(parse_scan(b"]Q1https://example.com/01/09506000134352/", None).is_err());
        assert!(parse_scan(b"]Q1https://example.com/01/09506000134352/89/X", None).is_err());
    }

    #[test]
    fn qr_code_with_other_urls_is_other_data() {
        for data in [
            &b"]Q1https://example.com/promo"[..],
            b"]Q1https://example.com/2024/01/summer-sale",
            b"]Q1https://example.com/",
            b"]Q1https://example.com",
            b"]Q1hello",
            b"]Q1https://example.com/00/news",
        ] {
            let scan = parse_scan(data, None).unwrap();
            assert_eq!(scan.content, Content::Other(&data[3..]), "{data:?}");
        }
    }

    #[test]
    fn looks_like_gs1_needs_a_key_with_a_plausible_value() {
        assert!(looks_like_gs1(b"https://example.com/01/09506000134352"));
        assert!(looks_like_gs1(b"HTTP://EXAMPLE.COM/00/006141411234567890"));
        assert!(looks_like_gs1(b"https://e.com/x/8004/ANYTHING?17=1"));
        assert!(looks_like_gs1(b"https://e.com/01/9506000134352"));
        assert!(!looks_like_gs1(b"https://e.com/01/summer"));
        assert!(!looks_like_gs1(b"https://e.com/promo?01=09506000134352"));
        assert!(!looks_like_gs1(b"ftp://e.com/01/09506000134352"));
        assert!(!looks_like_gs1(b"https://e.com/01"));
        assert!(!looks_like_gs1(b"https://e.com/01/"));
        assert!(looks_like_gs1(b"https://e.com/01/09506000134352/"));
        assert!(looks_like_gs1(b"https://e.com/01/09506000134352/89/X"));
        assert!(looks_like_gs1(b"https://e.com/01/09506000134352/10"));
    }
}
