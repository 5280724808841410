//! Writing an element string as a Digital Link URI: the primary key and
//! its qualifiers in the path, every other AI in the query, as dl.c does.

use super::percent::escape;
use super::qualifiers::sequences;
use crate::dictionary::AiEntry;
use crate::element::{Element, ElementString};
use crate::error::{ErrorKind, Gs1Error};

/// The stem `render` uses when given an empty one.
const CANONICAL_STEM: &str = "https://id.gs1.org";

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digital_link::test_util::*;
    use crate::parse_scan;

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
