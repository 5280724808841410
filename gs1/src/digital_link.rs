//! GS1 Digital Link URIs: `https://id.gs1.org/01/09506000134352/10/ABC123?17=251231`.
//!
//! Parsing is as strict as GS1's reference implementation, the GS1 Barcode
//! Syntax Engine (`src/c-lib/dl.c` of `gs1/gs1-syntax-engine`), with its
//! default settings: no convenience alphas (`/gtin/`), no zero-suppressed
//! GTINs in the path, unknown AIs never allowed.

use std::borrow::Cow;

use super::dictionary::{self, AiEntry};
use super::element::{Element, ElementString};
use super::error::{ErrorKind, Gs1Error};
use super::lint::Linter;
use super::validate;

/// The stem `render` uses when given an empty one.
const CANONICAL_STEM: &str = "https://id.gs1.org";

/// Characters other than ASCII letters and digits that may appear anywhere
/// in a Digital Link URI (the percent sign included).
const URI_PUNCTUATION: &[u8] = b"-._~:/?#[]@!$&'()*+,;=%";

/// URI characters that may not appear in the domain (authority) part.
const BAD_DOMAIN_CHARS: &[u8] = b"_~?#@!$&'()*+,;=%";

/// Whether `data` starts like a web URI (`http://` or `https://`).
pub(crate) fn is_uri(data: &[u8]) -> bool {
    let lower = |n: usize| data.get(..n).map(|p| p.to_ascii_lowercase());
    lower(7).as_deref() == Some(b"http://") || lower(8).as_deref() == Some(b"https://")
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
    let Some(slash) = data[scheme..].iter().position(|&b| b == b'/') else {
        return false;
    };
    let path_start = scheme + slash;
    let (path_end, _) = path_and_query(data, path_start);
    let segs = segments(data, (path_start, path_end));
    segs.windows(2).skip(1).any(|pair| {
        let Some(entry) = dictionary::lookup(seg(data, pair[0])) else {
            return false;
        };
        if entry.dl_pkey.is_none() {
            return false;
        }
        let Ok(value) = unescape(seg(data, pair[1]), false) else {
            return true;
        };
        let len = value.len();
        let length_ok = (entry.min_length()..=entry.max_length()).contains(&len)
            || (entry.ai == "01" && matches!(len, 8 | 12 | 13));
        let digits_ok = match entry.components.first() {
            Some(first) if first.cset == Linter::Digits => {
                value[..len.min(first.max)].iter().all(u8::is_ascii_digit)
            }
            _ => true,
        };
        length_ok && digits_ok
    })
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

    if let Some(at) = data.iter().position(|&b| !is_uri_char(b)) {
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
    let Some(slash) = data[scheme..].iter().position(|&b| b == b'/') else {
        return Err(fail(
            None,
            scheme,
            "the Digital Link URI has no path after the domain".into(),
        ));
    };
    if slash == 0 {
        return Err(fail(
            None,
            scheme,
            "the Digital Link URI has no domain".into(),
        ));
    }
    let path_start = scheme + slash;
    if let Some(at) = data[scheme..path_start]
        .iter()
        .position(|b| BAD_DOMAIN_CHARS.contains(b))
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

    let (path_end, query) = path_and_query(data, path_start);
    let segs = segments(data, (path_start, path_end));
    let Some(key_index) = find_primary_key(data, &segs) else {
        let trailing = path_end > path_start + 1 && data[path_end - 1] == b'/';
        let trimmed = segments(data, (path_start, path_end - 1));
        if trailing && find_primary_key(data, &trimmed).is_some() {
            return Err(fail(
                None,
                path_end - 1,
                "the Digital Link path must not end with /".into(),
            ));
        }
        if let Some((at, problem)) = explain_broken_path(data, &segs) {
            return Err(fail(None, at, problem));
        }
        return Err(fail(
            None,
            path_start,
            "the Digital Link path has no primary key (such as /01/ for a GTIN)".into(),
        ));
    };

    // The path from the primary key on: /AI/value pairs of known AIs.
    let mut elements: Vec<Element<'a>> = Vec::new();
    let mut path_ai_offsets = Vec::new();
    for pair in segs[key_index..].chunks_exact(2) {
        let (ai_seg, value_seg) = (pair[0], pair[1]);
        let entry = dictionary::lookup(seg(data, ai_seg)).expect("checked while finding the key");
        let raw = seg(data, value_seg);
        if raw.is_empty() {
            return Err(fail(
                Some(entry.ai),
                value_seg.0,
                format!("AI ({}) has no value in the Digital Link path", entry.ai),
            ));
        }
        let decoded = unescape(raw, false).map_err(|at| {
            fail(
                Some(entry.ai),
                value_seg.0 + at,
                format!(
                    "the value of AI ({}) contains %00, which is not allowed",
                    entry.ai
                ),
            )
        })?;
        if entry.ai == "01"
            && matches!(decoded.len(), 8 | 12 | 13)
            && decoded.iter().all(u8::is_ascii_digit)
        {
            return Err(fail(
                Some(entry.ai),
                value_seg.0,
                format!(
                    "the GTIN in the Digital Link path has {} digits; it must be written with 14 (add leading zeros)",
                    decoded.len()
                ),
            ));
        }
        elements.push(element(entry, decoded, base + value_seg.0)?);
        path_ai_offsets.push(ai_seg.0);
    }
    let path_count = elements.len();

    // The query: `AI=value` data attributes; other parameters are ignored.
    if let Some((query_start, query_end)) = query {
        let mut start = query_start;
        while start < query_end {
            let end = data[start..query_end]
                .iter()
                .position(|&b| b == b'&')
                .map_or(query_end, |n| start + n);
            let param = &data[start..end];
            let here = start;
            start = end + 1;
            // Parameters without `=`, and those whose name is not all
            // digits, are not GS1 data. An empty name is all digits to
            // dl.c, which refuses it as an unknown AI: so does this.
            let Some(eq) = param.iter().position(|&b| b == b'=') else {
                continue;
            };
            let name = &param[..eq];
            if name.is_empty() {
                return Err(fail(
                    None,
                    here,
                    format!(
                        "query parameter {} has no name; Digital Link data attributes are written AI=value (such as 17=251231)",
                        String::from_utf8_lossy(param)
                    ),
                ));
            }
            if !name.iter().all(u8::is_ascii_digit) {
                continue;
            }
            let name_text = String::from_utf8_lossy(name);
            let entry = dictionary::lookup(name).ok_or_else(|| {
                fail(
                    None,
                    here,
                    format!("query parameter {name_text} is not a GS1 Application Identifier"),
                )
            })?;
            let raw = &param[eq + 1..];
            let value_at = here + eq + 1;
            if raw.is_empty() {
                return Err(fail(
                    Some(entry.ai),
                    value_at,
                    format!("query parameter {} has no value", entry.ai),
                ));
            }
            let mut decoded = unescape(raw, true).map_err(|at| {
                fail(
                    Some(entry.ai),
                    value_at + at,
                    format!(
                        "the value of AI ({}) contains %00, which is not allowed",
                        entry.ai
                    ),
                )
            })?;
            // dl.c pads a GTIN-8/12/13 given as a data attribute to 14 digits.
            if entry.ai == "01" && matches!(decoded.len(), 8 | 12 | 13) {
                let mut padded = vec![b'0'; 14 - decoded.len()];
                padded.extend_from_slice(&decoded);
                decoded = Cow::Owned(padded);
            }
            elements.push(element(entry, decoded, base + value_at)?);
        }
    }

    // The path's AIs: the primary key and qualifiers in an allowed order.
    let key = elements[0].entry;
    let qualifiers: Vec<&'static str> =
        elements[1..path_count].iter().map(|e| e.entry.ai).collect();
    if let Err((i, problem)) = check_qualifiers(key, &qualifiers) {
        return Err(fail(Some(qualifiers[i]), path_ai_offsets[i + 1], problem));
    }

    // The query's AIs: each once, a data attribute, and not a qualifier
    // that belongs in the path.
    for i in path_count..elements.len() {
        let attr = &elements[i];
        let ai = attr.entry.ai;
        let at = attr.offset - ai.len() - 1;
        if elements[..i].iter().any(|e| e.entry.ai == ai) {
            return Err(Gs1Error::at(
                Some(ai),
                at,
                ErrorKind::DigitalLink(format!(
                    "AI ({ai}) appears more than once in the Digital Link URI"
                )),
            ));
        }
        if !attr.entry.dl_attribute {
            return Err(Gs1Error::at(
                Some(ai),
                at,
                ErrorKind::DigitalLink(format!(
                    "query parameter {ai} is not a Digital Link data attribute"
                )),
            ));
        }
        for pos in 0..=qualifiers.len() {
            let mut trial = qualifiers.clone();
            trial.insert(pos, ai);
            if check_qualifiers(key, &trial).is_ok() {
                return Err(Gs1Error::at(
                    Some(ai),
                    at,
                    ErrorKind::DigitalLink(format!(
                        "AI ({ai}) qualifies the primary key ({}): it must be in the path as /{ai}/..., not in the query",
                        key.ai
                    )),
                ));
            }
        }
    }

    for e in elements {
        out.push(e);
    }
    Ok(())
}

/// Renders `elements` as a Digital Link URI under `stem` (e.g.
/// `https://id.gs1.org`; empty for that one): the first primary key, the
/// qualifiers of it that are present in the path in their order, and every
/// other AI as a query parameter in the order it appears. Repeats of an AI
/// are written once.
pub fn render(elements: &ElementString<'_>, stem: &str) -> Result<String, Gs1Error> {
    let all = elements.elements();
    let Some(key) = all.iter().find(|e| e.entry.dl_pkey.is_some()) else {
        return Err(Gs1Error::at(
            None,
            all.first().map_or(0, |e| e.offset),
            ErrorKind::CannotRender(
                "a Digital Link URI needs a primary key (such as a GTIN (01) or an SSCC (00))"
                    .into(),
            ),
        ));
    };

    // As dl.c: among the key's allowed sequences, in their sorted order,
    // the first that matches the most elements. Unlike dl.c, when that one
    // leaves an AI that can go neither in the path nor in the query, the
    // next sequence matching as many is tried (so `/01/../235/..?10=..`
    // renders back as it was parsed).
    let counted: Vec<(usize, Vec<&'static str>)> = sequences(key.entry)
        .into_iter()
        .map(|candidate| {
            let count = candidate
                .iter()
                .map(|q| all.iter().filter(|e| e.entry.ai == *q).count())
                .sum::<usize>();
            (count, candidate)
        })
        .collect();
    let most = counted.iter().map(|(count, _)| *count).max().unwrap_or(0);
    let stem = if stem.is_empty() {
        CANONICAL_STEM
    } else {
        stem
    };
    let stem = stem.strip_suffix('/').unwrap_or(stem);
    let mut first_error = None;
    for (_, qualifiers) in counted.iter().filter(|(count, _)| *count == most) {
        match render_with(all, key.entry, qualifiers, stem) {
            Ok(uri) => return Ok(uri),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
        if most == 0 {
            break;
        }
    }
    Err(first_error.expect("the empty sequence is always a candidate"))
}

/// The URI with `key` and `qualifiers` (those present) in the path and the
/// other AIs in the query.
fn render_with(
    all: &[Element<'_>],
    key: &AiEntry,
    qualifiers: &[&'static str],
    stem: &str,
) -> Result<String, Gs1Error> {
    let mut uri = String::from(stem);
    for ai in std::iter::once(key.ai).chain(qualifiers.iter().copied()) {
        if let Some(e) = all.iter().find(|e| e.entry.ai == ai) {
            uri.push('/');
            uri.push_str(ai);
            uri.push('/');
            escape(&mut uri, e.value(), false);
        }
    }

    let mut separator = '?';
    for (i, e) in all.iter().enumerate() {
        let ai = e.entry.ai;
        if ai == key.ai || qualifiers.contains(&ai) || all[..i].iter().any(|o| o.entry.ai == ai) {
            continue;
        }
        if !e.entry.dl_attribute {
            return Err(Gs1Error::at(
                Some(ai),
                e.offset,
                ErrorKind::CannotRender(format!(
                    "AI ({ai}) cannot go in a Digital Link URI: it is neither a qualifier of ({}) nor a data attribute",
                    key.ai
                )),
            ));
        }
        uri.push(separator);
        separator = '&';
        uri.push_str(ai);
        uri.push('=');
        escape(&mut uri, e.value(), true);
    }
    Ok(uri)
}

fn is_uri_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || URI_PUNCTUATION.contains(&b)
}

fn describe_byte(b: u8) -> String {
    match b {
        b' ' => "a space".into(),
        0x21..=0x7E => format!("`{}`", char::from(b)),
        _ => format!("the byte 0x{b:02X}"),
    }
}

/// Where the path ends (at `?` or `#`) and the query's range, if any. The
/// fragment (`#...`) ends the data.
fn path_and_query(data: &[u8], path_start: usize) -> (usize, Option<(usize, usize)>) {
    let end = data[path_start..]
        .iter()
        .position(|&b| b == b'#')
        .map_or(data.len(), |n| path_start + n);
    match data[path_start..end].iter().position(|&b| b == b'?') {
        Some(n) => (path_start + n, Some((path_start + n + 1, end))),
        None => (end, None),
    }
}

/// The `/`-separated segments of the path `(start, end)` as byte ranges;
/// the first is the empty one before the path's leading `/`.
fn segments(data: &[u8], (start, end): (usize, usize)) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut from = start;
    for (i, &b) in data.iter().enumerate().take(end).skip(start) {
        if b == b'/' {
            out.push((from, i));
            from = i + 1;
        }
    }
    out.push((from, end));
    out
}

fn seg(data: &[u8], (start, end): (usize, usize)) -> &[u8] {
    &data[start..end]
}

/// As dl.c: walks the path backwards over `/AI/value` pairs while the AI is
/// known, and stops at the first that is a primary key; what comes before
/// it is the stem. Returns the index of the key's segment.
fn find_primary_key(data: &[u8], segments: &[(usize, usize)]) -> Option<usize> {
    let mut value = segments.len() - 1;
    while value >= 2 {
        let ai = value - 1;
        let entry = dictionary::lookup(seg(data, segments[ai]))?;
        if entry.dl_pkey.is_some() {
            return Some(ai);
        }
        value -= 2;
    }
    None
}

/// Why the backward walk found no primary key when the path does have
/// one: what follows the key is not `/AI/value` pairs of known AIs.
fn explain_broken_path(data: &[u8], segments: &[(usize, usize)]) -> Option<(usize, String)> {
    let key_at = (1..segments.len().saturating_sub(1)).find(|&i| {
        dictionary::lookup(seg(data, segments[i])).is_some_and(|e| e.dl_pkey.is_some())
    })?;
    let key = dictionary::lookup(seg(data, segments[key_at]))?.ai;
    let mut i = key_at + 2;
    while i < segments.len() {
        let found = seg(data, segments[i]);
        match dictionary::lookup(found) {
            None => {
                return Some((
                    segments[i].0,
                    format!(
                        "after the primary key ({key}) the Digital Link path must go on in /AI/value pairs, but `{}` is not a GS1 Application Identifier",
                        String::from_utf8_lossy(found)
                    ),
                ))
            }
            Some(entry) if i + 1 == segments.len() => {
                return Some((
                    segments[i].0,
                    format!("AI ({}) has no value in the Digital Link path", entry.ai),
                ))
            }
            Some(_) => i += 2,
        }
    }
    None
}

/// Reverses percent-encoding (and `+` for a space in the query), as dl.c:
/// `%` not followed by two hex digits stays as it is. Borrows when nothing
/// changed; `Err` gives the offset of a `%00`.
fn unescape(raw: &[u8], query: bool) -> Result<Cow<'_, [u8]>, usize> {
    if !(raw.contains(&b'%') || query && raw.contains(&b'+')) {
        return Ok(Cow::Borrowed(raw));
    }
    let hex = |b: u8| char::from(b).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'%' if i + 2 < raw.len() => match (hex(raw[i + 1]), hex(raw[i + 2])) {
                (Some(h), Some(l)) => {
                    let byte = h * 16 + l;
                    if byte == 0 {
                        return Err(i);
                    }
                    out.push(byte);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if query => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    if out == raw {
        Ok(Cow::Borrowed(raw))
    } else {
        Ok(Cow::Owned(out))
    }
}

/// Percent-encodes `value` as dl.c does: letters, digits and `-._~` stay,
/// a space in the query becomes `+`, everything else becomes `%XX`.
fn escape(out: &mut String, value: &str, query: bool) {
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else if b == b' ' && query {
            out.push('+');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

/// Validates one value and makes the element, borrowing when possible.
fn element<'a>(
    entry: &'static AiEntry,
    value: Cow<'a, [u8]>,
    offset: usize,
) -> Result<Element<'a>, Gs1Error> {
    let value = match value {
        Cow::Borrowed(raw) => Cow::Borrowed(validate::value(entry, raw, offset)?),
        Cow::Owned(raw) => Cow::Owned(validate::value(entry, &raw, offset)?.to_owned()),
    };
    Ok(Element {
        entry,
        value,
        offset,
    })
}

/// The key's allowed qualifier sequences, every ordered selection of each
/// alternative (the empty one included), sorted as dl.c sorts its table of
/// `"key q1 q2"` strings.
fn sequences(key: &AiEntry) -> Vec<Vec<&'static str>> {
    let mut out: Vec<Vec<&'static str>> = vec![Vec::new()];
    for alternative in key.dl_pkey.unwrap_or(&[]) {
        let n = alternative.len();
        for mask in 1u32..(1 << n) {
            out.push(
                (0..n)
                    .filter(|i| mask & (1 << i) != 0)
                    .map(|i| alternative[i])
                    .collect(),
            );
        }
    }
    out.sort_by_key(|s| s.join(" "));
    out.dedup();
    out
}

/// Whether `qualifiers` may follow the primary key in the path: in the
/// order of one of its allowed sequences. `Err` names the index of the
/// qualifier at fault and says why.
fn check_qualifiers(key: &AiEntry, qualifiers: &[&'static str]) -> Result<(), (usize, String)> {
    if qualifiers.is_empty() {
        return Ok(());
    }
    let alternatives = key.dl_pkey.unwrap_or(&[]);
    let fits = |alt: &[&str]| {
        let mut from = 0;
        qualifiers
            .iter()
            .all(|q| match alt[from..].iter().position(|a| a == q) {
                Some(n) => {
                    from += n + 1;
                    true
                }
                None => false,
            })
    };
    if alternatives.iter().any(|alt| fits(alt)) {
        return Ok(());
    }
    let key_ai = key.ai;
    if alternatives.is_empty() {
        return Err((
            0,
            format!(
                "({key_ai}) takes no qualifiers in the Digital Link path, but ({}) follows it",
                qualifiers[0]
            ),
        ));
    }
    let allowed = alternatives
        .iter()
        .map(|alt| alt.join(", "))
        .collect::<Vec<_>>()
        .join(" or ");
    for (i, q) in qualifiers.iter().enumerate() {
        if qualifiers[..i].contains(q) {
            return Err((
                i,
                format!("qualifier ({q}) appears twice in the Digital Link path"),
            ));
        }
        if !alternatives.iter().any(|alt| alt.contains(q)) {
            return Err((
                i,
                format!(
                    "({q}) is not a qualifier of ({key_ai}) in the Digital Link path; the path may carry {allowed}, in that order"
                ),
            ));
        }
    }
    // Every qualifier is allowed: either they are in the wrong order within
    // one sequence, or they come from different sequences.
    if let Some(alt) = alternatives
        .iter()
        .find(|alt| qualifiers.iter().all(|q| alt.contains(q)))
    {
        let rank = |q: &str| alt.iter().position(|a| *a == q).unwrap_or(0);
        for i in 1..qualifiers.len() {
            if rank(qualifiers[i]) < rank(qualifiers[i - 1]) {
                return Err((
                    i - 1,
                    format!(
                        "qualifier ({}) comes before ({}); the order must be {}",
                        qualifiers[i - 1],
                        qualifiers[i],
                        alt.join(", ")
                    ),
                ));
            }
        }
    }
    let last = qualifiers.len() - 1;
    Err((
        last,
        format!(
            "qualifiers {} cannot be used together with ({key_ai}); the path may carry {allowed}, in that order",
            qualifiers
                .iter()
                .map(|q| format!("({q})"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{bracketed, parse_scan, Content};

    fn as_bracketed(elements: &ElementString<'_>) -> String {
        elements
            .iter()
            .map(|e| format!("({}){}", e.ai(), e.value()))
            .collect()
    }

    /// A URI parsed end to end (as scanned without an AIM identifier).
    fn ok(uri: &str) -> String {
        let scan = parse_scan(uri.as_bytes(), None).unwrap_or_else(|e| panic!("{uri}: {e}"));
        as_bracketed(scan.content.gs1().expect("GS1 content"))
    }

    /// The error of the Digital Link parser (message rules included).
    fn err(uri: &str) -> Gs1Error {
        let mut out = ElementString::default();
        match parse(uri.as_bytes(), 0, &mut out).and_then(|()| validate::message(&out)) {
            Ok(()) => panic!("{uri} was accepted as {}", as_bracketed(&out)),
            Err(e) => e,
        }
    }

    fn dl_problem(uri: &str) -> String {
        match err(uri).kind {
            ErrorKind::DigitalLink(problem) => problem,
            other => panic!("{uri}: expected a Digital Link error, got {other:?}"),
        }
    }

    fn elements(bracketed_form: &str) -> ElementString<'_> {
        let mut out = ElementString::default();
        bracketed::parse(bracketed_form.as_bytes(), 0, &mut out).unwrap();
        out
    }

    fn rendered(stem: &str, bracketed_form: &str) -> Result<String, Gs1Error> {
        render(&elements(bracketed_form), stem)
    }

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
                format!("query parameter {shown} has no name; Digital Link data attributes are written AI=value (such as 17=251231)"),
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

    // dl.c, test_dl_URIunescape: (input, path result, query result).
    #[test]
    fn dl_c_unescape() {
        let cases: &[(&[u8], &[u8], &[u8])] = &[
            (b"", b"", b""),
            (b"test", b"test", b"test"),
            (b"+", b"+", b" "),
            (b"%20", b" ", b" "),
            (b"%20AB", b" AB", b" AB"),
            (b"A%20B", b"A B", b"A B"),
            (b"AB%20", b"AB ", b"AB "),
            (b"ABC%2", b"ABC%2", b"ABC%2"),
            (b"ABCD%", b"ABCD%", b"ABCD%"),
            (b"A%20%20B", b"A  B", b"A  B"),
            (b"A%01B", b"A\x01B", b"A\x01B"),
            (b"A%ffB", b"A\xffB", b"A\xffB"),
            (b"A%FfB", b"A\xffB", b"A\xffB"),
            (b"A%4FB", b"AOB", b"AOB"),
            (b"A%4fB", b"AOB", b"AOB"),
            (b"A%4gB", b"A%4gB", b"A%4gB"),
            (b"A%G4B", b"A%G4B", b"A%G4B"),
        ];
        for (input, path, query) in cases {
            assert_eq!(&*unescape(input, false).unwrap(), *path, "{input:?}");
            assert_eq!(&*unescape(input, true).unwrap(), *query, "{input:?}");
        }
        assert_eq!(unescape(b"A%00B", false), Err(1));
    }

    // dl.c, test_dl_URIescape: (input, path result, query result).
    #[test]
    fn dl_c_escape() {
        let cases = [
            (
                "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            ),
            (
                "abcdefghijklmnopqrstuvwxyz",
                "abcdefghijklmnopqrstuvwxyz",
                "abcdefghijklmnopqrstuvwxyz",
            ),
            ("0123456789-._~", "0123456789-._~", "0123456789-._~"),
            (
                "!\"#%&'()*+,/:;<=>?",
                "%21%22%23%25%26%27%28%29%2A%2B%2C%2F%3A%3B%3C%3D%3E%3F",
                "%21%22%23%25%26%27%28%29%2A%2B%2C%2F%3A%3B%3C%3D%3E%3F",
            ),
            (" ", "%20", "+"),
            ("A B", "A%20B", "A+B"),
            ("A  B", "A%20%20B", "A++B"),
        ];
        for (input, path, query) in cases {
            let (mut p, mut q) = (String::new(), String::new());
            escape(&mut p, input, false);
            escape(&mut q, input, true);
            assert_eq!((p.as_str(), q.as_str()), (path, query), "{input}");
        }
    }

    // dl.c, test_dl_testValidateDLpathAIseq, plus sequences it rejects.
    #[test]
    fn dl_c_key_qualifier_sequences() {
        let valid: &[&[&str]] = &[
            &["00"],
            &["01"],
            &["01", "21"],
            &["01", "10"],
            &["01", "10", "21"],
            &["01", "22"],
            &["01", "22", "21"],
            &["01", "22", "10"],
            &["01", "22", "10", "21"],
            &["01", "235"],
            &["253"],
            &["255"],
            &["401"],
            &["402"],
            &["414"],
            &["414", "254"],
            &["414", "7040"],
            &["417"],
            &["417", "7040"],
            &["8003"],
            &["8004"],
            &["8004", "7040"],
            &["8006"],
            &["8006", "22", "10", "21"],
            &["8006", "10"],
            &["8010"],
            &["8010", "8011"],
            &["8013"],
            &["8017"],
            &["8017", "8019"],
            &["8018"],
            &["8018", "8019"],
        ];
        for seq in valid {
            let key = dictionary::lookup(seq[0].as_bytes()).unwrap();
            assert!(key.dl_pkey.is_some(), "{seq:?}");
            assert_eq!(check_qualifiers(key, &seq[1..]), Ok(()), "{seq:?}");
        }
        let invalid: &[&[&str]] = &[
            &["01", "21", "10"],
            &["01", "10", "22"],
            &["01", "10", "10"],
            &["01", "22", "235"],
            &["414", "254", "7040"],
            &["00", "10"],
        ];
        for seq in invalid {
            let key = dictionary::lookup(seq[0].as_bytes()).unwrap();
            assert!(check_qualifiers(key, &seq[1..]).is_err(), "{seq:?}");
        }
    }

    // dl.c, test_dl_generateDLuri. Where dl.c writes fixed-length
    // attributes first, here they keep the order they appear in.
    #[test]
    fn dl_c_render() {
        let cases = [
            (
                "",
                "(01)12312312312326(21)abc123",
                "https://id.gs1.org/01/12312312312326/21/abc123",
            ),
            (
                "https://example.com",
                "(01)12312312312326(21)abc123",
                "https://example.com/01/12312312312326/21/abc123",
            ),
            (
                "https://example.com/",
                "(01)12312312312326(22)ABC(10)DEF(21)GHI",
                "https://example.com/01/12312312312326/22/ABC/10/DEF/21/GHI",
            ),
            (
                "https://example.com",
                "(01)12312312312326(22)ABC(10)DEF(21)GHI(95)INT",
                "https://example.com/01/12312312312326/22/ABC/10/DEF/21/GHI?95=INT",
            ),
            (
                "https://example.com",
                "(21)XYZ(01)12312312312333(10)ABC123(99)XYZ",
                "https://example.com/01/12312312312333/10/ABC123/21/XYZ?99=XYZ",
            ),
            (
                "https://example.com",
                "(01)12312312312333(10)ABC+123(99)XYZ+QWERTY",
                "https://example.com/01/12312312312333/10/ABC%2B123?99=XYZ%2BQWERTY",
            ),
            (
                "https://example.com",
                "(8017)795260646688514634(99)000001(253)9526064000028000001",
                "https://example.com/8017/795260646688514634?99=000001&253=9526064000028000001",
            ),
            (
                "https://example.com",
                "(253)9526064000028000001(99)000001(8017)795260646688514634",
                "https://example.com/253/9526064000028000001?99=000001&8017=795260646688514634",
            ),
            (
                "https://example.com",
                "(98)ABC(253)9526064000028000001(99)000001(8017)795260646688514634",
                "https://example.com/253/9526064000028000001?98=ABC&99=000001&8017=795260646688514634",
            ),
            (
                // dl.c: ?01=12312312312326&99=000001&10=DEF&95=INT
                "https://example.com",
                "(253)9526064000028000001(99)000001(01)12312312312326(10)DEF(95)INT",
                "https://example.com/253/9526064000028000001?99=000001&01=12312312312326&10=DEF&95=INT",
            ),
            (
                "https://example.com",
                "(01)12312312312326(01)12312312312326(10)ABC123(99)XYZ789",
                "https://example.com/01/12312312312326/10/ABC123?99=XYZ789",
            ),
            (
                "https://example.com",
                "(01)12312312312326(10)ABC123(10)ABC123(99)XYZ789",
                "https://example.com/01/12312312312326/10/ABC123?99=XYZ789",
            ),
            (
                "https://example.com",
                "(01)12312312312326(10)ABC123(99)XYZ789(99)XYZ789",
                "https://example.com/01/12312312312326/10/ABC123?99=XYZ789",
            ),
            (
                // dl.c: ?3133=333333&3300=000000&01=04065093955756&99=57&10=0
                "https://example.com",
                "(8010)0200(3133)333333(3300)000000(99)57(3133)333333(3300)000000(01)04065093955756(10)0(3133)333333(3300)000000(01)04065093955756",
                "https://example.com/8010/0200?3133=333333&3300=000000&99=57&01=04065093955756&10=0",
            ),
        ];
        for (stem, input, expected) in cases {
            assert_eq!(rendered(stem, input).unwrap(), expected, "{input}");
        }
        for input in [
            "(01)12312312312326(99)000001(8200)http://example.com(95)INT",
            "(01)12312312312326(235)TPX9526064(99)000001(22)ABC(95)INT",
            "(01)12312312312326(22)ABC(10)DEF(99)000001(235)TPX9526064(95)INT",
        ] {
            let e = rendered("https://example.com", input).unwrap_err();
            assert!(matches!(e.kind, ErrorKind::CannotRender(_)), "{input}: {e}");
        }
    }

    #[test]
    fn render_needs_a_primary_key() {
        let e = rendered("https://id.gs1.org", "(10)ABC(17)251231").unwrap_err();
        assert_eq!(
            e.to_string(),
            "at byte 4: a Digital Link URI needs a primary key (such as a GTIN (01) or an SSCC (00))"
        );
        let e = rendered("https://id.gs1.org", "(01)09506000134352(8200)x").unwrap_err();
        assert_eq!(e.ai, Some("8200"));
    }

    #[test]
    fn round_trip() {
        for uri in [
            "https://id.gs1.org/01/09506000134352/10/ABC123/21/XYZ987?17=251231",
            "https://example.com/some/prefix/01/09506000134352/21/XYZ",
            "https://id.gs1.org/01/09506000134352/22/A%2FB%3FC/10/x+y?99=a%26b%3Dc%2Bd&98=%25%22%27%28%29%2A%2C%3A%3B%3C%3E%21",
            "https://id.gs1.org/00/006141411234567890?02=09520123456788&37=25&10=ABC123",
            "https://id.gs1.org/414/9520123456788/254/32a%2Fb",
            "https://a/01/12312312312333/235/TEST?10=L%2F1&foo=bar#frag",
        ] {
            let first = parse_scan(uri.as_bytes(), None).unwrap();
            let first = first.content.gs1().unwrap();
            let again = render(first, "https://example.com/stem").unwrap();
            let second =
                parse_scan(again.as_bytes(), None).unwrap_or_else(|e| panic!("{again}: {e}"));
            assert_eq!(
                as_bracketed(first),
                as_bracketed(second.content.gs1().unwrap()),
                "{uri} -> {again}"
            );
        }
        // Bracketed to DL and back.
        let es = elements("(21)S1(17)251231(01)09506000134352(10)L+1");
        let uri = render(&es, "https://id.gs1.org").unwrap();
        assert_eq!(
            uri,
            "https://id.gs1.org/01/09506000134352/10/L%2B1/21/S1?17=251231"
        );
        assert_eq!(ok(&uri), "(01)09506000134352(10)L+1(21)S1(17)251231");
    }
}
