//! Validation shared by every input form: an AI's value against its
//! components and linters, and the message-level rules of the dictionary
//! (repeated AIs, `ex=` exclusions, `req=` requisites), plus the one rule
//! the reference engine adds to them: a digital signature (8030) signs a
//! serialised key.

use super::dictionary::{matches_pattern, same_ai, AiEntry};
use super::element::{Element, ElementString};
use super::error::{ErrorKind, Gs1Error};
use super::lint;

/// Checks `value` (found at byte `offset` of the input) against the AI's
/// components, consuming each component's prefix in turn as GS1's reference
/// engine does, and returns the value as text.
pub(crate) fn value<'v>(
    entry: &'static AiEntry,
    value: &'v [u8],
    offset: usize,
) -> Result<&'v str, Gs1Error> {
    let fail = |at: usize, kind| Gs1Error::at(Some(entry.ai), offset + at, kind);
    if value.is_empty() {
        return Err(fail(0, ErrorKind::EmptyValue));
    }
    let max = entry.max_length();
    if value.len() > max {
        return Err(fail(
            0,
            ErrorKind::TooLong {
                max,
                found: value.len(),
            },
        ));
    }
    let mut pos = 0;
    for component in entry.components {
        let len = (value.len() - pos).min(component.max);
        if component.optional && len == 0 {
            continue;
        }
        if len < component.min {
            return Err(fail(
                0,
                ErrorKind::TooShort {
                    min: entry.min_length(),
                    found: value.len(),
                },
            ));
        }
        let part = &value[pos..pos + len];
        let linters = std::iter::once(&component.cset).chain(component.linters);
        for &linter in linters {
            if let Err(e) = lint::check(linter, part) {
                // The offset names the component; the problem's words
                // name what inside it is wrong.
                return Err(fail(
                    pos,
                    ErrorKind::Invalid {
                        value: String::from_utf8_lossy(value).into_owned(),
                        problem: e.problem,
                    },
                ));
            }
        }
        pos += len;
    }
    // Every component's character set is ASCII, so this cannot fail once
    // the linters passed; it is checked rather than assumed.
    std::str::from_utf8(value).map_err(|e| fail(e.valid_up_to(), ErrorKind::NotText))
}

/// The dictionary's rules across the whole message.
pub(crate) fn message(elements: &ElementString<'_>) -> Result<(), Gs1Error> {
    let all = elements.elements();
    for (i, element) in all.iter().enumerate() {
        let ai = element.entry.ai;
        let fail = |kind| Gs1Error::at(Some(ai), element.offset, kind);
        if let Some(other) = all[i + 1..]
            .iter()
            .find(|o| same_ai(o.entry.ai, ai) && o.value != element.value)
        {
            return Err(fail(ErrorKind::RepeatedWithDifferentValue {
                first: element.value.to_string(),
                second: other.value.to_string(),
            }));
        }
        // An AI is never excluded by, nor satisfies its own requirement
        // with, a pattern that matches itself.
        let present = |pattern: &str| {
            all.iter()
                .any(|o| !same_ai(o.entry.ai, ai) && matches_pattern(pattern, o.entry.ai))
        };
        for pattern in element.entry.ex {
            if let Some(other) = all
                .iter()
                .find(|o| !same_ai(o.entry.ai, ai) && matches_pattern(pattern, o.entry.ai))
            {
                return Err(fail(ErrorKind::Excluded {
                    other: other.entry.ai,
                }));
            }
        }
        for alternatives in element.entry.req {
            let satisfied = alternatives
                .iter()
                .any(|group| group.iter().all(|pattern| present(pattern)));
            if !satisfied {
                let needs: Vec<String> = alternatives.iter().map(|g| g.join("+")).collect();
                return Err(fail(ErrorKind::Requires {
                    needs: needs.join(","),
                }));
            }
        }
    }
    digital_signature_signs_a_serialised_key(all)
}

/// The AI of a digital signature.
const DIGITAL_SIGNATURE: &str = "8030";

/// GS1's reference engine refuses a digital signature (8030) beside a GDTI
/// (253), GCN (255) or GRAI (8003) without its serial component
/// (`validateDigSigRequiresSerialisedKey` in its `ai.c`: "Serial component
/// must be present for AI (253) when used with AI (8030)"). The dictionary
/// has no attribute for it; the reference lists the three AIs by hand. They
/// are exactly the keys that 8030 may sign on their own (its `req=`) whose
/// value ends in an optional component, which is how this finds them, so a
/// key added to the dictionary that way is covered too.
fn digital_signature_signs_a_serialised_key(all: &[Element<'_>]) -> Result<(), Gs1Error> {
    let Some(signature) = all.iter().find(|e| same_ai(e.entry.ai, DIGITAL_SIGNATURE)) else {
        return Ok(());
    };
    for key in all {
        if signs_a_class(signature.entry, key.entry) && key.value.len() == key.entry.min_length() {
            return Err(Gs1Error::at(
                Some(key.entry.ai),
                key.offset,
                ErrorKind::SerialMissing {
                    key_length: key.value.len(),
                },
            ));
        }
    }
    Ok(())
}

/// Whether `key` is a key that `signature` may sign alone and whose serial
/// part (its last component) is optional.
fn signs_a_class(signature: &AiEntry, key: &AiEntry) -> bool {
    let alone = signature
        .req
        .iter()
        .flat_map(|alternatives| alternatives.iter())
        .any(|group| matches!(group, [only] if matches_pattern(only, key.ai)));
    alone && key.components.last().is_some_and(|c| c.optional)
}

/// Checks one value for an AI outside any barcode, e.g. a GLN typed into a
/// configuration file or a lot given to a report. Message-level rules do not
/// apply.
pub fn check_value(ai: &str, text: &str) -> Result<(), Gs1Error> {
    let entry = super::dictionary::lookup(ai.as_bytes()).ok_or_else(|| {
        Gs1Error::at(
            None,
            0,
            ErrorKind::UnknownAi {
                found: ai.to_owned(),
            },
        )
    })?;
    value(entry, text.as_bytes(), 0).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dictionary::{entries, lookup};

    #[test]
    fn the_serialised_keys_are_the_reference_engines_three() {
        let signature = lookup(DIGITAL_SIGNATURE.as_bytes()).unwrap();
        let keys: Vec<&str> = entries()
            .iter()
            .filter(|key| signs_a_class(signature, key))
            .map(|key| key.ai)
            .collect();
        // ai.c, validateDigSigRequiresSerialisedKey: { "253", "255", "8003" }.
        assert_eq!(keys, ["253", "255", "8003"]);
    }
}
